//! How each member's lists show a conversation: pinned, archived, marked unread, kept per
//! member and the same on every device of theirs.

mod common;

use common::{Backend, TestServer};
use kith_shared::ServerFrame;
use kith_shared::api::{ConversationPrefs, ConversationState};
use reqwest::{Method, StatusCode};
use serde_json::json;

backend_tests!(pinning_archiving_and_marking_unread_follow_the_member_to_every_device);

fn state_of(sync: &ServerFrame, conversation: i64) -> ConversationState {
    match sync {
        ServerFrame::SyncState { conversations, .. } => {
            conversations.iter().find(|c| c.conversation_id == conversation).cloned().expect("listed")
        }
        other => panic!("not a sync state: {other:?}"),
    }
}

async fn pinning_archiving_and_marking_unread_follow_the_member_to_every_device(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.multi_device = true).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let conversation = server.befriend(&alice, &bob).await;
    let path = format!("/api/conversations/{conversation}");
    let mut laptop = server.connect(&alice.token).await;
    let listed = state_of(laptop.sync.as_ref().expect("sync"), conversation);
    assert!(!listed.pinned && !listed.archived && !listed.marked_unread, "nothing set at first");

    // The phone pins it: the laptop hears of it at once.
    let phone = server.login("alice").await;
    let (status, body) =
        server.request(Method::PATCH, &path, Some(&phone.token), Some(json!({"pinned": true}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pinned = ConversationPrefs { pinned: true, archived: false, marked_unread: false };
    assert_eq!(serde_json::from_value::<ConversationPrefs>(body).expect("prefs"), pinned);
    let pushed =
        laptop.expect("conversation_updated", |f| matches!(f, ServerFrame::ConversationUpdated { .. })).await;
    assert_eq!(pushed, ServerFrame::ConversationUpdated { conversation_id: conversation, prefs: pinned });

    // Fields left out stay as they are; another field changes alone.
    let (status, body) =
        server.request(Method::PATCH, &path, Some(&alice.token), Some(json!({"marked_unread": true}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server.request(Method::PATCH, &path, Some(&alice.token), Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let both = ConversationPrefs { pinned: true, archived: false, marked_unread: true };
    assert_eq!(serde_json::from_value::<ConversationPrefs>(body).expect("prefs"), both);

    // They are Alice's alone: Bob's list is as it was.
    let (_, list) = server.get("/api/conversations", &bob.token).await;
    let bobs: Vec<ConversationState> = serde_json::from_value(list).expect("states");
    let bobs = bobs.iter().find(|c| c.conversation_id == conversation).expect("listed");
    assert!(!bobs.pinned && !bobs.marked_unread);

    // A new device starts with them.
    let tablet = server.connect(&server.login("alice").await.token).await;
    let listed = state_of(tablet.sync.as_ref().expect("sync"), conversation);
    assert!(listed.pinned && listed.marked_unread && !listed.archived);

    // Archived and unpinned in one request; read back from the list.
    let change = json!({"pinned": false, "archived": true, "marked_unread": false});
    let (status, _) = server.request(Method::PATCH, &path, Some(&alice.token), Some(change)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = server.get("/api/conversations", &alice.token).await;
    let states: Vec<ConversationState> = serde_json::from_value(list).expect("states");
    let mine = states.iter().find(|c| c.conversation_id == conversation).expect("listed");
    assert!(!mine.pinned && mine.archived && !mine.marked_unread);

    // Only members may; a value that is not a boolean is malformed.
    let (status, body) =
        server.request(Method::PATCH, &path, Some(&carol.token), Some(json!({"pinned": true}))).await;
    assert_eq!((status, common::code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
    let (status, body) =
        server.request(Method::PATCH, &path, Some(&alice.token), Some(json!({"pinned": "yes"}))).await;
    assert_eq!((status, common::code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "malformed"));
    let (status, _) = server.request(Method::PATCH, &path, None, Some(json!({"pinned": true}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.stop().await;
}
