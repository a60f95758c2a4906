//! Fuzz target: arbitrary bytes read as a socket stream of length-prefixed frames, as the
//! server reads a client and as a client reads the server (`kith_shared::fuzz::frame_stream`).

fn main() {
    afl::fuzz!(|data: &[u8]| {
        kith_shared::fuzz::frame_stream(data);
    });
}
