//! The frame codec: what each message costs on the socket path, without any I/O.
//!
//! `cargo bench -p kith-shared --bench codec`
//!
//! - `encode/send`: a client serialising a text `send` frame and framing it.
//! - `decode/send`: the server reading that frame back (the per-message cost of its reader).
//! - `encode/message`: the server serialising the `message` push once (it is then shared by
//!   every receiver) and framing it for one connection.
//! - `decode/message`: a client reading a pushed message.
//! - `frame_only`: framing an already serialised frame into a connection's buffer (what each
//!   extra group member costs the writer).

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use kith_shared::codec::{FrameCodec, to_json};
use kith_shared::frame::{ChatMessage, Content, Target};
use kith_shared::{ClientFrame, ServerFrame};
use std::hint::black_box;
use tokio_util::codec::{Decoder, Encoder};

const MAX_FRAME: usize = 1 << 20;

fn text() -> String {
    // A typical chat line: some words and an emoji.
    "Are we still on for lunch tomorrow? The place by the station opens at noon 🙂".to_owned()
}

fn send_frame() -> ClientFrame {
    ClientFrame::Send {
        client_id: "6f1d2c1e-6a53-4c1b-9d2e-3f0b8f3a9c41".to_owned(),
        to: Target::User { id: 4711 },
        content: Content::text(text()),
    }
}

fn message_frame() -> ServerFrame {
    ServerFrame::Message {
        message: ChatMessage {
            id: 1_234_567,
            conversation_id: 42,
            seq: 9_876,
            sender_id: Some(4711),
            client_id: Some("6f1d2c1e-6a53-4c1b-9d2e-3f0b8f3a9c41".to_owned()),
            sent_at: 1_790_000_000_000,
            content: Content::text(text()),
            edited_at: None,
            reactions: Vec::new(),
            forwarded_from: None,
            muted: false,
        },
    }
}

fn framed(json: Bytes) -> BytesMut {
    let mut buf = BytesMut::new();
    FrameCodec::<ClientFrame>::new(MAX_FRAME).encode(json, &mut buf).expect("frame fits");
    buf
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1));
    let send = send_frame();
    group.bench_function("send", |b| {
        let mut codec = FrameCodec::<ServerFrame>::new(MAX_FRAME);
        let mut buf = BytesMut::with_capacity(4096);
        b.iter(|| {
            buf.clear();
            codec.encode(to_json(black_box(&send)), &mut buf).expect("frame fits");
            black_box(buf.len())
        });
    });
    let message = message_frame();
    group.bench_function("message", |b| {
        let mut codec = FrameCodec::<ClientFrame>::new(MAX_FRAME);
        let mut buf = BytesMut::with_capacity(4096);
        b.iter(|| {
            buf.clear();
            codec.encode(to_json(black_box(&message)), &mut buf).expect("frame fits");
            black_box(buf.len())
        });
    });
    let json = to_json(&message);
    group.bench_function("frame_only", |b| {
        let mut codec = FrameCodec::<ClientFrame>::new(MAX_FRAME);
        let mut buf = BytesMut::with_capacity(4096);
        b.iter(|| {
            buf.clear();
            codec.encode(black_box(json.clone()), &mut buf).expect("frame fits");
            black_box(buf.len())
        });
    });
    group.finish();
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(1));
    let send = framed(to_json(&send_frame()));
    group.bench_function("send", |b| {
        let mut codec = FrameCodec::<ClientFrame>::new(MAX_FRAME);
        b.iter_batched_ref(
            || send.clone(),
            |buf| {
                let frame = codec.decode(buf).expect("framing is fine").expect("a whole frame");
                black_box(frame.expect("valid JSON"))
            },
            BatchSize::SmallInput,
        );
    });
    let message = framed(to_json(&message_frame()));
    group.bench_function("message", |b| {
        let mut codec = FrameCodec::<ServerFrame>::new(MAX_FRAME);
        b.iter_batched_ref(
            || message.clone(),
            |buf| {
                let frame = codec.decode(buf).expect("framing is fine").expect("a whole frame");
                black_box(frame.expect("valid JSON"))
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, encode, decode);
criterion_main!(benches);
