//! A connection's outgoing queue: the frames on their way to one socket, bounded, holding no
//! memory while it is empty.
//!
//! Every connection has one for as long as it is open, so what an empty queue keeps counts
//! once per idle connection. Tokio's bounded channel allocates its first block of 32 slots
//! (1.3 KB of [`Outbound`]s) and a state padded to cache lines (about 0.5 KB) when it is made,
//! and keeps both until it is dropped. This queue is a `VecDeque` behind a mutex: it allocates
//! with the first frame and lets the memory go whenever the writer has taken every frame and
//! waits for more (see docs/performance.md, "Idle connections of many accounts").

use crate::hub::Outbound;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// A new queue taking at most `capacity` frames (at least one).
pub fn queue(capacity: usize) -> (QueueSender, QueueReceiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State { frames: VecDeque::new(), receiver_alive: true }),
        capacity: capacity.max(1),
        arrived: Notify::new(),
        senders: AtomicUsize::new(1),
    });
    (QueueSender { shared: shared.clone() }, QueueReceiver { shared })
}

struct Shared {
    state: Mutex<State>,
    capacity: usize,
    /// Wakes the receiver: a frame arrived, or the last sender went away. Holds one wake-up
    /// for a receiver that is not waiting yet, so none is lost between a look and a wait.
    arrived: Notify,
    /// Senders alive; with none left and nothing queued, the receiver is told the end.
    senders: AtomicUsize,
}

struct State {
    frames: VecDeque<Outbound>,
    /// False once the receiver is dropped: frames sent then are refused.
    receiver_alive: bool,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned queue is still a valid queue.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The queue holds `capacity` frames: the peer does not read fast enough.
    Full,
    /// The receiver is gone: the connection has stopped writing.
    Closed,
}

/// The sending side, one per holder of the connection's link. Cheap to clone.
pub struct QueueSender {
    shared: Arc<Shared>,
}

impl QueueSender {
    /// Queues a frame without waiting.
    pub fn try_send(&self, frame: Outbound) -> Result<(), Refused> {
        {
            let mut state = self.shared.state();
            if !state.receiver_alive {
                return Err(Refused::Closed);
            }
            if state.frames.len() >= self.shared.capacity {
                return Err(Refused::Full);
            }
            state.frames.push_back(frame);
        }
        self.shared.arrived.notify_one();
        Ok(())
    }
}

impl Clone for QueueSender {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        Self { shared: self.shared.clone() }
    }
}

impl Drop for QueueSender {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.arrived.notify_one();
        }
    }
}

impl std::fmt::Debug for QueueSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueSender").field("capacity", &self.shared.capacity).finish_non_exhaustive()
    }
}

/// The receiving side: the connection's writer.
pub struct QueueReceiver {
    shared: Arc<Shared>,
}

impl QueueReceiver {
    /// The next frame, waiting for one; None once every sender is gone and the queue is
    /// drained. Cancel safe: a frame is only taken when this returns it.
    pub async fn recv(&mut self) -> Option<Outbound> {
        loop {
            let drained = {
                let mut state = self.shared.state();
                if let Some(frame) = state.frames.pop_front() {
                    return Some(frame);
                }
                if self.shared.senders.load(Ordering::Acquire) == 0 {
                    return None;
                }
                // Empty: the memory goes back until the next frame (freed after the lock).
                std::mem::take(&mut state.frames)
            };
            drop(drained);
            self.shared.arrived.notified().await;
        }
    }

    /// The next frame if one is queued.
    #[cfg(test)]
    pub fn try_recv(&mut self) -> Option<Outbound> {
        self.shared.state().frames.pop_front()
    }

    /// True when no frame is queued.
    pub fn is_empty(&self) -> bool {
        self.shared.state().frames.is_empty()
    }
}

impl Drop for QueueReceiver {
    fn drop(&mut self) {
        let frames = {
            let mut state = self.shared.state();
            state.receiver_alive = false;
            std::mem::take(&mut state.frames)
        };
        drop(frames);
    }
}

impl std::fmt::Debug for QueueReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueReceiver").field("capacity", &self.shared.capacity).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::time::Duration;

    fn frame(text: &'static str) -> Outbound {
        Outbound::Frame(Bytes::from_static(text.as_bytes()))
    }

    fn text(frame: Option<Outbound>) -> Option<Vec<u8>> {
        match frame? {
            Outbound::Frame(json) | Outbound::Close(json) => Some(json.to_vec()),
        }
    }

    #[tokio::test]
    async fn frames_come_out_in_order_and_the_end_after_the_last_sender() {
        let (tx, mut rx) = queue(8);
        let other = tx.clone();
        tx.try_send(frame("1")).expect("room");
        other.try_send(frame("2")).expect("room");
        drop(tx);
        assert_eq!(text(rx.recv().await), Some(b"1".to_vec()));
        assert_eq!(text(rx.recv().await), Some(b"2".to_vec()));
        assert!(rx.is_empty());
        drop(other);
        assert!(rx.recv().await.is_none(), "no sender left: the end");
    }

    #[tokio::test]
    async fn a_waiting_receiver_wakes_for_a_frame_and_for_the_end() {
        let (tx, mut rx) = queue(8);
        let waiting = tokio::spawn(async move { (text(rx.recv().await), rx) });
        tokio::time::sleep(Duration::from_millis(20)).await;
        tx.try_send(frame("late")).expect("room");
        let (first, mut rx) = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("woken by the frame")
            .expect("no panic");
        assert_eq!(first, Some(b"late".to_vec()));
        let ending = tokio::spawn(async move { rx.recv().await.is_none() });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(tx);
        let end = tokio::time::timeout(Duration::from_secs(5), ending)
            .await
            .expect("woken by the end")
            .expect("no panic");
        assert!(end, "no sender left: the end");
    }

    #[test]
    fn a_full_queue_refuses_and_a_dropped_receiver_closes() {
        let (tx, rx) = queue(2);
        tx.try_send(frame("1")).expect("room");
        tx.try_send(frame("2")).expect("room");
        assert_eq!(tx.try_send(frame("3")), Err(Refused::Full));
        drop(rx);
        assert_eq!(tx.try_send(frame("4")), Err(Refused::Closed));
    }

    #[tokio::test]
    async fn a_drained_queue_holds_no_memory() {
        let (tx, mut rx) = queue(64);
        for _ in 0..40 {
            tx.try_send(frame("x")).expect("room");
        }
        assert!(rx.shared.state().frames.capacity() >= 40);
        for _ in 0..40 {
            assert!(rx.recv().await.is_some());
        }
        // The writer looks once more and, finding nothing, lets the memory go before waiting.
        assert!(tokio::time::timeout(Duration::from_millis(10), rx.recv()).await.is_err());
        assert_eq!(rx.shared.state().frames.capacity(), 0);
    }
}
