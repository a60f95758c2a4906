//! Extractors whose rejections use the API's error shape: the authenticated caller, a JSON
//! body, path parameters, a query string, and the client's address. Paging values are
//! checked by one rule: out of range is refused with 400 `malformed`, never clamped.

use super::AppState;
use crate::auth;
use crate::error::{Refusal, code_of};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kith_shared::UserId;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

/// The user behind the request's `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    pub token_hash: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Refusal> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Refusal::unauthorized("send Authorization: Bearer <token> from log in"))?;
        let token_hash = auth::token_hash(token);
        match app.store.session_user(&token_hash).await? {
            Some(user_id) => Ok(Caller { user_id, token_hash }),
            None => Err(Refusal::unauthorized("the token is not valid; log in again")),
        }
    }
}

/// The client's IP address, when the server knows it.
#[derive(Debug, Clone, Copy)]
pub struct PeerIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerIp(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip())))
    }
}

/// Like `axum::Json`, but a bad body answers with the API's error shape: 400 `malformed`
/// for broken JSON, 422 `malformed` for JSON of the wrong shape, 415 `unsupported_media`
/// without `Content-Type: application/json`, 413 `payload_too_large` over the limit.
///
/// Every request body of the API is a JSON object: any other JSON value is of the wrong shape
/// (422), even one serde would take for a struct (an array of its fields in order).
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Refusal;

    async fn from_request(req: Request, state: &S) -> Result<Self, Refusal> {
        fn refused(status: StatusCode, message: String) -> Refusal {
            Refusal::new(code_of(status), message).with_status(status)
        }
        if !json_content_type(req.headers()) {
            let status = StatusCode::UNSUPPORTED_MEDIA_TYPE;
            return Err(refused(status, "Expected request with `Content-Type: application/json`".to_owned()));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| refused(r.status(), r.body_text()))?;
        let axum::Json(value) =
            axum::Json::<T>::from_bytes(&bytes).map_err(|r| refused(r.status(), r.body_text()))?;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return Err(refused(status, "the body is a JSON object; this one is not".to_owned()));
        }
        Ok(Json(value))
    }
}

/// Whether the request says its body is JSON: `application/json`, or `application/*+json`,
/// parameters (`; charset=utf-8`) aside.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", subtype)) => subtype == "json" || subtype.ends_with("+json"),
        _ => false,
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Like `axum::extract::Path`: a parameter that does not parse (an id that is not a whole
/// number, or out of range) answers 400 `malformed`.
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refusal> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(Refusal::malformed(rejection.body_text())),
        }
    }
}

/// Like `axum::extract::Query`: a query string that does not parse answers 400 `malformed`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refusal> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(Refusal::malformed(rejection.body_text())),
        }
    }
}

/// A page size: `default` when not given, else 1 to `max`, or 400 `malformed`.
pub fn page_limit(limit: Option<u32>, default: u32, max: u32) -> Result<u32, Refusal> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(Refusal::malformed(format!("limit is 1 to {max}, not {n}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types_are_recognised_as_axum_does() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, value.parse().expect("a header value"));
            json_content_type(&headers)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/problem+json"));
        assert!(!with("text/json"));
        assert!(!with("application/jsonx"));
        assert!(!with("application/octet-stream"));
        assert!(!json_content_type(&HeaderMap::new()));
    }

    #[test]
    fn limits_out_of_range_are_refused_not_clamped() {
        assert_eq!(page_limit(None, 20, 50), Ok(20));
        assert_eq!(page_limit(Some(1), 20, 50), Ok(1));
        assert_eq!(page_limit(Some(50), 20, 50), Ok(50));
        assert!(page_limit(Some(0), 20, 50).is_err());
        assert!(page_limit(Some(51), 20, 50).is_err());
    }
}
