//! Group pictures end to end: who may set and remove one, the checks a picture passes (the
//! same as a user's avatar), the files kept and deleted, the live `group_updated` push (on one
//! server and across a cluster) and the lists, search and profile that carry `avatar_url`.

mod common;

use common::{Backend, TestCluster, TestServer, TestSocket, code};
use kith_shared::ServerFrame;
use kith_shared::api::LoginResponse;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;

backend_tests!(
    the_owner_sets_members_see_it_live_and_in_lists,
    plain_members_and_outsiders_are_refused,
    removing_deletes_the_file_and_tells_the_members,
    non_images_and_oversized_pictures_are_refused,
);

// A cluster cannot run on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_picture_crosses_the_cluster_on_postgres() {
    a_new_picture_crosses_the_cluster(Backend::Postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_picture_crosses_the_cluster_on_mysql() {
    a_new_picture_crosses_the_cluster(Backend::MySql).await
}

/// A picture of `width` x `height` in `format`.
fn picture(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let img =
        image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, format).expect("encode");
    out.into_inner()
}

/// `PUT /api/groups/{group}/avatar` with `body` as `who`.
async fn put_picture(
    server: &TestServer,
    who: &LoginResponse,
    group: i64,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let res = server
        .http
        .put(format!("{}/api/groups/{group}/avatar", server.base))
        .bearer_auth(&who.token)
        .body(body)
        .send()
        .await
        .expect("upload");
    let status = res.status();
    (status, res.json().await.unwrap_or_default())
}

async fn remove_picture(server: &TestServer, who: &LoginResponse, group: i64) -> (StatusCode, Value) {
    server.request(Method::DELETE, &format!("/api/groups/{group}/avatar"), Some(&who.token), None).await
}

/// Fetches a picture's address as `who`: the status and, when found, the decoded PNG's size.
async fn fetch(server: &TestServer, who: &LoginResponse, url: &str) -> (StatusCode, Option<(u32, u32)>) {
    let res =
        server.http.get(format!("{}{url}", server.base)).bearer_auth(&who.token).send().await.expect("get");
    let status = res.status();
    if status != StatusCode::OK {
        return (status, None);
    }
    assert_eq!(res.headers()["content-type"], "image/png");
    let bytes = res.bytes().await.expect("bytes");
    let kept = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png).expect("a PNG");
    (status, Some((kept.width(), kept.height())))
}

/// The files kept in the server's avatar folder.
fn kept_files(server: &TestServer) -> Vec<PathBuf> {
    let dir = server.config.data_dir.join("avatars");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the avatar folder")
        .map(|entry| entry.expect("an entry").path())
        .collect();
    files.sort();
    files
}

async fn online(server: &TestServer, token: &str) -> TestSocket {
    let mut socket = server.connect(token).await;
    socket.assert_alive().await;
    socket
}

/// Waits for `group_updated` whose `avatar_url` is `url`.
async fn expect_picture(socket: &mut TestSocket, group: i64, url: Option<&str>) {
    socket
        .expect("group_updated with the picture", |f| {
            matches!(f, ServerFrame::GroupUpdated { group: g } if g.id == group && g.avatar_url.as_deref() == url)
        })
        .await;
}

async fn the_owner_sets_members_see_it_live_and_in_lists(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (alice, bob, carol, group) = server.climbers().await;
    let mut bob_socket = online(&server, &bob.token).await;
    let (_, profile) = server.get(&format!("/api/groups/{group}"), &carol.token).await;
    assert!(profile["avatar_url"].is_null(), "no picture yet: {profile}");

    // Alice sets a picture: kept as a PNG of at most 512 pixels a side, at a versioned address.
    let (status, profile) =
        put_picture(&server, &alice, group, picture(600, 300, image::ImageFormat::Jpeg)).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    let url = profile["avatar_url"].as_str().expect("an address").to_owned();
    assert!(url.starts_with(&format!("/api/groups/{group}/avatar?v=")), "{url}");
    assert_eq!(profile["name"], "Climbers", "other fields left alone");
    assert_eq!(kept_files(&server).len(), 1);

    // Bob gets it live; Carol finds it in her list, the profile and search, and fetches it.
    expect_picture(&mut bob_socket, group, Some(&url)).await;
    let (_, list) = server.get("/api/groups", &carol.token).await;
    let mine = list.as_array().expect("list").iter().find(|g| g["group"]["id"] == group).expect("the group");
    assert_eq!(mine["group"]["avatar_url"], url.as_str());
    let (_, profile) = server.get(&format!("/api/groups/{group}"), &carol.token).await;
    assert_eq!(profile["avatar_url"], url.as_str());
    let (_, found) = server.get("/api/groups/search?q=climb", &carol.token).await;
    assert_eq!(found[0]["avatar_url"], url.as_str());
    assert_eq!(fetch(&server, &carol, &url).await, (StatusCode::OK, Some((512, 256))));
    // Anyone logged in sees it, like the profile; nobody without a token.
    let mallory = server.user("mallory").await;
    assert_eq!(fetch(&server, &mallory, &url).await.0, StatusCode::OK);
    let res = server.http.get(format!("{}{url}", server.base)).send().await.expect("get");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // A new picture has a new address, and the old file goes.
    let (status, profile) =
        put_picture(&server, &alice, group, picture(40, 30, image::ImageFormat::Png)).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    let newer = profile["avatar_url"].as_str().expect("an address").to_owned();
    assert_ne!(newer, url);
    expect_picture(&mut bob_socket, group, Some(&newer)).await;
    assert_eq!(kept_files(&server).len(), 1, "the replaced picture's file is deleted");
    assert_eq!(fetch(&server, &bob, &newer).await, (StatusCode::OK, Some((40, 30))));

    // A rename leaves the picture as it is.
    let (status, profile) = server
        .request(
            Method::PATCH,
            &format!("/api/groups/{group}"),
            Some(&alice.token),
            Some(json!({"name": "Boulderers"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["avatar_url"], newer.as_str());
    server.stop().await;
}

async fn plain_members_and_outsiders_are_refused(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (alice, bob, carol, group) = server.climbers().await;
    let mallory = server.user("mallory").await;
    let png = || picture(20, 20, image::ImageFormat::Png);

    for who in [&bob, &mallory] {
        let (status, body) = put_picture(&server, who, group, png()).await;
        assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "forbidden"), "{body}");
        let (status, body) = remove_picture(&server, who, group).await;
        assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "forbidden"), "{body}");
    }
    assert!(kept_files(&server).is_empty(), "a refused picture is not kept");
    let (_, profile) = server.get(&format!("/api/groups/{group}"), &carol.token).await;
    assert!(profile["avatar_url"].is_null(), "{profile}");

    // Bob made an admin may set it and remove it.
    let (status, body) = server
        .request(
            Method::PUT,
            &format!("/api/groups/{group}/members/{}/role", bob.user.id),
            Some(&alice.token),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, profile) = put_picture(&server, &bob, group, png()).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert!(profile["avatar_url"].is_string(), "{profile}");
    // ...but a plain member still cannot remove it.
    let (status, body) = remove_picture(&server, &carol, group).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "forbidden"), "{body}");
    let (status, profile) = remove_picture(&server, &bob, group).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert!(profile["avatar_url"].is_null(), "{profile}");

    // No such group: 404 on every route, before any check of the picture.
    let (status, body) = put_picture(&server, &alice, group + 1000, png()).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{body}");
    let (status, body) = remove_picture(&server, &alice, group + 1000).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{body}");
    let (status, _) = server.get(&format!("/api/groups/{}/avatar", group + 1000), &alice.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

async fn removing_deletes_the_file_and_tells_the_members(backend: Backend) {
    let Some(server) = TestServer::start(backend).await else { return };
    let (alice, bob, _carol, group) = server.climbers().await;
    let mut bob_socket = online(&server, &bob.token).await;
    let (status, profile) =
        put_picture(&server, &alice, group, picture(64, 64, image::ImageFormat::Png)).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    let url = profile["avatar_url"].as_str().expect("an address").to_owned();
    expect_picture(&mut bob_socket, group, Some(&url)).await;
    let files = kept_files(&server);
    assert_eq!(files.len(), 1);

    let (status, profile) = remove_picture(&server, &alice, group).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert!(profile["avatar_url"].is_null(), "{profile}");
    expect_picture(&mut bob_socket, group, None).await;
    assert!(!files[0].exists(), "the file is deleted");
    assert_eq!(fetch(&server, &bob, &url).await.0, StatusCode::NOT_FOUND);
    let (_, list) = server.get("/api/groups", &bob.token).await;
    assert!(list[0]["group"]["avatar_url"].is_null(), "{list}");
    // Removing again changes nothing and is no error.
    let (status, profile) = remove_picture(&server, &alice, group).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert!(profile["avatar_url"].is_null(), "{profile}");

    // Dissolving the group deletes its picture too.
    let (status, _) = put_picture(&server, &alice, group, picture(64, 64, image::ImageFormat::Png)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kept_files(&server).len(), 1);
    let (status, body) =
        server.request(Method::DELETE, &format!("/api/groups/{group}"), Some(&alice.token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(kept_files(&server).is_empty(), "a dissolved group's picture is deleted");
    server.stop().await;
}

async fn non_images_and_oversized_pictures_are_refused(backend: Backend) {
    let Some(server) = TestServer::start_with(backend, |c| c.max_avatar_bytes = 4096).await else { return };
    let alice = server.user("alice").await;
    let group = server.group(&alice, "Climbers").await;
    let png = picture(300, 200, image::ImageFormat::Png);
    let refused: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "a shell script",
            b"#!/bin/sh\necho hi\n".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media",
        ),
        (
            "a PNG signature and garbage",
            [&b"\x89PNG\r\n\x1a\n"[..], &[0x5A; 200]].concat(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media",
        ),
        (
            "a truncated PNG",
            png[..png.len().min(4096) / 2].to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media",
        ),
        ("over MAX_AVATAR_BYTES", vec![0x89; 5000], StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        (
            "a PNG header of 100000 x 100000",
            common::png_claiming(100_000, 100_000),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (what, bytes, status, error) in refused {
        let (got, body) = put_picture(&server, &alice, group, bytes).await;
        assert_eq!((got, code(&body)), (status, error), "{what}: {body}");
    }
    assert!(kept_files(&server).is_empty(), "nothing kept, no part files left");
    let (_, profile) = server.get(&format!("/api/groups/{group}"), &alice.token).await;
    assert!(profile["avatar_url"].is_null(), "{profile}");
    server.stop().await;
}

async fn a_new_picture_crosses_the_cluster(backend: Backend) {
    let Some(cluster) = TestCluster::start(backend, 2).await else { return };
    let [a, b] = &cluster.nodes[..] else { unreachable!("two nodes") };
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let group = a.group(&alice, "Climbers").await;
    a.join(&alice, &bob, group).await;
    let mut bob_socket = online(b, &bob.token).await;

    let (status, profile) = put_picture(a, &alice, group, picture(32, 32, image::ImageFormat::Png)).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    let url = profile["avatar_url"].as_str().expect("an address").to_owned();
    expect_picture(&mut bob_socket, group, Some(&url)).await;
    let (_, profile) = b.get(&format!("/api/groups/{group}"), &bob.token).await;
    assert_eq!(profile["avatar_url"], url.as_str());

    let (status, _) = remove_picture(a, &alice, group).await;
    assert_eq!(status, StatusCode::OK);
    expect_picture(&mut bob_socket, group, None).await;
    cluster.stop().await;
}
