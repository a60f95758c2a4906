//! One module per screen, each with its own state, `Message`, `update` and `view`.

pub mod attach;
pub mod chat;
pub mod forward;
pub mod group_admin;
pub mod groups;
pub mod home;
pub mod login;
pub mod search;
