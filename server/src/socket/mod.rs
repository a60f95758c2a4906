//! The realtime socket: the accept loop. Each connection is served by [`connection`].

pub mod connection;

use crate::app::App;
use crate::tls::Acceptor;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Accepts connections until shutdown, serving each in its own task (after a TLS handshake
/// bounded in time, when given a TLS acceptor). A semaphore caps the number of open
/// connections, handshaking ones included; accept errors (such as running out of file
/// descriptors) back off instead of spinning.
pub async fn run(app: Arc<App>, listener: TcpListener, tls: Option<Acceptor>) {
    let limit = Arc::new(Semaphore::new(app.config.max_connections));
    let mut backoff = Duration::from_millis(10);
    loop {
        let permit = tokio::select! {
            _ = app.shutdown.cancelled() => break,
            permit = limit.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            _ = app.shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                backoff = Duration::from_millis(10);
                if let Err(err) = stream.set_nodelay(true) {
                    tracing::debug!(%err, "cannot set TCP_NODELAY on a socket connection");
                }
                let app = app.clone();
                let tls = tls.clone();
                app.tasks.clone().spawn(async move {
                    match tls {
                        None => connection::serve(app, stream, peer).await,
                        // Boxed: the handshake's future and a TLS stream are several KiB; kept
                        // out of the task, a clear-text connection's task stays small.
                        Some(tls) => Box::pin(serve_tls(app, tls, stream, peer)).await,
                    }
                    drop(permit);
                });
            }
            Err(err) => {
                tracing::warn!(%err, "accept failed; backing off");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// A TLS handshake bounded in time, then the connection over it.
async fn serve_tls(app: Arc<App>, tls: Acceptor, stream: TcpStream, peer: SocketAddr) {
    let handshake = tokio::select! {
        _ = app.shutdown.cancelled() => return,
        handshake = tls.accept(stream) => handshake,
    };
    match handshake {
        Ok(stream) => connection::serve(app, stream, peer).await,
        Err(err) => tracing::debug!(%peer, %err, "TLS handshake failed"),
    }
}
