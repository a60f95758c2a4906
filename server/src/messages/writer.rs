//! The message writer: stores messages in batches (group commit: one transaction and one
//! multi-row INSERT per batch), and only after the commit acknowledges to the sender and
//! pushes to every online member, in sequence order. What an edit message changes in the
//! message it edits, and a reaction message in the stored reactions, is made in the same
//! transaction, in sequence order too; an edit of a message recalled meanwhile, or a
//! reaction on one, is refused there and takes no number. While a batch's transaction runs, the batch stored before it is
//! delivered, when the next was already waiting: storing and delivering overlap, but batches
//! are stored one at a time and delivered in order, each after its commit.
//!
//! A node alone allocates message ids and per-conversation sequence numbers here, in memory,
//! so it needs no locks in the database for them. A cluster node ([`Numbering::Shared`])
//! takes ids from blocks reserved in the database and numbers each batch inside its
//! transaction, under a lock on the conversations' rows. It knows the store, the hub and its
//! metric handles, nothing of the doors.
//!
//! Every frame it owes a connection (the sender's `ack` or `error`, the members' `message`)
//! is queued on that connection's [`Link`] or, when the queue is full, the connection is cut
//! as too slow and catches up through sync: never dropped quietly.

use crate::hub::{Hub, Link, Outbound};
use crate::membership::Members;
use crate::metrics::Metrics;
use crate::store::reactions::ReactionChange;
use crate::store::{EditChange, MessageRow, Store, StoreError, now_millis};
use crate::wire::{content_json, message_of, row_of};
use kith_shared::api::ConversationId;
use kith_shared::codec::to_json;
use kith_shared::frame::{ChatMessage, Content, Forwarded, ReactionOf};
use kith_shared::{ErrorCode, ServerFrame, UserId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Most messages written in one transaction.
const MAX_BATCH: usize = 1000;
/// Requests waiting for the writer before senders have to wait.
const QUEUE: usize = 16 * 1024;
/// Message ids a cluster node reserves at a time (more when one batch needs more).
const ID_BLOCK: i64 = 1000;
/// Why an edit is refused when its message is no longer a text one may edit (recalled).
pub(super) const NOT_EDITABLE: &str = "only text messages can be edited";
/// Why a reaction is refused when its message was recalled (as when it is recalled already
/// when the reaction arrives).
pub(super) const NOT_REACTABLE: &str = "no such message to react to";

/// Why a message could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("the message store failed: {0}")]
    Store(#[from] StoreError),
    #[error("the message writer has stopped")]
    Stopped,
    /// An edit of a message recalled before the edit could be stored.
    #[error("{NOT_EDITABLE}")]
    NotEditable,
    /// A reaction on a message recalled before the reaction could be stored.
    #[error("{NOT_REACTABLE}")]
    NotReactable,
}

/// Where the writer reports a stored message.
#[derive(Debug)]
pub enum Reply {
    /// A socket send: the ack (or error) goes to the sender's connection; the stored message
    /// is not pushed back to that same connection.
    Socket(Link),
    /// A socket forward: like `Socket`, but the stored message is pushed to the sender's
    /// connection too (after the ack), since that connection holds no copy of it.
    Echo(Link),
    /// A server-made message (a notice, a recall): the caller awaits the stored message.
    Caller(oneshot::Sender<Result<ChatMessage, MessageError>>),
}

/// One message to store.
#[derive(Debug)]
pub struct Submission {
    pub members: Arc<Members>,
    pub sender_id: Option<UserId>,
    pub client_id: Option<String>,
    pub content: Content,
    /// Set on a forward: whose message it first was.
    pub forwarded_from: Option<Forwarded>,
    /// Set on an edit (a text with `edit_of`): what message `edit_of` becomes, its new text
    /// with the reply and mentions it was sent with.
    pub edited: Option<Content>,
    pub reply: Reply,
}

/// What the writer is asked to do.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "nearly every job is a message to store: boxing it would allocate once per message for the rare flush"
)]
enum Job {
    Store(Submission),
    /// Answer once everything queued before is written.
    Flush(oneshot::Sender<()>),
}

/// The handle to the message writer. Cheap to share.
#[derive(Debug, Clone)]
pub struct Messages {
    queue: mpsc::Sender<Job>,
}

impl Messages {
    /// Starts the writer. It stops when every handle is dropped, after writing what it has.
    /// Each batch is counted on `metrics` (stored messages, batch size, commit time).
    /// `shared`: other nodes write to the same database (ids and numbers come from it).
    pub async fn start(
        store: Store,
        hub: Arc<Hub>,
        metrics: Arc<Metrics>,
        shared: bool,
    ) -> Result<Self, StoreError> {
        let numbering = if shared {
            Numbering::Shared { next_id: 0, end_id: 0 }
        } else {
            Numbering::Memory { next_id: store.max_message_id().await? + 1, last_seq: HashMap::new() }
        };
        let (queue, submissions) = mpsc::channel(QUEUE);
        let writer = Writer { store: store.for_the_writer(), hub, metrics, numbering };
        tokio::spawn(writer.run(submissions));
        Ok(Self { queue })
    }

    /// Queues a message for the writer; waits only when the writer is far behind.
    pub async fn submit(&self, submission: Submission) -> Result<(), MessageError> {
        self.queue.send(Job::Store(submission)).await.map_err(|_| MessageError::Stopped)
    }

    /// Waits until everything submitted so far is written (or has failed).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Job::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Stores a server-made message in a conversation and pushes it to its members.
    pub async fn post(
        &self,
        members: Arc<Members>,
        sender_id: Option<UserId>,
        content: Content,
    ) -> Result<ChatMessage, MessageError> {
        let (reply, answer) = oneshot::channel();
        let reply = Reply::Caller(reply);
        let submission = Submission {
            members,
            sender_id,
            client_id: None,
            content,
            forwarded_from: None,
            edited: None,
            reply,
        };
        self.submit(submission).await?;
        answer.await.map_err(|_| MessageError::Stopped)?
    }
}

/// The change a reaction message (a text with `reaction_of`, from its sender) makes to the
/// stored reactions. It is made in the transaction that stores the message, so the stored
/// reactions follow the order in which members receive the reaction messages.
fn reaction_change(message: &ChatMessage) -> Option<ReactionChange> {
    let Content::Text { text, reaction_of: Some(ReactionOf { seq, on }), .. } = &message.content else {
        return None;
    };
    Some(ReactionChange {
        message_id: message.id,
        conversation_id: message.conversation_id,
        seq: *seq,
        user_id: message.sender_id?,
        emoji: text.clone(),
        on: *on,
    })
}

/// The change an edit message makes to the message it edits: its edited content, and the edit
/// message's time as the edit time. It is made in the transaction that stores the edit
/// message, so the stored text follows the order in which members receive the edits.
fn edit_change(placed: &Placed) -> Option<EditChange> {
    let Content::Text { edit_of: Some(seq), .. } = &placed.message.content else { return None };
    Some(EditChange {
        message_id: placed.message.id,
        conversation_id: placed.message.conversation_id,
        seq: *seq,
        content: content_json(placed.submission.edited.as_ref()?),
        edited_at: placed.message.sent_at,
    })
}

struct Writer {
    store: Store,
    hub: Arc<Hub>,
    metrics: Arc<Metrics>,
    numbering: Numbering,
}

/// Where message ids and sequence numbers come from.
enum Numbering {
    /// A node alone: both in memory, from the database's largest at start.
    Memory {
        next_id: i64,
        /// The newest sequence number of each conversation seen so far.
        last_seq: HashMap<ConversationId, i64>,
    },
    /// A node of a cluster: ids from the block `next_id..end_id` reserved in the database,
    /// sequence numbers given in the batch's transaction
    /// ([`Store::insert_messages_numbered`]).
    Shared { next_id: i64, end_id: i64 },
}

/// Whether placing a batch looks up earlier copies of its messages.
#[derive(Debug, Clone, Copy)]
enum Resends {
    /// None of them was stored before; the store refuses the batch if one was.
    Assumed,
    /// Look up each message's earlier copy by (sender, client id).
    LookedUp,
}

/// A submission with its place assigned.
struct Placed {
    submission: Submission,
    message: ChatMessage,
    /// True when the message was stored before (a resend): only the ack is repeated.
    duplicate: bool,
}

/// A batch stored, to acknowledge and deliver.
struct Written {
    /// The messages stored or answered as resends, in sequence order.
    placed: Vec<Placed>,
    /// The edits and reactions refused because their message was recalled meanwhile: nothing
    /// stored.
    refused: Vec<Placed>,
    /// Rows written.
    rows: usize,
    /// How long placing took, and storing (the transaction, begin to commit).
    placing: Duration,
    storing: Duration,
    /// When the writer took the batch, and when it was stored.
    started: Instant,
    stored: Instant,
}

impl Writer {
    /// Takes what is queued, up to [`MAX_BATCH`] at a time, and writes it. A batch stored is
    /// delivered while the next one is stored, when one waits (so the acks and pushes of one
    /// batch go out while the next commits), and at once otherwise.
    async fn run(mut self, mut jobs: mpsc::Receiver<Job>) {
        let mut received = Vec::with_capacity(MAX_BATCH);
        let mut undelivered: Option<Written> = None;
        loop {
            if jobs.is_empty()
                && let Some(written) = undelivered.take()
            {
                self.deliver_batch(written);
            }
            if jobs.recv_many(&mut received, MAX_BATCH).await == 0 {
                break;
            }
            let mut batch = Vec::with_capacity(received.len());
            let mut flushes = Vec::new();
            for job in received.drain(..) {
                match job {
                    Job::Store(submission) => batch.push(submission),
                    Job::Flush(done) => flushes.push(done),
                }
            }
            if !batch.is_empty() {
                undelivered = self.write(batch, undelivered.take()).await;
            }
            if !flushes.is_empty()
                && let Some(written) = undelivered.take()
            {
                self.deliver_batch(written);
            }
            for done in flushes {
                let _ = done.send(());
            }
        }
        if let Some(written) = undelivered.take() {
            self.deliver_batch(written);
        }
        tracing::debug!("message writer stopped");
    }

    /// Stores a batch and returns it, to be acknowledged and delivered; `previous`, a batch
    /// stored before and not delivered yet, is delivered while this one is stored (or before
    /// a failure is told). A resend is rare (a client that lost its connection before the
    /// ack), so the batch is first stored without looking for one: the unique index on
    /// (client id, sender) refuses a message stored before, and only then is the batch placed
    /// again with the stored copies looked up.
    async fn write(&mut self, batch: Vec<Submission>, mut previous: Option<Written>) -> Option<Written> {
        let started = Instant::now();
        let count = batch.len();
        let stored = match self.store_batch(batch, Resends::Assumed, &mut previous).await {
            Err((batch, err)) if err.is_unique_violation() => {
                self.store_batch(batch, Resends::LookedUp, &mut previous).await
            }
            stored => stored,
        };
        if let Some(previous) = previous {
            self.deliver_batch(previous);
        }
        let mut written = match stored {
            Ok(written) => written,
            Err((batch, err)) => {
                self.fail(batch, &err);
                return None;
            }
        };
        written.started = started;
        self.metrics.messages_stored.increment(written.rows as u64);
        self.metrics.batch_size.record(count as f64);
        // The successful attempt's own transaction: not a first attempt refused for a resend.
        self.metrics.commit_seconds.record(written.storing.as_secs_f64());
        Some(written)
    }

    /// Acknowledges a stored batch to its senders and pushes it to the members' connections,
    /// in sequence order; tells the senders of refused edits and reactions why.
    fn deliver_batch(&self, written: Written) {
        let delivering = Instant::now();
        let count = written.placed.len() + written.refused.len();
        for p in written.refused {
            if matches!(p.message.content, Content::Text { reaction_of: Some(_), .. }) {
                refuse(p.submission, ErrorCode::NotFound, NOT_REACTABLE, MessageError::NotReactable);
            } else {
                refuse(p.submission, ErrorCode::InvalidField, NOT_EDITABLE, MessageError::NotEditable);
            }
        }
        for p in written.placed {
            self.deliver(p);
        }
        tracing::debug!(
            count,
            placed_us = written.placing.as_micros() as u64,
            committed_us = written.storing.as_micros() as u64,
            stored_us = (written.stored - written.started).as_micros() as u64,
            waited_us = (delivering - written.stored).as_micros() as u64,
            delivered_us = written.started.elapsed().as_micros() as u64,
            "batch written"
        );
    }

    /// Places and stores a batch. On failure nothing is stored and the submissions come back.
    /// `previous`, when given, is delivered while the transaction runs.
    async fn store_batch(
        &mut self,
        batch: Vec<Submission>,
        resends: Resends,
        previous: &mut Option<Written>,
    ) -> Result<Written, (Vec<Submission>, StoreError)> {
        let started = Instant::now();
        let mut placed = self.place(batch, resends).await?;
        let placing = started.elapsed();
        let fresh = || placed.iter().filter(|p| !p.duplicate);
        let rows: Vec<MessageRow> = fresh().map(|p| row_of(&p.message)).collect();
        let edits: Vec<EditChange> = fresh().filter_map(edit_change).collect();
        let reactions: Vec<ReactionChange> = fresh().filter_map(|p| reaction_change(&p.message)).collect();
        let numbered = rows.len() as i64;
        let (rows, stored, storing) = self.insert(rows, edits, reactions, previous).await;
        if let Numbering::Memory { next_id, last_seq } = &mut self.numbering {
            match &stored {
                // Nothing was stored: forget the numbers handed out so they are handed out
                // again.
                Err(_) => {
                    for p in placed.iter().filter(|p| !p.duplicate) {
                        last_seq.remove(&p.message.conversation_id);
                    }
                    *next_id -= numbered;
                }
                // A refused edit's number went to the next message of its conversation (its
                // id stays unused: ids need not be gap-free).
                Ok(refused) => {
                    for p in placed.iter().filter(|p| refused.contains(&p.message.id) && !p.duplicate) {
                        if let Some(seq) = last_seq.get_mut(&p.message.conversation_id) {
                            *seq -= 1;
                        }
                    }
                }
            }
        }
        // On a cluster node the ids of a failed batch are simply not used: ids need not be
        // gap-free.
        let refused = match stored {
            Ok(refused) => refused,
            Err(err) => return Err((placed.into_iter().map(|p| p.submission).collect(), err)),
        };
        // The numbers the rows were stored with: given in the transaction on a cluster node,
        // and a refused edit moves the later ones of its conversation down.
        if matches!(self.numbering, Numbering::Shared { .. }) || !refused.is_empty() {
            let seqs: HashMap<i64, i64> = rows.iter().map(|row| (row.id, row.seq)).collect();
            for p in &mut placed {
                if let Some(seq) = seqs.get(&p.message.id) {
                    p.message.seq = *seq;
                }
            }
        }
        // A resend inside the batch of a refused edit shares its id and is refused with it.
        let (refused, placed) = if refused.is_empty() {
            (Vec::new(), placed)
        } else {
            placed.into_iter().partition(|p| refused.contains(&p.message.id))
        };
        let now = Instant::now();
        Ok(Written { placed, refused, rows: rows.len(), placing, storing, started: now, stored: now })
    }

    /// Runs the batch's transaction ([`Store::insert_messages`], or on a cluster node
    /// [`Store::insert_messages_numbered`]); returns the rows as stored, its answer and how
    /// long it took. With a `previous` batch to deliver, the transaction runs as a task of its
    /// own while this one delivers it: the database works on one batch while the sockets get
    /// the last.
    async fn insert(
        &self,
        mut rows: Vec<MessageRow>,
        edits: Vec<EditChange>,
        reactions: Vec<ReactionChange>,
        previous: &mut Option<Written>,
    ) -> (Vec<MessageRow>, Result<Vec<i64>, StoreError>, Duration) {
        let store = self.store.clone();
        let shared = matches!(self.numbering, Numbering::Shared { .. });
        let transaction = async move {
            let started = Instant::now();
            let stored = if shared {
                store.insert_messages_numbered(&mut rows, &edits, &reactions).await
            } else {
                store.insert_messages(&mut rows, &edits, &reactions).await
            };
            (rows, stored, started.elapsed())
        };
        let Some(previous) = previous.take() else { return transaction.await };
        let running = tokio::spawn(transaction);
        self.deliver_batch(previous);
        // The task is never aborted and the store does not panic: it ends by finishing, but
        // for a runtime shutting down.
        running.await.unwrap_or_else(|_| {
            (Vec::new(), Err(StoreError::Database(sqlx::Error::WorkerCrashed)), Duration::ZERO)
        })
    }

    /// Assigns ids and sequence numbers. A resend inside the batch gets the first copy's
    /// numbers; with [`Resends::LookedUp`], so does a resend of a message stored before.
    async fn place(
        &mut self,
        batch: Vec<Submission>,
        resends: Resends,
    ) -> Result<Vec<Placed>, (Vec<Submission>, StoreError)> {
        let stored = match resends {
            Resends::Assumed => Vec::new(),
            Resends::LookedUp => {
                let keys: Vec<(UserId, String)> =
                    batch.iter().filter_map(|s| Some((s.sender_id?, s.client_id.clone()?))).collect();
                match self.store.messages_by_client_ids(&keys).await {
                    Ok(stored) => stored,
                    Err(err) => return Err((batch, err)),
                }
            }
        };
        // Copies stored before, by (sender, client id): rare, looked up only after a refusal.
        let mut earlier: HashMap<(UserId, String), ChatMessage> = HashMap::new();
        for row in stored {
            if let (Some(sender), Some(client)) = (row.sender_id, row.client_id.clone()) {
                earlier.insert((sender, client), message_of(&row));
            }
        }
        // The first copy of each (sender, client id) placed in this batch, by its index.
        let mut in_batch: HashMap<(UserId, String), usize> = HashMap::with_capacity(batch.len());
        match &mut self.numbering {
            Numbering::Memory { last_seq, .. } => {
                for s in &batch {
                    if let std::collections::hash_map::Entry::Vacant(entry) =
                        last_seq.entry(s.members.conversation_id)
                    {
                        match self.store.last_seq(*entry.key()).await {
                            Ok(seq) => {
                                entry.insert(seq);
                            }
                            Err(err) => return Err((batch, err)),
                        }
                    }
                }
            }
            Numbering::Shared { next_id, end_id } => {
                let needed = batch.len() as i64;
                if *end_id - *next_id < needed {
                    let count = needed.max(ID_BLOCK);
                    match self.store.reserve_message_ids(count).await {
                        Ok(first) => (*next_id, *end_id) = (first, first + count),
                        Err(err) => return Err((batch, err)),
                    }
                }
            }
        }
        let now = now_millis();
        let mut placed: Vec<Placed> = Vec::with_capacity(batch.len());
        for submission in batch {
            let key = submission.sender_id.zip(submission.client_id.clone());
            if let Some(key) = &key {
                let first = match in_batch.get(key) {
                    Some(at) => Some(&placed[*at].message),
                    None => earlier.get(key),
                };
                if let Some(message) = first.cloned() {
                    // A resend, in the batch or of a message stored before: the first
                    // copy's numbers, and only the ack is repeated.
                    placed.push(Placed { message, submission, duplicate: true });
                    continue;
                }
            }
            let conversation_id = submission.members.conversation_id;
            let (id, seq) = match &mut self.numbering {
                Numbering::Memory { next_id, last_seq } => {
                    let seq = last_seq.entry(conversation_id).or_insert(0);
                    *seq += 1;
                    *next_id += 1;
                    (*next_id - 1, *seq)
                }
                // The sequence number is given when the batch is stored.
                Numbering::Shared { next_id, .. } => {
                    *next_id += 1;
                    (*next_id - 1, 0)
                }
            };
            let message = ChatMessage {
                id,
                conversation_id,
                seq,
                sender_id: submission.sender_id,
                client_id: submission.client_id.clone(),
                sent_at: now,
                content: submission.content.clone(),
                edited_at: None,
                reactions: Vec::new(),
                forwarded_from: submission.forwarded_from.clone(),
                muted: false,
            };
            if let Some(key) = key {
                in_batch.insert(key, placed.len());
            }
            placed.push(Placed { message, submission, duplicate: false });
        }
        Ok(placed)
    }

    /// Acknowledges to the sender, then pushes to the members' connections.
    fn deliver(&self, placed: Placed) {
        let Placed { submission, message, duplicate } = placed;
        let ack = |link: &Link| {
            let ack = ServerFrame::Ack {
                client_id: message.client_id.clone().unwrap_or_default(),
                message_id: message.id,
                conversation_id: message.conversation_id,
                seq: message.seq,
                sent_at: message.sent_at,
            };
            link.push(Outbound::Frame(to_json(&ack)));
        };
        let sender_conn = match submission.reply {
            Reply::Socket(link) => {
                ack(&link);
                Some(link.conn_id)
            }
            Reply::Echo(link) => {
                ack(&link);
                None
            }
            Reply::Caller(answer) => {
                let _ = answer.send(Ok(message.clone()));
                None
            }
        };
        if duplicate {
            return;
        }
        // The frame holds the message while it is written out, and gives it back after.
        let frame = ServerFrame::Message { message };
        let plain = to_json(&frame);
        let ServerFrame::Message { message } = frame else { return };
        let members = &submission.members.members;
        // A member who muted the conversation gets the muted variant, unless mentioned.
        let is_muted = |(user_id, muted): &(UserId, bool)| *muted && !message.content.mentions(*user_id);
        if !members.iter().any(is_muted) {
            let user_ids: Vec<UserId> = members.iter().map(|(user_id, _)| *user_id).collect();
            self.hub.send_json_to(&user_ids, sender_conn, plain);
            return;
        }
        // The muted variant is made only when someone muted the conversation.
        let (muted, plain_ids): (Vec<_>, Vec<_>) = members.iter().partition(|member| is_muted(member));
        let ids = |of: Vec<&(UserId, bool)>| of.into_iter().map(|(user_id, _)| *user_id).collect::<Vec<_>>();
        self.hub.send_json_to(&ids(plain_ids), sender_conn, plain);
        let muted_json = to_json(&ServerFrame::Message { message: ChatMessage { muted: true, ..message } });
        self.hub.send_json_to(&ids(muted), sender_conn, muted_json);
    }

    fn fail(&self, batch: Vec<Submission>, err: &StoreError) {
        tracing::error!(%err, count = batch.len(), "storing messages failed");
        self.metrics.failed_batches.increment(1);
        for submission in batch {
            let message = "the server could not store the message; send it again";
            refuse(submission, ErrorCode::Internal, message, MessageError::Stopped);
        }
    }
}

/// Tells the sender of a submission that was not stored why: an `error` frame with its client
/// id as reference on a connection, `answer` to a caller.
fn refuse(submission: Submission, code: ErrorCode, message: &str, answer: MessageError) {
    match submission.reply {
        Reply::Socket(link) | Reply::Echo(link) => {
            let frame =
                ServerFrame::Error { code, message: message.to_owned(), reference: submission.client_id };
            link.push(Outbound::Frame(to_json(&frame)));
        }
        Reply::Caller(caller) => {
            let _ = caller.send(Err(answer));
        }
    }
}
