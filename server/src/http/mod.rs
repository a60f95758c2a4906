//! The HTTP door (axum). Each area has its own module with a `router()`; they merge here.
//! Handlers extract, call the domain, and encode; `docs/api.md` documents every route, and
//! [`openapi`] makes the OpenAPI document from the same routes (`GET /api/openapi.json`).
//!
//! Every failure answers `{"code", "message"}`: handlers and extractors return
//! [`Refusal`], an unknown route falls back to 404 `not_found`, and [`answers`] turns any
//! other error answer (a wrong method, a timeout, a refused range) into the same shape.

mod accounts;
mod blocks;
mod conversations;
mod extract;
mod files;
mod friends;
mod groups;
mod health;
mod openapi;
mod tls;

pub use extract::{Caller, Json, Path, Query};

use crate::app::App;
use crate::error::{Refusal, code_of};
use crate::tls::Acceptor;
use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::serve::{ListenerExt, TapIo};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

/// Shared state of every handler.
pub type AppState = Arc<App>;

/// Every route with a handler, each registered with its OpenAPI description: the router
/// and the document are both made from this.
fn routes() -> OpenApiRouter<AppState> {
    openapi::router()
        .merge(health::router())
        .merge(accounts::router())
        .merge(friends::router())
        .merge(blocks::router())
        .merge(groups::router())
        .merge(conversations::router())
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        // Files stream for as long as the link needs: outside the timeout and body limit.
        .merge(files::router())
}

/// The whole HTTP API.
pub fn router(app: AppState) -> Router {
    let (routes, _) = routes().split_for_parts();
    routes
        .merge(files::static_files(&app))
        .fallback(no_route)
        .layer(middleware::from_fn(answers))
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}

/// Any route not listed: 404 `not_found`.
async fn no_route(method: Method, uri: axum::http::Uri) -> Refusal {
    Refusal::not_found(format!("there is no route {method} {}", uri.path()))
}

/// Two promises about every answer:
/// - an error answer made outside the handlers (a wrong method, a timeout, a refused range,
///   a rejection from a library) gets the API's `{"code", "message"}` body;
/// - when the answer goes out before the request's body was read to its end (a refusal on
///   the headers alone, a body over the limit), it says `Connection: close`, so that a
///   client reusing connections does not send its next request into the unread rest.
async fn answers(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let (parts, body) = req.into_parts();
    let read = Arc::new(AtomicBool::new(body.is_end_stream()));
    let body = Body::new(ReadToEnd { inner: body, read: read.clone() });
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if !is_json {
            response = as_refusal(response, &method, &path).await;
        }
    }
    if !read.load(Ordering::Acquire) {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// An error answer without the API's body, given it (its other headers kept).
async fn as_refusal(response: Response, method: &Method, path: &str) -> Response {
    let status = response.status();
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let message = match status {
        StatusCode::NOT_FOUND => format!("there is nothing at {path}"),
        StatusCode::METHOD_NOT_ALLOWED => format!("{path} does not answer {method}"),
        StatusCode::REQUEST_TIMEOUT => "the request took too long".to_owned(),
        StatusCode::RANGE_NOT_SATISFIABLE => "the range asked for lies outside the file".to_owned(),
        _ if !text.is_empty() => String::from_utf8_lossy(&text).into_owned(),
        _ => status.canonical_reason().unwrap_or("refused").to_lowercase(),
    };
    let mut answer = Refusal::new(code_of(status), message).with_status(status).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

/// A request body that records when it has been read to its end.
struct ReadToEnd {
    inner: Body,
    read: Arc<AtomicBool>,
}

impl HttpBody for ReadToEnd {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Serves the API until shutdown, letting in-flight requests finish: HTTPS when given a TLS
/// acceptor, plain HTTP otherwise.
pub async fn serve(app: AppState, listener: TcpListener, tls: Option<Acceptor>) {
    let shutdown = app.shutdown.clone();
    let stop = async move { shutdown.cancelled().await };
    let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
    let served = match tls {
        None => axum::serve(with_nodelay(listener), service).with_graceful_shutdown(stop).await,
        Some(acceptor) => {
            // The empty tap gives the TLS listener axum's `ConnectInfo<SocketAddr>`.
            let listener = tls::TlsListener::new(with_nodelay(listener), acceptor).tap_io(|_| {});
            axum::serve(listener, service).with_graceful_shutdown(stop).await
        }
    };
    if let Err(err) = served {
        tracing::error!(%err, "HTTP server failed");
    }
}

/// The listener with TCP_NODELAY set on every accepted connection. Without it, Nagle's
/// algorithm held back the end of a small response until the client's delayed ACK: about
/// 40 ms per emoji picture or small file on a keep-alive connection (docs/performance.md).
fn with_nodelay(listener: TcpListener) -> TapIo<TcpListener, fn(&mut TcpStream)> {
    fn set_nodelay(stream: &mut TcpStream) {
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%err, "cannot set TCP_NODELAY on an HTTP connection");
        }
    }
    listener.tap_io(set_nodelay as fn(&mut TcpStream))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::serve::Listener;

    #[tokio::test]
    async fn accepted_connections_have_nodelay() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let mut listener = with_nodelay(listener);
        let client = tokio::spawn(TcpStream::connect(addr));
        let (stream, peer) = listener.accept().await;
        let client = client.await.expect("join").expect("connect");
        assert_eq!(peer, client.local_addr().expect("client address"));
        assert!(stream.nodelay().expect("nodelay"), "TCP_NODELAY is not set on the accepted connection");
    }
}
