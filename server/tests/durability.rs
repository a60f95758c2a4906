//! An acknowledged message survives the server process being killed (SIGKILL) right after
//! the acknowledgement.

mod common;

use common::{Backend, TestServer};
use kith_shared::frame::{ChatMessage, Content, Target};
use kith_shared::{ClientFrame, ServerFrame};
use std::collections::HashMap;

backend_tests!(acknowledged_messages_survive_a_killed_server);

async fn acknowledged_messages_survive_a_killed_server(backend: Backend) {
    let Some(mut server) = TestServer::spawn_process(backend).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let conversation = server.befriend(&alice, &bob).await;
    let mut socket = server.connect(&alice.token).await;

    // Fire a burst; take acks as they come; kill the process the moment 300 are in.
    const SENT: usize = 1000;
    for i in 0..SENT {
        socket
            .send(&ClientFrame::Send {
                client_id: format!("m-{i}"),
                to: Target::User { id: bob.user.id },
                content: Content::text(format!("message {i}")),
            })
            .await;
    }
    let mut acked: HashMap<String, i64> = HashMap::new();
    while acked.len() < 300 {
        if let ServerFrame::Ack { client_id, seq, .. } =
            socket.expect("ack", |f| matches!(f, ServerFrame::Ack { .. })).await
        {
            acked.insert(client_id, seq);
        }
    }
    server.kill().await;
    drop(socket);

    server.respawn().await;
    let login = server.login("bob").await;
    let mut stored: Vec<ChatMessage> = Vec::new();
    let mut after = 0;
    loop {
        let (_, page) = server
            .get(&format!("/api/conversations/{conversation}/messages?after={after}&limit=200"), &login.token)
            .await;
        let page: Vec<ChatMessage> = serde_json::from_value(page["messages"].clone()).expect("messages");
        let Some(last) = page.last() else { break };
        after = last.seq;
        stored.extend(page);
    }
    let by_client: HashMap<&str, i64> =
        stored.iter().filter_map(|m| Some((m.client_id.as_deref()?, m.seq))).collect();
    for (client_id, seq) in &acked {
        assert_eq!(by_client.get(client_id.as_str()), Some(seq), "acknowledged {client_id} was lost");
    }
    assert!(stored.len() >= acked.len());
    assert_eq!(
        stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=stored.len() as i64).collect::<Vec<_>>()
    );
    server.stop().await;
}
