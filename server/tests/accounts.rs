//! Accounts over HTTP: registration rules, login, logout, profile, avatar, password, health.

mod common;

use common::{Backend, PASSWORD, TestServer, code, png_claiming};
use reqwest::{Method, StatusCode};
use serde_json::json;

backend_tests!(
    register_login_profile_logout,
    registration_refuses_bad_fields,
    malformed_and_oversized_bodies,
    wrong_password_and_rate_limit,
    avatar_upload_and_download,
    avatars_are_decoded_and_kept_as_bounded_pngs,
    password_change_revokes_other_sessions,
    health_reports_database,
);

async fn register_login_profile_logout(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let profile = server.register("alice").await;
    assert_eq!(profile.username, "alice");
    assert_eq!(profile.display_name, "Alice");

    let login = server.login("ALICE").await;
    assert_eq!(login.user.id, profile.id, "user names are case-insensitive");
    let (status, me) = server.get("/api/me", &login.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "alice");
    assert!(me.get("password_hash").is_none() && !me.to_string().contains("argon2"));

    let (status, me) = server
        .request(Method::PATCH, "/api/me", Some(&login.token), Some(json!({"display_name": "  Alice L. "})))
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["display_name"], "Alice L.");
    let (status, body) = server
        .request(Method::PATCH, "/api/me", Some(&login.token), Some(json!({"display_name": "bad\u{1b}[31m"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "invalid_display_name");

    let (status, _) = server.request(Method::POST, "/api/logout", Some(&login.token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = server.get("/api/me", &login.token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a revoked token is refused");
    assert_eq!(code(&body), "unauthorized");
    let (status, _) = server.request(Method::GET, "/api/me", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = server.get("/api/me", "not-a-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.stop().await;
}

async fn registration_refuses_bad_fields(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    server.register("bob").await;
    let long = "a".repeat(10_000);
    let cases = [
        (
            json!({"username": "bob", "display_name": "Bob", "password": PASSWORD}),
            StatusCode::CONFLICT,
            "username_taken",
        ),
        (
            json!({"username": "BOB", "display_name": "Bob", "password": PASSWORD}),
            StatusCode::CONFLICT,
            "username_taken",
        ),
        (
            json!({"username": "x'; DROP TABLE users;--", "display_name": "X", "password": PASSWORD}),
            StatusCode::BAD_REQUEST,
            "invalid_username",
        ),
        (
            json!({"username": "nul\u{0}byte", "display_name": "X", "password": PASSWORD}),
            StatusCode::BAD_REQUEST,
            "invalid_username",
        ),
        (
            json!({"username": long, "display_name": "X", "password": PASSWORD}),
            StatusCode::BAD_REQUEST,
            "invalid_username",
        ),
        (
            json!({"username": "ab", "display_name": "X", "password": PASSWORD}),
            StatusCode::BAD_REQUEST,
            "invalid_username",
        ),
        (
            json!({"username": "carol", "display_name": "", "password": PASSWORD}),
            StatusCode::BAD_REQUEST,
            "invalid_display_name",
        ),
        (
            json!({"username": "carol", "display_name": long, "password": PASSWORD}),
            StatusCode::BAD_REQUEST,
            "invalid_display_name",
        ),
        (
            json!({"username": "carol", "display_name": "Carol", "password": ""}),
            StatusCode::BAD_REQUEST,
            "invalid_password",
        ),
        (
            json!({"username": "carol", "display_name": "Carol", "password": "x".repeat(5000)}),
            StatusCode::BAD_REQUEST,
            "invalid_password",
        ),
    ];
    for (body, want_status, want_code) in cases {
        let (status, answer) = server.post("/api/register", None, body.clone()).await;
        assert_eq!(status, want_status, "{body} -> {answer}");
        assert_eq!(code(&answer), want_code, "{body}");
        assert!(!answer["message"].as_str().unwrap_or("").is_empty(), "a message for people");
    }
    // Nothing was damaged: bob still logs in, carol was never created.
    server.login("bob").await;
    let (status, _) =
        server.post("/api/login", None, json!({"username": "carol", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Non-ASCII display names are fine.
    let (status, body) = server
        .post(
            "/api/register",
            None,
            json!({"username": "dora", "display_name": "Dóra 🌸 ドラ", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["display_name"], "Dóra 🌸 ドラ");
    server.stop().await;
}

async fn malformed_and_oversized_bodies(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let url = format!("{}/api/register", server.base);
    let send =
        |body: Vec<u8>| server.http.post(&url).header("content-type", "application/json").body(body).send();
    let res = send(b"{not json".to_vec()).await.expect("request");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = res.json().await.expect("json error body");
    assert_eq!(code(&body), "malformed");

    let res = send(br#"{"username":"eve"}"#.to_vec()).await.expect("request");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.expect("json error body");
    assert_eq!(code(&body), "malformed");

    let mut huge = br#"{"username":"eve","display_name":""#.to_vec();
    huge.extend(std::iter::repeat_n(b'a', 200_000));
    huge.extend_from_slice(br#"","password":"12345678"}"#);
    let res = send(huge).await.expect("request");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = res.json().await.expect("json error body");
    assert_eq!(code(&body), "payload_too_large");

    // The server still serves.
    server.register("eve").await;
    server.stop().await;
}

async fn wrong_password_and_rate_limit(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.login_failures_per_account = 3).await else {
        return;
    };
    server.register("frank").await;
    for _ in 0..3 {
        let (status, body) =
            server.post("/api/login", None, json!({"username": "frank", "password": "wrong password"})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(code(&body), "wrong_credentials");
    }
    let (status, body) =
        server.post("/api/login", None, json!({"username": "frank", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits out the block");
    assert_eq!(code(&body), "rate_limited");
    // Another account is not blocked.
    server.register("grace").await;
    server.login("grace").await;
    // An unknown account answers like a wrong password.
    let (status, body) =
        server.post("/api/login", None, json!({"username": "nobody", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "wrong_credentials");
    server.stop().await;
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00,
    0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05,
    0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42,
    0x60, 0x82,
];

async fn avatar_upload_and_download(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.max_avatar_bytes = 4096).await else { return };
    let heidi = server.user("heidi").await;
    let ivan = server.user("ivan").await;
    let put = |body: Vec<u8>| {
        server.http.put(format!("{}/api/me/avatar", server.base)).bearer_auth(&heidi.token).body(body).send()
    };
    let res = put(PNG.to_vec()).await.expect("upload");
    assert_eq!(res.status(), StatusCode::OK);
    let profile: serde_json::Value = res.json().await.expect("profile");
    let avatar_url = profile["avatar_url"].as_str().expect("avatar url").to_owned();

    let res = server
        .http
        .get(format!("{}{avatar_url}", server.base))
        .bearer_auth(&ivan.token)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    let kept = res.bytes().await.expect("bytes");
    let kept = image::load_from_memory_with_format(&kept, image::ImageFormat::Png).expect("a PNG");
    assert_eq!((kept.width(), kept.height()), (1, 1));

    let res = put(b"#!/bin/sh\nrm -rf /\n".to_vec()).await.expect("upload");
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mut big = PNG.to_vec();
    big.resize(10_000, 0);
    let res = put(big).await.expect("upload");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let res = server.http.get(format!("{}{avatar_url}", server.base)).send().await.expect("get");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "avatars need a token");
    // A new picture has a new address, so that caches keyed by it fetch it again.
    let res = put(PNG.to_vec()).await.expect("upload");
    let profile: serde_json::Value = res.json().await.expect("profile");
    let newer = profile["avatar_url"].as_str().expect("avatar url").to_owned();
    assert!(newer.starts_with(&format!("/api/users/{}/avatar?v=", heidi.user.id)), "{newer}");
    assert_ne!(newer, avatar_url);
    let (status, _) = server.get(&format!("/api/users/{}/avatar", ivan.user.id), &heidi.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

/// A picture of `width` x `height` in `format`, nearly one colour (so it is small encoded).
fn picture(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, _| {
        image::Rgb([((x / 256) as u8).wrapping_mul(40), 120, 200])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, format).expect("encode");
    out.into_inner()
}

/// `bytes` with the 16-bit big-endian fields at `at` (height, then width) set to `side`.
fn with_side(mut bytes: Vec<u8>, at: usize, side: u16) -> Vec<u8> {
    bytes[at..at + 2].copy_from_slice(&side.to_be_bytes());
    bytes[at + 2..at + 4].copy_from_slice(&side.to_be_bytes());
    bytes
}

/// `PUT /api/me/avatar` with `body`; the status and JSON answer.
async fn put_avatar(server: &TestServer, token: &str, body: Vec<u8>) -> (StatusCode, serde_json::Value) {
    let res = server
        .http
        .put(format!("{}/api/me/avatar", server.base))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .expect("upload");
    let status = res.status();
    (status, res.json().await.unwrap_or_default())
}

async fn avatars_are_decoded_and_kept_as_bounded_pngs(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.max_image_decode_bytes = 16 << 20).await else {
        return;
    };
    let heidi = server.user("heidi").await;
    let ivan = server.user("ivan").await;
    let put = |body: Vec<u8>| put_avatar(&server, &heidi.token, body);
    let jpeg = picture(100, 80, image::ImageFormat::Jpeg);
    // A JPEG header claiming 60000 x 60000 (the SOF0 frame's height and width).
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).expect("a baseline frame");
    let jpeg_bomb = with_side(jpeg.clone(), sof + 5, 60_000);
    // A GIF whose screen is 65535 x 65535 (little-endian, right after the signature).
    let mut gif_bomb = picture(20, 20, image::ImageFormat::Gif);
    gif_bomb[6..10].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    let png = picture(400, 300, image::ImageFormat::Png);
    let refused: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "PNG signature and garbage",
            [&b"\x89PNG\r\n\x1a\n"[..], &[0x5A; 200]].concat(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media",
        ),
        (
            "truncated PNG",
            png[..png.len() / 2].to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media",
        ),
        (
            "truncated JPEG",
            jpeg[..jpeg.len() * 2 / 3].to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media",
        ),
        (
            "PNG header of 100000 x 100000",
            png_claiming(100_000, 100_000),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        ("JPEG header of 60000 x 60000", jpeg_bomb, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        ("GIF screen of 65535 x 65535", gif_bomb, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        // A real picture, but 2100 x 2100 needs 17.6 MB to decode: over the 16 MiB allowed.
        (
            "valid but too large to decode",
            picture(2100, 2100, image::ImageFormat::Png),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (what, bytes, status, error) in refused {
        let (got, body) = put(bytes).await;
        assert_eq!((got, code(&body)), (status, error), "{what}: {body}");
    }
    let (status, me) = server.get("/api/me", &heidi.token).await;
    assert_eq!(status, StatusCode::OK);
    assert!(me["avatar_url"].is_null(), "nothing was kept: {me}");

    // What is kept is a PNG of at most 512 pixels a side, whatever was sent.
    for (bytes, size) in [(picture(2000, 1000, image::ImageFormat::Png), (512, 256)), (jpeg, (100, 80))] {
        let (status, profile) = put(bytes).await;
        assert_eq!(status, StatusCode::OK, "{profile}");
        let url = profile["avatar_url"].as_str().expect("avatar url");
        let res = server
            .http
            .get(format!("{}{url}", server.base))
            .bearer_auth(&ivan.token)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "image/png");
        let kept = res.bytes().await.expect("bytes");
        let kept = image::load_from_memory_with_format(&kept, image::ImageFormat::Png).expect("a PNG");
        assert_eq!((kept.width(), kept.height()), size);
    }
    server.stop().await;
}

async fn password_change_revokes_other_sessions(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.multi_device = true).await else { return };
    server.register("judy").await;
    let first = server.login("judy").await;
    let second = server.login("judy").await;
    let (status, body) = server
        .post(
            "/api/me/password",
            Some(&first.token),
            json!({"old_password": "not it at all", "new_password": "new password 1"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "wrong_credentials");
    let (status, body) = server
        .post(
            "/api/me/password",
            Some(&first.token),
            json!({"old_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "invalid_password");

    let mut second_socket = server.connect(&second.token).await;
    let (status, _) = server
        .post(
            "/api/me/password",
            Some(&first.token),
            json!({"old_password": PASSWORD, "new_password": "new password 1"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(server.get("/api/me", &first.token).await.0, StatusCode::OK, "the changing session stays");
    assert_eq!(server.get("/api/me", &second.token).await.0, StatusCode::UNAUTHORIZED, "other sessions end");
    let frames = second_socket.closed().await;
    assert!(
        frames.iter().any(|f| matches!(
            f,
            kith_shared::ServerFrame::Kicked { reason: kith_shared::frame::KickReason::LoggedOut, .. }
        )),
        "{frames:?}"
    );
    let (status, _) =
        server.post("/api/login", None, json!({"username": "judy", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) =
        server.post("/api/login", None, json!({"username": "judy", "password": "new password 1"})).await;
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
}

async fn health_reports_database(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (status, body) = server.request(Method::GET, "/health", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], true);
    assert_eq!(body["protocol_version"], kith_shared::PROTOCOL_VERSION);
    server.stop().await;
}
