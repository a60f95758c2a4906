//! A group's picture: chosen by the owner in group settings, uploaded, and seen live by a
//! member's client core, which fetches it and shows it in place of the group's initials.

use crate::common::{TestServer, admin_panel, friends, group_with};
use kith_client::screen::{attach, home};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_sets_the_picture_a_member_sees_it_live() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, _) = friends(&server).await;

    // Alice creates "Rock Climbers" and invites Bob; he accepts and opens its chat.
    let group = group_with(&mut alice, &mut bob, "Rock Climbers").await;
    assert!(bob.sees("RC"), "no picture yet: the group's initials");

    // Alice clicks Change picture… and chooses a picture on her computer.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("rope.png");
    image::RgbImage::from_fn(700, 350, |x, _| image::Rgb([(x % 256) as u8, 90, 160]))
        .save(&path)
        .expect("a PNG");
    alice.ui(|ui| {
        ui.click("Change picture…").expect("offered to the owner");
    });
    // No desktop portal here: the built-in browser opens in place of the system's dialog.
    alice
        .until_home("the file browser opens", |home| {
            matches!(home.panel, Some(home::Panel::Attach(_, home::AttachFor::GroupPicture(_))))
        })
        .await;
    alice.home(home::Message::Attach(attach::Message::Choose(path)));
    alice
        .until("the picture is saved", |app| {
            admin_panel(app).is_some_and(|p| p.info.as_deref() == Some("The picture is changed."))
        })
        .await;
    let url = alice.main().session.roster.groups[&group].group.avatar_url.clone().expect("an address");
    assert!(url.starts_with(&format!("/api/groups/{group}/avatar?v=")), "{url}");

    // Bob's client learns it live, fetches the picture and shows it instead of the initials.
    bob.until_home("the picture is fetched", |home| {
        home.session.roster.groups[&group].group.avatar_url.as_deref() == Some(url.as_str())
            && home.files.avatar(Some(&url)).is_some()
    })
    .await;
    assert!(!bob.sees("RC"), "the picture replaces the initials");

    // Alice removes it: Bob is back to the initials.
    alice.ui(|ui| {
        ui.click("Remove picture").expect("offered when there is a picture");
    });
    bob.until_home("the picture is removed", |home| {
        home.session.roster.groups[&group].group.avatar_url.is_none()
    })
    .await;
    assert!(bob.sees("RC"));

    server.server.shutdown().await;
}
