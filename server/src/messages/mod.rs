//! The message path, from a connection's frame to every member's connection:
//! [`send`] validates and authorises what a connection asks ([`forward`] the forwarding of a
//! message), [`writer`] stores messages in batches and, after the commit, acknowledges and
//! fans out through the hub.

pub mod deletes;
pub mod forward;
pub mod mentions;
pub mod reactions;
pub mod send;
pub mod writer;

pub use send::{Sender, TypingThrottle};
pub use writer::{MessageError, Messages};
