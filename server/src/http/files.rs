//! Files and the emoji set over HTTP: upload, metadata, download with Range, thumbnails,
//! receipt of a complete download, the emoji manifest and `/static`. The service side is
//! `crate::files`; docs/files.md describes the routes.
//!
//! These routes are merged outside the API's request timeout and body limit: uploads and
//! downloads of large files take as long as the link needs (an upload that sends nothing for
//! a minute is cut off instead).

use super::{AppState, Caller, Json, Path, Query};
use crate::app::App;
use crate::error::Refusal;
use crate::files::{self, FileError};
use crate::store::files::UploadRow;
use crate::wire::info_of;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::Stream;
use kith_shared::api::{ApiError, EmojiManifest, FileInfo, UploadQuery};
use sha2::{Digest, Sha256};
use std::pin::Pin;
use std::task::{Context, Poll};
use tower_http::services::{ServeDir, ServeFile};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_file).layer(DefaultBodyLimit::disable()))
        .routes(routes!(get_file))
        .routes(routes!(get_content))
        .routes(routes!(get_thumbnail))
        .routes(routes!(post_received))
        .routes(routes!(get_emoji))
}

/// `GET /static/...`: `STATIC_DIR`, read only (described in `openapi::finish`).
pub fn static_files(app: &App) -> Router<AppState> {
    Router::new()
        .nest_service("/static", ServeDir::new(&app.config.static_dir))
        .layer(middleware::from_fn(static_etag))
}

/// `POST /api/files?name=NAME`: the body is the file, streamed to the upload store. 201 with
/// the upload's id, size, type and, for images, width, height and thumbnail id.
#[utoipa::path(
    post,
    path = "/api/files",
    tag = "files",
    security(("bearer" = [])),
    params(UploadQuery),
    request_body(description = "The file's bytes", content(("application/octet-stream"))),
    responses(
        (status = 201, description = "the upload", body = FileInfo),
        (status = 400, description = "a name against the rules (`invalid_field`), or a body shorter \
            than announced (`malformed`)", body = ApiError),
        (status = 413, description = "over MAX_UPLOAD_BYTES, or a picture too large to decode \
            (`payload_too_large`)", body = ApiError),
        (status = 415, description = "a picture's name on other or damaged content (`unsupported_media`)", body = ApiError),
        (status = 429, description = "MAX_PENDING_UPLOADS_PER_USER uploads not sent yet (`rate_limited`)", body = ApiError),
        (status = 503, description = "the server is stopping (`internal`)", body = ApiError),
    ),
)]
async fn post_file(
    State(app): State<AppState>,
    caller: Caller,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Refusal> {
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    match files::upload::receive(&app, caller.user_id, &query.name, declared, body.into_data_stream()).await {
        Ok(info) => Ok((StatusCode::CREATED, Json(info)).into_response()),
        Err(err) => {
            // The rest of the body may be unread: close the connection so that the client
            // does not send its next request on it.
            let mut response = Refusal::from(err).into_response();
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            Ok(response)
        }
    }
}

/// `GET /api/files/{id}`: an upload's metadata, `expired: true` once its file is deleted.
#[utoipa::path(
    get,
    path = "/api/files/{id}",
    tag = "files",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The upload's id (a uuid)")),
    responses(
        (status = 200, description = "the upload; `expired` once its file is deleted", body = FileInfo),
        (status = 403, description = "not one of the file's readers (`forbidden`)", body = ApiError),
        (status = 404, description = "no such upload (`not_found`)", body = ApiError),
    ),
)]
async fn get_file(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<FileInfo>, Refusal> {
    let row = files::readable(&app, &id, caller.user_id).await?;
    Ok(Json(info_of(&row)))
}

/// `GET /api/files/{id}/content`: the file, with Range support. A receiver who gets the whole
/// body in one response counts as having fetched it.
#[utoipa::path(
    get,
    path = "/api/files/{id}/content",
    tag = "files",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The upload's id (a uuid)"), ("Range" = Option<String>, Header, description = "One byte range (`bytes=N-`, `bytes=N-M`, `bytes=-N`); others are ignored")),
    responses(
        (status = 200, description = "the file, its `Content-Type` from its record", content_type = "*/*"),
        (status = 206, description = "the byte range asked for", content_type = "*/*"),
        (status = 403, description = "not one of the file's readers (`forbidden`)", body = ApiError),
        (status = 404, description = "no such upload (`not_found`)", body = ApiError),
        (status = 410, description = "the file was deleted (`expired`)", body = ApiError),
        (status = 416, description = "a byte range outside the file (`invalid_field`)", body = ApiError),
    ),
)]
async fn get_content(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, Refusal> {
    let row = files::readable(&app, &id, caller.user_id).await?;
    if row.expired {
        return Err(FileError::Expired.into());
    }
    let disposition = files::content_disposition("attachment", &row.name);
    let whole = req.method() == Method::GET;
    let mut response = serve(&app, &row.id, req, &row.mime, &disposition).await?;
    if whole && response.status() == StatusCode::OK {
        let (parts, body) = response.into_parts();
        let done = completion(app.clone(), row, caller.user_id);
        response =
            Response::from_parts(parts, Body::from_stream(Counted::new(body.into_data_stream(), done)));
    }
    Ok(response)
}

/// `GET /api/files/{id}/thumbnail`: an image's thumbnail (PNG).
#[utoipa::path(
    get,
    path = "/api/files/{id}/thumbnail",
    tag = "files",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The upload's id (a uuid)"), ("Range" = Option<String>, Header, description = "One byte range (`bytes=N-`, `bytes=N-M`, `bytes=-N`); others are ignored")),
    responses(
        (status = 200, description = "the thumbnail (PNG)", content_type = "image/png"),
        (status = 206, description = "the byte range asked for", content_type = "image/png"),
        (status = 403, description = "not one of the file's readers (`forbidden`)", body = ApiError),
        (status = 404, description = "no such upload, or not a picture (`not_found`)", body = ApiError),
        (status = 410, description = "the file was deleted (`expired`)", body = ApiError),
        (status = 416, description = "a byte range outside the file (`invalid_field`)", body = ApiError),
    ),
)]
async fn get_thumbnail(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, Refusal> {
    let row = files::readable(&app, &id, caller.user_id).await?;
    if row.expired {
        return Err(FileError::Expired.into());
    }
    let thumbnail =
        row.thumbnail_id.as_deref().ok_or_else(|| Refusal::not_found("this file has no thumbnail"))?;
    let disposition = files::content_disposition("inline", &format!("{}.thumbnail.png", row.name));
    serve(&app, thumbnail, req, "image/png", &disposition).await
}

/// `POST /api/files/{id}/received`: the caller has the whole file (after a resumed download,
/// say). Once every receiver has it, the server deletes it. 204.
#[utoipa::path(
    post,
    path = "/api/files/{id}/received",
    tag = "files",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The upload's id (a uuid)")),
    responses(
        (status = 204, description = "recorded"),
        (status = 403, description = "not one of the file's readers (`forbidden`)", body = ApiError),
        (status = 404, description = "no such upload (`not_found`)", body = ApiError),
    ),
)]
async fn post_received(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Refusal> {
    let row = files::readable(&app, &id, caller.user_id).await?;
    files::fetched(&app, &row, caller.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/emoji`: the emoji manifest, with an ETag; 304 when `If-None-Match` has it.
#[utoipa::path(
    get,
    path = "/api/emoji",
    tag = "files",
    params(("If-None-Match" = Option<String>, Header, description = "ETags the client has; a match answers 304")),
    responses(
        (status = 200, description = "the emoji manifest, with an ETag", body = EmojiManifest),
        (status = 304, description = "`If-None-Match` names the manifest's ETag"),
        (status = 404, description = "this server has no emoji set (`not_found`)", body = ApiError),
    ),
)]
async fn get_emoji(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, Refusal> {
    let set = files::emoji::emoji_set(&app.config.static_dir)
        .ok_or_else(|| Refusal::not_found("this server has no emoji set"))?;
    let etag = HeaderValue::from_str(&set.etag).map_err(Refusal::internal)?;
    let cache = HeaderValue::from_static("public, max-age=3600");
    if matches_etag(&headers, &set.etag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag), (header::CACHE_CONTROL, cache)])
            .into_response());
    }
    let json = HeaderValue::from_static("application/json");
    Ok((
        [(header::CONTENT_TYPE, json), (header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        set.json.clone(),
    )
        .into_response())
}

/// True when the request's `If-None-Match` lists `etag` (or is `*`).
fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

/// Serves a stored file with tower-http's ServeFile (one byte range, 206/416, Last-Modified),
/// under the content type and disposition given. The name comes from the database, never from the
/// request.
async fn serve(
    app: &App,
    name: &str,
    req: Request,
    mime: &str,
    disposition: &str,
) -> Result<Response, Refusal> {
    let path = app.config.upload_dir.join(name);
    let mut req = req;
    if req.headers().get(header::RANGE).is_some_and(|range| !one_byte_range(range)) {
        // RFC 9110 14.2: a range the server will not serve is ignored; the whole file goes out.
        req.headers_mut().remove(header::RANGE);
    }
    let response = ServeFile::new(&path).try_call(req).await.map_err(Refusal::internal)?;
    if response.status() == StatusCode::NOT_FOUND {
        // Deleted by the sweeper between the check and the open.
        return Err(FileError::Expired.into());
    }
    let (mut parts, body) = response.into_parts();
    if parts.status.is_success() {
        let headers = &mut parts.headers;
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
        );
        if let Ok(value) = HeaderValue::from_str(disposition) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400"));
    }
    Ok(Response::from_parts(parts, Body::new(body)))
}

/// True for a `Range` of one range in bytes (`bytes=0-99`, `bytes=500-`, `bytes=-10`), the
/// only kind served. Several ranges and other units are ignored (answered with the whole
/// file); one byte range that cannot be satisfied is answered 416.
fn one_byte_range(range: &HeaderValue) -> bool {
    let Ok(range) = range.to_str() else { return false };
    let Some((unit, set)) = range.trim().split_once('=') else { return false };
    unit.trim().eq_ignore_ascii_case("bytes") && !set.contains(',')
}

/// What to do once a whole download has gone out: record the fetch.
fn completion(app: AppState, row: UploadRow, user_id: kith_shared::UserId) -> (u64, Completion) {
    let size = row.size.max(0) as u64;
    let done: Completion = Box::new(move || {
        tokio::spawn(async move {
            if let Err(err) = files::fetched(&app, &row, user_id).await {
                tracing::warn!(%err, upload = row.id, "cannot record a completed download");
            }
        });
    });
    (size, done)
}

type Completion = Box<dyn FnOnce() + Send>;

/// A body stream that calls `done` once `remaining` bytes have gone through it.
struct Counted<S> {
    inner: S,
    remaining: u64,
    done: Option<Completion>,
}

impl<S> Counted<S> {
    fn new(inner: S, (size, done): (u64, Completion)) -> Self {
        let mut counted = Self { inner, remaining: size, done: Some(done) };
        if size == 0 {
            counted.finish();
        }
        counted
    }

    fn finish(&mut self) {
        if let Some(done) = self.done.take() {
            done();
        }
    }
}

impl<S, E> Stream for Counted<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let next = Pin::new(&mut this.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &next {
            this.remaining = this.remaining.saturating_sub(chunk.len() as u64);
            if this.remaining == 0 {
                this.finish();
            }
        }
        next
    }
}

/// Adds a strong ETag to `/static` files (from their path, size and modification time) and
/// answers 304 when `If-None-Match` has it. The files never change while the server runs.
async fn static_etag(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let conditional = req.headers().clone();
    let mut response = next.run(req).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let headers = response.headers();
    let (Some(modified), Some(length)) =
        (headers.get(header::LAST_MODIFIED), headers.get(header::CONTENT_LENGTH))
    else {
        return response;
    };
    let mut digest = Sha256::new();
    for part in [path.as_bytes(), modified.as_bytes(), length.as_bytes()] {
        digest.update(part);
        digest.update([0]);
    }
    let etag =
        format!("\"{}\"", digest.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect::<String>());
    let Ok(value) = HeaderValue::from_str(&etag) else { return response };
    let cache = HeaderValue::from_static("public, max-age=86400");
    if matches_etag(&conditional, &etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, value), (header::CACHE_CONTROL, cache)])
            .into_response();
    }
    response.headers_mut().insert(header::ETAG, value);
    response.headers_mut().insert(header::CACHE_CONTROL, cache);
    response
}
