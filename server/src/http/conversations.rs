//! Conversations over HTTP: the caller's list with unread counts, history pages and read
//! cursors. The rules are in [`crate::sync`].

use super::extract::page_limit;
use super::{AppState, Caller, Json, Path, Query};
use crate::error::Refusal;
use crate::sync;
use axum::extract::State;
use kith_shared::api::{
    ApiError, ConversationId, ConversationPrefs, ConversationState, HiddenMessages, HistoryPage,
    HistoryQuery, MemberCursor, UpdateConversation, limits,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_conversations))
        .routes(routes!(patch_conversation))
        .routes(routes!(get_messages))
        .routes(routes!(get_receipts))
        .routes(routes!(get_hidden))
}

/// `GET /api/conversations`: every conversation of the caller with cursors and unread counts.
#[utoipa::path(
    get,
    path = "/api/conversations",
    tag = "conversations",
    security(("bearer" = [])),
    responses((status = 200, description = "every conversation of the caller", body = Vec<ConversationState>)),
)]
async fn get_conversations(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ConversationState>>, Refusal> {
    Ok(Json(sync::conversation_states(&app, caller.user_id).await?))
}

/// `PATCH /api/conversations/{id}`: pin, archive or mark unread, for the caller alone.
#[utoipa::path(
    patch,
    path = "/api/conversations/{id}",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = ConversationId, Path, description = "The conversation's id")),
    request_body = UpdateConversation,
    responses(
        (status = 200, description = "how the caller's lists show it now", body = ConversationPrefs),
        (status = 403, description = "only members may (`forbidden`)", body = ApiError),
    ),
)]
async fn patch_conversation(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<ConversationId>,
    Json(change): Json<UpdateConversation>,
) -> Result<Json<ConversationPrefs>, Refusal> {
    sync::update_prefs(&app, caller.user_id, id, &change).await.map(Json)
}

/// `GET /api/conversations/{id}/messages?after=&before=&limit=`: a page of history.
#[utoipa::path(
    get,
    path = "/api/conversations/{id}/messages",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = ConversationId, Path, description = "The conversation's id"), HistoryQuery),
    responses(
        (status = 200, description = "a page of history", body = HistoryPage),
        (status = 403, description = "only current members may read it (`forbidden`)", body = ApiError),
    ),
)]
async fn get_messages(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<ConversationId>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<HistoryPage>, Refusal> {
    let limit = page_limit(query.limit, limits::HISTORY_LIMIT_DEFAULT, limits::HISTORY_LIMIT_MAX)?;
    sync::history(&app, caller.user_id, id, query.after, query.before, limit).await.map(Json)
}

/// `GET /api/conversations/{id}/receipts`: every member's delivered and read cursors.
#[utoipa::path(
    get,
    path = "/api/conversations/{id}/receipts",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = ConversationId, Path, description = "The conversation's id")),
    responses(
        (status = 200, description = "every member's delivered and read cursors", body = Vec<MemberCursor>),
        (status = 403, description = "only members may (`forbidden`)", body = ApiError),
    ),
)]
async fn get_receipts(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<ConversationId>,
) -> Result<Json<Vec<MemberCursor>>, Refusal> {
    sync::receipts(&app, caller.user_id, id).await.map(Json)
}

/// `GET /api/conversations/{id}/hidden`: the messages the caller deleted for themselves.
#[utoipa::path(
    get,
    path = "/api/conversations/{id}/hidden",
    tag = "conversations",
    security(("bearer" = [])),
    params(("id" = ConversationId, Path, description = "The conversation's id")),
    responses(
        (status = 200, description = "the caller's deleted messages, by sequence number", body = HiddenMessages),
        (status = 403, description = "only members may (`forbidden`)", body = ApiError),
    ),
)]
async fn get_hidden(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<ConversationId>,
) -> Result<Json<HiddenMessages>, Refusal> {
    crate::messages::deletes::hidden(&app, caller.user_id, id).await.map(Json)
}
