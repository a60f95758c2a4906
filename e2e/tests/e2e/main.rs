//! End to end: app cores of the Kith client (no window) against a real Kith server started in
//! process on ephemeral ports, with its database in a temporary folder.
//!
//! `common` stands in for iced's runtime (the tasks `update` returns, the socket loop behind
//! the subscription) and clicks and types on the real view with the iced simulator; the other
//! modules are the tests, by theme.

mod accounts;
mod announcements;
mod block;
mod chat;
mod common;
mod deletes;
mod devices;
mod files;
mod forward;
mod group_avatars;
mod groups;
mod mentions;
mod nodes;
mod reactions;
mod tls;
