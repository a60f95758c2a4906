//! The new-message sound. With the `sound` feature (on by default) a small thread owns the
//! audio device and plays the bundled chime on request; without a sound card it logs one
//! warning and the app goes on silently. Without the feature, [`Sound::play`] does nothing.

/// The chime: two soft bell tones, 22.05 kHz mono (made by `assets/sounds/make_message_wav.py`).
pub const MESSAGE_WAV: &[u8] = include_bytes!("../assets/sounds/message.wav");

/// Whether this build can play sounds at all.
pub const AVAILABLE: bool = cfg!(feature = "sound");

/// A handle to the sound thread. Cheap to clone; dropping every handle ends the thread.
#[derive(Debug, Clone, Default)]
pub struct Sound {
    requests: Option<std::sync::mpsc::Sender<()>>,
}

impl Sound {
    /// Starts the sound thread (it opens the audio device on its own time).
    pub fn start() -> Self {
        #[cfg(feature = "sound")]
        {
            let (requests, queue) = std::sync::mpsc::channel();
            let spawned =
                std::thread::Builder::new().name("kith-sound".into()).spawn(move || player::run(queue));
            match spawned {
                Ok(_) => Self { requests: Some(requests) },
                Err(err) => {
                    tracing::warn!(%err, "cannot start the sound thread; new messages will be silent");
                    Self::default()
                }
            }
        }
        #[cfg(not(feature = "sound"))]
        Self::default()
    }

    /// Plays the new-message chime once (bursts are merged into one).
    pub fn play(&self) {
        if let Some(requests) = &self.requests {
            // The thread is gone only when the device failed; that was logged once.
            let _ = requests.send(());
        }
    }
}

#[cfg(feature = "sound")]
mod player {
    use std::io::Cursor;
    use std::sync::mpsc::Receiver;
    use std::time::{Duration, Instant};

    /// Chimes closer together than this are merged.
    const MIN_GAP: Duration = Duration::from_millis(400);

    pub fn run(queue: Receiver<()>) {
        let mut sink = match rodio::DeviceSinkBuilder::open_default_sink() {
            Ok(sink) => sink,
            Err(err) => {
                tracing::warn!(%err, "no audio output; new messages will be silent");
                return;
            }
        };
        sink.log_on_drop(false);
        let mut last: Option<Instant> = None;
        while queue.recv().is_ok() {
            // Merge a burst of messages into one chime.
            while queue.try_recv().is_ok() {}
            if last.is_some_and(|at| at.elapsed() < MIN_GAP) {
                continue;
            }
            last = Some(Instant::now());
            match rodio::Decoder::try_from(Cursor::new(super::MESSAGE_WAV)) {
                Ok(chime) => sink.mixer().add(chime),
                Err(err) => {
                    tracing::warn!(%err, "cannot decode the message sound");
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chime_is_a_short_pcm_wav() {
        assert!(MESSAGE_WAV.len() < 50 * 1024);
        assert_eq!(&MESSAGE_WAV[..4], b"RIFF");
        assert_eq!(&MESSAGE_WAV[8..16], b"WAVEfmt ");
        let rate = u32::from_le_bytes([MESSAGE_WAV[24], MESSAGE_WAV[25], MESSAGE_WAV[26], MESSAGE_WAV[27]]);
        assert_eq!(rate, 22050);
    }

    #[cfg(feature = "sound")]
    #[test]
    fn rodio_decodes_the_chime() {
        use rodio::Source;
        let decoder = rodio::Decoder::try_from(std::io::Cursor::new(MESSAGE_WAV)).expect("decodes");
        assert_eq!(decoder.channels().get(), 1);
        let duration = decoder.total_duration().expect("a WAV knows its length");
        assert!(
            duration > std::time::Duration::from_millis(200) && duration < std::time::Duration::from_secs(1)
        );
    }
}
