//! Uploads: the records of files in the temporary upload store, where they were sent and
//! who has fetched them. The bytes themselves are in UPLOAD_DIR (see `crate::files`).

use super::{Store, StoreResult, now_millis};
use kith_shared::UserId;
use kith_shared::api::ConversationId;
use sea_query::{Expr, ExprTrait, Func, Iden, OnConflict, Query};

#[derive(Debug, Clone, Copy, Iden)]
enum Uploads {
    Table,
    Id,
    UploaderId,
    Name,
    Size,
    Mime,
    Width,
    Height,
    ThumbnailId,
    ConversationId,
    CreatedAt,
    ExpiresAt,
    Expired,
    SentAfterSeq,
}

#[derive(Debug, Clone, Copy, Iden)]
enum UploadFetches {
    Table,
    UploadId,
    UserId,
    FetchedAt,
}

/// One upload as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UploadRow {
    /// The uuid, also the file's name on disk.
    pub id: String,
    pub uploader_id: i64,
    /// The uploader's file name: metadata only.
    pub name: String,
    pub size: i64,
    pub mime: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub thumbnail_id: Option<String>,
    pub conversation_id: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    pub expired: bool,
    /// The conversation's last seq when the upload was last sent there: members whose
    /// `joined_seq` is at most this see a message carrying it. None while not sent.
    pub sent_after_seq: Option<i64>,
}

const COLUMNS: [Uploads; 13] = [
    Uploads::Id,
    Uploads::UploaderId,
    Uploads::Name,
    Uploads::Size,
    Uploads::Mime,
    Uploads::Width,
    Uploads::Height,
    Uploads::ThumbnailId,
    Uploads::ConversationId,
    Uploads::CreatedAt,
    Uploads::ExpiresAt,
    Uploads::Expired,
    Uploads::SentAfterSeq,
];

/// What attaching an upload to a conversation found.
#[derive(Debug)]
pub enum Attached {
    /// Attached now, or attached to this same conversation before.
    Yes(Box<UploadRow>),
    NotFound,
    /// Someone else uploaded it.
    NotYours,
    /// Its file is deleted.
    Expired,
    /// It was sent to another conversation already.
    Elsewhere,
}

impl Store {
    /// Records a new upload.
    pub async fn insert_upload(&self, row: &UploadRow) -> StoreResult<()> {
        let stmt = Query::insert()
            .into_table(Uploads::Table)
            .columns(COLUMNS)
            .values_panic([
                row.id.clone().into(),
                row.uploader_id.into(),
                row.name.clone().into(),
                row.size.into(),
                row.mime.clone().into(),
                row.width.into(),
                row.height.into(),
                row.thumbnail_id.clone().into(),
                row.conversation_id.into(),
                row.created_at.into(),
                row.expires_at.into(),
                row.expired.into(),
                row.sent_after_seq.into(),
            ])
            .to_owned();
        self.execute(&stmt).await?;
        Ok(())
    }

    /// Forgets an upload whose file could not be put in place.
    pub async fn delete_upload(&self, id: &str) -> StoreResult<()> {
        let stmt =
            Query::delete().from_table(Uploads::Table).and_where(Expr::col(Uploads::Id).eq(id)).to_owned();
        self.execute(&stmt).await?;
        Ok(())
    }

    pub async fn upload(&self, id: &str) -> StoreResult<Option<UploadRow>> {
        let stmt = Query::select()
            .columns(COLUMNS)
            .from(Uploads::Table)
            .and_where(Expr::col(Uploads::Id).eq(id))
            .to_owned();
        self.fetch_optional(&stmt).await
    }

    /// Every upload of a user whose file is still on disk.
    pub async fn live_uploads_of(&self, uploader_id: UserId) -> StoreResult<Vec<UploadRow>> {
        let stmt = Query::select()
            .columns(COLUMNS)
            .from(Uploads::Table)
            .and_where(Expr::col(Uploads::UploaderId).eq(uploader_id))
            .and_where(Expr::col(Uploads::Expired).eq(false))
            .to_owned();
        self.fetch_all(&stmt).await
    }

    /// How many uploads of a user are neither sent in a message nor expired.
    pub async fn pending_upload_count(&self, uploader_id: UserId) -> StoreResult<i64> {
        #[derive(sqlx::FromRow)]
        struct Row {
            n: i64,
        }
        let stmt = Query::select()
            .expr_as(Func::count(Expr::col(Uploads::Id)), "n")
            .from(Uploads::Table)
            .and_where(Expr::col(Uploads::UploaderId).eq(uploader_id))
            .and_where(Expr::col(Uploads::ConversationId).is_null())
            .and_where(Expr::col(Uploads::Expired).eq(false))
            .to_owned();
        Ok(self.fetch_optional::<Row>(&stmt).await?.map_or(0, |r| r.n))
    }

    /// Attaches an upload of `uploader_id` to a conversation the first time it is sent there;
    /// from then on it expires `ttl_ms` after now. Each send there records `last_seq`, the
    /// conversation's last seq before the message carrying it (the highest is kept).
    pub async fn attach_upload(
        &self,
        id: &str,
        uploader_id: UserId,
        conversation_id: ConversationId,
        last_seq: i64,
        ttl_ms: i64,
    ) -> StoreResult<Attached> {
        let stmt = Query::update()
            .table(Uploads::Table)
            .value(Uploads::ConversationId, conversation_id)
            .value(Uploads::ExpiresAt, now_millis().saturating_add(ttl_ms))
            .and_where(Expr::col(Uploads::Id).eq(id))
            .and_where(Expr::col(Uploads::UploaderId).eq(uploader_id))
            .and_where(Expr::col(Uploads::ConversationId).is_null())
            .and_where(Expr::col(Uploads::Expired).eq(false))
            .to_owned();
        self.execute(&stmt).await?;
        let stmt = Query::update()
            .table(Uploads::Table)
            .value(Uploads::SentAfterSeq, last_seq)
            .and_where(Expr::col(Uploads::Id).eq(id))
            .and_where(Expr::col(Uploads::UploaderId).eq(uploader_id))
            .and_where(Expr::col(Uploads::ConversationId).eq(conversation_id))
            .and_where(Expr::col(Uploads::Expired).eq(false))
            .and_where(
                Expr::col(Uploads::SentAfterSeq).is_null().or(Expr::col(Uploads::SentAfterSeq).lt(last_seq)),
            )
            .to_owned();
        self.execute(&stmt).await?;
        let Some(row) = self.upload(id).await? else { return Ok(Attached::NotFound) };
        Ok(if row.uploader_id != uploader_id {
            Attached::NotYours
        } else if row.expired {
            Attached::Expired
        } else if row.conversation_id != Some(conversation_id) {
            Attached::Elsewhere
        } else {
            Attached::Yes(Box::new(row))
        })
    }

    /// Records that `user_id` has the whole file (once per user).
    pub async fn record_fetch(&self, upload_id: &str, user_id: UserId) -> StoreResult<()> {
        let stmt = Query::insert()
            .into_table(UploadFetches::Table)
            .columns([UploadFetches::UploadId, UploadFetches::UserId, UploadFetches::FetchedAt])
            .values_panic([upload_id.into(), user_id.into(), now_millis().into()])
            .on_conflict(
                OnConflict::columns([UploadFetches::UploadId, UploadFetches::UserId])
                    .do_nothing_on([UploadFetches::UploadId])
                    .to_owned(),
            )
            .to_owned();
        self.execute(&stmt).await?;
        Ok(())
    }

    /// The users who have fetched an upload completely.
    pub async fn upload_fetchers(&self, upload_id: &str) -> StoreResult<Vec<UserId>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            user_id: i64,
        }
        let stmt = Query::select()
            .column(UploadFetches::UserId)
            .from(UploadFetches::Table)
            .and_where(Expr::col(UploadFetches::UploadId).eq(upload_id))
            .to_owned();
        Ok(self.fetch_all::<Row>(&stmt).await?.into_iter().map(|r| r.user_id).collect())
    }

    /// Uploads whose file is still there but whose time has passed.
    pub async fn uploads_due(&self, now: i64, limit: u64) -> StoreResult<Vec<UploadRow>> {
        let stmt = Query::select()
            .columns(COLUMNS)
            .from(Uploads::Table)
            .and_where(Expr::col(Uploads::Expired).eq(false))
            .and_where(Expr::col(Uploads::ExpiresAt).lte(now))
            .limit(limit)
            .to_owned();
        self.fetch_all(&stmt).await
    }

    /// Sent uploads, still on disk, that somebody has fetched completely.
    pub async fn uploads_fetched(&self, limit: u64) -> StoreResult<Vec<UploadRow>> {
        let fetched = Query::select().column(UploadFetches::UploadId).from(UploadFetches::Table).to_owned();
        let stmt = Query::select()
            .columns(COLUMNS)
            .from(Uploads::Table)
            .and_where(Expr::col(Uploads::Expired).eq(false))
            .and_where(Expr::col(Uploads::ConversationId).is_not_null())
            .and_where(Expr::col(Uploads::Id).in_subquery(fetched))
            .limit(limit)
            .to_owned();
        self.fetch_all(&stmt).await
    }

    /// Marks an upload expired, its file to be deleted by the caller. False when it already
    /// was: of several sweepers (one per node of a cluster) only one claims each upload.
    pub async fn claim_expired_upload(&self, id: &str) -> StoreResult<bool> {
        let stmt = Query::update()
            .table(Uploads::Table)
            .value(Uploads::Expired, true)
            .and_where(Expr::col(Uploads::Id).eq(id))
            .and_where(Expr::col(Uploads::Expired).eq(false))
            .to_owned();
        Ok(self.execute(&stmt).await? == 1)
    }

    /// True when `name` is the id or thumbnail id of an upload whose file should exist.
    pub async fn upload_file_is_live(&self, name: &str) -> StoreResult<bool> {
        let stmt = Query::select()
            .column(Uploads::Id)
            .from(Uploads::Table)
            .and_where(Expr::col(Uploads::Id).eq(name).or(Expr::col(Uploads::ThumbnailId).eq(name)))
            .and_where(Expr::col(Uploads::Expired).eq(false))
            .to_owned();
        #[derive(sqlx::FromRow)]
        struct Row {
            #[allow(dead_code)]
            id: String,
        }
        Ok(self.fetch_optional::<Row>(&stmt).await?.is_some())
    }
}
