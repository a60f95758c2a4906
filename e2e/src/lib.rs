//! End-to-end tests of Kith: the client's app cores against a real server, in `tests/e2e/`.
//! This library is empty; the crate exists so that the client never depends on the server.
