//! What the fuzzers check on one input, and a small seeded mutator.
//!
//! The fuzz targets in `fuzz/` (run under AFL++, see docs/operations.md) call [`frame_stream`]
//! and [`body`] on every input; this crate's tests call the same functions on the checked-in
//! corpus (`fuzz/corpus/`) and on a seeded mutation run, and the server's socket fuzz test
//! uses [`mutate`] to make its frames. A panic in [`frame_stream`] or [`body`] is a bug found:
//! either the protocol code panicked on input, or a value that decoded did not survive being
//! encoded and decoded again unchanged.
//!
//! Compiled for tests and with the feature `fuzz`; it adds no dependency.

use crate::api::{
    ApiError, ChangePasswordRequest, ConversationState, CreateGroupRequest, EmojiManifest, FileInfo, Friend,
    FriendRequest, FriendRequestOutcome, FriendRequests, GroupMember, GroupProfile, GroupRequest,
    GroupRequestBody, GroupRequests, Health, HistoryPage, HistoryQuery, LoginRequest, LoginResponse,
    MemberCursor, MuteRequest, MyGroup, RegisterRequest, SearchQuery, SendFriendRequest, SetRoleRequest,
    TransferOwnershipRequest, UpdateGroupRequest, UpdateProfileRequest, UploadQuery, UserProfile,
    UserSearchHit,
};
use crate::codec::{CodecError, FrameCodec, to_json};
use crate::{ClientFrame, ServerFrame};
use bytes::BytesMut;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use tokio_util::codec::{Decoder, Encoder};

/// The frame limit the `frame` target decodes with: small, so that random lengths often pass
/// it and the refusal is exercised as often as the frames.
pub const FUZZ_MAX_FRAME_LEN: usize = 4096;

/// How a decoded byte stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// Every byte belonged to a complete frame.
    Clean,
    /// The stream stopped inside a frame, with this many bytes of it read.
    Truncated(usize),
    /// A length over the limit stopped the stream (a server closes the connection there).
    TooLarge,
}

/// A byte stream read as frames of type `D`, the way a peer reads its socket.
#[derive(Debug, PartialEq)]
pub struct Decoded<D> {
    /// In stream order: each frame, or for a refused one whether its `type` was unknown.
    pub frames: Vec<Result<D, bool>>,
    pub end: StreamEnd,
}

impl<D> Decoded<D> {
    /// Frames that decoded.
    pub fn valid(&self) -> usize {
        self.frames.iter().filter(|f| f.is_ok()).count()
    }

    /// Frames that were framed correctly but refused (bad JSON, missing fields, unknown type).
    pub fn refused(&self) -> usize {
        self.frames.len() - self.valid()
    }
}

/// The same bytes read as a server reads a client ([`ClientFrame`]) and as a client reads the
/// server ([`ServerFrame`]).
#[derive(Debug, PartialEq)]
pub struct FrameStream {
    pub client: Decoded<ClientFrame>,
    pub server: Decoded<ServerFrame>,
}

/// The `frame` target: reads `data` as a socket stream of length-prefixed frames, both ways.
///
/// Each way is read twice, once whole and once arriving in small pieces, and both readings
/// must agree; every frame that decodes must come back unchanged from encode and decode.
pub fn frame_stream(data: &[u8]) -> FrameStream {
    // Pieces of 1 to 13 bytes: lengths and bodies split at every place over the corpus.
    let piece = 1 + data.len() % 13;
    let whole = data.len().max(1);
    let client = decode_stream::<ClientFrame>(data, whole, FUZZ_MAX_FRAME_LEN);
    let in_pieces = decode_stream(data, piece, FUZZ_MAX_FRAME_LEN);
    assert_eq!(client, in_pieces, "reading in pieces of {piece} changed the frames");
    let server = decode_stream::<ServerFrame>(data, whole, FUZZ_MAX_FRAME_LEN);
    let in_pieces = decode_stream(data, piece, FUZZ_MAX_FRAME_LEN);
    assert_eq!(server, in_pieces, "reading in pieces of {piece} changed the frames");
    FrameStream { client, server }
}

fn decode_stream<D>(data: &[u8], piece: usize, max_len: usize) -> Decoded<D>
where
    D: DeserializeOwned + Serialize + PartialEq + Debug,
{
    let mut codec = FrameCodec::<D>::new(max_len);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for part in data.chunks(piece) {
        buf.extend_from_slice(part);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(Ok(frame))) => {
                    assert_survives_encoding(&frame);
                    frames.push(Ok(frame));
                }
                Ok(Some(Err(bad))) => frames.push(Err(bad.unknown_type)),
                Ok(None) => break,
                Err(CodecError::FrameTooLarge { len, max }) => {
                    assert!(len > max, "refused a length of {len} under the limit of {max}");
                    return Decoded { frames, end: StreamEnd::TooLarge };
                }
                Err(CodecError::Io(err)) => panic!("decoding from memory failed with I/O: {err}"),
            }
        }
    }
    let left = buf.len();
    // What a reader sees when the peer closes here: nothing, or an error for the rest.
    match codec.decode_eof(&mut buf) {
        Ok(None) => assert_eq!(left, 0, "{left} bytes left over without an error"),
        Err(CodecError::Io(_)) => assert!(left > 0, "an error at the end of a clean stream"),
        other => panic!("unexpected result at the end of the stream: {other:?}"),
    }
    let end = if left == 0 { StreamEnd::Clean } else { StreamEnd::Truncated(left) };
    Decoded { frames, end }
}

/// Encodes a decoded frame as a peer would send it and decodes it again: it must be the same.
fn assert_survives_encoding<D>(frame: &D)
where
    D: DeserializeOwned + Serialize + PartialEq + Debug,
{
    // Defaults filled in on decoding can make the frame longer than it arrived: no limit here.
    let mut codec = FrameCodec::<D>::new(u32::MAX as usize);
    let mut wire = BytesMut::new();
    codec.encode(to_json(frame), &mut wire).expect("an encoded frame is under u32::MAX bytes");
    match codec.decode(&mut wire) {
        Ok(Some(Ok(back))) => assert_eq!(&back, frame, "the frame changed on its way back"),
        other => panic!("{frame:?} encoded to a frame that does not decode: {other:?}"),
    }
    assert!(wire.is_empty(), "encoding left bytes behind");
}

/// Checks one body: parses it as `T`, and when that works, re-serialises, parses and
/// re-serialises again, which must give the same JSON. Returns whether it parsed.
type BodyCheck = fn(&[u8]) -> bool;

/// Every JSON body of the HTTP API (`docs/api.md`), requests and answers, by name. The query
/// types are included too: they are read from query strings, but are plain serde types.
/// The `bodies` target picks one by its first byte (modulo the length), and the seed corpus
/// names each: add new types at the END so that the seeds keep their selector.
pub const BODIES: &[(&str, BodyCheck)] = &[
    ("ApiError", round_trips::<ApiError>),
    ("RegisterRequest", round_trips::<RegisterRequest>),
    ("LoginRequest", round_trips::<LoginRequest>),
    ("LoginResponse", round_trips::<LoginResponse>),
    ("UserProfile", round_trips::<UserProfile>),
    ("UpdateProfileRequest", round_trips::<UpdateProfileRequest>),
    ("ChangePasswordRequest", round_trips::<ChangePasswordRequest>),
    ("Health", round_trips::<Health>),
    ("SearchQuery", round_trips::<SearchQuery>),
    ("UserSearchHits", round_trips::<Vec<UserSearchHit>>),
    ("Friends", round_trips::<Vec<Friend>>),
    ("SendFriendRequest", round_trips::<SendFriendRequest>),
    ("FriendRequest", round_trips::<FriendRequest>),
    ("FriendRequestOutcome", round_trips::<FriendRequestOutcome>),
    ("FriendRequests", round_trips::<FriendRequests>),
    ("CreateGroupRequest", round_trips::<CreateGroupRequest>),
    ("UpdateGroupRequest", round_trips::<UpdateGroupRequest>),
    ("GroupProfile", round_trips::<GroupProfile>),
    ("GroupProfiles", round_trips::<Vec<GroupProfile>>),
    ("MyGroup", round_trips::<MyGroup>),
    ("MyGroups", round_trips::<Vec<MyGroup>>),
    ("GroupMember", round_trips::<GroupMember>),
    ("GroupMembers", round_trips::<Vec<GroupMember>>),
    ("GroupRequestBody", round_trips::<GroupRequestBody>),
    ("GroupRequest", round_trips::<GroupRequest>),
    ("GroupRequests", round_trips::<GroupRequests>),
    ("SetRoleRequest", round_trips::<SetRoleRequest>),
    ("TransferOwnershipRequest", round_trips::<TransferOwnershipRequest>),
    ("MuteRequest", round_trips::<MuteRequest>),
    ("ConversationStates", round_trips::<Vec<ConversationState>>),
    ("HistoryQuery", round_trips::<HistoryQuery>),
    ("HistoryPage", round_trips::<HistoryPage>),
    ("MemberCursors", round_trips::<Vec<MemberCursor>>),
    ("UploadQuery", round_trips::<UploadQuery>),
    ("EmojiManifest", round_trips::<EmojiManifest>),
    ("FileInfo", round_trips::<FileInfo>),
];

/// Which body type an input was read as, and whether it parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyOutcome {
    pub name: &'static str,
    pub parsed: bool,
}

/// The `bodies` target: the first byte picks a type of [`BODIES`], the rest is its JSON.
/// None for an empty input.
pub fn body(data: &[u8]) -> Option<BodyOutcome> {
    let (&selector, json) = data.split_first()?;
    let (name, check) = BODIES[usize::from(selector) % BODIES.len()];
    Some(BodyOutcome { name, parsed: check(json) })
}

fn round_trips<T: Serialize + DeserializeOwned>(json: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<T>(json) else { return false };
    let first = serde_json::to_vec(&value).expect("API bodies always serialise to JSON");
    let again: T = match serde_json::from_slice(&first) {
        Ok(again) => again,
        Err(err) => panic!("re-serialised body does not parse ({err}): {}", String::from_utf8_lossy(&first)),
    };
    let second = serde_json::to_vec(&again).expect("API bodies always serialise to JSON");
    assert!(
        first == second,
        "body changed on a round trip:\n{}\n{}",
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second)
    );
    true
}

/// Puts the 4-byte length prefix before `body`.
pub fn framed(body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Splits a stream into the bodies of its complete frames, ignoring the limit; a truncated
/// last frame is left out.
pub fn frame_bodies(mut stream: &[u8]) -> Vec<&[u8]> {
    let mut bodies = Vec::new();
    while let Some((header, rest)) = stream.split_first_chunk::<4>() {
        let len = u32::from_be_bytes(*header) as usize;
        if rest.len() < len {
            break;
        }
        let (body, rest) = rest.split_at(len);
        bodies.push(body);
        stream = rest;
    }
    bodies
}

/// Seeded mutations of JSON documents and frame streams, without dependencies: the same
/// seed gives the same inputs on every machine.
pub mod mutate {
    use super::{frame_bodies, framed};

    /// xorshift64*: small, fast and good enough to pick mutations.
    #[derive(Debug, Clone)]
    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: u64) -> Self {
            // The state must never be zero.
            Self((seed ^ 0x9e37_79b9_7f4a_7c15) | 1)
        }

        pub fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        /// A number in `0..n`; 0 when `n` is 0.
        pub fn below(&mut self, n: usize) -> usize {
            if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
        }

        pub fn chance(&mut self, one_in: usize) -> bool {
            self.below(one_in) == 0
        }

        pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len())]
        }
    }

    /// Values that test parsers and range checks: out-of-range and mistyped numbers, wrong
    /// JSON types, odd strings.
    pub const NASTY_VALUES: &[&str] = &[
        "1e400",
        "-1e400",
        "18446744073709551616",
        "18446744073709551615",
        "9223372036854775808",
        "-9223372036854775809",
        "4294967296",
        "-1",
        "0",
        "-0",
        "1.5",
        "1e2",
        "123456789012345678901234567890",
        "null",
        "true",
        "\"\"",
        "\"7\"",
        "[]",
        "{}",
        "[[[]]]",
        "\"\\ud800\"",
        "\"\\u0000\"",
        "\"\\udfff\\ud800\"",
        "\"a\\\"b\"",
        "{\"kind\":\"user\",\"id\":-9223372036854775808}",
        "{\"type\":\"text\",\"text\":\"\"}",
        "{\"type\":\"recall\",\"seq\":9223372036854775807}",
    ];

    /// Names of types and kinds on the wire, to put in a `type` or `kind` where another was.
    pub const TYPE_NAMES: &[&str] = &[
        "hello",
        "ping",
        "pong",
        "send",
        "receipt",
        "typing",
        "recall",
        "welcome",
        "error",
        "kicked",
        "going_away",
        "sync_state",
        "ack",
        "message",
        "text",
        "image",
        "file",
        "sticker",
        "recalled",
        "notice",
        "user",
        "group",
        "delivered",
        "read",
        "seen",
        "",
        "PING",
        "ping ",
    ];

    /// Bytes that are not UTF-8: a lone continuation, an overlong encoding, a surrogate, the
    /// start of a sequence cut short.
    pub const INVALID_UTF8: &[&[u8]] =
        &[b"\xff", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\xc3\x28"];

    /// One to three mutations of a JSON document.
    pub fn json(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
        let mut out = input.to_vec();
        for _ in 0..1 + rng.below(3) {
            once(rng, &mut out);
        }
        out
    }

    fn once(rng: &mut Rng, out: &mut Vec<u8>) {
        match rng.below(10) {
            // Flip a bit.
            0 if !out.is_empty() => {
                let at = rng.below(out.len());
                out[at] ^= 1 << rng.below(8);
            }
            // Cut it short.
            1 => out.truncate(rng.below(out.len() + 1)),
            // Insert bytes that are not UTF-8, or random ones.
            2 => {
                let at = rng.below(out.len() + 1);
                let bytes: Vec<u8> = if rng.chance(2) {
                    rng.pick(INVALID_UTF8).to_vec()
                } else {
                    (0..1 + rng.below(8)).map(|_| rng.next_u64() as u8).collect()
                };
                out.splice(at..at, bytes);
            }
            // Replace a value by a nasty one.
            3 | 4 => {
                let value = rng.pick(NASTY_VALUES).as_bytes();
                replace_value(rng, out, value);
            }
            // Put another type or kind name in place of one.
            5 => {
                let name = format!("\"{}\"", rng.pick(TYPE_NAMES));
                replace_value(rng, out, name.as_bytes());
            }
            // Deep nesting, closed or not.
            6 => {
                let depth = *rng.pick(&[100, 129, 1_000, 10_000]);
                let (open, close): (&[u8], &[u8]) =
                    if rng.chance(2) { (b"[", b"]") } else { (b"{\"a\":", b"}") };
                let mut nest = open.repeat(depth);
                if rng.chance(2) {
                    nest.extend_from_slice(b"1");
                    nest.extend_from_slice(&close.repeat(depth));
                }
                replace_value(rng, out, &nest);
            }
            // Duplicate a slice (repeated fields, doubled documents).
            7 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = start + rng.below(out.len() - start + 1);
                let at = rng.below(out.len() + 1);
                let copy = out[start..end].to_vec();
                out.splice(at..at, copy);
            }
            // Delete a slice.
            8 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = start + rng.below((out.len() - start).min(16) + 1);
                out.drain(start..end);
            }
            // A long string value.
            9 => {
                let mut long = vec![b'"'];
                long.extend(std::iter::repeat_n(b'x', 1 + rng.below(8_000)));
                long.push(b'"');
                replace_value(rng, out, &long);
            }
            _ => out.push(b'}'),
        }
    }

    /// Replaces the value after a random `:` (up to the next `,` or `}`), or the whole
    /// document when it has no `:`.
    fn replace_value(rng: &mut Rng, out: &mut Vec<u8>, value: &[u8]) {
        let colons: Vec<usize> =
            out.iter().enumerate().filter(|(_, b)| **b == b':').map(|(i, _)| i).collect();
        if colons.is_empty() {
            *out = value.to_vec();
            return;
        }
        let start = rng.pick(&colons) + 1;
        let end = out[start..].iter().position(|b| matches!(b, b',' | b'}')).map_or(out.len(), |p| start + p);
        out.splice(start..end, value.iter().copied());
    }

    /// A mutated frame stream: usually one body mutated and every length prefix right, so
    /// that the damage reaches the JSON; sometimes raw damage to the stream itself.
    pub fn stream(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
        if rng.chance(4) {
            // Raw: the length prefixes can be hit too.
            return json(rng, input);
        }
        let mut bodies: Vec<Vec<u8>> = frame_bodies(input).into_iter().map(<[u8]>::to_vec).collect();
        if bodies.is_empty() {
            bodies.push(input.to_vec());
        }
        let at = rng.below(bodies.len());
        bodies[at] = json(rng, &bodies[at]);
        if rng.chance(8) {
            let copy = rng.pick(&bodies).clone();
            bodies.push(copy);
        }
        bodies.iter().flat_map(|b| framed(b)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::mutate::{self, Rng};
    use super::*;
    use std::path::{Path, PathBuf};

    fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("corpus {}: {err}", dir.display()))
            .map(|entry| entry.expect("corpus entry").path())
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|path| {
                let name = path.file_name().expect("a file name").to_string_lossy().into_owned();
                let bytes = std::fs::read(&path).expect("read corpus file");
                (name, bytes)
            })
            .collect()
    }

    fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
        corpus(target).into_iter().filter(|(name, _)| name.starts_with("seed-")).collect()
    }

    #[test]
    fn documented_frames_in_the_seed_corpus_decode() {
        let seeds = seeds("frame");
        let mut client = 0;
        let mut server = 0;
        let mut bad = 0;
        for (name, bytes) in &seeds {
            let read = frame_stream(bytes);
            if name.starts_with("seed-client-") {
                assert!(read.client.valid() > 0 && read.client.refused() == 0, "{name}: {:?}", read.client);
                assert_eq!(read.client.end, StreamEnd::Clean, "{name}");
                client += read.client.valid();
            } else if name.starts_with("seed-server-") {
                assert!(read.server.valid() > 0 && read.server.refused() == 0, "{name}: {:?}", read.server);
                assert_eq!(read.server.end, StreamEnd::Clean, "{name}");
                server += read.server.valid();
            } else {
                assert!(
                    name.starts_with("seed-bad-"),
                    "{name}: seeds are seed-client-, seed-server- or seed-bad-"
                );
                let refused = read.client.refused() > 0 || read.client.end != StreamEnd::Clean;
                assert!(refused, "{name} should be refused: {:?}", read.client);
                bad += 1;
            }
        }
        // Every client frame type, and every server frame type, is in the seeds.
        assert!(client >= 7 && server >= 25 && bad >= 5, "client {client}, server {server}, bad {bad}");
    }

    #[test]
    fn every_body_type_has_a_seed_that_parses() {
        let seeds = seeds("bodies");
        for (name, bytes) in &seeds {
            let outcome = body(bytes).expect("a seed is not empty");
            let wanted = name.trim_start_matches("seed-").split('.').next().expect("a name");
            assert_eq!(outcome.name, wanted, "{name}: the selector byte names another type");
            assert!(outcome.parsed, "{name} does not parse as {wanted}");
        }
        for (type_name, _) in BODIES {
            assert!(
                seeds.iter().any(|(name, _)| name.starts_with(&format!("seed-{type_name}."))),
                "no seed for {type_name}"
            );
        }
    }

    #[test]
    fn the_whole_corpus_replays_through_both_targets() {
        let mut files = corpus("frame");
        files.extend(corpus("bodies"));
        assert!(files.len() > BODIES.len() + 40, "the corpus has only {} files", files.len());
        for (_, bytes) in &files {
            frame_stream(bytes);
            body(bytes);
        }
    }

    /// The short run of the fuzzers in every test run: seeded mutations of the corpus.
    #[test]
    fn seeded_mutations_of_the_corpus_are_refused_cleanly() {
        let frames = corpus("frame");
        let bodies = corpus("bodies");
        let mut rng = Rng::new(2024);
        let (mut valid, mut refused, mut unknown, mut too_large, mut truncated) = (0, 0, 0, 0, 0);
        let (mut parsed, mut rejected) = (0, 0);
        for _ in 0..10_000 {
            let (_, seed) = rng.pick(&frames);
            let read = frame_stream(&mutate::stream(&mut rng, seed));
            valid += read.client.valid() + read.server.valid();
            refused += read.client.refused() + read.server.refused();
            unknown += read.client.frames.iter().filter(|f| matches!(f, Err(true))).count();
            match read.client.end {
                StreamEnd::TooLarge => too_large += 1,
                StreamEnd::Truncated(_) => truncated += 1,
                StreamEnd::Clean => {}
            }
            let (_, seed) = rng.pick(&bodies);
            let (selector, json) = seed.split_first().expect("a body seed is not empty");
            let mut input = vec![*selector];
            input.extend(mutate::json(&mut rng, json));
            match body(&input) {
                Some(BodyOutcome { parsed: true, .. }) => parsed += 1,
                _ => rejected += 1,
            }
        }
        // The run reached every outcome, so it tested something.
        for (what, count) in [
            ("valid frames", valid),
            ("refused frames", refused),
            ("unknown types", unknown),
            ("over the limit", too_large),
            ("truncated streams", truncated),
            ("parsed bodies", parsed),
            ("rejected bodies", rejected),
        ] {
            assert!(count > 50, "only {count} {what}");
        }
    }

    #[test]
    fn hostile_values_are_refused_not_panicked_on() {
        let nested = |depth: usize| {
            format!("{{\"type\":\"ping\",\"nonce\":{}1{}}}", "[".repeat(depth), "]".repeat(depth))
        };
        let cases: Vec<Vec<u8>> = vec![
            br#"{"type":"ping","nonce":1e400}"#.to_vec(),
            br#"{"type":"ping","nonce":18446744073709551616}"#.to_vec(),
            br#"{"type":"ping","nonce":-1}"#.to_vec(),
            br#"{"type":"receipt","conversation_id":1,"kind":"read","seq":9223372036854775808}"#.to_vec(),
            nested(127).into_bytes(),
            nested(10_000).into_bytes(),
            "[".repeat(10_000).into_bytes(),
            b"{\"type\":\"send\",\"client_id\":\"\xff\xfe\",\"to\":{\"kind\":\"user\",\"id\":1}}".to_vec(),
            br#"{"type":"send","client_id":"\ud800","to":{"kind":"user","id":1},"content":{"type":"text","text":"x"}}"#
                .to_vec(),
        ];
        for case in cases {
            let mut stream = framed(&case);
            stream.extend(framed(br#"{"type":"ping","nonce":9}"#));
            let text = String::from_utf8_lossy(&case);
            if case.len() > FUZZ_MAX_FRAME_LEN {
                assert_eq!(frame_stream(&stream).client.end, StreamEnd::TooLarge, "{text}");
            }
            // At the server's default limit every case reaches the JSON parser.
            let read = decode_stream::<ClientFrame>(&stream, stream.len(), crate::DEFAULT_MAX_FRAME_LEN);
            assert!(matches!(read.frames[0], Err(false)), "{text}: {:?}", read.frames[0]);
            assert_eq!(
                read.frames[1],
                Ok(ClientFrame::Ping { nonce: 9 }),
                "the stream stays in step after {text}"
            );
        }
        let deep = format!("{{\"name\":{}\"x\"{}}}", "[".repeat(10_000), "]".repeat(10_000));
        let bodies: [(&str, &[u8]); 8] = [
            ("SendFriendRequest", br#"{"to":1e400}"#),
            ("SendFriendRequest", br#"{"to":9223372036854775808}"#),
            ("HistoryQuery", br#"{"limit":4294967296}"#),
            ("MuteRequest", br#"{"muted":"yes"}"#),
            ("SetRoleRequest", br#"{"role":"owner "}"#),
            ("CreateGroupRequest", deep.as_bytes()),
            ("RegisterRequest", b"{\"username\":\"\xff\",\"display_name\":\"A\",\"password\":\"p\"}"),
            ("LoginRequest", br#"{"username":"\ud800","password":"p"}"#),
        ];
        for (name, json) in bodies {
            let selector = BODIES.iter().position(|(n, _)| *n == name).expect("a body type");
            let mut input = vec![selector as u8];
            input.extend_from_slice(json);
            let outcome = body(&input).expect("not empty");
            assert_eq!(outcome, BodyOutcome { name, parsed: false }, "{}", String::from_utf8_lossy(json));
        }
        // The largest numbers that fit are read as such.
        let max = frame_stream(&framed(br#"{"type":"ping","nonce":18446744073709551615}"#));
        assert_eq!(max.client.frames, vec![Ok(ClientFrame::Ping { nonce: u64::MAX })]);
    }

    #[test]
    fn the_mutator_is_deterministic() {
        let seed = framed(br#"{"type":"ping","nonce":7}"#);
        let run = |seed_value| {
            let mut rng = Rng::new(seed_value);
            (0..100).map(|_| mutate::stream(&mut rng, &seed)).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }
}
