//! Conversations over HTTP: the caller's list with unread counts, history pages and read
//! cursors. The rules are in [`crate::sync`].

use super::extract::page_limit;
use super::{AppState, Caller, Json, Path, Query};
use crate::error::Refusal;
use crate::sync;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use kith_shared::api::{ConversationId, ConversationState, HistoryPage, HistoryQuery, MemberCursor, limits};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/conversations", get(get_conversations))
        .route("/api/conversations/{id}/messages", get(get_messages))
        .route("/api/conversations/{id}/receipts", get(get_receipts))
}

/// `GET /api/conversations`: every conversation of the caller with cursors and unread counts.
async fn get_conversations(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ConversationState>>, Refusal> {
    Ok(Json(sync::conversation_states(&app, caller.user_id).await?))
}

/// `GET /api/conversations/{id}/messages?after=&before=&limit=`: a page of history.
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
async fn get_receipts(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<ConversationId>,
) -> Result<Json<Vec<MemberCursor>>, Refusal> {
    sync::receipts(&app, caller.user_id, id).await.map(Json)
}
