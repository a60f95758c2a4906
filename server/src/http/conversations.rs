//! Conversations: the caller's list with unread counts, history pages and read cursors.

use super::{ApiError, AppState, Caller, Json};
use crate::app::App;
use crate::messages::message_of;
use crate::presence;
use crate::store::MemberRow;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use kith_shared::api::{ConversationId, ConversationState, HistoryPage, HistoryQuery, MemberCursor};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/conversations", get(get_conversations))
        .route("/api/conversations/{id}/messages", get(get_messages))
        .route("/api/conversations/{id}/receipts", get(get_receipts))
}

/// The caller's membership of a conversation, or 403.
async fn membership(
    app: &App,
    conversation_id: ConversationId,
    caller: &Caller,
) -> Result<MemberRow, ApiError> {
    app.store
        .member(conversation_id, caller.user_id)
        .await?
        .ok_or_else(|| ApiError::forbidden("you are not in this conversation"))
}

/// `GET /api/conversations`: every conversation of the caller with cursors and unread counts.
async fn get_conversations(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ConversationState>>, ApiError> {
    Ok(Json(presence::conversation_states(&app, caller.user_id).await?))
}

/// `GET /api/conversations/{id}/messages?after=&before=&limit=`: a page of history.
async fn get_messages(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<ConversationId>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<HistoryPage>, ApiError> {
    let member = membership(&app, id, &caller).await?;
    let limit = query.limit.unwrap_or(100).clamp(1, 200) as u64;
    // One more than asked tells whether there is more.
    let mut rows = app.store.history(id, query.after, query.before, member.joined_seq, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let messages = rows
        .iter()
        .map(|row| {
            let mut message = message_of(row);
            message.muted = member.muted;
            message
        })
        .collect();
    Ok(Json(HistoryPage { messages, more }))
}

/// `GET /api/conversations/{id}/receipts`: every member's delivered and read cursors.
async fn get_receipts(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<ConversationId>,
) -> Result<Json<Vec<MemberCursor>>, ApiError> {
    membership(&app, id, &caller).await?;
    let members = app.store.members(id).await?;
    Ok(Json(
        members
            .iter()
            .map(|m| MemberCursor {
                user_id: m.user_id,
                delivered_seq: m.delivered_seq,
                read_seq: m.read_seq,
            })
            .collect(),
    ))
}
