//! The HTTP API of a Kith server, seen from the client: one typed call per route.
//! Failures become [`ApiError`], whose [`ApiError::plain`] says what happened in plain words.

use crate::address::{Node, ServerAddress};
use crate::trust::{CertificateProblem, TlsTarget, Trust};
use kith_shared::ErrorCode;
use kith_shared::UserId;
use kith_shared::api::{
    self, BlockedUser, ChangePasswordRequest, ConversationId, ConversationPrefs, CreateGroupRequest,
    EmojiManifest, FileInfo, Friend, FriendRequestOutcome, FriendRequests, GroupId, GroupMember,
    GroupProfile, GroupRequest, GroupRequestBody, Health, HiddenMessages, HistoryPage, HistoryQuery,
    LoginRequest, LoginResponse, MemberCursor, MuteRequest, MyGroup, RegisterRequest, Role, SearchQuery,
    SendFriendRequest, SetRoleRequest, TransferOwnershipRequest, UpdateConversation, UpdateGroupRequest,
    UpdateProfileRequest, UploadQuery, UserProfile, UserSearchHit,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How long one request may take before the server counts as unreachable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// The longest an upload or a download may take (1 GiB at 1 MB/s fits).
pub const TRANSFER_TIMEOUT: Duration = Duration::from_secs(3 * 3600);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No answer: nothing listens there, the name does not resolve, or it timed out.
    #[error("cannot reach the server at {address}: {detail}")]
    Unreachable { address: String, detail: String },
    /// The server answered with one of the protocol's error codes.
    #[error("{code}: {message}")]
    Server { status: u16, code: ErrorCode, message: String },
    /// The server speaks another protocol version than this client.
    #[error("the server speaks protocol version {server}, this client {client}")]
    VersionMismatch { server: u32, client: u32 },
    /// The answer was not what the protocol says (not a Kith server, or a broken one).
    #[error("unexpected answer from the server: {0}")]
    Unexpected(String),
    /// The server's certificate was not accepted; nothing was sent.
    #[error("certificate not accepted: {}", .0.plain())]
    Certificate(Box<CertificateProblem>),
    /// TLS could not be set up for this address.
    #[error("cannot set up TLS for {address}: {detail}")]
    Tls { address: String, detail: String },
    /// Nothing was asked: a file on this computer could not be read. Holds the user's words.
    #[error("{0}")]
    Local(String),
}

impl ApiError {
    /// The error code, when the server sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiError::Server { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// What went wrong, for the user.
    pub fn plain(&self) -> String {
        match self {
            ApiError::Unreachable { address, .. } => t!("error-unreachable", address = address),
            ApiError::Certificate(problem) => problem.plain(),
            ApiError::Tls { address, detail } => t!("error-tls", address = address, detail = detail),
            ApiError::VersionMismatch { server, client } => {
                t!("error-version-mismatch", server = server, client = client)
            }
            ApiError::Unexpected(_) => t!("error-unexpected"),
            ApiError::Local(words) => words.clone(),
            ApiError::Server { code, message, .. } => plain_code(*code, message),
        }
    }
}

/// The client's own words for an error code, in the interface's language. The server's
/// `message` (English, for developers and logs) is not shown; it is logged.
pub fn plain_code(code: ErrorCode, message: &str) -> String {
    use kith_shared::api::limits::*;
    tracing::debug!(%code, message, "the server refused");
    match code {
        ErrorCode::Malformed => t!("error-malformed"),
        ErrorCode::FrameTooLarge => t!("error-frame-too-large"),
        ErrorCode::UnknownFrame => t!("error-unknown-frame"),
        ErrorCode::UnsupportedVersion => t!("error-unsupported-version"),
        ErrorCode::HelloRequired | ErrorCode::HelloTimeout => t!("error-hello"),
        ErrorCode::Unauthorized => t!("error-unauthorized"),
        ErrorCode::Forbidden => t!("error-forbidden"),
        ErrorCode::NotFound => t!("error-not-found"),
        ErrorCode::InvalidUsername => t!("error-invalid-username", min = USERNAME_MIN, max = USERNAME_MAX),
        ErrorCode::InvalidDisplayName => t!("error-invalid-display-name", max = DISPLAY_NAME_MAX),
        ErrorCode::InvalidPassword => t!("error-invalid-password", min = PASSWORD_MIN, max = PASSWORD_MAX),
        ErrorCode::UsernameTaken => t!("error-username-taken"),
        ErrorCode::WrongCredentials => t!("error-wrong-credentials"),
        ErrorCode::AccountDisabled => t!("error-account-disabled"),
        ErrorCode::InvalidField => t!("error-invalid-field"),
        ErrorCode::PayloadTooLarge => t!("error-payload-too-large"),
        ErrorCode::UnsupportedMedia => t!("error-unsupported-media"),
        ErrorCode::RateLimited => t!("error-rate-limited"),
        ErrorCode::AlreadyFriends => t!("error-already-friends"),
        ErrorCode::DuplicateRequest => t!("error-duplicate-request"),
        ErrorCode::RecallExpired => t!("error-recall-expired"),
        ErrorCode::EditExpired => t!("error-edit-expired"),
        ErrorCode::AlreadyMember => t!("error-already-member"),
        ErrorCode::OwnerCannotLeave => t!("error-owner-cannot-leave"),
        ErrorCode::Expired => t!("error-expired"),
        ErrorCode::MethodNotAllowed => t!("error-method-not-allowed"),
        ErrorCode::Timeout => t!("error-timeout"),
        ErrorCode::Internal => t!("error-internal"),
    }
}

/// A client for one community's server, or for the nodes of its cluster, with the session
/// token once logged in. Cheap to clone: clones share which node answers.
#[derive(Debug, Clone)]
pub struct Api {
    nodes: Arc<[Endpoint]>,
    /// The node that answered last: every request goes there first.
    current: Arc<AtomicUsize>,
    token: Option<String>,
}

/// One node as the HTTP API reaches it.
#[derive(Debug)]
struct Endpoint {
    http: reqwest::Client,
    /// `scheme://host:port`, without a trailing slash.
    base: String,
    display: String,
    /// TLS for this node (None in clear text), shared with the socket.
    tls: Option<Arc<TlsTarget>>,
    /// Why TLS could not be set up: every call fails with it rather than fall back to clear text.
    broken: Option<Arc<str>>,
}

impl Endpoint {
    fn new(node: &Node, trust: &Trust) -> Self {
        let (tls, broken) = match trust.tls_for(node) {
            Ok(tls) => (tls.map(Arc::new), None),
            Err(err) => (None, Some(Arc::from(err.to_string()))),
        };
        let mut builder =
            reqwest::Client::builder().timeout(REQUEST_TIMEOUT).connect_timeout(Duration::from_secs(8));
        if let Some(tls) = &tls {
            let mut config = (*tls.config).clone();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            builder = builder.tls_backend_preconfigured(config);
        }
        // Building a client only fails when the TLS backend cannot start, which is a
        // broken installation rather than a runtime condition.
        let http = builder.build().expect("the HTTP client's TLS backend starts");
        Self { http, base: node.http_base(), display: node.to_string(), tls, broken }
    }

    /// `request`, sent to this node whichever node it was made for. On failure, also whether
    /// nothing reached the node (no connection could be made), so that it may go elsewhere.
    async fn send(&self, mut request: reqwest::Request) -> Result<reqwest::Response, (ApiError, bool)> {
        if let Some(detail) = &self.broken {
            return Err((ApiError::Tls { address: self.display.clone(), detail: detail.to_string() }, false));
        }
        let mut url = format!("{}{}", self.base, request.url().path());
        if let Some(query) = request.url().query() {
            url = format!("{url}?{query}");
        }
        *request.url_mut() =
            reqwest::Url::parse(&url).map_err(|err| (ApiError::Unexpected(err.to_string()), false))?;
        self.http.execute(request).await.map_err(|err| {
            let not_sent = err.is_connect();
            let err = self.transport(err);
            // A certificate refused is the user's to decide, not a reason to try elsewhere.
            let not_sent = not_sent && matches!(err, ApiError::Unreachable { .. });
            (err, not_sent)
        })
    }

    fn transport(&self, err: reqwest::Error) -> ApiError {
        if let Some(problem) = self.tls.as_deref().and_then(TlsTarget::take_problem) {
            return ApiError::Certificate(Box::new(problem));
        }
        if err.is_decode() || err.is_body() && !err.is_timeout() {
            return ApiError::Unexpected(err.to_string());
        }
        let mut detail = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            detail = format!("{detail}: {cause}");
            source = cause.source();
        }
        ApiError::Unreachable { address: self.display.clone(), detail }
    }
}

impl Api {
    /// A client for `address` (every node of it), checking certificates against `trust` where
    /// a node speaks TLS.
    pub fn new(address: &ServerAddress, trust: &Trust) -> Self {
        let nodes: Vec<Endpoint> = address.nodes().iter().map(|node| Endpoint::new(node, trust)).collect();
        Self { nodes: nodes.into(), current: Arc::new(AtomicUsize::new(0)), token: None }
    }

    /// TLS of each node in the address's order (None in clear text), for the socket to use the
    /// same trust.
    pub fn tls(&self) -> Vec<Option<TlsTarget>> {
        self.nodes.iter().map(|node| node.tls.as_deref().cloned()).collect()
    }

    /// The same server, with a session token.
    pub fn with_token(&self, token: String) -> Self {
        Self { token: Some(token), ..self.clone() }
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// `GET /health`, checking that the server speaks this client's protocol.
    pub async fn check_server(&self) -> Result<Health, ApiError> {
        let response = self.send(self.http().get(self.url("/health"))).await?;
        let status = response.status();
        let body = response.bytes().await.map_err(|err| self.transport(err))?;
        // A degraded server answers 503 with the same body; its version still counts.
        let health: Health =
            serde_json::from_slice(&body).map_err(|_| ApiError::Unexpected(format!("HTTP {status}")))?;
        if health.protocol_version != kith_shared::PROTOCOL_VERSION {
            return Err(ApiError::VersionMismatch {
                server: health.protocol_version,
                client: kith_shared::PROTOCOL_VERSION,
            });
        }
        Ok(health)
    }

    /// `POST /api/register`
    pub async fn register(&self, request: &RegisterRequest) -> Result<UserProfile, ApiError> {
        self.call(self.http().post(self.url("/api/register")).json(request)).await
    }

    /// `POST /api/login`
    pub async fn login(&self, request: &LoginRequest) -> Result<LoginResponse, ApiError> {
        self.call(self.http().post(self.url("/api/login")).json(request)).await
    }

    /// `POST /api/logout`
    pub async fn logout(&self) -> Result<(), ApiError> {
        self.call_empty(self.authed(self.http().post(self.url("/api/logout")))).await
    }

    /// `PATCH /api/me`
    pub async fn update_profile(&self, request: &UpdateProfileRequest) -> Result<UserProfile, ApiError> {
        self.call(self.authed(self.http().patch(self.url("/api/me"))).json(request)).await
    }

    /// `POST /api/me/password`
    pub async fn change_password(&self, request: &ChangePasswordRequest) -> Result<(), ApiError> {
        self.call_empty(self.authed(self.http().post(self.url("/api/me/password"))).json(request)).await
    }

    /// `GET /api/me`: the user's own profile (a kept token still works when this answers).
    pub async fn me(&self) -> Result<UserProfile, ApiError> {
        self.get_json("/api/me").await
    }

    /// `PUT /api/me/avatar` with the picture's bytes; the profile with its new avatar address.
    pub async fn set_avatar(&self, picture: Vec<u8>) -> Result<UserProfile, ApiError> {
        self.call(self.authed(self.http().put(self.url("/api/me/avatar"))).body(picture)).await
    }

    /// A user's or a group's avatar, at the address the server gave in their profile
    /// (`/api/users/{id}/avatar?v=N`, `/api/groups/{id}/avatar?v=N`).
    pub async fn avatar(&self, url: &str) -> Result<Vec<u8>, ApiError> {
        self.bytes(url).await
    }

    /// `GET /api/users/search?q=&offset=&limit=`
    pub async fn search_users(&self, query: &SearchQuery) -> Result<Vec<UserSearchHit>, ApiError> {
        self.get_query("/api/users/search", query).await
    }

    /// `GET /api/friends`
    pub async fn friends(&self) -> Result<Vec<Friend>, ApiError> {
        self.get_json("/api/friends").await
    }

    /// `DELETE /api/friends/{user_id}`
    pub async fn remove_friend(&self, user: UserId) -> Result<(), ApiError> {
        self.delete(&format!("/api/friends/{user}")).await
    }

    /// `GET /api/blocks`: everyone the user blocks, the latest first.
    pub async fn blocks(&self) -> Result<Vec<BlockedUser>, ApiError> {
        self.get_json("/api/blocks").await
    }

    /// `PUT /api/blocks/{user_id}`: block the user (it ends a friendship with them).
    pub async fn block(&self, user: UserId) -> Result<(), ApiError> {
        self.call_empty(self.authed(self.http().put(self.url(&format!("/api/blocks/{user}"))))).await
    }

    /// `DELETE /api/blocks/{user_id}`
    pub async fn unblock(&self, user: UserId) -> Result<(), ApiError> {
        self.delete(&format!("/api/blocks/{user}")).await
    }

    /// `GET /api/friend-requests`: the requests to and from the user.
    pub async fn friend_requests(&self) -> Result<FriendRequests, ApiError> {
        self.get_json("/api/friend-requests").await
    }

    /// `POST /api/friend-requests`
    pub async fn ask_friend(&self, request: &SendFriendRequest) -> Result<FriendRequestOutcome, ApiError> {
        self.post_json("/api/friend-requests", request).await
    }

    /// `POST /api/friend-requests/{id}/accept`, or `/refuse`.
    pub async fn answer_friend_request(&self, id: i64, accept: bool) -> Result<(), ApiError> {
        self.post_empty(&format!("/api/friend-requests/{id}/{}", answer(accept))).await
    }

    /// `DELETE /api/friend-requests/{id}`: the user's own request, withdrawn.
    pub async fn withdraw_friend_request(&self, id: i64) -> Result<(), ApiError> {
        self.delete(&format!("/api/friend-requests/{id}")).await
    }

    /// `GET /api/groups`: the user's groups.
    pub async fn groups(&self) -> Result<Vec<MyGroup>, ApiError> {
        self.get_json("/api/groups").await
    }

    /// `POST /api/groups`: the new group, the user its owner.
    pub async fn create_group(&self, request: &CreateGroupRequest) -> Result<MyGroup, ApiError> {
        self.post_json("/api/groups", request).await
    }

    /// `GET /api/groups/search?q=&offset=&limit=`
    pub async fn search_groups(&self, query: &SearchQuery) -> Result<Vec<GroupProfile>, ApiError> {
        self.get_query("/api/groups/search", query).await
    }

    /// `POST /api/group-requests/{id}/accept`, or `/refuse`: an application to a group the user
    /// moderates, or an invitation to the user.
    pub async fn answer_group_request(&self, id: i64, accept: bool) -> Result<(), ApiError> {
        self.post_empty(&format!("/api/group-requests/{id}/{}", answer(accept))).await
    }

    /// The routes of one group: `api.group(id).members()`, …
    pub fn group(&self, id: GroupId) -> Group<'_> {
        Group { api: self, id }
    }

    /// The routes of one conversation: `api.conversation(id).receipts()`, …
    pub fn conversation(&self, id: ConversationId) -> Conversation<'_> {
        Conversation { api: self, id }
    }

    /// `GET /api/emoji`: the server's emoji set.
    pub async fn emoji(&self) -> Result<EmojiManifest, ApiError> {
        self.get_json("/api/emoji").await
    }

    /// `GET /static/emoji/{image}`: one picture of the emoji set, by its file name in the manifest.
    pub async fn emoji_picture(&self, image: &str) -> Result<Vec<u8>, ApiError> {
        self.bytes(&format!("/static/emoji/{}", segment(image)?)).await
    }

    /// `POST /api/files?name=NAME` with the file's `size` bytes streamed from `body`.
    pub async fn upload(&self, name: &str, size: u64, body: reqwest::Body) -> Result<FileInfo, ApiError> {
        let request = self
            .transfer(reqwest::Method::POST, "/api/files")
            .query(&UploadQuery { name: name.to_owned() })
            .header(reqwest::header::CONTENT_LENGTH, size)
            .body(body);
        self.call(request).await
    }

    /// `GET /api/files/{id}/content`: the answer, to be read as a stream.
    pub async fn download(&self, upload_id: &str) -> Result<reqwest::Response, ApiError> {
        let path = format!("/api/files/{}/content", segment(upload_id)?);
        self.execute(self.transfer(reqwest::Method::GET, &path)).await
    }

    /// `POST /api/files/{id}/received`: this receiver has the file (the server may let it go).
    pub async fn file_received(&self, upload_id: &str) -> Result<(), ApiError> {
        self.post_empty(&format!("/api/files/{}/received", segment(upload_id)?)).await
    }

    /// `GET /api/files/{id}/thumbnail`: an image's thumbnail (PNG).
    pub async fn thumbnail(&self, upload_id: &str) -> Result<Vec<u8>, ApiError> {
        self.bytes(&format!("/api/files/{}/thumbnail", segment(upload_id)?)).await
    }

    // The requests the typed calls above are made of. The main window and the session still
    // name some routes themselves through these.

    /// `GET` of a path on the server that returns raw bytes (avatars).
    pub async fn bytes(&self, path: &str) -> Result<Vec<u8>, ApiError> {
        let response = self.send(self.authed(self.http().get(self.url(path)))).await?;
        let response = check_status(response).await?;
        response.bytes().await.map(|b| b.to_vec()).map_err(|err| self.transport(err))
    }

    /// `GET` with a JSON answer.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        self.call(self.authed(self.http().get(self.url(path)))).await
    }

    /// `GET` with a query and a JSON answer.
    pub async fn get_query<Q: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Q,
    ) -> Result<T, ApiError> {
        self.call(self.authed(self.http().get(self.url(path))).query(query)).await
    }

    /// `POST` of a JSON body with a JSON answer.
    pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        self.json(reqwest::Method::POST, path, body).await
    }

    /// `PUT` of a JSON body with a JSON answer.
    pub async fn put_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        self.json(reqwest::Method::PUT, path, body).await
    }

    /// `PATCH` of a JSON body with a JSON answer.
    pub async fn patch_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        self.json(reqwest::Method::PATCH, path, body).await
    }

    /// `PUT` of raw bytes with a JSON answer.
    pub async fn put_bytes<T: DeserializeOwned>(&self, path: &str, body: Vec<u8>) -> Result<T, ApiError> {
        self.call(self.authed(self.http().put(self.url(path))).body(body)).await
    }

    /// `DELETE`; the answer's body, if any, is not needed.
    pub async fn delete(&self, path: &str) -> Result<(), ApiError> {
        self.call_empty(self.authed(self.http().delete(self.url(path)))).await
    }

    /// `POST` without a body; the answer's body, if any, is not needed.
    pub async fn post_empty(&self, path: &str) -> Result<(), ApiError> {
        self.call_empty(self.authed(self.http().post(self.url(path)))).await
    }

    /// A request for a long transfer (uploads, downloads): authorised, and allowed
    /// [`TRANSFER_TIMEOUT`] instead of the usual short one.
    pub fn transfer(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.authed(self.http().request(method, self.url(path))).timeout(TRANSFER_TIMEOUT)
    }

    /// Sends a request; a status other than success becomes the server's error.
    pub async fn execute(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, ApiError> {
        check_status(self.send(request).await?).await
    }

    /// A transport failure in words (the server's address and the cause).
    pub fn transport_error(&self, err: reqwest::Error) -> ApiError {
        self.transport(err)
    }

    /// A request with a JSON body and a JSON answer.
    async fn json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        self.call(self.authed(self.http().request(method, self.url(path))).json(body)).await
    }

    /// The node requests go to first: the one that answered last.
    fn node(&self) -> &Endpoint {
        &self.nodes[self.current.load(Ordering::Relaxed) % self.nodes.len()]
    }

    fn http(&self) -> &reqwest::Client {
        &self.node().http
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.node().base)
    }

    fn authed(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends `request` to the node that answered last. When a node cannot be reached at all
    /// (nothing was sent), the same request goes to the next node, each node once, and the
    /// node that answers is the one asked first from then on. A request whose body is a
    /// stream (an upload) cannot be repeated and goes to one node only.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, ApiError> {
        let (_, request) = request.build_split();
        let mut request = request.map_err(|err| self.node().transport(err))?;
        let first = self.current.load(Ordering::Relaxed);
        let mut tried = 0;
        loop {
            let index = (first + tried) % self.nodes.len();
            let again = request.try_clone();
            match self.nodes[index].send(request).await {
                Ok(response) => {
                    self.current.store(index, Ordering::Relaxed);
                    return Ok(response);
                }
                Err((err, true)) if tried + 1 < self.nodes.len() => match again {
                    Some(again) => {
                        tracing::info!(%err, "trying the next node");
                        request = again;
                        tried += 1;
                    }
                    None => return Err(err),
                },
                Err((err, _)) => return Err(err),
            }
        }
    }

    async fn call<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T, ApiError> {
        let response = check_status(self.send(request).await?).await?;
        let body = response.bytes().await.map_err(|err| self.transport(err))?;
        serde_json::from_slice(&body).map_err(|err| ApiError::Unexpected(err.to_string()))
    }

    async fn call_empty(&self, request: reqwest::RequestBuilder) -> Result<(), ApiError> {
        check_status(self.send(request).await?).await.map(drop)
    }

    fn transport(&self, err: reqwest::Error) -> ApiError {
        self.node().transport(err)
    }
}

/// The last word of the routes that answer a request.
fn answer(accept: bool) -> &'static str {
    if accept { "accept" } else { "refuse" }
}

/// A name from a message or the server (an upload id, an emoji picture's file name) as one
/// segment of a path. Only plain names are sent: letters, digits, `-`, `_` and `.`, not
/// starting with a dot, so that no name can climb out of its route (`..`) or add to it.
fn segment(name: &str) -> Result<&str, ApiError> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if plain { Ok(name) } else { Err(ApiError::Unexpected(format!("not a name the server gives: {name:?}"))) }
}

/// The routes of one group (`/api/groups/{id}/…`), from [`Api::group`].
#[derive(Debug, Clone, Copy)]
pub struct Group<'a> {
    api: &'a Api,
    id: GroupId,
}

impl Group<'_> {
    fn path(&self, rest: &str) -> String {
        format!("/api/groups/{}{rest}", self.id)
    }

    /// `GET /api/groups/{id}/members`
    pub async fn members(&self) -> Result<Vec<GroupMember>, ApiError> {
        self.api.get_json(&self.path("/members")).await
    }

    /// `PATCH /api/groups/{id}` (owner and admins): name and description.
    pub async fn update(&self, request: &UpdateGroupRequest) -> Result<GroupProfile, ApiError> {
        self.api.patch_json(&self.path(""), request).await
    }

    /// `PUT /api/groups/{id}/avatar` (owner and admins) with the picture's bytes; the group
    /// with its new picture's address.
    pub async fn set_avatar(&self, picture: Vec<u8>) -> Result<GroupProfile, ApiError> {
        let url = self.api.url(&self.path("/avatar"));
        self.api.call(self.api.authed(self.api.http().put(url)).body(picture)).await
    }

    /// `DELETE /api/groups/{id}/avatar` (owner and admins): the group without its picture.
    pub async fn remove_avatar(&self) -> Result<GroupProfile, ApiError> {
        let url = self.api.url(&self.path("/avatar"));
        self.api.call(self.api.authed(self.api.http().delete(url))).await
    }

    /// `DELETE /api/groups/{id}` (the owner): the group is dissolved.
    pub async fn dissolve(&self) -> Result<(), ApiError> {
        self.api.delete(&self.path("")).await
    }

    /// `PUT /api/groups/{id}/mute`: the user's own mute switch for the group.
    pub async fn mute(&self, muted: bool) -> Result<MyGroup, ApiError> {
        self.api.put_json(&self.path("/mute"), &MuteRequest { muted }).await
    }

    /// `POST /api/groups/{id}/applications`: the user asks to join, with a message.
    pub async fn apply(&self, message: String) -> Result<GroupRequest, ApiError> {
        let body = GroupRequestBody { user_id: None, message };
        self.api.post_json(&self.path("/applications"), &body).await
    }

    /// `POST /api/groups/{id}/invitations`: a friend invited, with a message.
    pub async fn invite(&self, user: UserId, message: String) -> Result<GroupRequest, ApiError> {
        let body = GroupRequestBody { user_id: Some(user), message };
        self.api.post_json(&self.path("/invitations"), &body).await
    }

    /// `PUT /api/groups/{id}/members/{user_id}/role` (the owner): admin or member.
    pub async fn set_role(&self, user: UserId, role: Role) -> Result<GroupMember, ApiError> {
        self.api.put_json(&self.path(&format!("/members/{user}/role")), &SetRoleRequest { role }).await
    }

    /// `DELETE /api/groups/{id}/members/{user_id}`: a member removed, or the user leaving
    /// (their own id).
    pub async fn remove_member(&self, user: UserId) -> Result<(), ApiError> {
        self.api.delete(&self.path(&format!("/members/{user}"))).await
    }

    /// `POST /api/groups/{id}/owner` (the owner): the group handed over to a member.
    pub async fn hand_over(&self, user: UserId) -> Result<GroupProfile, ApiError> {
        self.api.post_json(&self.path("/owner"), &TransferOwnershipRequest { user_id: user }).await
    }
}

/// The routes of one conversation (`/api/conversations/{id}/…`), from [`Api::conversation`].
#[derive(Debug, Clone, Copy)]
pub struct Conversation<'a> {
    api: &'a Api,
    id: ConversationId,
}

impl Conversation<'_> {
    /// `GET /api/conversations/{id}/messages?after=&before=&limit=`: a page of history.
    pub async fn messages(&self, query: &HistoryQuery) -> Result<HistoryPage, ApiError> {
        self.api.get_query(&format!("/api/conversations/{}/messages", self.id), query).await
    }

    /// `GET /api/conversations/{id}/receipts`: every member's delivered and read cursors.
    pub async fn receipts(&self) -> Result<Vec<MemberCursor>, ApiError> {
        self.api.get_json(&format!("/api/conversations/{}/receipts", self.id)).await
    }

    /// `GET /api/conversations/{id}/hidden`: the messages the caller deleted for themselves.
    pub async fn hidden(&self) -> Result<HiddenMessages, ApiError> {
        self.api.get_json(&format!("/api/conversations/{}/hidden", self.id)).await
    }

    /// `PATCH /api/conversations/{id}`: pin, archive or mark unread, for the caller alone.
    pub async fn update(&self, change: &UpdateConversation) -> Result<ConversationPrefs, ApiError> {
        self.api.patch_json(&format!("/api/conversations/{}", self.id), change).await
    }
}

/// Turns a non-success status into the error of its body.
async fn check_status(response: reqwest::Response) -> Result<reqwest::Response, ApiError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<api::ApiError>(&body) {
        Ok(api::ApiError { code, message }) => {
            Err(ApiError::Server { status: status.as_u16(), code, message })
        }
        Err(_) => Err(ApiError::Unexpected(format!("HTTP {status}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio::sync::mpsc;

    /// A one-shot HTTP server answering every request with `status` and `body`.
    async fn canned(status: &'static str, body: &'static str) -> ServerAddress {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = vec![0u8; 8192];
                let _ = stream.read(&mut buf).await;
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            }
        });
        ServerAddress::parse(&format!("127.0.0.1:{port}"), "").expect("valid")
    }

    fn login() -> LoginRequest {
        LoginRequest { username: "alice".into(), password: "password1".into() }
    }

    #[tokio::test]
    async fn server_error_codes_become_plain_words() {
        let addr = canned(
            "401 Unauthorized",
            r#"{"code":"wrong_credentials","message":"wrong user name or password"}"#,
        )
        .await;
        let err = Api::new(&addr, &Trust::in_memory()).login(&login()).await.expect_err("refused");
        assert_eq!(err.code(), Some(ErrorCode::WrongCredentials));
        assert_eq!(err.plain(), "Wrong user name or password.");
    }

    #[tokio::test]
    async fn name_taken_is_reported() {
        let addr = canned("409 Conflict", r#"{"code":"username_taken","message":"taken"}"#).await;
        let req = RegisterRequest {
            username: "alice".into(),
            display_name: "Alice".into(),
            password: "password1".into(),
        };
        let err = Api::new(&addr, &Trust::in_memory()).register(&req).await.expect_err("refused");
        assert_eq!(err.plain(), "This user name is taken. Choose another one.");
    }

    #[tokio::test]
    async fn nothing_listening_is_unreachable() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let addr = ServerAddress::parse(&format!("127.0.0.1:{port}"), "").expect("valid");
        let err = Api::new(&addr, &Trust::in_memory()).login(&login()).await.expect_err("nobody there");
        assert!(matches!(err, ApiError::Unreachable { .. }), "{err:?}");
        assert!(err.plain().starts_with("Cannot reach the server at 127.0.0.1:"), "{}", err.plain());
    }

    #[tokio::test]
    async fn a_node_that_cannot_be_reached_is_passed_over_for_the_next() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let dead = listener.local_addr().expect("addr").port();
        drop(listener);
        let live = canned(
            "401 Unauthorized",
            r#"{"code":"wrong_credentials","message":"wrong user name or password"}"#,
        )
        .await;
        let address = ServerAddress::parse(&format!("127.0.0.1:{dead}, {live}"), "").expect("valid");
        let api = Api::new(&address, &Trust::in_memory());
        let err = api.login(&login()).await.expect_err("refused by the live node");
        assert_eq!(err.code(), Some(ErrorCode::WrongCredentials), "the live node answered: {err:?}");
        assert_eq!(api.current.load(Ordering::Relaxed), 1, "the live node is asked first from now on");
        let clone = api.with_token("t".into());
        assert_eq!(clone.node().base, format!("http://{live}"), "clones share the node that answers");

        let other = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let other_dead = other.local_addr().expect("addr").port();
        drop(other);
        let nobody =
            ServerAddress::parse(&format!("127.0.0.1:{dead}, 127.0.0.1:{other_dead}"), "").expect("valid");
        let err = Api::new(&nobody, &Trust::in_memory()).login(&login()).await.expect_err("nobody there");
        assert!(matches!(err, ApiError::Unreachable { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn other_protocol_version_is_refused() {
        let addr =
            canned("200 OK", r#"{"status":"ok","database":true,"version":"9.0.0","protocol_version":999}"#)
                .await;
        let err = Api::new(&addr, &Trust::in_memory()).check_server().await.expect_err("mismatch");
        assert_eq!(err, ApiError::VersionMismatch { server: 999, client: kith_shared::PROTOCOL_VERSION });
        assert!(err.plain().contains("protocol version 999"));
    }

    #[tokio::test]
    async fn a_web_page_is_not_a_kith_server() {
        let addr = canned("200 OK", "<html>hello</html>").await;
        let err = Api::new(&addr, &Trust::in_memory()).check_server().await.expect_err("not kith");
        assert!(matches!(err, ApiError::Unexpected(_)));
        let addr = canned("404 Not Found", "<html>nope</html>").await;
        let err = Api::new(&addr, &Trust::in_memory()).check_server().await.expect_err("not kith");
        assert_eq!(err, ApiError::Unexpected("HTTP 404 Not Found".into()));
    }

    /// A server that answers every request with `{}` and reports each as
    /// `METHOD /path?query body` (the body left out when empty).
    async fn recording() -> (ServerAddress, mpsc::UnboundedReceiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (seen, requests) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                let mut wanted = None;
                loop {
                    if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&raw[..end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|line| line.strip_prefix("content-length:"))
                            .and_then(|n| n.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        wanted = Some((end, end + 4 + length));
                    }
                    if wanted.is_some_and(|(_, total)| raw.len() >= total) {
                        break;
                    }
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => raw.extend_from_slice(&buf[..n]),
                    }
                }
                let Some((end, total)) = wanted else { continue };
                let head = String::from_utf8_lossy(&raw[..end]).into_owned();
                let line: Vec<&str> = head.lines().next().unwrap_or("").split(' ').take(2).collect();
                let body = String::from_utf8_lossy(&raw[end + 4..total.min(raw.len())]).into_owned();
                let request =
                    if body.is_empty() { line.join(" ") } else { format!("{} {body}", line.join(" ")) };
                let _ = seen.send(request);
                let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\
                             connection: close\r\n\r\n{}";
                let _ = stream.write_all(reply.as_bytes()).await;
            }
        });
        (ServerAddress::parse(&format!("127.0.0.1:{port}"), "").expect("valid"), requests)
    }

    async fn sent(requests: &mut mpsc::UnboundedReceiver<String>) -> String {
        requests.recv().await.expect("a request")
    }

    #[tokio::test]
    async fn typed_calls_put_their_ids_in_their_routes() {
        let (address, mut requests) = recording().await;
        let api = Api::new(&address, &Trust::in_memory()).with_token("t".into());
        let group = api.group(5);
        // The answers are `{}`, which most calls cannot read: only the requests matter here.
        let _ = group.members().await;
        assert_eq!(sent(&mut requests).await, "GET /api/groups/5/members");
        let _ = group.set_role(9, Role::Admin).await;
        assert_eq!(sent(&mut requests).await, r#"PUT /api/groups/5/members/9/role {"role":"admin"}"#);
        let _ = group.invite(9, "chess on Friday".into()).await;
        assert_eq!(
            sent(&mut requests).await,
            r#"POST /api/groups/5/invitations {"user_id":9,"message":"chess on Friday"}"#
        );
        let _ = group.apply("may I?".into()).await;
        assert_eq!(
            sent(&mut requests).await,
            r#"POST /api/groups/5/applications {"user_id":null,"message":"may I?"}"#
        );
        let _ = group.hand_over(9).await;
        assert_eq!(sent(&mut requests).await, r#"POST /api/groups/5/owner {"user_id":9}"#);
        let _ = group.mute(true).await;
        assert_eq!(sent(&mut requests).await, r#"PUT /api/groups/5/mute {"muted":true}"#);
        let _ = group
            .update(&UpdateGroupRequest { name: Some("Chess".into()), description: None, announcement: None })
            .await;
        assert_eq!(
            sent(&mut requests).await,
            r#"PATCH /api/groups/5 {"name":"Chess","description":null,"announcement":null}"#
        );
        group.remove_member(9).await.expect("no answer needed");
        assert_eq!(sent(&mut requests).await, "DELETE /api/groups/5/members/9");
        group.dissolve().await.expect("no answer needed");
        assert_eq!(sent(&mut requests).await, "DELETE /api/groups/5");

        api.answer_friend_request(3, true).await.expect("no answer needed");
        assert_eq!(sent(&mut requests).await, "POST /api/friend-requests/3/accept");
        api.answer_friend_request(3, false).await.expect("no answer needed");
        assert_eq!(sent(&mut requests).await, "POST /api/friend-requests/3/refuse");
        api.answer_group_request(4, false).await.expect("no answer needed");
        assert_eq!(sent(&mut requests).await, "POST /api/group-requests/4/refuse");
        api.withdraw_friend_request(3).await.expect("no answer needed");
        assert_eq!(sent(&mut requests).await, "DELETE /api/friend-requests/3");
        api.remove_friend(8).await.expect("no answer needed");
        assert_eq!(sent(&mut requests).await, "DELETE /api/friends/8");
        api.block(8).await.expect("no answer needed");
        assert_eq!(sent(&mut requests).await, "PUT /api/blocks/8");
        api.unblock(8).await.expect("no answer needed");
        assert_eq!(sent(&mut requests).await, "DELETE /api/blocks/8");
        let _ = api.blocks().await;
        assert_eq!(sent(&mut requests).await, "GET /api/blocks");
        let _ = api.conversation(12).receipts().await;
        assert_eq!(sent(&mut requests).await, "GET /api/conversations/12/receipts");
        api.file_received("0b7e-4c1d").await.expect("no answer needed");
        assert_eq!(sent(&mut requests).await, "POST /api/files/0b7e-4c1d/received");
    }

    #[tokio::test]
    async fn queries_are_encoded_and_empty_fields_left_out() {
        let (address, mut requests) = recording().await;
        let api = Api::new(&address, &Trust::in_memory()).with_token("t".into());
        let _ =
            api.search_users(&SearchQuery { q: "ann & bob=1 é".into(), offset: 0, limit: Some(20) }).await;
        assert_eq!(
            sent(&mut requests).await,
            "GET /api/users/search?q=ann+%26+bob%3D1+%C3%A9&offset=0&limit=20"
        );
        let _ = api.search_groups(&SearchQuery { q: "chess club".into(), offset: 20, limit: None }).await;
        assert_eq!(sent(&mut requests).await, "GET /api/groups/search?q=chess+club&offset=20");
        let page = HistoryQuery { after: Some(7), before: None, limit: Some(200) };
        let _ = api.conversation(12).messages(&page).await;
        assert_eq!(sent(&mut requests).await, "GET /api/conversations/12/messages?after=7&limit=200");
        let _ = api.upload("my notes (1).txt", 3, reqwest::Body::from("abc")).await;
        assert_eq!(sent(&mut requests).await, "POST /api/files?name=my+notes+%281%29.txt abc");
    }

    #[tokio::test]
    async fn a_name_that_could_leave_its_route_is_never_sent() {
        let (address, mut requests) = recording().await;
        let api = Api::new(&address, &Trust::in_memory()).with_token("t".into());
        for name in ["../../api/me", "..", "", "a/b", "a?b", ".hidden.png", "a b"] {
            assert!(matches!(api.thumbnail(name).await, Err(ApiError::Unexpected(_))), "{name:?}");
            assert!(api.download(name).await.is_err(), "{name:?}");
            assert!(api.file_received(name).await.is_err(), "{name:?}");
            assert!(api.emoji_picture(name).await.is_err(), "{name:?}");
        }
        // The first request the server sees is the plain one after them.
        let _ = api.thumbnail("0b7e-4c1d").await;
        assert_eq!(sent(&mut requests).await, "GET /api/files/0b7e-4c1d/thumbnail");
        let _ = api.emoji_picture("1f44d-1f3fd.png").await;
        assert_eq!(sent(&mut requests).await, "GET /static/emoji/1f44d-1f3fd.png");
    }

    #[test]
    fn codes_read_in_the_clients_own_words() {
        assert_eq!(plain_code(ErrorCode::Forbidden, "you are not a member"), "You may not do that here.");
        assert_eq!(plain_code(ErrorCode::WrongCredentials, ""), "Wrong user name or password.");
        crate::i18n::set(crate::i18n::Lang::Chinese);
        let chinese = plain_code(ErrorCode::WrongCredentials, "wrong user name or password");
        crate::i18n::set(crate::i18n::Lang::English);
        assert_eq!(chinese, "用户名或密码错误。");
    }
}
