//! Files, images and emoji end to end: uploads streamed to the upload store, byte-exact
//! downloads with Range, thumbnails, attaching uploads to messages, who may download, the
//! sweeper, the emoji manifest and stickers, and every refused input (each leaving no file).

mod common;

use common::{Backend, PATIENCE, TestServer, TestSocket, code, png_claiming};
use kith_shared::api::FileInfo;
use kith_shared::frame::{Content, Target};
use kith_shared::{ClientFrame, ErrorCode, ServerFrame};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use serde_json::Value;
use std::io::Cursor;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

backend_tests!(
    small_and_large_files_round_trip_exactly,
    ranges_resume_bad_ranges_are_416_and_others_are_ignored,
    images_of_each_format_get_thumbnails_and_are_sent,
    uploads_without_token_or_over_the_caps_are_refused,
    an_upload_aborted_half_way_leaves_nothing,
    bad_file_names_are_refused,
    lying_truncated_and_gigapixel_images_are_refused,
    only_members_download_and_only_the_uploader_sends,
    sweeper_deletes_files_once_fetched,
    sweeper_deletes_expired_files,
    start_removes_every_file_no_upload_names,
    decodes_share_one_memory_budget,
    uploads_in_progress_count_against_the_pending_cap,
    late_group_members_cannot_read_files_sent_before_they_joined,
    shutdown_cuts_off_uploads_in_progress,
    emoji_manifest_and_static_files_have_etags,
    stickers_must_be_in_the_emoji_set,
);

fn static_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../static")
}

async fn start(
    backend: Backend,
    adjust: impl FnOnce(&mut kith_server::config::Config),
) -> Option<TestServer> {
    TestServer::start_with(backend, |c| {
        c.static_dir = static_dir();
        adjust(c);
    })
    .await
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `POST /api/files?name=NAME` with `body`; the status and JSON answer.
async fn upload(server: &TestServer, token: Option<&str>, name: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let mut req = server.http.post(format!("{}/api/files?name={}", server.base, encode(name))).body(body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = tokio::time::timeout(PATIENCE, req.send()).await.expect("answer in time").expect("HTTP");
    let status = res.status();
    let bytes = res.bytes().await.expect("body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Uploads and expects success.
async fn upload_ok(server: &TestServer, token: &str, name: &str, body: Vec<u8>) -> FileInfo {
    let (status, info) = upload(server, Some(token), name, body).await;
    assert_eq!(status, StatusCode::CREATED, "{info}");
    serde_json::from_value(info).expect("file info")
}

/// `GET path` with optional token and Range; status, headers, body.
async fn fetch(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    range: Option<&str>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = server.http.get(format!("{}{path}", server.base));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(range) = range {
        req = req.header(header::RANGE, range);
    }
    let res = tokio::time::timeout(PATIENCE, req.send()).await.expect("answer in time").expect("HTTP");
    let status = res.status();
    let headers = res.headers().clone();
    (status, headers, res.bytes().await.expect("body").to_vec())
}

/// The names in the server's upload store.
fn stored(server: &TestServer) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(&server.config.upload_dir)
        .expect("upload dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Waits until the upload store holds exactly `expected` (in any order).
async fn store_becomes(server: &TestServer, expected: &[&str]) {
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let now = stored(server);
        if now == expected {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "upload store is {now:?}, expected {expected:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Deterministic pseudo-random bytes.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Sends content and returns the ack's (conversation, seq), or the refusal's code.
async fn send(socket: &mut TestSocket, to: Target, content: Content) -> Result<(i64, i64), ErrorCode> {
    let client_id = uuid::Uuid::new_v4().to_string();
    socket.send(&ClientFrame::Send { client_id: client_id.clone(), to, content }).await;
    let answer = socket
        .expect("ack or error", |f| {
            matches!(f, ServerFrame::Ack { client_id: c, .. } | ServerFrame::Error { reference: Some(c), .. } if *c == client_id)
        })
        .await;
    match answer {
        ServerFrame::Ack { conversation_id, seq, .. } => Ok((conversation_id, seq)),
        ServerFrame::Error { code, .. } => Err(code),
        other => panic!("unexpected {other:?}"),
    }
}

fn file_content(upload_id: &str) -> Content {
    Content::File { upload_id: upload_id.to_owned(), name: String::new(), size: 0, mime: String::new() }
}

fn image_content(upload_id: &str) -> Content {
    serde_json::from_value(serde_json::json!({"type": "image", "upload_id": upload_id}))
        .expect("image content")
}

fn picture(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([(x % 256) as u8, (y % 256) as u8, 90, 255])
    });
    let img = match format {
        image::ImageFormat::Jpeg => {
            image::DynamicImage::ImageRgb8(image::DynamicImage::ImageRgba8(img).to_rgb8())
        }
        _ => image::DynamicImage::ImageRgba8(img),
    };
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

async fn small_and_large_files_round_trip_exactly(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.befriend(&alice, &bob).await;
    let small = b"hello, files\n".to_vec();
    let info = upload_ok(&server, &alice.token, "notes.txt", small.clone()).await;
    assert_eq!((info.size, info.mime.as_str(), info.name.as_str()), (13, "text/plain", "notes.txt"));
    assert!(info.width.is_none() && info.thumbnail_id.is_none() && !info.expired);
    let large = noise(20 << 20, 7);
    let big = upload_ok(&server, &alice.token, "résumé data.bin", large.clone()).await;
    assert_eq!(big.size, 20 << 20);
    assert_eq!(big.mime, "application/octet-stream");
    // Stored under uuid names only, nothing partial.
    store_becomes(&server, &[&info.id, &big.id]).await;

    let mut socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let to_bob = Target::User { id: bob.user.id };
    send(&mut socket, to_bob, file_content(&info.id)).await.expect("small sent");
    send(&mut socket, to_bob, file_content(&big.id)).await.expect("large sent");
    let pushed = bob_socket.expect("message", |f| matches!(f, ServerFrame::Message { .. })).await;
    let ServerFrame::Message { message } = pushed else { unreachable!() };
    assert_eq!(
        message.content,
        Content::File {
            upload_id: info.id.clone(),
            name: "notes.txt".into(),
            size: 13,
            mime: "text/plain".into()
        }
    );

    // The uploader (here, so bob's full fetch does not race the checks) and bob get the same bytes.
    let (status, headers, body) =
        fetch(&server, &format!("/api/files/{}/content", info.id), Some(&alice.token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, small);
    assert_eq!(headers[header::CONTENT_TYPE], "text/plain");
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt"
    );
    let (status, headers, body) =
        fetch(&server, &format!("/api/files/{}/content", big.id), Some(&bob.token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body == large, "the 20 MB file comes back byte for byte");
    assert_eq!(headers[header::CONTENT_LENGTH], (20u64 << 20).to_string().as_str());
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"r_sum_ data.bin\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20data.bin"
    );
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    server.stop().await;
}

async fn ranges_resume_bad_ranges_are_416_and_others_are_ignored(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else { return };
    let alice = server.user("alice").await;
    let data = noise(1 << 20, 3);
    let info = upload_ok(&server, &alice.token, "video.mp4", data.clone()).await;
    assert_eq!(info.mime, "video/mp4");
    let path = format!("/api/files/{}/content", info.id);
    // A download cut at 300000 bytes resumes from there.
    let (status, headers, first) = fetch(&server, &path, Some(&alice.token), Some("bytes=0-299999")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(headers[header::CONTENT_RANGE], format!("bytes 0-299999/{}", 1 << 20).as_str());
    let (status, _, rest) = fetch(&server, &path, Some(&alice.token), Some("bytes=300000-")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!([first, rest].concat(), data);
    let (status, _, tail) = fetch(&server, &path, Some(&alice.token), Some("bytes=-10")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail, data[data.len() - 10..]);
    for bad in ["bytes=2000000-", "bytes=5-2", "bytes=1048576-1048600"] {
        let (status, headers, body) = fetch(&server, &path, Some(&alice.token), Some(bad)).await;
        assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE, "{bad}");
        assert_eq!(headers[header::CONTENT_RANGE], format!("bytes */{}", 1 << 20).as_str(), "{bad}");
        // The API's error body, like every other refusal.
        assert!(headers[header::CONTENT_TYPE].to_str().is_ok_and(|t| t.starts_with("application/json")));
        let body: Value = serde_json::from_slice(&body).expect("a JSON body");
        assert_eq!(code(&body), "invalid_field", "{bad}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{bad}: {body}");
    }
    // What the server does not serve is ignored (RFC 9110): several ranges, other units.
    for ignored in ["bytes=0-1,5-6", "bytes=0-9, 20-29", "items=0-5", "pages=1"] {
        let (status, headers, body) = fetch(&server, &path, Some(&alice.token), Some(ignored)).await;
        assert_eq!(status, StatusCode::OK, "{ignored}");
        assert!(headers.get(header::CONTENT_RANGE).is_none(), "{ignored}");
        assert!(body == data, "{ignored}: the whole file");
    }
    store_becomes(&server, &[&info.id]).await;
    server.stop().await;
}

async fn images_of_each_format_get_thumbnails_and_are_sent(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.befriend(&alice, &bob).await;
    let mut socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    for (format, name, mime) in [
        (image::ImageFormat::Png, "p.png", "image/png"),
        (image::ImageFormat::Jpeg, "j.jpg", "image/jpeg"),
        (image::ImageFormat::Gif, "g.gif", "image/gif"),
        (image::ImageFormat::WebP, "w.webp", "image/webp"),
    ] {
        let bytes = picture(800, 600, format);
        let info = upload_ok(&server, &alice.token, name, bytes.clone()).await;
        assert_eq!((info.mime.as_str(), info.width, info.height), (mime, Some(800), Some(600)), "{name}");
        let thumbnail_id = info.thumbnail_id.clone().expect("a thumbnail");
        let (status, headers, thumb) =
            fetch(&server, &format!("/api/files/{}/thumbnail", info.id), Some(&alice.token), None).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(headers[header::CONTENT_TYPE], "image/png");
        let thumb =
            image::load_from_memory_with_format(&thumb, image::ImageFormat::Png).expect("a PNG thumbnail");
        assert_eq!((thumb.width(), thumb.height()), (320, 240), "{name}");

        send(&mut socket, Target::User { id: bob.user.id }, image_content(&info.id))
            .await
            .expect("image sent");
        let ServerFrame::Message { message } =
            bob_socket.expect("message", |f| matches!(f, ServerFrame::Message { .. })).await
        else {
            unreachable!()
        };
        assert_eq!(
            message.content,
            Content::Image {
                upload_id: info.id.clone(),
                name: name.into(),
                size: bytes.len() as u64,
                mime: mime.into(),
                width: 800,
                height: 600,
                thumbnail_id,
            }
        );
        let (status, _, body) =
            fetch(&server, &format!("/api/files/{}/thumbnail", info.id), Some(&bob.token), None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!body.is_empty());
    }
    // A file that is not an image cannot be sent as one.
    let text = upload_ok(&server, &alice.token, "a.txt", b"just text".to_vec()).await;
    let refused = send(&mut socket, Target::User { id: bob.user.id }, image_content(&text.id)).await;
    assert_eq!(refused, Err(ErrorCode::InvalidField));
    let (status, body) = server.get(&format!("/api/files/{}/thumbnail", text.id), &alice.token).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    server.stop().await;
}

/// Writes a raw HTTP/1.1 request and returns what the server answered until it closed (or
/// an empty string if the connection was reset).
async fn raw_http(server: &TestServer, head: String, body_chunks: &[Vec<u8>]) -> String {
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let _ = stream.write_all(head.as_bytes()).await;
    for chunk in body_chunks {
        if stream.write_all(chunk).await.is_err() {
            break;
        }
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

async fn uploads_without_token_or_over_the_caps_are_refused(backend: Backend) {
    let Some(server) = start(backend, |c| {
        c.max_upload_bytes = 64 * 1024;
        c.max_pending_uploads_per_user = 2;
    })
    .await
    else {
        return;
    };
    let alice = server.user("alice").await;
    let (status, body) = upload(&server, None, "a.txt", b"data".to_vec()).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (status, body) = upload(&server, Some("not-a-token"), "a.txt", b"data".to_vec()).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    // Announced too large: refused before a byte is read.
    let (status, body) = upload(&server, Some(&alice.token), "big.bin", vec![0; 64 * 1024 + 1]).await;
    assert_eq!((status, code(&body)), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"), "{body}");
    // Exactly the cap is fine.
    let at_cap = upload_ok(&server, &alice.token, "cap.bin", vec![1; 64 * 1024]).await;
    // Too large without a length (chunked): cut off while streaming.
    let head = format!(
        "POST /api/files?name=chunked.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        alice.token
    );
    let chunk = [format!("{:x}\r\n", 40 * 1024).into_bytes(), vec![7; 40 * 1024], b"\r\n".to_vec()].concat();
    let answer = raw_http(&server, head, &[chunk.clone(), chunk.clone(), chunk, b"0\r\n\r\n".to_vec()]).await;
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 413"), "{answer}");
    store_becomes(&server, &[&at_cap.id]).await;
    // Pending uploads are capped per user.
    let second = upload_ok(&server, &alice.token, "two.bin", vec![2; 10]).await;
    let (status, body) = upload(&server, Some(&alice.token), "three.bin", vec![3; 10]).await;
    assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{body}");
    store_becomes(&server, &[&at_cap.id, &second.id]).await;
    // Another user has their own allowance.
    let bob = server.user("bob").await;
    upload_ok(&server, &bob.token, "bob.bin", vec![4; 10]).await;
    server.stop().await;
}

async fn an_upload_aborted_half_way_leaves_nothing(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else { return };
    let alice = server.user("alice").await;
    let head = format!(
        "POST /api/files?name=half.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Length: 10000000\r\n\r\n",
        alice.token
    );
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(&vec![9; 3_000_000]).await.expect("half the body");
    // The .part file exists while the upload runs...
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !stored(&server).iter().any(|n| n.ends_with(".part")) {
        assert!(tokio::time::Instant::now() < deadline, "no .part file appeared");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ...and is gone once the client vanishes.
    drop(stream);
    store_becomes(&server, &[]).await;
    let (_, info) = server.get("/api/me", &alice.token).await;
    assert_eq!(info["username"], "alice", "the server still serves");
    server.stop().await;
}

async fn bad_file_names_are_refused(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else { return };
    let alice = server.user("alice").await;
    let long = "n".repeat(10 * 1024);
    for name in [
        "../../etc/passwd",
        "..",
        "",
        "   ",
        "a\u{1}b.txt",
        "line\nbreak.txt",
        "dir\\file.txt",
        long.as_str(),
        // Names that disguise themselves: a right-to-left override makes this one read
        // "invoiceexe.png"; separators and joiners hide in plain sight.
        "invoice\u{202E}gnp.exe",
        "a\u{2028}b.txt",
        "a\u{2029}b.txt",
        "a\u{200D}b.txt",
        "a\u{200B}b.txt",
        "\u{2067}a.txt",
    ] {
        let (status, body) = upload(&server, Some(&alice.token), name, b"payload".to_vec()).await;
        assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "invalid_field"), "{name:?}: {body}");
    }
    // No name at all.
    let res = server
        .http
        .post(format!("{}/api/files", server.base))
        .bearer_auth(&alice.token)
        .body("x")
        .send()
        .await
        .expect("HTTP");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    store_becomes(&server, &[]).await;
    assert!(!std::path::Path::new("/etc/passwd.part").exists());
    // Odd but harmless names are kept as metadata only.
    let info = upload_ok(&server, &alice.token, "..hidden ☃.txt", b"ok".to_vec()).await;
    assert_eq!(info.name, "..hidden ☃.txt");
    // A joiner between emoji makes one emoji of them (a family): kept.
    let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}.txt";
    let joined = upload_ok(&server, &alice.token, family, b"ok".to_vec()).await;
    assert_eq!(joined.name, family);
    store_becomes(&server, &[&info.id, &joined.id]).await;
    server.stop().await;
}

/// Three damaged copies of a JPEG: its headers without the scan, cut half way through the
/// scan, and with the scan replaced by noise (the end marker kept).
fn damaged_jpegs(jpeg: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).expect("a scan");
    let scan = sos + 2 + usize::from(u16::from_be_bytes([jpeg[sos + 2], jpeg[sos + 3]]));
    let header_only = jpeg[..scan].to_vec();
    let cut = jpeg[..scan + (jpeg.len() - scan) / 2].to_vec();
    let mut scrambled = jpeg.to_vec();
    let end = scrambled.len() - 2;
    scrambled[scan..end].copy_from_slice(&noise(end - scan, 11));
    (header_only, cut, scrambled)
}

async fn lying_truncated_and_gigapixel_images_are_refused(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else { return };
    let alice = server.user("alice").await;
    let png = picture(400, 300, image::ImageFormat::Png);
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "text.png",
            b"this is not a picture".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media",
        ),
        ("png-named.jpg", png.clone(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media"),
        ("cut.png", png[..png.len() / 2].to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media"),
        ("bomb.png", png_claiming(100_000, 100_000), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        // Within the side limit, but 16000 x 16000 RGBA needs 1 GiB: over the decode budget.
        ("wide.png", png_claiming(16_000, 16_000), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        ("empty.gif", Vec::new(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media"),
    ];
    let jpeg = picture(400, 300, image::ImageFormat::Jpeg);
    let (header_only, cut, scrambled) = damaged_jpegs(&jpeg);
    let cases = cases.into_iter().chain([
        ("header.jpg", header_only, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media"),
        ("cut.jpg", cut, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media"),
        ("scrambled.jpg", scrambled, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media"),
    ]);
    for (name, bytes, status, error) in cases {
        let (got, body) = upload(&server, Some(&alice.token), name, bytes).await;
        assert_eq!((got, code(&body)), (status, error), "{name}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{name}: a message for people");
        store_becomes(&server, &[]).await;
    }
    let (_, body) = upload(&server, Some(&alice.token), "bomb.png", png_claiming(100_000, 100_000)).await;
    assert!(body["message"].as_str().unwrap_or("").contains("100000x100000"), "{body}");
    // A picture with a name that is not an image's is a plain file.
    let info = upload_ok(&server, &alice.token, "picture.dat", png).await;
    assert!(info.thumbnail_id.is_none());
    server.stop().await;
}

async fn only_members_download_and_only_the_uploader_sends(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    server.befriend(&alice, &bob).await;
    server.befriend(&alice, &carol).await;
    server.befriend(&bob, &carol).await;
    let info = upload_ok(&server, &alice.token, "secret.txt", b"for bob".to_vec()).await;
    let content = format!("/api/files/{}/content", info.id);
    // Not sent yet: only alice sees it.
    let (status, _, _) = fetch(&server, &content, Some(&bob.token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = fetch(&server, &content, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Bob cannot send alice's upload.
    let mut bob_socket = server.connect(&bob.token).await;
    let refused = send(&mut bob_socket, Target::User { id: carol.user.id }, file_content(&info.id)).await;
    assert_eq!(refused, Err(ErrorCode::Forbidden));
    let refused = send(&mut bob_socket, Target::User { id: carol.user.id }, file_content("no-such-id")).await;
    assert_eq!(refused, Err(ErrorCode::NotFound));
    let mut socket = server.connect(&alice.token).await;
    send(&mut socket, Target::User { id: bob.user.id }, file_content(&info.id)).await.expect("sent to bob");
    // Sending the same upload again to bob is fine; elsewhere it is refused.
    send(&mut socket, Target::User { id: bob.user.id }, file_content(&info.id)).await.expect("again to bob");
    let refused = send(&mut socket, Target::User { id: carol.user.id }, file_content(&info.id)).await;
    assert_eq!(refused, Err(ErrorCode::InvalidField));
    // Carol, a friend of both, is not in that conversation.
    for path in [content.clone(), format!("/api/files/{}", info.id)] {
        let (status, _, body) = fetch(&server, &path, Some(&carol.token), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(String::from_utf8_lossy(&body).contains("forbidden"));
    }
    let (status, body) =
        server.post(&format!("/api/files/{}/received", info.id), Some(&carol.token), Value::Null).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = fetch(&server, &content, Some(&bob.token), Some("bytes=0-2")).await;
    assert_eq!((status, body.as_slice()), (StatusCode::PARTIAL_CONTENT, &b"for"[..]));
    let (status, meta) = server.get(&format!("/api/files/{}", info.id), &bob.token).await;
    assert_eq!(status, StatusCode::OK);
    assert!(meta["conversation_id"].as_i64().is_some());
    assert_eq!(meta["expired"], false);
    // Ids that are not uuids never reach the file system.
    let (status, _, _) =
        fetch(&server, "/api/files/..%2F..%2Fetc%2Fpasswd/content", Some(&alice.token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

async fn wait_expired(server: &TestServer, token: &str, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (status, meta) = server.get(&format!("/api/files/{id}"), token).await;
        assert_eq!(status, StatusCode::OK, "{meta}");
        if meta["expired"] == true {
            return meta;
        }
        assert!(tokio::time::Instant::now() < deadline, "{id} did not expire: {meta}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sweeper_deletes_files_once_fetched(backend: Backend) {
    let Some(server) = start(backend, |c| c.sweep_interval = Duration::from_secs(1)).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.befriend(&alice, &bob).await;
    let mut socket = server.connect(&alice.token).await;
    let to_bob = Target::User { id: bob.user.id };
    let whole = upload_ok(&server, &alice.token, "whole.bin", noise(300_000, 1)).await;
    let resumed =
        upload_ok(&server, &alice.token, "resumed.png", picture(64, 64, image::ImageFormat::Png)).await;
    let kept = upload_ok(&server, &alice.token, "kept.bin", noise(1000, 2)).await;
    for id in [&whole.id, &resumed.id, &kept.id] {
        send(&mut socket, to_bob, file_content(id)).await.expect("sent");
    }
    let resumed_thumb = resumed.thumbnail_id.clone().expect("thumbnail");
    // The uploader's own download and a partial one do not count.
    fetch(&server, &format!("/api/files/{}/content", whole.id), Some(&alice.token), None).await;
    fetch(&server, &format!("/api/files/{}/content", resumed.id), Some(&bob.token), Some("bytes=0-9")).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    store_becomes(&server, &[&whole.id, &resumed.id, &resumed_thumb, &kept.id]).await;
    // Bob fetches one whole, confirms the other after a resumed download.
    let (status, _, body) =
        fetch(&server, &format!("/api/files/{}/content", whole.id), Some(&bob.token), None).await;
    assert_eq!((status, body.len()), (StatusCode::OK, 300_000));
    let (status, _) =
        server.post(&format!("/api/files/{}/received", resumed.id), Some(&bob.token), Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    store_becomes(&server, &[&kept.id]).await;
    for id in [&whole.id, &resumed.id] {
        let meta = wait_expired(&server, &bob.token, id).await;
        assert!(meta["name"].as_str().is_some(), "the record stays: {meta}");
        let (status, _, body) =
            fetch(&server, &format!("/api/files/{id}/content"), Some(&bob.token), None).await;
        assert_eq!(status, StatusCode::GONE);
        assert!(String::from_utf8_lossy(&body).contains("\"expired\""));
    }
    let (status, _, _) =
        fetch(&server, &format!("/api/files/{}/thumbnail", resumed.id), Some(&alice.token), None).await;
    assert_eq!(status, StatusCode::GONE);
    let (_, meta) = server.get(&format!("/api/files/{}", kept.id), &bob.token).await;
    assert_eq!(meta["expired"], false);
    server.stop().await;
}

async fn sweeper_deletes_expired_files(backend: Backend) {
    // Uploads never sent go after UNATTACHED_TTL.
    let Some(server) = start(backend, |c| {
        c.sweep_interval = Duration::from_secs(1);
        c.unattached_ttl = Duration::from_secs(1);
    })
    .await
    else {
        return;
    };
    let alice = server.user("alice").await;
    let info = upload_ok(&server, &alice.token, "forgotten.txt", b"never sent".to_vec()).await;
    store_becomes(&server, &[]).await;
    wait_expired(&server, &alice.token, &info.id).await;
    let (status, _, _) =
        fetch(&server, &format!("/api/files/{}/content", info.id), Some(&alice.token), None).await;
    assert_eq!(status, StatusCode::GONE);
    // An expired upload cannot be sent.
    let bob = server.user("bob").await;
    server.befriend(&alice, &bob).await;
    let mut socket = server.connect(&alice.token).await;
    let refused = send(&mut socket, Target::User { id: bob.user.id }, file_content(&info.id)).await;
    assert_eq!(refused, Err(ErrorCode::Expired));
    server.stop().await;

    // Sent files go after FILE_TTL, fetched or not.
    let Some(server) = start(backend, |c| {
        c.sweep_interval = Duration::from_secs(1);
        c.file_ttl = Duration::from_secs(1);
    })
    .await
    else {
        return;
    };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.befriend(&alice, &bob).await;
    let info = upload_ok(&server, &alice.token, "brief.txt", b"soon gone".to_vec()).await;
    let mut socket = server.connect(&alice.token).await;
    send(&mut socket, Target::User { id: bob.user.id }, file_content(&info.id)).await.expect("sent");
    store_becomes(&server, &[]).await;
    let meta = wait_expired(&server, &bob.token, &info.id).await;
    assert_eq!(meta["expired"], true);
    let (status, _, body) =
        fetch(&server, &format!("/api/files/{}/content", info.id), Some(&bob.token), None).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(String::from_utf8_lossy(&body).contains("expired"));
    server.stop().await;
}

async fn start_removes_every_file_no_upload_names(backend: Backend) {
    let mut folder = None;
    let Some(server) = start(backend, |c| {
        // Left in the store before the server starts: strays of every kind and a folder.
        std::fs::create_dir_all(c.upload_dir.join("a folder")).expect("folder");
        for name in ["stray.txt", "notes", ".hidden", "5b0c6a1e-0000-4000-8000-000000000001", "x.part"] {
            std::fs::write(c.upload_dir.join(name), b"left over").expect("stray");
        }
        folder = Some(c.upload_dir.join("a folder"));
    })
    .await
    else {
        return;
    };
    store_becomes(&server, &["a folder"]).await;
    assert!(folder.expect("set").is_dir(), "folders are left alone");
    let alice = server.user("alice").await;
    let info = upload_ok(&server, &alice.token, "kept.txt", b"kept".to_vec()).await;
    store_becomes(&server, &["a folder", &info.id]).await;
    server.stop().await;
}

async fn decodes_share_one_memory_budget(backend: Backend) {
    // Two MiB of decoder memory for every request together.
    let Some(server) = start(backend, |c| c.image_decode_budget_bytes = 2 << 20).await else { return };
    let alice = server.user("alice").await;
    // 1000 x 1000 RGBA needs 4 MB: within the per-picture limit, over the whole budget.
    let (status, body) =
        upload(&server, Some(&alice.token), "big.png", picture(1000, 1000, image::ImageFormat::Png)).await;
    assert_eq!((status, code(&body)), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"), "{body}");
    store_becomes(&server, &[]).await;
    // 600 x 600 needs 1.4 MB: one fits at a time, so four at once take turns and all succeed.
    let png = picture(600, 600, image::ImageFormat::Png);
    let uploads = (0..4).map(|i| {
        upload(&server, Some(&alice.token), if i % 2 == 0 { "a.png" } else { "b.png" }, png.clone())
    });
    for (status, info) in futures_util::future::join_all(uploads).await {
        assert_eq!(status, StatusCode::CREATED, "{info}");
        assert!(info["thumbnail_id"].as_str().is_some(), "{info}");
    }
    server.stop().await;
}

/// Starts an upload of `total` bytes on a raw connection and sends `sent` of them.
async fn start_upload(
    server: &TestServer,
    token: &str,
    name: &str,
    total: usize,
    sent: usize,
) -> tokio::net::TcpStream {
    let head = format!(
        "POST /api/files?name={name} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: {total}\r\nConnection: close\r\n\r\n"
    );
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(&vec![5; sent]).await.expect("part of the body");
    stream
}

/// Waits until the upload store has `count` `.part` files.
async fn parts_become(server: &TestServer, count: usize) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let parts = stored(server).iter().filter(|n| n.ends_with(".part")).count();
        if parts == count {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{parts} .part files, expected {count}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads the answer to a raw request until the server closes the connection.
async fn answer_of(mut stream: tokio::net::TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

async fn uploads_in_progress_count_against_the_pending_cap(backend: Backend) {
    let Some(server) = start(backend, |c| c.max_pending_uploads_per_user = 3).await else { return };
    let alice = server.user("alice").await;
    // Three uploads under way, none finished yet...
    let mut running = Vec::new();
    for i in 0..3 {
        running.push(start_upload(&server, &alice.token, &format!("slow{i}.bin"), 2000, 1000).await);
    }
    parts_become(&server, 3).await;
    // ...so a fourth is one too many, and so are more at once.
    let others = (0..3).map(|_| upload(&server, Some(&alice.token), "fourth.bin", vec![4; 10]));
    for (status, body) in futures_util::future::join_all(others).await {
        assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{body}");
    }
    // Another user is not held back by alice's.
    let bob = server.user("bob").await;
    upload_ok(&server, &bob.token, "bob.bin", vec![1; 10]).await;
    // The three finish and are kept; they still count, now as pending.
    for mut stream in running {
        stream.write_all(&[5; 1000]).await.expect("the rest");
        let answer = answer_of(stream).await;
        assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    }
    let (status, body) = upload(&server, Some(&alice.token), "fourth.bin", vec![4; 10]).await;
    assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{body}");
    assert_eq!(stored(&server).len(), 4, "alice's three and bob's one");
    server.stop().await;
}

async fn late_group_members_cannot_read_files_sent_before_they_joined(backend: Backend) {
    let Some(server) = start(backend, |c| c.sweep_interval = Duration::from_secs(1)).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let (status, body) = server
        .post("/api/groups", Some(&alice.token), serde_json::json!({"name": "club", "description": ""}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let group = body["group"]["id"].as_i64().expect("group id");
    let join = |user: &kith_shared::api::LoginResponse| {
        let token = user.token.clone();
        let server = &server;
        let alice = &alice;
        async move {
            let (status, body) = server
                .post(
                    &format!("/api/groups/{group}/applications"),
                    Some(&token),
                    serde_json::json!({"message": "hi"}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            let id = body["id"].as_i64().expect("request id");
            let (status, body) = server
                .post(&format!("/api/group-requests/{id}/accept"), Some(&alice.token), serde_json::json!({}))
                .await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        }
    };
    join(&bob).await;
    let mut socket = server.connect(&alice.token).await;
    let to_group = Target::Group { id: group };
    let before = upload_ok(&server, &alice.token, "before.txt", b"for bob".to_vec()).await;
    send(&mut socket, to_group, file_content(&before.id)).await.expect("sent to the group");
    socket.send_text(to_group, "a word after the file").await;
    join(&carol).await;
    let after = upload_ok(&server, &alice.token, "after.txt", b"for both".to_vec()).await;
    send(&mut socket, to_group, file_content(&after.id)).await.expect("sent to the group");
    // Carol's history starts after her joining: the earlier file is not hers to read.
    for path in [format!("/api/files/{}", before.id), format!("/api/files/{}/content", before.id)] {
        let (status, _, body) = fetch(&server, &path, Some(&carol.token), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(String::from_utf8_lossy(&body).contains("forbidden"), "{path}");
    }
    let (status, _, _) =
        fetch(&server, &format!("/api/files/{}/content", before.id), Some(&carol.token), Some("bytes=0-2"))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) =
        server.post(&format!("/api/files/{}/received", before.id), Some(&carol.token), Value::Null).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) =
        fetch(&server, &format!("/api/files/{}/content", after.id), Some(&carol.token), None).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, &b"for both"[..]));
    // The earlier file's only receiver is bob: once he has it, it goes, carol or not.
    let (status, _, body) =
        fetch(&server, &format!("/api/files/{}/content", before.id), Some(&bob.token), None).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, &b"for bob"[..]));
    wait_expired(&server, &bob.token, &before.id).await;
    let (_, meta) = server.get(&format!("/api/files/{}", after.id), &bob.token).await;
    assert_eq!(meta["expired"], false, "bob has not fetched the later one: {meta}");
    // Sent again after she joined, a file reaches her too.
    let again = upload_ok(&server, &alice.token, "again.txt", b"twice".to_vec()).await;
    send(&mut socket, to_group, file_content(&again.id)).await.expect("sent");
    let dave = server.user("dave").await;
    join(&dave).await;
    let (status, _, _) =
        fetch(&server, &format!("/api/files/{}/content", again.id), Some(&dave.token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    send(&mut socket, to_group, file_content(&again.id)).await.expect("sent again");
    let (status, _, body) =
        fetch(&server, &format!("/api/files/{}/content", again.id), Some(&dave.token), None).await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, &b"twice"[..]));
    server.stop().await;
}

async fn shutdown_cuts_off_uploads_in_progress(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else { return };
    let alice = server.user("alice").await;
    // An upload that sends half and then nothing.
    let stream = start_upload(&server, &alice.token, "paused.bin", 100_000, 50_000).await;
    parts_become(&server, 1).await;
    let answer = tokio::spawn(answer_of(stream));
    // The stop does not wait for it the minute an idle upload has: it is cut off.
    tokio::time::timeout(PATIENCE, server.stop()).await.expect("the server stops without the upload");
    let answer = answer.await.expect("answer read");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("shutting down"), "{answer}");
}

async fn emoji_manifest_and_static_files_have_etags(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else { return };
    let (status, headers, body) = fetch(&server, "/api/emoji", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let manifest: Value = serde_json::from_slice(&body).expect("manifest JSON");
    let emoji = manifest["emoji"].as_array().expect("emoji list");
    assert!((250..=350).contains(&emoji.len()), "{}", emoji.len());
    let grinning = emoji.iter().find(|e| e["code"] == "1f600").expect("😀 is in the set");
    assert_eq!(grinning["image"], "1f600.png");
    let etag = headers[header::ETAG].to_str().expect("etag").to_owned();
    let res = server
        .http
        .get(format!("{}/api/emoji", server.base))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("HTTP");
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert!(res.bytes().await.expect("body").is_empty());
    let res = server
        .http
        .get(format!("{}/api/emoji", server.base))
        .header(header::IF_NONE_MATCH, "\"other\"")
        .send()
        .await
        .expect("HTTP");
    assert_eq!(res.status(), StatusCode::OK);

    // Every image of the manifest is served; a sample is checked fully.
    let (status, headers, png) = fetch(&server, "/static/emoji/1f600.png", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");
    let img = image::load_from_memory(&png).expect("a PNG");
    assert_eq!((img.width(), img.height()), (64, 64));
    let etag = headers[header::ETAG].to_str().expect("etag").to_owned();
    let res = server
        .http
        .get(format!("{}/static/emoji/1f600.png", server.base))
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("HTTP");
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    for entry in emoji.iter().take(20) {
        let image = entry["image"].as_str().expect("image");
        let (status, _, _) = fetch(&server, &format!("/static/emoji/{image}"), None, None).await;
        assert_eq!(status, StatusCode::OK, "{image}");
    }
    let (status, _, licence) = fetch(&server, "/static/emoji/LICENSE-images", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&licence).contains("Apache License"));
    // No way out of the static directory.
    for path in [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/emoji/..%2f..%2fCargo.toml",
        "/static/%2e%2e%2fserver.conf",
    ] {
        let answer =
            raw_http(&server, format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), &[])
                .await;
        let status = answer.split_whitespace().nth(1).unwrap_or("");
        assert!(status == "404" || status == "400", "{path}: {answer}");
        assert!(!answer.contains("[workspace]") && !answer.contains("SERVER_IP"), "{path} escaped");
    }
    let (status, _, _) = fetch(&server, "/static/emoji/nope.png", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

async fn stickers_must_be_in_the_emoji_set(backend: Backend) {
    let Some(server) = start(backend, |_| {}).await else { return };
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.befriend(&alice, &bob).await;
    let mut socket = server.connect(&alice.token).await;
    let mut bob_socket = server.connect(&bob.token).await;
    let to_bob = Target::User { id: bob.user.id };
    send(&mut socket, to_bob, Content::Sticker { code: "1f44d".into() }).await.expect("👍 sent");
    let ServerFrame::Message { message } =
        bob_socket.expect("message", |f| matches!(f, ServerFrame::Message { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(message.content, Content::Sticker { code: "1f44d".into() });
    for bad in ["", "1f44d.png", "../manifest", "zzzz", "1f1e9-1f1ea"] {
        let refused = send(&mut socket, to_bob, Content::Sticker { code: bad.into() }).await;
        assert_eq!(refused, Err(ErrorCode::NotFound), "{bad:?}");
    }
    socket.assert_alive().await;
    server.stop().await;
}
