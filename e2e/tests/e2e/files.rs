//! Files and pictures: dropped on the window, sent, saved byte-exact on the other side,
//! viewed and copied; a picture saved here still shown after the server let it go.

use crate::common::{Driver, PATIENCE, TestServer, friends};
use iced_test::Simulator;
use kith_client::app::App;
use kith_client::files::{self, Picture};
use kith_client::headless::fonts;
use kith_client::history::{Delivery, StoredMessage};
use kith_client::screen::{attach, chat, home};
use kith_shared::frame::Content;
use std::time::Duration;
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_image_and_file_arrive_byte_exact_in_the_receivers_files_folder() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, conversation) = friends(&server).await;

    // Two files on Alice's computer: a picture and some bytes of every value.
    let desk = tempfile::tempdir().expect("temp dir");
    let picture = desk.path().join("sunset.png");
    let mut pixels = ::image::RgbImage::new(64, 48);
    for (x, y, pixel) in pixels.enumerate_pixels_mut() {
        *pixel = ::image::Rgb([(x * 4) as u8, (y * 5) as u8, 120]);
    }
    pixels.save(&picture).expect("write the picture");
    let notes = desk.path().join("notes.bin");
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&notes, &bytes).expect("write the file");

    // Alice opens the chat and drops both on the window.
    alice.home(home::Message::Open(conversation));
    alice.home(home::Message::FileDropped(picture.clone()));
    alice.home(home::Message::FileDropped(notes.clone()));
    assert!(alice.sees("sunset.png") && alice.sees("notes.bin"), "both wait above the composer");
    alice
        .until_home("the picture is previewed", |home| {
            matches!(home.files.local(&picture, files::PREVIEW_SIDE), Some(Picture::Ready(_)))
        })
        .await;
    alice.ui(|ui| {
        ui.click("Send 2 files").expect("the send button");
    });
    let is_image =
        |m: &StoredMessage| matches!(&m.content, Content::Image { name, .. } if name == "sunset.png");
    let is_file = |m: &StoredMessage| matches!(&m.content, Content::File { name, .. } if name == "notes.bin");
    alice
        .until_home("both are sent", |home| {
            home.chat.as_ref().is_some_and(|chat| {
                chat.messages.iter().any(|m| is_image(m) && m.delivery == Delivery::Sent)
                    && chat.messages.iter().any(|m| is_file(m) && m.delivery == Delivery::Sent)
            })
        })
        .await;
    assert!(alice.main().files.transfers.is_empty(), "the uploads are done");

    // Bob opens the chat: the picture's thumbnail shows, the file offers a download.
    bob.until_cached(conversation, "the file message", is_file).await;
    bob.home(home::Message::Open(conversation));
    bob.until_home("the thumbnail shows", |home| {
        home.files.pictures.values().any(|p| matches!(p, Picture::Ready(_)))
    })
    .await;
    let downloads = |bob: &Driver| -> Vec<(String, String)> {
        let chat = bob.main().chat.as_ref().expect("the chat is open");
        chat.messages
            .iter()
            .filter_map(|m| match &m.content {
                Content::Image { upload_id, name, .. } | Content::File { upload_id, name, .. } => {
                    Some((upload_id.clone(), name.clone()))
                }
                _ => None,
            })
            .collect()
    };
    let wanted = downloads(&bob);
    assert_eq!(wanted.len(), 2, "{wanted:?}");
    // Small files are saved as they arrive; "Download" asks again, which changes nothing.
    for (upload_id, name) in &wanted {
        bob.home(home::Message::Chat(chat::Message::Download {
            upload_id: upload_id.clone(),
            name: name.clone(),
        }));
    }
    bob.until_home("both are saved", |home| home.files.saved.len() == 2 && home.files.transfers.is_empty())
        .await;
    let saved = bob.main().files.saved.clone();
    let folder = bob.main().files.folder.clone().expect("a files folder");
    for (upload_id, name) in &wanted {
        let path = &saved[upload_id];
        assert_eq!(path, &folder.join(name), "saved under its own name in the files folder");
        let original = if name == "notes.bin" { &notes } else { &picture };
        assert_eq!(
            std::fs::read(path).expect("read"),
            std::fs::read(original).expect("read"),
            "{name} is byte-exact"
        );
    }
    assert!(bob.sees("Saved"), "the chat says the files are saved");

    // A click on the thumbnail opens the viewer with the saved picture.
    let (image_id, _) = wanted.iter().find(|(_, name)| name == "sunset.png").expect("the picture").clone();
    bob.home(home::Message::Chat(chat::Message::ViewImage {
        upload_id: image_id.clone(),
        name: "sunset.png".into(),
    }));
    assert_eq!(bob.main().viewer, Some((image_id.clone(), "sunset.png".into())));
    assert!(bob.sees("Open in system viewer"));
    let saved_picture = bob.main().files.saved[&image_id].clone();
    bob.until_home("the viewer shows the picture", |home| {
        matches!(home.files.local(&saved_picture, files::VIEWER_SIDE), Some(Picture::Ready(_)))
    })
    .await;

    // "Save as…" puts a copy where Bob chooses.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    bob.ui(|ui| {
        ui.click("Save as…").expect("the save as button");
    });
    assert_eq!(bob.main().viewer, None, "the viewer makes way for the file dialog");
    // No desktop portal here: the built-in browser opens in its place.
    bob.until_home("the folder browser opens", |home| matches!(home.panel, Some(home::Panel::Attach(..))))
        .await;
    bob.home(home::Message::Attach(attach::Message::Enter(elsewhere.path().to_owned())));
    bob.home(home::Message::Attach(attach::Message::NameChanged("sunset copy.png".into())));
    bob.ui(|ui| {
        ui.click("Save here").expect("the save button");
    });
    let copy = elsewhere.path().join("sunset copy.png");
    bob.until_home("the copy is saved", |home| home.chat.as_ref().is_some_and(|c| c.info.is_some())).await;
    assert_eq!(std::fs::read(&copy).expect("the copy"), std::fs::read(&picture).expect("the original"));

    // The cache remembers where the files are, for the next start.
    let (upload_id, _) = wanted.iter().find(|(_, name)| name == "notes.bin").expect("the file").clone();
    let history = bob.history().expect("the cache");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let remembered = history.saved_files().await.expect("read");
        if remembered.iter().any(|(id, path)| id == &upload_id && path == &folder.join("notes.bin")) {
            break;
        }
        assert!(Instant::now() < deadline, "timed out waiting until the cache remembers the file");
        // The record is written by a task of its own: let it run.
        bob.settle().await;
    }

    // Alice ends the friendship from the chat's header (asked twice): both lists lose it, her
    // chat closes.
    let bob_id = bob.main().user().id;
    let alice_id = alice.main().user().id;
    alice.ui(|ui| {
        ui.click("Remove friend").expect("the remove button");
    });
    assert!(alice.main().session.roster.friends.contains_key(&bob_id), "not before the second click");
    alice.ui(|ui| {
        ui.click("Remove friend: sure?").expect("the confirmation");
    });
    alice
        .until_home("Bob is gone from Alice's list", |home| {
            !home.session.roster.friends.contains_key(&bob_id) && home.chat.is_none()
        })
        .await;
    bob.until_home("Alice is gone from Bob's list", |home| {
        !home.session.roster.friends.contains_key(&alice_id) && home.chat.is_none()
    })
    .await;

    server.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_saved_here_still_shows_after_a_restart_once_the_server_deleted_it() {
    // The server deletes a file once every receiver has fetched it.
    let server = TestServer::start_with(|config| config.sweep_interval = Duration::from_millis(100)).await;
    let (mut alice, mut bob, conversation) = friends(&server).await;

    // Alice sends a picture; Bob's app saves it as it arrives.
    let desk = tempfile::tempdir().expect("temp dir");
    let picture = desk.path().join("harbour.png");
    ::image::RgbImage::from_pixel(64, 48, ::image::Rgb([20, 90, 160])).save(&picture).expect("write");
    alice.home(home::Message::Open(conversation));
    alice.home(home::Message::FileDropped(picture.clone()));
    alice.ui(|ui| {
        ui.click("Send the file").expect("the send button");
    });
    let is_image =
        |m: &StoredMessage| matches!(&m.content, Content::Image { name, .. } if name == "harbour.png");
    let sent = alice.until_cached(conversation, "the picture", |m| is_image(m) && m.seq.is_some()).await;
    let upload_id = sent
        .iter()
        .find_map(|m| match &m.content {
            Content::Image { upload_id, .. } => Some(upload_id.clone()),
            _ => None,
        })
        .expect("the picture's upload");
    bob.until_cached(conversation, "the picture", is_image).await;
    bob.until_home("Bob saved the picture", |home| home.files.saved.contains_key(&upload_id)).await;
    alice.until_file_recorded(&upload_id).await;
    bob.until_file_recorded(&upload_id).await;

    // The server lets its copy and the thumbnail go.
    let api = bob.main().session.api.clone();
    let deadline = Instant::now() + PATIENCE;
    while api.thumbnail(&upload_id).await.is_ok() {
        assert!(Instant::now() < deadline, "timed out waiting until the server deletes the file");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Both start the app again and open the chat: the picture shows from the saved copy.
    let drawn = |app: &App| {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        // "Saved" sits under a picture saved on this computer.
        ui.find("Saved").is_ok() && ui.find("Loading the picture…").is_err()
    };
    for (driver, name) in [(alice, "alice"), (bob, "bob")] {
        let mut driver = driver.restart(&server, name).await;
        driver.home(home::Message::Open(conversation));
        driver.until("the picture is drawn or given up", drawn).await;
        assert!(!driver.sees("The picture cannot be shown."), "{name} sees the saved picture");
        assert!(
            matches!(driver.main().files.thumbnail(&upload_id), Some(Picture::Ready(_))),
            "{name}'s picture is drawn"
        );
    }

    server.server.shutdown().await;
}
