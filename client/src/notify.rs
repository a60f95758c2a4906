//! Desktop notifications for new messages while the window is in the background. A small
//! thread talks to the desktop's notification service over D-Bus, so a slow or missing
//! service never blocks the UI; when there is none (no session bus, no notification daemon)
//! it logs one warning and the app goes on without notifications.

use std::sync::mpsc;

/// One notification: who or where it is from, and a preview of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub title: String,
    pub body: String,
}

/// The longest preview a notification shows, in characters.
pub const PREVIEW_CHARS: usize = 120;

impl Note {
    /// A note with the body cut to [`PREVIEW_CHARS`] on one line.
    pub fn new(title: String, body: &str) -> Self {
        Self { title, body: crate::widget::one_line(body, PREVIEW_CHARS) }
    }
}

/// A handle to the notification thread. Cheap to clone; the default does nothing.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    requests: Option<mpsc::Sender<Note>>,
}

impl Notifier {
    /// Starts the notification thread.
    pub fn start() -> Self {
        let (requests, queue) = mpsc::channel();
        match std::thread::Builder::new().name("kith-notify".into()).spawn(move || run(&queue)) {
            Ok(_) => Self { requests: Some(requests) },
            Err(err) => {
                tracing::warn!(%err, "cannot start the notification thread; no desktop notifications");
                Self::default()
            }
        }
    }

    /// A notifier whose notes land in the returned receiver (for tests).
    #[cfg(test)]
    pub fn recording() -> (Self, mpsc::Receiver<Note>) {
        let (requests, queue) = mpsc::channel();
        (Self { requests: Some(requests) }, queue)
    }

    /// Shows a notification (a burst shows only its newest). Returns whether it was passed
    /// on: the default notifier, and one whose service failed (logged once), show nothing.
    pub fn show(&self, note: Note) -> bool {
        self.requests.as_ref().is_some_and(|requests| requests.send(note).is_ok())
    }
}

fn run(queue: &mpsc::Receiver<Note>) {
    while let Ok(mut note) = queue.recv() {
        while let Ok(newer) = queue.try_recv() {
            note = newer;
        }
        let shown =
            notify_rust::Notification::new().appname("Kith").summary(&note.title).body(&note.body).show();
        if let Err(err) = shown {
            tracing::warn!(%err, "no desktop notification service; new messages will not show one");
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_one_short_line() {
        let note = Note::new("Bob".into(), "first line\nsecond   line");
        assert_eq!(note.body, "first line second line");
        let long = "x".repeat(PREVIEW_CHARS + 10);
        let note = Note::new("Bob".into(), &long);
        assert_eq!(note.body.chars().count(), PREVIEW_CHARS);
        assert!(note.body.ends_with('…'));
    }

    #[test]
    fn a_recording_notifier_passes_notes_on() {
        let (notifier, notes) = Notifier::recording();
        assert!(notifier.show(Note::new("Bob".into(), "hi")));
        assert_eq!(notes.try_recv().ok(), Some(Note { title: "Bob".into(), body: "hi".into() }));
        // The default one has nowhere to send and does nothing.
        assert!(!Notifier::default().show(Note::new("Bob".into(), "hi")));
        // Once the receiving side is gone (the service failed), nothing is passed on either.
        drop(notes);
        assert!(!notifier.show(Note::new("Bob".into(), "again")));
    }
}
