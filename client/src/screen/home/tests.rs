//! The main window over a session with a stub connection, without a server.

use super::*;
use crate::file_dialog::Answer;
use crate::history::StoredMessage;
use crate::session::tests::{connected as connected_session, group, login};
use crate::session::{Cache, Status};
use kith_shared::ClientFrame;
use kith_shared::api::{GroupProfile, MyGroup, Role};
use kith_shared::{ErrorCode, ServerFrame};
use std::time::Duration;

/// A main window with Bob as a friend and a live (stub) connection.
fn connected() -> (Home, tokio::sync::mpsc::Receiver<ClientFrame>) {
    let (session, frames) = connected_session();
    (Home::with(session, None), frames)
}

#[test]
fn reconnect_now_is_offered_while_the_server_is_away() {
    let (mut home, _frames) = connected();
    let before = home.session.socket_params().expect("a session");
    let _ = home
        .socket(socket::Event::Disconnected { reason: "refused".into(), retry_in: Duration::from_secs(8) });
    let settings = Settings::default();
    let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), home.view(&settings));
    ui.click("Reconnect now").expect("the status line offers to reconnect now");
    let messages: Vec<Message> = ui.into_messages().collect();
    for message in messages {
        let _ = home.update(message);
    }
    assert_ne!(Some(before), home.session.socket_params(), "a new socket session connects at once");
    assert_eq!(home.session.status, Status::Connecting);
}

#[test]
fn open_group_settings_follow_another_admins_change_and_save_only_their_own() {
    let (mut home, _frames) = connected();
    let profile = |name: &str, description: &str| GroupProfile {
        id: 30,
        name: name.into(),
        description: description.into(),
        owner_id: 7,
        member_count: 2,
        created_at: 0,
        announcement: None,
        avatar_url: None,
    };
    home.session.roster.set_groups(vec![MyGroup {
        group: profile("Club", "old"),
        role: Role::Owner,
        muted: false,
    }]);
    home.panel =
        Some(Panel::GroupAdmin(crate::screen::group_admin::GroupAdmin::new(30, &home.session.roster)));
    let Some(Panel::GroupAdmin(panel)) = &mut home.panel else { unreachable!() };
    panel.description = "mine".into();

    let renamed = ServerFrame::GroupUpdated { group: profile("Book club", "old") };
    let _ = home.socket(socket::Event::Received(renamed));
    let Some(Panel::GroupAdmin(panel)) = &home.panel else { panic!("the panel stays open") };
    assert_eq!(panel.name, "Book club", "an untouched field shows the other admin's change");
    assert_eq!(panel.description, "mine", "the user's own edit stays");
    assert_eq!(panel.known_name, "Book club");
}

#[test]
fn removal_from_a_group_is_said_in_the_side_bar_and_closes_its_chat() {
    let (mut home, _frames) = connected();
    home.session.roster.set_groups(vec![group(30, "Club")]);
    let _ = home.update(Message::Open(30));
    let left = ServerFrame::GroupLeft { group_id: 30, reason: kith_shared::frame::LeaveReason::Removed };
    let _ = home.socket(socket::Event::Received(left));
    assert_eq!(home.notice.as_deref(), Some("You were removed from Club."));
    assert!(home.chat.is_none());
}

#[test]
fn the_chat_sends_typing_and_recall_frames() {
    let (mut home, mut frames) = connected();
    let _ = home.update(Message::Open(10));
    while frames.try_recv().is_ok() {}
    let paste = |text: &str| {
        let edit = iced::widget::text_editor::Edit::Paste(std::sync::Arc::new(text.to_owned()));
        Message::Chat(chat::Message::Edit(iced::widget::text_editor::Action::Edit(edit)))
    };
    let _ = home.update(paste("h"));
    let _ = home.update(paste("i"));
    assert_eq!(frames.try_recv().ok(), Some(ClientFrame::Typing { conversation_id: 10 }));
    assert!(frames.try_recv().is_err(), "one typing notice per two seconds");

    let now = crate::clock::now_ms();
    let mine = StoredMessage {
        local_id: 1,
        conversation_id: 10,
        seq: Some(4),
        server_id: Some(40),
        client_id: Some("c".into()),
        sender_id: Some(7),
        sent_at: now - 5_000,
        content: Content::text("oops"),
        delivery: crate::history::Delivery::Sent,
        edited_at: None,
        hidden: false,
        forwarded_from: None,
    };
    let _ = home.update(Message::ChatLoaded(10, Ok(vec![mine])));
    assert!(home.needs_clock(), "the recall button expires on its own");
    let _ = home.update(Message::Chat(chat::Message::Recall(4)));
    assert_eq!(frames.try_recv().ok(), Some(ClientFrame::Recall { conversation_id: 10, seq: 4 }));

    // A refusal from the server shows in the chat.
    let refusal = ServerFrame::error(ErrorCode::RecallExpired, "messages can be recalled for 120 seconds");
    let _ = home.socket(socket::Event::Received(refusal));
    assert!(home.chat.as_ref().and_then(|c| c.error.as_deref()).is_some_and(|e| e.contains("120 seconds")));
}

#[test]
fn a_message_typed_while_the_cache_opens_waits_then_goes() {
    let (mut home, mut frames) = connected();
    home.session.cache = Cache::Opening { unsaved: Vec::new() };
    let _ = home.update(Message::Open(10));
    while frames.try_recv().is_ok() {}
    let _ = home.update(Message::Chat(chat::Message::Edit(iced::widget::text_editor::Action::Edit(
        iced::widget::text_editor::Edit::Paste(std::sync::Arc::new("early".to_owned())),
    ))));
    while frames.try_recv().is_ok() {}
    let _ = home.update(Message::Chat(chat::Message::Send));
    assert!(frames.try_recv().is_err(), "not sent before it is kept");
    let _ = home.update(Message::Session(session::Message::HistoryOpened(Err("disk full".into()))));
    assert!(matches!(frames.try_recv(), Ok(ClientFrame::Send { content: Content::Text { .. }, .. })));
}

#[test]
fn profile_form_checks_before_sending() {
    let (mut home, _) = Home::new(login(), None);
    let profile = |message| Message::Profile(message);
    let form = |home: &Home| match &home.panel {
        Some(Panel::Profile(form)) => form.clone(),
        _ => panic!("profile open"),
    };
    let _ = home.update(Message::OpenProfile);
    let _ = home.update(profile(profile::Message::DisplayNameChanged("   ".into())));
    let _ = home.update(profile(profile::Message::SaveDisplayName));
    assert!(form(&home).error.as_deref().is_some_and(|e| e.starts_with("A display name has 1 to 64")));
    assert!(!form(&home).busy);

    let _ = home.update(profile(profile::Message::OldPasswordChanged("old password".into())));
    let _ = home.update(profile(profile::Message::NewPasswordChanged("new password".into())));
    let _ = home.update(profile(profile::Message::ConfirmPasswordChanged("new passw0rd".into())));
    let _ = home.update(profile(profile::Message::SavePassword));
    assert_eq!(form(&home).error.as_deref(), Some("The new password and its confirmation differ."));

    let _ = home.update(profile(profile::Message::ConfirmPasswordChanged("new password".into())));
    let _ = home.update(profile(profile::Message::SavePassword));
    assert!(form(&home).busy && form(&home).error.is_none());
    let _ = home.update(profile(profile::Message::PasswordSaved(Ok(()))));
    let form = form(&home);
    assert!(!form.busy && form.old_password.is_empty() && form.info.is_some());
}

#[test]
fn a_saved_display_name_shows_at_once() {
    let (mut home, _) = Home::new(login(), None);
    let _ = home.update(Message::OpenProfile);
    let _ = home.update(Message::Profile(profile::Message::DisplayNameChanged("Alice L.".into())));
    let _ = home.update(Message::Profile(profile::Message::SaveDisplayName));
    let saved = UserProfile { display_name: "Alice L.".into(), ..home.user().clone() };
    let _ = home.update(Message::Profile(profile::Message::DisplayNameSaved(Ok(saved))));
    assert_eq!(home.user().display_name, "Alice L.");
}

#[test]
fn conversations_are_pinned_archived_and_marked_unread_from_the_lists() {
    use kith_shared::api::{ConversationKind, ConversationPrefs, UpdateConversation};
    let (mut home, _frames) = connected();
    let sync = crate::session::tests::sync_with(10, ConversationKind::Direct, 3, 3);
    let _ = home.socket(socket::Event::Received(sync));
    let settings = Settings::default();
    let shows = |home: &Home, label: &str| {
        let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), home.view(&settings));
        ui.find(label).is_ok()
    };
    let clicked = |home: &Home, label: &str| {
        let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), home.view(&settings));
        ui.click(label).unwrap_or_else(|_| panic!("{label:?} in the lists"));
        ui.into_messages().collect::<Vec<Message>>()
    };

    // A right click opens the entry's menu.
    let _ = home.update(Message::ListMenu(Some(10)));
    let produced = clicked(&home, "Pin");
    let pin = UpdateConversation { pinned: Some(true), ..Default::default() };
    assert!(matches!(produced.as_slice(), [Message::SetPrefs(10, change)] if *change == pin));
    let pinned = ConversationPrefs { pinned: true, ..Default::default() };
    let _ = home.update(Message::PrefsSaved(10, Ok(pinned)));
    assert!(home.session.roster.prefs(10).pinned);
    assert!(shows(&home, "pinned"), "the entry says it is pinned");

    // Marked unread: a badge although everything was read.
    let _ = home.update(Message::ListMenu(Some(10)));
    let produced = clicked(&home, "Mark as unread");
    assert!(matches!(produced.as_slice(), [Message::SetPrefs(10, c)] if c.marked_unread == Some(true)));
    let marked = ServerFrame::ConversationUpdated {
        conversation_id: 10,
        prefs: ConversationPrefs { marked_unread: true, ..pinned },
    };
    let _ = home.socket(socket::Event::Received(marked));
    assert_eq!(home.session.roster.unread(10), 1);

    // Archived on another device: Bob leaves the friends for the folded archive.
    let archived = ServerFrame::ConversationUpdated {
        conversation_id: 10,
        prefs: ConversationPrefs { archived: true, ..Default::default() },
    };
    let _ = home.socket(socket::Event::Received(archived));
    assert!(!shows(&home, "Bob"), "archived conversations are folded away");
    let produced = clicked(&home, "▸ Archived (1)");
    for message in produced {
        let _ = home.update(message);
    }
    assert!(shows(&home, "Bob"), "shown once the archive is unfolded");
}

#[test]
fn the_settings_list_blocked_people_and_unblock_them() {
    let (mut home, _frames) = connected();
    let _ = home.update(Message::OpenSettings);
    let settings = Settings::default();
    let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), home.view(&settings));
    assert!(ui.find("Loading…").is_ok(), "the list is asked for when the panel opens");
    drop(ui);

    let carol = kith_shared::api::UserProfile {
        id: 9,
        username: "carol".into(),
        display_name: "Carol".into(),
        avatar_url: None,
    };
    let blocked = kith_shared::api::BlockedUser { user: carol, blocked_at: 1_800_000_000_000 };
    let _ = home.update(Message::Settings(settings::Message::BlocksLoaded(Ok(vec![blocked]))));
    let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), home.view(&settings));
    assert!(ui.find("Blocked people").is_ok());
    assert!(ui.find("@carol").is_ok(), "each blocked person is named");
    ui.click("Unblock").expect("an Unblock button beside Carol");
    let messages: Vec<Message> = ui.into_messages().collect();
    assert!(
        messages.iter().any(|m| matches!(m, Message::Settings(settings::Message::Unblock(9)))),
        "{messages:?}"
    );
    for message in messages {
        let _ = home.update(message);
    }
    let Some(Panel::Settings(list)) = &home.panel else { panic!("the settings stay open") };
    assert_eq!(list.unblocking, Some(9), "the unblock is on its way");

    let _ = home.update(Message::Settings(settings::Message::Unblocked(9, Ok(()))));
    let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), home.view(&settings));
    assert!(ui.find("You block no one.").is_ok(), "Carol left the list");
    assert!(ui.find("@carol").is_err());
}

#[test]
fn a_block_pushed_while_the_settings_fetch_the_list_stays_listed() {
    let (mut home, _frames) = connected();
    let settings = Settings::default();
    let person = |id, name: &str| kith_shared::api::BlockedUser {
        user: kith_shared::api::UserProfile {
            id,
            username: name.to_lowercase(),
            display_name: name.into(),
            avatar_url: None,
        },
        blocked_at: 1_800_000_000_000,
    };
    let _ = home.update(Message::Session(crate::session::Message::BlocksLoaded(Ok(Vec::new()))));
    let _ = home.update(Message::OpenSettings);
    // Another device blocks Carol before the list asked for on opening arrives; the server
    // read that list before the block.
    let _ = home.socket(socket::Event::Received(ServerFrame::UserBlocked { blocked: person(9, "Carol") }));
    let _ = home.update(Message::Settings(settings::Message::BlocksLoaded(Ok(Vec::new()))));
    let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), home.view(&settings));
    assert!(ui.find("@carol").is_ok(), "Carol stays in Blocked people");
    assert!(ui.find("You block no one.").is_err());
    drop(ui);

    // Closed before its list came: the list still reaches the roster, blocks since kept.
    let _ = home.update(Message::OpenSettings);
    let _ = home.update(Message::Settings(settings::Message::Close));
    let _ = home.socket(socket::Event::Received(ServerFrame::UserBlocked { blocked: person(10, "Dan") }));
    let _ = home.update(Message::Settings(settings::Message::BlocksLoaded(Ok(vec![
        person(11, "Eve"),
        person(9, "Carol"),
    ]))));
    let names: Vec<&str> =
        home.session.roster.blocked.iter().flatten().map(|b| b.user.username.as_str()).collect();
    assert_eq!(names, ["dan", "eve", "carol"], "Eve, blocked elsewhere before, is known now");
}

#[test]
fn a_block_made_on_another_device_shows_in_settings_and_in_add_friend() {
    let (mut home, _frames) = connected();
    let settings = Settings::default();
    let carol = kith_shared::api::UserProfile {
        id: 9,
        username: "carol".into(),
        display_name: "Carol".into(),
        avatar_url: None,
    };
    let _ = home.update(Message::Session(crate::session::Message::BlocksLoaded(Ok(Vec::new()))));
    let _ = home.update(Message::OpenSettings);
    let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), home.view(&settings));
    assert!(ui.find("You block no one.").is_ok(), "the list as loaded at connect");
    drop(ui);

    // Another device of the user blocks Carol: the open Settings list her at once.
    let blocked = kith_shared::api::BlockedUser { user: carol.clone(), blocked_at: 1_800_000_000_000 };
    let _ = home.socket(socket::Event::Received(ServerFrame::UserBlocked { blocked }));
    let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), home.view(&settings));
    assert!(ui.find("@carol").is_ok(), "Carol in Blocked people");
    assert!(ui.find("You block no one.").is_err());
    drop(ui);

    // Add a friend finds her blocked: no request to offer that the server would refuse.
    let _ = home.update(Message::OpenAddFriend);
    let hit = kith_shared::api::UserSearchHit { user: carol, is_friend: false };
    let _ = home.update(Message::AddFriend(add_friend::Message::Found(Ok(vec![hit]))));
    let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), home.view(&settings));
    assert!(ui.find("Blocked (Settings unblocks)").is_ok());
    assert!(ui.find("Add").is_err(), "no Add for someone the user blocks");
    drop(ui);

    // Unblocked on the other device: Add comes back, and Settings no longer list her.
    let _ = home.socket(socket::Event::Received(ServerFrame::UserUnblocked { user_id: 9 }));
    let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), home.view(&settings));
    assert!(ui.find("Add").is_ok(), "Add for her again");
    drop(ui);
    let _ = home.update(Message::OpenSettings);
    let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), home.view(&settings));
    assert!(ui.find("You block no one.").is_ok());
}

#[test]
fn block_in_a_friends_chat_asks_twice() {
    let (mut home, _frames) = connected();
    let _ = home.update(Message::Open(10));
    let settings = Settings::default();
    let click = |home: &Home, label: &str| -> Vec<Message> {
        let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), home.view(&settings));
        ui.click(label).unwrap_or_else(|_| panic!("{label:?} in the chat's header"));
        ui.into_messages().collect()
    };
    for message in click(&home, "Block") {
        let _ = home.update(message);
    }
    assert!(home.chat.as_ref().is_some_and(|chat| chat.confirm_block), "a first click asks again");
    // Cancel forgets the question.
    for message in click(&home, "Cancel") {
        let _ = home.update(message);
    }
    assert!(home.chat.as_ref().is_some_and(|chat| !chat.confirm_block));

    for message in click(&home, "Block") {
        let _ = home.update(message);
    }
    let sure = click(&home, "Block: sure? You stop being friends");
    let chat = home.chat.as_mut().expect("the chat is open");
    let events: Vec<_> = sure
        .into_iter()
        .filter_map(|m| match m {
            Message::Chat(m) => chat.update(m),
            _ => None,
        })
        .collect();
    assert!(matches!(events.as_slice(), [chat::Event::Block]), "{events:?}");
    assert!(chat.update(chat::Message::Block(true)).is_none(), "never without asking first");
}

#[test]
fn a_group_picture_is_chosen_in_group_settings_and_shown_once_fetched() {
    let (mut home, _frames) = connected();
    let mut mine = group(30, "Rock Climbers");
    mine.role = Role::Owner;
    home.session.roster.set_groups(vec![mine.clone()]);
    let _ = home.update(Message::Open(30));
    let settings = Settings::default();
    let initials_shown = |home: &Home| {
        let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), home.view(&settings));
        ui.find("RC").is_ok()
    };
    assert!(initials_shown(&home), "no picture: initials in the side bar and the chat header");

    // Change picture… in group settings asks the system's dialog; the settings stay open
    // under it, and the chosen file uploads from them as they are.
    home.panel =
        Some(Panel::GroupAdmin(crate::screen::group_admin::GroupAdmin::new(30, &home.session.roster)));
    let messages: Vec<Message> = {
        let mut ui = iced_test::Simulator::with_settings(crate::tests::fonts(), home.view(&settings));
        ui.click("Change picture…").expect("offered to the owner");
        ui.into_messages().collect()
    };
    for message in messages {
        let (task, _) = home.update(message);
        assert!(task.units() > 0, "the dialog is asked");
    }
    let Some(Panel::GroupAdmin(panel)) = &mut home.panel else { panic!("the settings stay open") };
    panel.description = "being typed".into();
    let chosen = Answer::Chosen(vec![std::path::PathBuf::from("/nowhere/rope.png")]);
    let (task, _) = home.update(Message::Dialog(AttachFor::GroupPicture(30), chosen));
    assert!(task.units() > 0, "the upload");
    let Some(Panel::GroupAdmin(panel)) = &home.panel else { panic!("the settings stay open") };
    assert!(panel.busy && panel.description == "being typed", "uploading from the settings as they were");

    // Without a system dialog the built-in browser opens; closing it goes back to the settings.
    let _ = home.update(Message::Dialog(AttachFor::GroupPicture(30), Answer::Unavailable));
    assert!(matches!(&home.panel, Some(Panel::Attach(_, AttachFor::GroupPicture(30)))));
    let _ = home.update(Message::Attach(crate::screen::attach::Message::Close));
    assert!(matches!(&home.panel, Some(Panel::GroupAdmin(p)) if p.group == 30), "back in group settings");

    // Another admin's new picture arrives: it is fetched once, then shown in place of the initials.
    let url = "/api/groups/30/avatar?v=5b0c".to_owned();
    let pictured = GroupProfile { avatar_url: Some(url.clone()), ..mine.group.clone() };
    let _ = home.socket(socket::Event::Received(ServerFrame::GroupUpdated { group: pictured }));
    let key = crate::files::Files::avatar_key(&url);
    assert!(matches!(home.files.pictures.get(&key), Some(crate::files::Picture::Loading)), "fetched");
    home.panel = None;
    assert!(initials_shown(&home), "not here yet: still the initials");
    let mut png = std::io::Cursor::new(Vec::new());
    ::image::DynamicImage::new_rgb8(4, 4).write_to(&mut png, ::image::ImageFormat::Png).expect("a PNG");
    let png = png.into_inner();
    let _ = home.update(Message::PictureLoaded(key, Ok(png)));
    assert!(home.files.avatar(Some(&url)).is_some());
    assert!(!initials_shown(&home), "the picture replaces the initials everywhere");
}
