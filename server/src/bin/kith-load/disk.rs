//! The disk's own floor: how long an fsync takes on the filesystem the database is on, taken
//! in the same run as the latencies it is a floor of, over as long a time. Every message is
//! fsynced (in its batch) before its ack, so no message can be acknowledged faster than this;
//! a latency minus this floor is what the server adds, and means something on a busy machine
//! too. A virtual disk stalls now and then (fsyncs of 0.1-1 s were seen among ones of 0.3 ms),
//! and a stall delays every message that arrives during it: the floor is timed the same way.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Bytes appended before each fsync: about one message batch's pages in the write-ahead log.
const APPEND: usize = 4096;

/// What [`fsync_times`] measured, in microseconds, each list sorted.
pub struct Fsyncs {
    /// Each fsync alone, from its call to its return.
    pub alone: Vec<u64>,
    /// From the moment each fsync was due (one every `every` from the start) to its return: a
    /// stalled fsync delays the ones due after it, as it delays the messages that arrive
    /// meanwhile, so this is the floor to set the messages' latencies against.
    pub from_due: Vec<u64>,
}

/// Appends [`APPEND`] bytes and fsyncs (`fdatasync`, as SQLite does) `count` times, one due
/// every `every` (at once when late), in a file made in `dir` and removed after.
pub fn fsync_times(dir: &Path, count: usize, every: Duration) -> std::io::Result<Fsyncs> {
    let path = dir.join(format!("fsync-probe-{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
    let block = [0x5au8; APPEND];
    let mut times = Fsyncs { alone: Vec::with_capacity(count), from_due: Vec::with_capacity(count) };
    let started = Instant::now();
    let result = (|| {
        for i in 0..count {
            let due = started + every * i as u32;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            file.write_all(&block)?;
            let synced = Instant::now();
            file.sync_data()?;
            times.alone.push(synced.elapsed().as_micros() as u64);
            times.from_due.push(due.elapsed().as_micros() as u64);
        }
        Ok(())
    })();
    let _ = std::fs::remove_file(&path);
    result.map(|()| {
        times.alone.sort_unstable();
        times.from_due.sort_unstable();
        times
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fsync_is_timed_and_the_file_is_gone_after() {
        let dir = std::env::temp_dir().join(format!("kith-load-disk-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let times = fsync_times(&dir, 5, Duration::from_millis(1)).unwrap();
        assert_eq!(times.alone.len(), 5);
        assert_eq!(times.from_due.len(), 5);
        assert!(times.alone.windows(2).all(|w| w[0] <= w[1]));
        // Timed from when it was due, an fsync takes at least as long as alone.
        assert!(times.from_due.iter().sum::<u64>() >= times.alone.iter().sum::<u64>());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir(&dir).unwrap();
    }
}
