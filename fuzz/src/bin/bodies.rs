//! Fuzz target: the first byte picks one of the HTTP API's JSON bodies, the rest is parsed as
//! it and must survive a round trip when it parses (`kith_shared::fuzz::body`).

fn main() {
    afl::fuzz!(|data: &[u8]| {
        kith_shared::fuzz::body(data);
    });
}
