//! Root-level tests: screen transitions through `App::update`, and headless UI tests with
//! the iced simulator (click, type, then feed the produced messages back into `update`).

use crate::address::{ServerAddress, ServerConf};
use crate::api::Api;
use crate::app::{App, Dialog, Message, Screen, Setup};
use crate::clock;
use crate::history::{Delivery, StoredMessage};
use crate::screen::chat;
use crate::screen::{home, login};
use crate::session;
use crate::settings::Settings;
use crate::socket;
use crate::widget;
use iced_test::{Simulator, selector};
use kith_shared::ServerFrame;
use kith_shared::api::Friend;
use kith_shared::api::UserProfile;
use kith_shared::frame::{Content, KickReason};
use std::time::Duration;

// The headless window, also known to the screens' tests as `crate::tests::{Window, fonts}`.
pub(crate) use crate::headless::{Window, fonts};

fn alice() -> UserProfile {
    UserProfile { id: 7, username: "alice".into(), display_name: "Alice Liddell".into(), avatar_url: None }
}

fn session() -> login::LoggedIn {
    let address = ServerAddress::parse("127.0.0.1:8000", "").expect("valid");
    login::LoggedIn {
        api: Api::new(&address, &crate::trust::Trust::in_memory()).with_token("token".into()),
        address,
        user: alice(),
    }
}

/// An app that logged in as Alice (no files touched).
fn logged_in() -> App {
    let (mut app, _) = App::new(Setup::default());
    let _ = app.update(Message::Login(login::Message::Finished(Ok(session()))));
    assert!(matches!(app.screen, Screen::Home(_)), "login leads to the main window");
    app
}

/// Bob, Alice's friend, online, in conversation 10.
fn bob() -> Friend {
    Friend {
        user: UserProfile { id: 8, username: "bob".into(), display_name: "Bob".into(), avatar_url: None },
        online: true,
        conversation_id: 10,
    }
}

/// Lets `act` click and type on the app's current view, then handles what that produced;
/// returns it.
fn run(app: &mut App, act: &dyn Fn(&mut Simulator<'_, Message>)) -> Vec<Message> {
    let produced = {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        act(&mut ui);
        ui.into_messages().collect::<Vec<_>>()
    };
    for message in &produced {
        let _ = app.update(message.clone());
    }
    produced
}

fn home(app: &App) -> &home::Home {
    match &app.screen {
        Screen::Home(home) => home,
        Screen::Login(_) => panic!("expected the main window"),
    }
}

fn login_screen(app: &App) -> &login::Login {
    match &app.screen {
        Screen::Login(login) => login,
        Screen::Home(_) => panic!("expected the login screen"),
    }
}

#[test]
fn typing_credentials_and_clicking_log_in_submits_them() {
    let (mut app, _) = App::new(Setup::default());
    let messages = {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        ui.click(selector::id(login::id::USERNAME)).expect("user name field");
        ui.typewrite("alice");
        ui.click(selector::id(login::id::PASSWORD)).expect("password field");
        ui.typewrite("wonderland");
        ui.click("Log in").expect("log in button");
        ui.into_messages().collect::<Vec<_>>()
    };
    assert!(
        matches!(messages.last(), Some(Message::Login(login::Message::Submit))),
        "the click submits: {messages:?}"
    );
    for message in messages {
        let _ = app.update(message);
    }
    let login = login_screen(&app);
    assert_eq!(login.username, "alice");
    assert_eq!(login.password, "wonderland");
    assert!(login.busy, "the login request is under way");
    assert!(login.error.is_none());

    // While busy the button says so and the fields take no input.
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("Logging in…").is_ok());
    ui.click(selector::id(login::id::USERNAME)).expect("user name field");
    ui.typewrite("x");
    assert!(ui.into_messages().collect::<Vec<_>>().is_empty());
}

#[test]
fn enter_in_the_password_field_submits() {
    let (mut app, _) = App::new(Setup::default());
    let _ = app.update(Message::Login(login::Message::UsernameChanged("bob".into())));
    let messages = {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        ui.click(selector::id(login::id::PASSWORD)).expect("password field");
        ui.typewrite("builder!");
        ui.tap_key(iced::keyboard::key::Named::Enter);
        ui.into_messages().collect::<Vec<_>>()
    };
    assert!(matches!(messages.last(), Some(Message::Login(login::Message::Submit))));
}

#[test]
fn register_mode_shows_the_display_name_and_reports_problems_inline() {
    let (mut app, _) = App::new(Setup::default());
    let messages = {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        assert!(ui.find(selector::id(login::id::DISPLAY_NAME)).is_err());
        ui.click("Create an account").expect("switch link");
        ui.into_messages().collect::<Vec<_>>()
    };
    for message in messages {
        let _ = app.update(message);
    }
    let messages = {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        ui.click(selector::id(login::id::USERNAME)).expect("user name");
        ui.typewrite("carol");
        ui.click(selector::id(login::id::DISPLAY_NAME)).expect("display name field");
        ui.typewrite("Carol");
        ui.click(selector::id(login::id::PASSWORD)).expect("password");
        ui.typewrite("short");
        ui.click("Register").expect("register button");
        ui.into_messages().collect::<Vec<_>>()
    };
    for message in messages {
        let _ = app.update(message);
    }
    assert_eq!(login_screen(&app).error.as_deref(), Some("A password has at least 8 characters."));
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("A password has at least 8 characters.").is_ok(), "the error is on screen");
}

#[test]
fn main_window_shows_name_initials_and_status() {
    let mut app = logged_in();
    {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        assert!(ui.find("Alice Liddell").is_ok());
        assert!(ui.find("AL").is_ok(), "initials avatar");
        assert!(ui.find("Connecting…").is_ok());
    }
    let _ = app.update(Message::Socket(socket::Event::Disconnected {
        reason: "connection refused".into(),
        retry_in: Duration::from_secs(2),
    }));
    assert_eq!(
        home(&app).session.status,
        session::Status::Reconnecting {
            reason: "connection refused".into(),
            retry_in: Duration::from_secs(2)
        }
    );
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("Offline, reconnecting in 2 s").is_ok());
    assert_eq!(app.title(), "Kith — Alice Liddell");
}

#[test]
fn kicked_elsewhere_returns_to_login_with_a_dialog() {
    let mut app = logged_in();
    assert!(home(&app).session.socket_params().is_some());
    let _ = app.update(Message::Socket(socket::Event::Kicked {
        reason: KickReason::LoggedInElsewhere,
        message: "this account logged in elsewhere".into(),
    }));
    assert_eq!(login_screen(&app).username, "alice", "the name stays filled in");
    assert_eq!(
        app.dialog,
        Some(Dialog { title: "Logged out".into(), body: "This account logged in elsewhere.".into() })
    );
    let messages = {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        assert!(ui.find("This account logged in elsewhere.").is_ok());
        ui.click("OK").expect("OK button");
        ui.into_messages().collect::<Vec<_>>()
    };
    for message in messages {
        let _ = app.update(message);
    }
    assert!(app.dialog.is_none());
}

#[test]
fn log_out_button_goes_back_to_login() {
    let mut app = logged_in();
    let messages = {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        ui.click("Log out").expect("log out button");
        ui.into_messages().collect::<Vec<_>>()
    };
    assert!(matches!(messages.as_slice(), [Message::Home(home::Message::LogOut)]));
    for message in messages {
        let _ = app.update(message);
    }
    assert!(home(&app).session.socket_params().is_none(), "the socket stops at once");
    let _ = app.update(Message::Home(home::Message::Session(session::Message::LoggedOut(Ok(())))));
    assert!(login_screen(&app).password.is_empty());
    assert!(app.dialog.is_none());
}

#[test]
fn settings_toggles_are_saved() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("settings.json");
    let setup = Setup { settings_path: Some(path.clone()), ..Setup::default() };
    let (mut app, _) = App::new(setup);
    let _ = app.update(Message::Login(login::Message::Finished(Ok(session()))));
    // Logging in remembers the server and user name.
    let saved = Settings::load(&path).expect("readable").expect("saved");
    assert_eq!((saved.server.as_str(), saved.username.as_str()), ("127.0.0.1:8000", "alice"));

    let _ = app.update(Message::Home(home::Message::OpenSettings));
    let messages = {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        ui.click("Show a desktop notification on new messages while the window is in the background")
            .expect("toggle");
        ui.into_messages().collect::<Vec<_>>()
    };
    for message in messages {
        let _ = app.update(message);
    }
    assert!(!app.settings.notifications);
    assert!(!Settings::load(&path).expect("readable").expect("saved").notifications);
}

#[test]
fn choosing_chinese_in_the_settings_shows_chinese_at_once_and_is_saved() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("settings.json");
    let setup = Setup { settings_path: Some(path.clone()), ..Setup::default() };
    let (mut app, _) = App::new(setup);
    let _ = app.update(Message::Login(login::Message::Finished(Ok(session()))));
    let _ = app.update(Message::Home(home::Message::OpenSettings));
    // The language list's choice (what choosing 简体中文 in it sends).
    let _ = app.update(Message::Home(home::Message::Settings(home::settings::Message::LanguageChosen(
        crate::i18n::Language::Chinese,
    ))));
    assert_eq!(app.settings.language, crate::i18n::Language::Chinese);
    let saved = Settings::load(&path).expect("readable").expect("saved");
    assert_eq!(saved.language, crate::i18n::Language::Chinese);
    {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        assert!(ui.find("设置").is_ok(), "the panel's title");
        assert!(ui.find("深色主题").is_ok(), "the dark theme toggle");
        assert!(ui.find("添加好友").is_ok(), "the side bar");
        assert!(ui.find("Dark theme").is_err(), "no English left");
    }
    // Back to English.
    let _ = app.update(Message::Home(home::Message::Settings(home::settings::Message::LanguageChosen(
        crate::i18n::Language::English,
    ))));
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("Dark theme").is_ok());
}

#[test]
fn chinese_typed_into_the_composer_is_sent_as_typed() {
    let mut app = logged_in();
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    let _ = app.update(Message::Home(home::Message::ChatLoaded(10, Ok(vec![]))));
    // What an input method commits arrives as text, as typed characters do.
    run(&mut app, &|ui| {
        ui.click(iced_test::selector::id(chat::id::COMPOSER)).expect("the composer");
        ui.typewrite("你好，明天见！");
    });
    assert_eq!(open_chat(&app).composer.text().trim(), "你好，明天见！");
}

#[test]
fn server_conf_supplies_defaults_only_without_saved_settings() {
    let conf = ServerConf::parse("[server]\nHTTP_PORT = 9000\nSOCKET_PORT = 9100\nENABLE_MUSIC = false\n");
    let (app, _) = App::new(Setup { server_conf: Some(conf.clone()), ..Setup::default() });
    let login = login_screen(&app);
    assert_eq!((login.server.as_str(), login.socket_port.as_str()), ("127.0.0.1:9000", "9100"));
    assert!(!app.settings.sound);

    let saved = Settings { server: "chat.example.org:8000".into(), ..Settings::default() };
    let (app, _) = App::new(Setup {
        settings: saved,
        settings_saved: true,
        server_conf: Some(conf),
        ..Setup::default()
    });
    assert_eq!(login_screen(&app).server, "chat.example.org:8000");
}

pub(crate) fn stored(seq: i64, sender: i64, sent_at: i64, text: &str) -> StoredMessage {
    StoredMessage {
        local_id: seq,
        conversation_id: 10,
        seq: Some(seq),
        server_id: Some(100 + seq),
        client_id: None,
        sender_id: Some(sender),
        sent_at,
        content: Content::text(text),
        delivery: Delivery::Sent,
        edited_at: None,
        hidden: false,
        forwarded_from: None,
    }
}

fn open_chat(app: &App) -> &chat::Chat {
    home(app).chat.as_ref().expect("the chat is open")
}

#[test]
fn a_right_click_on_a_message_opens_its_menu_to_copy_or_recall_it() {
    let mut app = logged_in();
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    let now = clock::now_ms();
    let messages = vec![stored(1, 8, now, "Meet at the station"), stored(2, 7, now, "On my way")];
    let _ = app.update(Message::Home(home::Message::ChatLoaded(10, Ok(messages))));
    let click = |app: &App, label: &str| {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        ui.click(label).unwrap_or_else(|_| panic!("{label:?} on screen"));
        ui.into_messages().collect::<Vec<_>>()
    };
    assert!(Simulator::with_settings(fonts(), app.view()).find("Copy text").is_err(), "closed at first");

    // Bob's message: copy only.
    let _ = app.update(Message::Home(home::Message::Chat(chat::Message::MessageMenu(Some(1)))));
    let produced = click(&app, "Copy text");
    assert!(
        matches!(produced.as_slice(), [Message::Home(home::Message::Chat(chat::Message::Copy(text)))] if text == "Meet at the station")
    );
    for message in produced {
        let _ = app.update(message);
    }
    assert_eq!(open_chat(&app).menu, None, "copying closes the menu");
    assert_eq!(open_chat(&app).info.as_deref(), Some("Copied."));

    // One's own message, still recallable: both.
    let _ = app.update(Message::Home(home::Message::Chat(chat::Message::MessageMenu(Some(2)))));
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("Copy text").is_ok());
    drop(ui);
    let _ = app.update(Message::Home(home::Message::Escape));
    assert_eq!(open_chat(&app).menu, None, "Escape closes it");
}

/// Ctrl+C, as the keyboard sends it.
fn ctrl_c() -> iced_test::core::Event {
    use iced_test::core::keyboard::{self, key};
    iced_test::core::Event::Keyboard(keyboard::Event::KeyPressed {
        key: keyboard::Key::Character("c".into()),
        modified_key: keyboard::Key::Character("c".into()),
        physical_key: key::Physical::Code(key::Code::KeyC),
        location: keyboard::Location::Standard,
        modifiers: keyboard::Modifiers::CTRL,
        repeat: false,
        text: None,
    })
}

/// The mouse's left button pressed at `from`, moved to `to` and released there.
fn drag(ui: &mut Simulator<'_, Message>, from: iced::Point, to: iced::Point) {
    use iced_test::core::{Event, mouse};
    ui.point_at(from);
    let _ = ui.simulate([Event::Mouse(mouse::Event::ButtonPressed(mouse::Button::Left))]);
    ui.point_at(to);
    let _ = ui.simulate([
        Event::Mouse(mouse::Event::CursorMoved { position: to }),
        Event::Mouse(mouse::Event::ButtonReleased(mouse::Button::Left)),
    ]);
}

/// Where a text is laid out on screen.
fn text_bounds(app: &App, text: &str) -> iced::Rectangle {
    Simulator::with_settings(fonts(), app.view())
        .find(text)
        .unwrap_or_else(|_| panic!("{text:?} on screen"))
        .bounds()
}

/// The text Ctrl+C copies on the app's current view, if any.
fn copied_by_ctrl_c(app: &mut App) -> Option<String> {
    let produced = run(app, &|ui| {
        let _ = ui.simulate([ctrl_c()]);
    });
    match produced.as_slice() {
        [] => None,
        [Message::Home(home::Message::Chat(chat::Message::Copy(text)))] => Some(text.clone()),
        other => panic!("Ctrl+C produced {other:?}"),
    }
}

#[test]
fn dragging_across_a_message_selects_part_of_its_text_for_ctrl_c_and_the_menus_copy() {
    let mut app = logged_in();
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    let now = clock::now_ms();
    let whole = "Meet at the station";
    let messages = vec![stored(1, 8, now, whole), stored(2, 7, now, "On my way")];
    let _ = app.update(Message::Home(home::Message::ChatLoaded(10, Ok(messages))));
    assert_eq!(copied_by_ctrl_c(&mut app), None, "nothing selected: Ctrl+C copies nothing");

    // From the start of the text to its middle.
    let bounds = text_bounds(&app, whole);
    let middle = bounds.center();
    run(&mut app, &|ui| drag(ui, iced::Point::new(bounds.x + 1.0, middle.y), middle));
    let chat = open_chat(&app);
    let part = chat.text_selected(1).and_then(|selected| selected.of(whole)).expect("a part selected");
    assert!(whole.starts_with(part) && part.len() < whole.len(), "the first half: {part:?}");
    assert!(part.len() > 3, "more than a letter or two: {part:?}");
    assert_eq!(copied_by_ctrl_c(&mut app).as_deref(), Some(part), "Ctrl+C copies the selection");

    // The menu copies the selection, or the whole text.
    let _ = app.update(Message::Home(home::Message::Chat(chat::Message::MessageMenu(Some(1)))));
    let copy = |app: &mut App, label: &str| {
        let produced = run(app, &|ui| {
            ui.click(label).unwrap_or_else(|_| panic!("{label:?} in the menu"));
        });
        let copied = produced.iter().find_map(|message| match message {
            Message::Home(home::Message::Chat(chat::Message::Copy(text))) => Some(text.clone()),
            _ => None,
        });
        copied.unwrap_or_else(|| panic!("{label:?} produced {produced:?}"))
    };
    assert_eq!(copy(&mut app, "Copy"), part);
    let kept = open_chat(&app).text_selected(1).and_then(|selected| selected.of(whole));
    assert_eq!(kept, Some(part), "a click in the message's menu leaves the selection");
    let _ = app.update(Message::Home(home::Message::Chat(chat::Message::MessageMenu(Some(1)))));
    assert_eq!(copy(&mut app, "Copy text"), whole);
    // The other message's menu has no selection to copy.
    let _ = app.update(Message::Home(home::Message::Chat(chat::Message::MessageMenu(Some(2)))));
    assert!(Simulator::with_settings(fonts(), app.view()).find("Copy").is_err());
    let _ = app.update(Message::Home(home::Message::Escape));

    // A press elsewhere (in the message field) ends the selection.
    run(&mut app, &|ui| {
        ui.click(selector::id(chat::id::COMPOSER)).expect("the message field");
    });
    assert_eq!(open_chat(&app).text_selection, None);
    assert_eq!(copied_by_ctrl_c(&mut app), None);
}

#[test]
fn a_double_click_selects_a_word_and_a_selection_copies_emoji_pictures_as_text() {
    let mut app = logged_in();
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    let _ = app.update(Message::Home(home::Message::EmojiLoaded(Ok(crate::emoji::tests::sample()))));
    let now = clock::now_ms();
    let whole = "Good game 👍 see you at the station";
    let _ = app.update(Message::Home(home::Message::ChatLoaded(10, Ok(vec![stored(1, 8, now, whole)]))));
    let bounds = text_bounds(&app, whole);
    let double_click = |app: &mut App, at: iced::Point| {
        run(app, &|ui| {
            ui.point_at(at);
            let _ = ui.simulate(iced_test::simulator::click().chain(iced_test::simulator::click()));
        })
    };

    // The last letters: the last word.
    double_click(&mut app, iced::Point::new(bounds.x + bounds.width - 2.0, bounds.y + bounds.height - 4.0));
    assert_eq!(copied_by_ctrl_c(&mut app).as_deref(), Some("station"));
    // The first letters: the first word.
    double_click(&mut app, iced::Point::new(bounds.x + 2.0, bounds.y + 4.0));
    assert_eq!(copied_by_ctrl_c(&mut app).as_deref(), Some("Good"));

    // Dragged from before the first letter to past the last, over the picture of 👍.
    run(&mut app, &|ui| {
        drag(
            ui,
            iced::Point::new(bounds.x + 1.0, bounds.y + 4.0),
            iced::Point::new(bounds.x + bounds.width + 40.0, bounds.y + bounds.height + 40.0),
        )
    });
    assert_eq!(copied_by_ctrl_c(&mut app).as_deref(), Some(whole), "the emoji copied as the character");
}

/// The left button pressed `presses` times in a row at `from` (2: a double-click) and held,
/// then dragged to `to` and released there.
fn clicks_then_drag(ui: &mut Simulator<'_, Message>, presses: usize, from: iced::Point, to: iced::Point) {
    use iced_test::core::{Event, mouse};
    let press = Event::Mouse(mouse::Event::ButtonPressed(mouse::Button::Left));
    let release = Event::Mouse(mouse::Event::ButtonReleased(mouse::Button::Left));
    ui.point_at(from);
    for _ in 1..presses {
        let _ = ui.simulate([press.clone(), release.clone()]);
    }
    let _ = ui.simulate([press]);
    ui.point_at(to);
    let _ = ui.simulate([Event::Mouse(mouse::Event::CursorMoved { position: to }), release]);
}

#[test]
fn a_drag_after_a_double_click_selects_whole_words_and_after_a_triple_click_whole_lines() {
    let mut app = logged_in();
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    let whole = "alpha beta\ngamma delta\nepsilon zeta";
    let _ = app
        .update(Message::Home(home::Message::ChatLoaded(10, Ok(vec![stored(1, 8, clock::now_ms(), whole)]))));
    let bounds = text_bounds(&app, whole);
    // Two letters into each line's first word.
    let line = |n: f32| iced::Point::new(bounds.x + 2.0, bounds.y + bounds.height * (n + 0.5) / 3.0);
    let selected = |app: &App| open_chat(app).text_selected(1).and_then(|s| s.of(whole)).map(str::to_owned);

    // Double-click "alpha", drag into "epsilon": every word on the way, whole.
    run(&mut app, &|ui| clicks_then_drag(ui, 2, line(0.0), line(2.0)));
    assert_eq!(selected(&app).as_deref(), Some("alpha beta\ngamma delta\nepsilon"));
    // Upward, from "epsilon" into "alpha": the same words.
    run(&mut app, &|ui| clicks_then_drag(ui, 2, line(2.0), line(0.0)));
    assert_eq!(selected(&app).as_deref(), Some("alpha beta\ngamma delta\nepsilon"));
    // Triple-click the first line, drag into the second: both lines, whole.
    run(&mut app, &|ui| clicks_then_drag(ui, 3, line(0.0), line(1.0)));
    assert_eq!(selected(&app).as_deref(), Some("alpha beta\ngamma delta"));
    assert_eq!(copied_by_ctrl_c(&mut app).as_deref(), Some("alpha beta\ngamma delta"));
    // A drag after a single press still goes letter by letter.
    run(&mut app, &|ui| clicks_then_drag(ui, 1, line(0.0), line(2.0)));
    let part = selected(&app).expect("a part selected");
    assert!(
        part.starts_with("lpha beta\ngamma delta\ne") || part.starts_with("alpha beta\ngamma delta\n"),
        "{part:?}"
    );
    assert!(!part.ends_with("epsilon"), "not a whole word: {part:?}");
}

#[test]
fn emoji_alone_are_drawn_large_and_can_be_selected_and_copied() {
    let mut app = logged_in();
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    let _ = app.update(Message::Home(home::Message::EmojiLoaded(Ok(crate::emoji::tests::sample()))));
    // A picture of the set and an emoji of the colour font.
    let whole = "👍🇩🇪";
    let _ = app
        .update(Message::Home(home::Message::ChatLoaded(10, Ok(vec![stored(1, 8, clock::now_ms(), whole)]))));
    let bounds = text_bounds(&app, whole);
    assert!(bounds.height >= 40.0 && bounds.width >= 80.0, "drawn large: {bounds:?}");

    // Dragged across both, from before the first to past the last.
    let middle = bounds.center().y;
    run(&mut app, &|ui| {
        drag(
            ui,
            iced::Point::new(bounds.x + 1.0, middle),
            iced::Point::new(bounds.x + bounds.width + 30.0, middle),
        )
    });
    assert_eq!(copied_by_ctrl_c(&mut app).as_deref(), Some(whole), "copied as the emoji characters");
    let _ = app.update(Message::Home(home::Message::Chat(chat::Message::MessageMenu(Some(1)))));
    let produced = run(&mut app, &|ui| {
        ui.click("Copy").expect("Copy in the menu: there is a selection");
    });
    assert!(
        produced
            .iter()
            .any(|m| matches!(m, Message::Home(home::Message::Chat(chat::Message::Copy(t))) if t == whole)),
        "{produced:?}"
    );

    // A double-click on the first selects it alone.
    run(&mut app, &|ui| {
        ui.point_at(iced::Point::new(bounds.x + bounds.width / 4.0, middle));
        let _ = ui.simulate(iced_test::simulator::click().chain(iced_test::simulator::click()));
    });
    assert_eq!(copied_by_ctrl_c(&mut app).as_deref(), Some("👍"));
}

/// Bob's message of `rows` numbered lines, "row 1" to "row N".
fn numbered_rows(rows: usize) -> String {
    (1..=rows).map(|n| format!("row {n}")).collect::<Vec<_>>().join("\n")
}

/// The number of the first row in a selection of `numbered_rows` (it may start inside it).
fn first_row(selected: &str) -> usize {
    let first = selected.lines().next().unwrap_or_default();
    first.trim_start_matches(|c: char| !c.is_ascii_digit()).parse().unwrap_or_else(|_| panic!("{selected:?}"))
}

#[test]
fn holding_a_selection_past_the_top_of_the_log_scrolls_it_and_selects_what_comes_into_view() {
    use iced::mouse;
    let mut app = logged_in();
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    // One message far taller than the log's view, which opens at its end.
    let long = numbered_rows(80);
    let _ = app
        .update(Message::Home(home::Message::ChatLoaded(10, Ok(vec![stored(1, 8, clock::now_ms(), &long)]))));
    let mut window = Window::new();
    frame(&mut app, &mut window);
    let log = bounds_of(&mut window, &app, chat::id::LOG);
    let shown = window
        .find(&app, long.as_str())
        .and_then(|text| iced_test::selector::Bounded::visible_bounds(&text))
        .expect("the end of the long message is on screen");
    assert!(shown.height < log.height, "only part of it shows: {shown:?} in {log:?}");
    let selected = |app: &App| open_chat(app).text_selected(1).and_then(|s| s.of(&long)).map(str::to_owned);
    let pointer = |window: &mut Window, app: &mut App, at: iced::Point, event: mouse::Event| {
        window.point_at(at);
        for message in window.events(app, &[iced::Event::Mouse(event)]) {
            let _ = app.update(message);
        }
    };
    let tick = |window: &mut Window, app: &mut App| {
        update_in(app, window, Message::Home(home::Message::Chat(chat::Message::ScrollWhileSelecting)));
    };

    // Pressed past the end of the last row, dragged to 30 px above the log.
    let end = iced::Point::new(shown.x + shown.width - 1.0, shown.y + shown.height - 6.0);
    pointer(&mut window, &mut app, end, mouse::Event::ButtonPressed(mouse::Button::Left));
    let above = iced::Point::new(shown.x + 2.0, log.y - 30.0);
    pointer(&mut window, &mut app, above, mouse::Event::CursorMoved { position: above });
    let past = open_chat(&app).selecting_past_edge.expect("held past the edge");
    assert!((past + 30.0).abs() < 1.0, "30 px above the log: {past}");
    assert!(home(&app).scrolls_selection(), "the log scrolls on a clock");
    let at_first = selected(&app).expect("a selection");
    assert!(at_first.ends_with("row 80"), "from the end: {at_first:?}");
    let first_shown = first_row(&at_first);

    // Each tick scrolls the log up and the selection takes in the rows coming into view.
    let mut scrolled = window.scrolled_up_by(&app, chat::id::LOG);
    assert!(scrolled < 1.0, "at the newest message: {scrolled}");
    let mut near = 0.0;
    for _ in 0..5 {
        tick(&mut window, &mut app);
        let now = window.scrolled_up_by(&app, chat::id::LOG);
        near = now - scrolled;
        assert!(near > 1.0, "scrolled up: {scrolled} then {now}");
        scrolled = now;
    }
    let now_selected = selected(&app).expect("still selected");
    assert!(now_selected.ends_with("row 80"), "{now_selected:?}");
    let reached = first_row(&now_selected);
    assert!(
        reached + 3 <= first_shown,
        "rows above the first view selected: row {reached}, not {first_shown}"
    );
    assert_eq!(copied_by_ctrl_c(&mut app).as_deref(), Some(now_selected.as_str()));

    // Further past the edge, faster.
    let further = iced::Point::new(above.x, log.y - 120.0);
    pointer(&mut window, &mut app, further, mouse::Event::CursorMoved { position: further });
    tick(&mut window, &mut app);
    let far = window.scrolled_up_by(&app, chat::id::LOG) - scrolled;
    assert!(far > near * 2.0, "{far} px a tick at 120 px past the edge, {near} at 30");
    scrolled += far;

    // Released: the scrolling stops, the selection stays.
    pointer(&mut window, &mut app, further, mouse::Event::ButtonReleased(mouse::Button::Left));
    assert_eq!(open_chat(&app).selecting_past_edge, None);
    assert!(!home(&app).scrolls_selection());
    tick(&mut window, &mut app);
    assert!((window.scrolled_up_by(&app, chat::id::LOG) - scrolled).abs() < 1.0, "no longer scrolling");
    assert!(first_row(&selected(&app).expect("kept")) < reached);
}

#[test]
fn a_files_menu_downloads_it_then_saves_a_copy_opens_or_shows_it() {
    let mut app = logged_in();
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    let file = StoredMessage {
        content: Content::File {
            upload_id: "u-1".into(),
            name: "plan.pdf".into(),
            size: 2048,
            mime: "application/pdf".into(),
        },
        ..stored(1, 8, clock::now_ms(), "")
    };
    let _ = app.update(Message::Home(home::Message::ChatLoaded(10, Ok(vec![file]))));
    let _ = app.update(Message::Home(home::Message::Chat(chat::Message::MessageMenu(Some(1)))));
    // Not on this computer yet: the menu downloads it (and has nothing to save or open).
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("Save as…").is_err(), "nothing to save a copy of yet");
    drop(ui);

    // Once saved: Save as… asks where, and Open and Show in folder are there too.
    let path = std::path::PathBuf::from("/tmp/kith-files/plan.pdf");
    if let Screen::Home(home) = &mut app.screen {
        home.files.saved.insert("u-1".into(), path);
    }
    let mut ui = Simulator::with_settings(fonts(), app.view());
    ui.click("Save as…").expect("Save as… in the menu");
    let produced: Vec<Message> = ui.into_messages().collect();
    assert!(
        matches!(produced.as_slice(), [Message::Home(home::Message::Chat(chat::Message::SaveAs { upload_id, name }))]
            if upload_id == "u-1" && name == "plan.pdf"),
        "{produced:?}"
    );
    for message in produced {
        let _ = app.update(message);
    }
    assert_eq!(open_chat(&app).menu, None, "choosing closes the menu");
    let _ = app.update(Message::Home(home::Message::Chat(chat::Message::MessageMenu(Some(1)))));
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("Show in folder").is_ok());
}

#[test]
fn the_menu_replies_and_edits_and_a_quote_shows_what_it_quotes() {
    let mut app = logged_in();
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    let now = clock::now_ms();
    let answer = StoredMessage {
        content: Content::Text {
            text: "Yes, at noon".into(),
            reply_to: Some(1),
            edit_of: None,
            reaction_of: None,
            mentions: Default::default(),
        },
        edited_at: Some(now),
        ..stored(3, 8, now, "")
    };
    let messages = vec![stored(1, 7, now, "Meet at the station?"), stored(2, 7, now, "On my way"), answer];
    let _ = app.update(Message::Home(home::Message::ChatLoaded(10, Ok(messages))));
    let click = |app: &mut App, label: &str| {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        ui.click(label).unwrap_or_else(|_| panic!("{label:?} on screen"));
        let produced: Vec<Message> = ui.into_messages().collect();
        for message in produced.clone() {
            let _ = app.update(message);
        }
        produced
    };
    // Bob's reply shows the quoted message's sender and text, and that it was edited.
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("You").is_ok(), "the quoted sender");
    assert!(ui.find(format!("{} · edited", clock::time_of_day(now)).as_str()).is_ok());
    drop(ui);
    // A click on the quote shows the quoted message.
    let produced = click(&mut app, "You");
    assert!(
        matches!(produced.as_slice(), [Message::Home(home::Message::Chat(chat::Message::JumpToQuoted(1)))]),
        "{produced:?}"
    );

    // Reply to Bob's message: a bar above the composer says to whom, ✕ takes it back.
    let _ = app.update(Message::Home(home::Message::Chat(chat::Message::MessageMenu(Some(3)))));
    assert!(Simulator::with_settings(fonts(), app.view()).find("Edit").is_err(), "not one's own");
    click(&mut app, "Reply");
    assert_eq!(open_chat(&app).replying, Some(3));
    assert!(Simulator::with_settings(fonts(), app.view()).find("Replying to Bob").is_ok());
    click(&mut app, "✕");
    assert_eq!(open_chat(&app).replying, None);

    // Edit one's own message: the composer takes its text; Escape takes the edit back.
    let _ = app.update(Message::Home(home::Message::Chat(chat::Message::MessageMenu(Some(2)))));
    click(&mut app, "Edit");
    assert_eq!(open_chat(&app).editing, Some(2));
    assert_eq!(open_chat(&app).composer.text().trim_end(), "On my way");
    assert!(Simulator::with_settings(fonts(), app.view()).find("Editing your message").is_ok());
    let _ = app.update(Message::Home(home::Message::Escape));
    assert_eq!(open_chat(&app).editing, None);
    assert_eq!(open_chat(&app).composer.text().trim(), "", "the edit's text goes with it");
}

#[test]
fn chat_shows_days_times_typing_and_recalls_own_messages() {
    let mut app = logged_in();
    let bob = bob();
    let _ = app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    let now = clock::now_ms();
    let yesterday = now - 86_400_000;
    let messages = vec![
        stored(1, 8, yesterday, "See you tomorrow"),
        stored(2, 8, now, "Morning!"),
        stored(3, 7, now, "Hi Bob"),
        StoredMessage { content: Content::RECALLED, ..stored(4, 8, now, "") },
    ];
    let _ = app.update(Message::Home(home::Message::ChatLoaded(10, Ok(messages))));
    let _ = app.update(Message::Socket(socket::Event::Received(ServerFrame::Typing {
        conversation_id: 10,
        user_id: 8,
    })));

    let produced = {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        for line in ["Yesterday", "Today", "See you tomorrow", "Hi Bob", "Bob is typing…"] {
            assert!(ui.find(line).is_ok(), "{line:?} on screen");
        }
        assert!(ui.find(clock::time_of_day(yesterday).as_str()).is_ok(), "the time of a message");
        let recalled = format!("Bob recalled a message · {}", clock::time_of_day(now));
        assert!(ui.find(recalled.as_str()).is_ok(), "a recalled message says so");
        // Only the user's own message offers a recall.
        ui.click("Recall for everyone").expect("a recall button");
        ui.into_messages().collect::<Vec<_>>()
    };
    assert!(
        matches!(produced.as_slice(), [Message::Home(home::Message::Chat(chat::Message::Recall(3)))]),
        "{produced:?}"
    );

    // Typing and Enter: a typing notice is due and the text is sent.
    let produced = {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        ui.click(iced_test::selector::id(chat::id::COMPOSER)).expect("the composer");
        ui.typewrite("on my way");
        ui.tap_key(iced::keyboard::key::Named::Enter);
        ui.into_messages().collect::<Vec<_>>()
    };
    let mut produced = produced.into_iter().collect::<Vec<_>>();
    let send = produced.pop();
    assert!(matches!(send, Some(Message::Home(home::Message::Chat(chat::Message::Send)))));
    for message in produced {
        let _ = app.update(message);
    }
    let chat = home(&app).chat.as_ref().expect("the chat is open");
    assert!(chat.typing_sent.is_some(), "typing was announced");
    assert_eq!(chat.composer.text().trim(), "on my way");
    if let Some(send) = send {
        let _ = app.update(send);
    }
    let chat = home(&app).chat.as_ref().expect("the chat is open");
    assert_eq!(chat.composer.text().trim(), "", "sent and cleared");
}

#[test]
fn a_message_in_the_background_shows_a_notification_when_enabled() {
    let (notifier, notes) = crate::notify::Notifier::recording();
    let (mut app, _) = App::new(Setup { notifier, ..Setup::default() });
    let _ = app.update(Message::Login(login::Message::Finished(Ok(session()))));
    let bob = bob();
    let _ = app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob])))));
    let mut seq = 0;
    let mut receive = |app: &mut App, text: &str| {
        seq += 1;
        let message = kith_shared::frame::ChatMessage {
            id: seq,
            conversation_id: 10,
            seq,
            sender_id: Some(8),
            client_id: None,
            sent_at: seq,
            content: Content::text(text),
            edited_at: None,
            reactions: Vec::new(),
            forwarded_from: None,
            muted: false,
        };
        let _ = app.update(Message::Socket(socket::Event::Received(ServerFrame::Message { message })));
    };

    receive(&mut app, "while you look");
    assert!(notes.try_recv().is_err(), "no notification while the window has the focus");

    let _ = app.update(Message::WindowFocused(false));
    receive(&mut app, "are you there?");
    assert_eq!(
        notes.try_recv().ok(),
        Some(crate::notify::Note { title: "Bob".into(), body: "are you there?".into() })
    );

    let _ = app
        .update(Message::Home(home::Message::Settings(home::settings::Message::NotificationsToggled(false))));
    receive(&mut app, "hello?");
    assert!(notes.try_recv().is_err(), "switched off in the settings");

    let _ = app
        .update(Message::Home(home::Message::Settings(home::settings::Message::NotificationsToggled(true))));
    let _ = app.update(Message::WindowFocused(true));
    receive(&mut app, "back");
    assert!(notes.try_recv().is_err(), "focused again");
}

#[test]
fn groups_can_be_created_joined_and_show_their_members() {
    use crate::screen::groups;
    use kith_shared::api::{GroupMember, GroupProfile, MyGroup, Role};
    let mut app = logged_in();

    // Create: the side bar's "New" opens the form; the button sends it.
    run(&mut app, &|ui| {
        ui.click("New").expect("new group button");
    });
    let produced = run(&mut app, &|ui| {
        ui.click(selector::id(groups::id::NAME)).expect("name field");
        ui.typewrite("Chess Club");
        ui.click("Create").expect("create button");
    });
    assert!(matches!(produced.last(), Some(Message::Home(home::Message::Groups(groups::Message::Create)))));
    assert!(matches!(
        &home(&app).panel,
        Some(home::Panel::Groups(groups::Panel::Create(form))) if form.busy && form.name == "Chess Club"
    ));

    // Join: search, then apply with a message.
    run(&mut app, &|ui| {
        ui.click("Join").expect("join group button");
    });
    run(&mut app, &|ui| {
        ui.click(selector::id(groups::id::SEARCH)).expect("search field");
        ui.typewrite("climb");
        ui.click(selector::id(groups::id::MESSAGE)).expect("message field");
        ui.typewrite("I climb on Sundays");
    });
    let climbers = GroupProfile {
        id: 20,
        name: "Climbers".into(),
        description: "Sunday bouldering".into(),
        owner_id: 8,
        member_count: 2,
        created_at: 0,
        announcement: None,
        avatar_url: None,
    };
    let _ =
        app.update(Message::Home(home::Message::Groups(groups::Message::Found(Ok(vec![climbers.clone()])))));
    let produced = run(&mut app, &|ui| {
        assert!(ui.find("Sunday bouldering").is_ok());
        ui.click("Apply").expect("apply button");
    });
    assert!(matches!(
        produced.as_slice(),
        [Message::Home(home::Message::Groups(groups::Message::Apply(20)))]
    ));
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("Asked").is_ok(), "the group shows as asked");
    drop(ui);

    // Accepted: the group chat lists its members with roles and presence.
    let mine = MyGroup { group: climbers, role: Role::Member, muted: false };
    let _ = app.update(Message::Home(home::Message::Session(session::Message::GroupsLoaded(Ok(vec![mine])))));
    let _ = app.update(Message::Home(home::Message::Open(20)));
    let member = |id, name: &str, role, online| GroupMember {
        user: UserProfile { id, username: name.to_lowercase(), display_name: name.into(), avatar_url: None },
        role,
        online,
    };
    let members = vec![member(7, "Alice Liddell", Role::Member, true), member(8, "Bob", Role::Owner, false)];
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::MembersLoaded(20, Ok(members)))));
    let mut ui = Simulator::with_settings(fonts(), app.view());
    for line in ["Members · 1/2 online", "Bob", "owner", "Alice Liddell"] {
        assert!(ui.find(line).is_ok(), "{line:?} in the member list");
    }
}

/// A machine where Alice logged in before: her lists and a cache holding one message from Bob.
async fn previous_session(root: &std::path::Path) -> crate::history::History {
    use crate::history::History;
    use crate::offline::Snapshot;
    let folder = ServerAddress::parse("127.0.0.1:8000", "").expect("valid").folder_name();
    let bob =
        UserProfile { id: 9, username: "bob".into(), display_name: "Bob Builder".into(), avatar_url: None };
    let friend = Friend { user: bob, online: true, conversation_id: 42 };
    Snapshot {
        user: alice(),
        friends: vec![friend],
        groups: vec![],
        members: Default::default(),
        titles: Default::default(),
    }
    .save(&Snapshot::path_for(root, &folder, "alice"))
    .expect("save the snapshot");
    let history = History::open(&History::path_for(root, &folder, alice().id)).await.expect("open the cache");
    let message = kith_shared::frame::ChatMessage {
        id: 500,
        conversation_id: 42,
        seq: 1,
        sender_id: Some(9),
        client_id: None,
        sent_at: clock::now_ms(),
        content: Content::text("See you at noon"),
        edited_at: None,
        reactions: Vec::new(),
        forwarded_from: None,
        muted: false,
    };
    history.store(&message).await.expect("store");
    history
}

fn unreachable() -> crate::api::ApiError {
    crate::api::ApiError::Unreachable {
        address: "127.0.0.1:8000".into(),
        detail: "connection refused".into(),
    }
}

/// An app on the login screen with Alice's name and password typed, using `root` for data.
fn typed_login(root: &std::path::Path) -> App {
    let setup = Setup { data_root: Some(root.to_path_buf()), ..Setup::default() };
    let (mut app, _) = App::new(setup);
    let _ = app.update(Message::Login(login::Message::UsernameChanged("alice".into())));
    let _ = app.update(Message::Login(login::Message::PasswordChanged("secret".into())));
    let _ = app.update(Message::Login(login::Message::Submit));
    app
}

#[tokio::test]
async fn unreachable_server_offers_the_cached_history_read_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let history = previous_session(dir.path()).await;
    let mut app = typed_login(dir.path());
    let _ = app.update(Message::Login(login::Message::Finished(Err(unreachable()))));
    assert!(login_screen(&app).offline.is_some(), "a cache for alice on this server exists");

    let messages = {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        ui.click("Browse offline").expect("browse offline button");
        ui.into_messages().collect::<Vec<_>>()
    };
    for message in messages {
        let _ = app.update(message);
    }
    assert!(home(&app).session.is_offline());
    assert!(home(&app).session.socket_params().is_none(), "no socket offline");
    let _ = app
        .update(Message::Home(home::Message::Session(session::Message::HistoryOpened(Ok(history.clone())))));

    let messages = {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        assert!(ui.find("Offline — history only").is_ok());
        assert!(ui.find("Log out").is_err() && ui.find("Add friend").is_err());
        ui.click("Bob Builder").expect("the friend from the snapshot");
        ui.into_messages().collect::<Vec<_>>()
    };
    for message in messages {
        let _ = app.update(message);
    }
    let loaded = history.recent(42, 300).await.map_err(|e| e.to_string());
    let _ = app.update(Message::Home(home::Message::ChatLoaded(42, loaded)));
    let chat = home(&app).chat.as_ref().expect("the chat is open");
    assert!(chat.read_only);
    assert_eq!(chat.messages.len(), 1);

    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("See you at noon").is_ok());
    ui.click("Send").expect("send button");
    ui.click(selector::id(chat::id::COMPOSER)).expect("composer");
    ui.typewrite("hello");
    ui.tap_key(iced::keyboard::key::Named::Enter);
    let produced: Vec<_> = ui.into_messages().collect();
    for message in produced {
        let _ = app.update(message);
    }
    let chat = home(&app).chat.as_ref().expect("the chat is open");
    assert_eq!(chat.composer.text().trim(), "", "nothing can be written offline");
    assert_eq!(chat.messages.len(), 1);
    assert!(history.pending().await.expect("pending").is_empty(), "nothing was queued to send");

    let messages = {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        ui.click("Back to login").expect("back to login button");
        ui.into_messages().collect::<Vec<_>>()
    };
    for message in messages {
        let _ = app.update(message);
    }
    assert_eq!(login_screen(&app).username, "alice");
    history.close().await;
}

/// Does what a task can do without waiting on the network (such as writing or removing the
/// kept login) and returns the messages it produced by then; its requests are left undone.
fn run_ready(task: iced::Task<Message>) -> Vec<Message> {
    use futures_util::StreamExt;
    use futures_util::task::ArcWake;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::{Context, Poll};
    /// Set when a part of the task is ready to go on (every task first yields once).
    struct Woken(AtomicBool);
    impl ArcWake for Woken {
        fn wake_by_ref(woken: &Arc<Self>) {
            woken.0.store(true, Ordering::SeqCst);
        }
    }
    let Some(mut stream) = iced_test::runtime::task::into_stream(task) else { return Vec::new() };
    let woken = Arc::new(Woken(AtomicBool::new(false)));
    let waker = futures_util::task::waker(woken.clone());
    let mut context = Context::from_waker(&waker);
    let mut produced = Vec::new();
    loop {
        woken.0.store(false, Ordering::SeqCst);
        match stream.poll_next_unpin(&mut context) {
            Poll::Ready(Some(iced_test::runtime::Action::Output(message))) => produced.push(message),
            Poll::Ready(Some(_)) => {}
            Poll::Ready(None) => break,
            Poll::Pending if woken.0.load(Ordering::SeqCst) => {}
            Poll::Pending => break,
        }
    }
    produced
}

#[tokio::test]
async fn a_kept_login_signs_in_at_start_until_the_server_refuses_it_and_log_out_forgets_it() {
    use crate::keyring::Keyring;
    use crate::signed_in::KeptLogin;
    let dir = tempfile::tempdir().expect("temp dir");
    let address = ServerAddress::parse("127.0.0.1:8000", "").expect("valid");
    let kept = KeptLogin::new(dir.path(), &address.folder_name(), "alice", Keyring::default());
    let token = "ab".repeat(32);
    let start = || {
        let settings = Settings { username: "alice".into(), ..Settings::default() };
        App::new(Setup { settings, data_root: Some(dir.path().to_path_buf()), ..Setup::default() })
    };
    let session = || {
        let api = Api::new(&address, &crate::trust::Trust::in_memory()).with_token(token.clone());
        login::LoggedIn { address: address.clone(), api, user: alice() }
    };

    // Logging in with the password keeps the login.
    let (mut app, _) = start();
    assert!(!login_screen(&app).busy, "nothing kept yet");
    let task = app.update(Message::Login(login::Message::Finished(Ok(session()))));
    run_ready(task);
    assert!(matches!(app.screen, Screen::Home(_)));
    assert_eq!(kept.load().await, Some(token.clone()), "kept for the next start");

    // The server no longer takes the token: the form, and the token is gone.
    let (mut app, task) = start();
    assert_eq!(task.units(), 2, "the focus and signing in again");
    assert!(login_screen(&app).busy, "signing in");
    let refused = crate::api::ApiError::Server {
        status: 401,
        code: kith_shared::ErrorCode::Unauthorized,
        message: "unknown token".into(),
    };
    let _ = app.update(Message::Login(login::Message::Resumed(Err(refused))));
    assert!(!login_screen(&app).busy && login_screen(&app).error.is_none());
    assert_eq!(kept.load().await, None);

    // Taken: straight to the main window, the login kept for the next start.
    kept.save(&token).await.expect("kept");
    let (mut app, _) = start();
    let _ = app.update(Message::Login(login::Message::Resumed(Ok(session()))));
    assert!(matches!(app.screen, Screen::Home(_)), "no password asked");
    assert_eq!(kept.load().await, Some(token.clone()));

    // Log out forgets it.
    let _ = app.update(Message::Home(home::Message::LogOut));
    let _ = app.update(Message::Home(home::Message::Session(session::Message::LoggedOut(Ok(())))));
    assert!(matches!(app.screen, Screen::Login(_)));
    assert_eq!(kept.load().await, None, "the next start asks for the password");

    // Another user name in the form: the kept login is not theirs, and stays Alice's.
    kept.save(&token).await.expect("kept");
    let settings = Settings { username: "carol".into(), ..Settings::default() };
    let (app, _) =
        App::new(Setup { settings, data_root: Some(dir.path().to_path_buf()), ..Setup::default() });
    assert!(!login_screen(&app).busy);
    assert_eq!(kept.load().await, Some(token.clone()));

    // The token is in a keyring this start cannot ask: the form, the file kept for later.
    std::fs::write(kept.path(), r#"{"username":"alice","token_in":"keyring"}"#).expect("written");
    let (mut app, task) = start();
    assert!(login_screen(&app).busy, "looking for the token");
    let produced = run_ready(task);
    assert!(
        produced.iter().any(|message| matches!(message, Message::Login(login::Message::TokenMissing))),
        "no token: {produced:?}"
    );
    for message in produced {
        let _ = app.update(message);
    }
    assert!(!login_screen(&app).busy && matches!(app.screen, Screen::Login(_)));
    assert!(kept.path().exists());

    // A login kept by an earlier version, one file per server, still opens at start.
    kept.forget().await;
    let earlier = dir.path().join(address.folder_name()).join("signed_in.json");
    std::fs::write(&earlier, format!(r#"{{"username":"alice","token":"{token}"}}"#)).expect("written");
    let (app, _) = start();
    assert!(login_screen(&app).busy, "signing in with the earlier file");
    assert_eq!(kept.load().await, Some(token.clone()));
}

/// The accounts this computer signed in with, as the login screen lists them: whether each is
/// still signed in, *Switch account*, *Use another account*, a signed-out one filling the form,
/// and *Remove*.
#[tokio::test]
async fn the_login_screen_lists_the_accounts_and_switching_keeps_them_signed_in() {
    use crate::keyring::Keyring;
    use crate::signed_in::KeptLogin;
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = session().address.folder_name();
    let kept = KeptLogin::new(dir.path(), &folder, "alice", Keyring::default());
    let (mut app, _) = App::new(Setup { data_root: Some(dir.path().to_path_buf()), ..Setup::default() });
    assert!(!login_screen(&app).choosing, "no account yet: the form");
    assert!(Simulator::with_settings(fonts(), app.view()).find("All accounts").is_err());
    run_ready(app.update(Message::Login(login::Message::Finished(Ok(session())))));
    assert_eq!(kept.load().await, Some("token".to_owned()));

    // Switch account: the list, Alice still signed in.
    run(&mut app, &|ui| {
        ui.click("Settings").expect("the settings button");
    });
    run(&mut app, &|ui| {
        ui.click("Switch account").expect("the switch button");
    });
    assert!(login_screen(&app).choosing);
    assert_eq!(kept.load().await, Some("token".to_owned()), "switching keeps the login");
    {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        for line in ["Choose an account", "Alice Liddell", "alice · 127.0.0.1:8000", "Signed in"] {
            assert!(ui.find(line).is_ok(), "{line:?} in the list");
        }
        assert!(ui.find(selector::id(login::id::PASSWORD)).is_err(), "no form");
    }

    // Use another account: the empty form, and back to the list.
    run(&mut app, &|ui| {
        ui.click("Use another account").expect("use another account");
    });
    assert!(!login_screen(&app).choosing && login_screen(&app).username.is_empty());
    run(&mut app, &|ui| {
        ui.click("All accounts").expect("back to the list");
    });
    assert!(login_screen(&app).choosing);

    // One click on a signed-in account: its kept login, no password.
    let produced = run(&mut app, &|ui| {
        ui.click(selector::id(login::id::account(0))).expect("Alice's entry");
    });
    assert!(matches!(produced.as_slice(), [Message::Login(login::Message::OpenAccount(0))]));
    assert!(login_screen(&app).busy, "signing in with the kept login");
    assert!(Simulator::with_settings(fonts(), app.view()).find("Opening…").is_ok());
    let _ = app.update(Message::Login(login::Message::Resumed(Ok(session()))));
    assert!(matches!(app.screen, Screen::Home(_)));

    // Logged out: listed as signed out; a click fills the form for the password.
    let _ = app.update(Message::Home(home::Message::LogOut));
    run_ready(app.update(Message::Home(home::Message::Session(session::Message::LoggedOut(Ok(()))))));
    assert_eq!(kept.load().await, None);
    assert!(Simulator::with_settings(fonts(), app.view()).find("Signed out").is_ok());
    let _ = app.update(Message::Login(login::Message::UsernameChanged("someone".into())));
    run(&mut app, &|ui| {
        ui.click("Alice Liddell").expect("Alice's entry");
    });
    let form = login_screen(&app);
    assert!(!form.choosing && !form.busy);
    assert_eq!((form.server.as_str(), form.username.as_str()), ("127.0.0.1:8000", "alice"));

    // Removed: out of the list (kept across starts), the form since none is left.
    run(&mut app, &|ui| {
        ui.click("All accounts").expect("back to the list");
    });
    run(&mut app, &|ui| {
        ui.click(selector::id(login::id::remove_account(0))).expect("Alice's Remove");
    });
    assert!(app.accounts.list.is_empty() && !login_screen(&app).choosing);
    let (app, _) = App::new(Setup { data_root: Some(dir.path().to_path_buf()), ..Setup::default() });
    assert!(login_screen(&app).accounts.is_empty());
}

/// The account list on the login screen shows the display name the user has now: renamed in
/// the profile panel, on another device, or while this one was away.
#[test]
fn a_new_display_name_reaches_the_account_list_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut app, _) = App::new(Setup { data_root: Some(dir.path().to_path_buf()), ..Setup::default() });
    let _ = app.update(Message::Login(login::Message::Finished(Ok(session()))));
    let listed = || -> Vec<String> {
        crate::accounts::Accounts::load(Some(dir.path()))
            .list
            .iter()
            .map(|a| a.display_name.clone())
            .collect()
    };
    assert_eq!(listed(), ["Alice Liddell"]);
    let renamed = |name: &str| UserProfile { display_name: name.into(), ..alice() };

    // In the profile panel.
    let _ = app.update(Message::Home(home::Message::OpenProfile));
    let saved = home::profile::Message::DisplayNameSaved(Ok(renamed("Alice in Wonderland")));
    let _ = app.update(Message::Home(home::Message::Profile(saved)));
    assert_eq!(listed(), ["Alice in Wonderland"]);

    // On another device.
    let pushed = ServerFrame::ProfileUpdated { user: renamed("Alice L.") };
    let _ = app.update(Message::Socket(socket::Event::Received(pushed)));
    assert_eq!(listed(), ["Alice L."]);
    assert_eq!(app.accounts.list[0].display_name, "Alice L.", "the list in memory too");

    // While this device was away: the server's welcome says it.
    let (connection, _frames) = socket::Connection::stub(4);
    let welcome =
        socket::Event::Connected { connection, user: renamed("Alice"), limits: socket::Limits::default() };
    let _ = app.update(Message::Socket(welcome));
    assert_eq!(listed(), ["Alice"]);
}

#[tokio::test]
async fn an_unreachable_server_offers_the_cached_history_before_any_login() {
    let dir = tempfile::tempdir().expect("temp dir");
    previous_session(dir.path()).await.close().await;
    let start = |username: &str| {
        let settings = Settings { username: username.into(), ..Settings::default() };
        App::new(Setup { settings, data_root: Some(dir.path().to_path_buf()), ..Setup::default() })
    };
    // Someone with no chats kept on this machine: nothing to check.
    let (_, task) = start("carol");
    assert_eq!(task.units(), 1, "only the focus");
    // Alice's chats are kept: the server is checked at once.
    let (mut app, task) = start("alice");
    assert_eq!(task.units(), 2, "the focus and the check");
    assert!(login_screen(&app).offline.is_none(), "not before the answer");
    let _ = app.update(Message::Login(login::Message::Probed(Err(unreachable()))));
    assert!(login_screen(&app).offline.is_some());
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("Browse offline").is_ok(), "offered without typing a password");

    // A server that answers: nothing changes.
    let (mut app, _) = start("alice");
    let _ = app.update(Message::Login(login::Message::Probed(Ok(()))));
    assert!(login_screen(&app).offline.is_none() && login_screen(&app).error.is_none());
}

#[tokio::test]
async fn offline_browsing_is_offered_only_when_unreachable_and_cached() {
    let dir = tempfile::tempdir().expect("temp dir");
    let history = previous_session(dir.path()).await;
    history.close().await;

    // A wrong password is not a reason to browse offline.
    let mut app = typed_login(dir.path());
    let wrong = crate::api::ApiError::Server {
        status: 401,
        code: kith_shared::ErrorCode::WrongCredentials,
        message: "wrong user name or password".into(),
    };
    let _ = app.update(Message::Login(login::Message::Finished(Err(wrong))));
    assert!(login_screen(&app).offline.is_none());
    assert!(Simulator::with_settings(fonts(), app.view()).find("Browse offline").is_err());

    // Another user name on the same machine has no cache.
    let _ = app.update(Message::Login(login::Message::UsernameChanged("carol".into())));
    let _ = app.update(Message::Login(login::Message::Submit));
    let _ = app.update(Message::Login(login::Message::Finished(Err(unreachable()))));
    assert!(login_screen(&app).offline.is_none());

    // Without a data folder there is nothing to browse.
    let (mut app, _) = App::new(Setup::default());
    let _ = app.update(Message::Login(login::Message::UsernameChanged("alice".into())));
    let _ = app.update(Message::Login(login::Message::Finished(Err(unreachable()))));
    assert!(login_screen(&app).offline.is_none());
}

#[test]
fn login_keeps_the_lists_for_offline_browsing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let setup = Setup { data_root: Some(dir.path().to_path_buf()), ..Setup::default() };
    let (mut app, _) = App::new(setup);
    let _ = app.update(Message::Login(login::Message::Finished(Ok(session()))));
    let folder = session().address.folder_name();
    let path = crate::offline::Snapshot::path_for(dir.path(), &folder, "alice");
    let saved = crate::offline::Snapshot::load(&path).expect("load").expect("written at login");
    assert_eq!(saved.user.id, alice().id);
    assert!(saved.friends.is_empty());
    let bob = UserProfile { id: 9, username: "bob".into(), display_name: "Bob".into(), avatar_url: None };
    let friends = vec![Friend { user: bob, online: true, conversation_id: 42 }];
    let _ = app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(friends)))));
    let saved = crate::offline::Snapshot::load(&path).expect("load").expect("present");
    assert_eq!(saved.friends.len(), 1);
}

#[test]
fn the_emoji_panel_searches_and_inserts_and_messages_show_emoji_as_pictures() {
    let mut app = logged_in();
    let bob = bob();
    let _ = app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    let _ = app.update(Message::Home(home::Message::EmojiLoaded(Ok(crate::emoji::tests::sample()))));
    let now = clock::now_ms();
    let messages = vec![stored(1, 8, now, "Good game 👍 see you"), stored(2, 8, now, "😀")];
    let _ = app.update(Message::Home(home::Message::ChatLoaded(10, Ok(messages))));
    {
        // One text, the emoji among the words drawn as a picture; an emoji alone is large.
        let mut ui = Simulator::with_settings(fonts(), app.view());
        assert!(ui.find("Good game 👍 see you").is_ok());
        let alone = ui.find("😀").expect("an emoji alone").bounds();
        assert!(alone.height >= 40.0, "an emoji alone is large: {alone:?}");
    }

    run(&mut app, &|ui| {
        ui.click("☺").expect("the emoji button");
    });
    assert!(home(&app).chat.as_ref().is_some_and(|c| c.emoji_open));
    run(&mut app, &|ui| {
        ui.click(selector::id(chat::id::EMOJI_SEARCH)).expect("the search field");
        ui.typewrite("thumb");
    });
    {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        assert!(ui.find(selector::id(chat::id::emoji("1f44d"))).is_ok(), "thumbs up matches");
        assert!(ui.find(selector::id(chat::id::emoji("1f600"))).is_err(), "the grin does not");
    }
    run(&mut app, &|ui| {
        ui.click(selector::id(chat::id::emoji("1f44d"))).expect("the thumbs up");
    });
    let chat = home(&app).chat.as_ref().expect("the chat");
    assert_eq!(chat.composer.text().trim(), "👍", "inserted into the composer");

    // Escape closes the panel.
    let _ = app.update(Message::Home(home::Message::Escape));
    assert!(!home(&app).chat.as_ref().is_some_and(|c| c.emoji_open));
}

#[test]
fn the_emoji_panel_has_categories_a_skin_tone_and_the_recently_used_emoji_kept_for_the_user() {
    use crate::emoji::Tone;
    let dir = tempfile::tempdir().expect("temp dir");
    // The app as it starts on this data folder, in the chat with Bob, the server's set loaded.
    let start = || {
        let (mut app, _) = App::new(Setup { data_root: Some(dir.path().to_path_buf()), ..Setup::default() });
        let _ = app.update(Message::Login(login::Message::Finished(Ok(session()))));
        let _ = app
            .update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
        let _ = app.update(Message::Home(home::Message::Open(10)));
        let _ = app.update(Message::Home(home::Message::EmojiLoaded(Ok(crate::emoji::tests::sample()))));
        run(&mut app, &|ui| {
            ui.click("☺").expect("the emoji button");
        });
        app
    };
    let cell = |emoji: &str| selector::id(chat::id::emoji(&crate::emoji::code(emoji)));
    let shows =
        |app: &App, emoji: &str| Simulator::with_settings(fonts(), app.view()).find(cell(emoji)).is_ok();

    let mut app = start();
    // Nothing used yet: the smileys, the set's pictures among the font's emoji.
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("Smileys & emotion").is_ok(), "the first category's name");
    drop(ui);
    assert!(shows(&app, "😀") && shows(&app, "🫠"), "a picture of the set and a font emoji");
    assert!(!shows(&app, "👋"), "one category at a time");

    run(&mut app, &|ui| {
        ui.click(selector::id(chat::id::emoji_tab(chat::Tab::Group(emojis::Group::PeopleAndBody))))
            .expect("the people tab");
    });
    assert!(shows(&app, "👋") && !shows(&app, "😀"));
    assert!(Simulator::with_settings(fonts(), app.view()).find("People & body").is_ok());

    // A skin tone applies to every emoji that takes one.
    run(&mut app, &|ui| {
        ui.click(selector::id(chat::id::skin_tone(Tone::Medium))).expect("the medium tone");
    });
    assert!(shows(&app, "👋🏽") && !shows(&app, "👋"), "the wave in the medium tone");
    assert!(shows(&app, "🧑🏽\u{200d}🤝\u{200d}🧑🏽"), "both people of a handshake");
    run(&mut app, &|ui| {
        ui.click(cell("👋🏽")).expect("the toned wave");
    });
    run(&mut app, &|ui| {
        ui.click(selector::id(chat::id::emoji_tab(chat::Tab::Group(emojis::Group::AnimalsAndNature))))
            .expect("the animals tab");
    });
    assert!(!shows(&app, "👋🏽"));
    run(&mut app, &|ui| {
        ui.click(cell("🐵")).expect("the monkey");
    });
    let chat = home(&app).chat.as_ref().expect("the chat");
    assert_eq!(chat.composer.text().trim(), "👋🏽🐵", "inserted at the cursor");

    // Recently used: most recent first.
    run(&mut app, &|ui| {
        ui.click(selector::id(chat::id::emoji_tab(chat::Tab::Recent))).expect("the recent tab");
    });
    assert!(shows(&app, "🐵") && shows(&app, "👋🏽") && !shows(&app, "🐶"));
    assert_eq!(home(&app).chat.as_ref().expect("the chat").picker.choices.recent, ["🐵", "👋🏽"]);
    // Escape still closes the panel.
    let _ = app.update(Message::Home(home::Message::Escape));
    assert!(!home(&app).chat.as_ref().is_some_and(|c| c.emoji_open));

    // The next start on this data folder: the panel opens on them, in the tone chosen.
    let app = start();
    let picker = &home(&app).chat.as_ref().expect("the chat").picker;
    assert_eq!(picker.choices.recent, ["🐵", "👋🏽"]);
    assert_eq!(picker.choices.tone, Tone::Medium);
    assert_eq!(picker.tab, chat::Tab::Recent);
    assert!(shows(&app, "🐵") && shows(&app, "👋🏽"));
}

#[test]
fn the_emoji_panel_searches_the_whole_list_by_name_and_shortcode() {
    let mut app = logged_in();
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    // Without the server's set too: the panel has the whole list.
    run(&mut app, &|ui| {
        ui.click("☺").expect("the emoji button");
    });
    run(&mut app, &|ui| {
        ui.click(selector::id(chat::id::EMOJI_SEARCH)).expect("the search field");
        ui.typewrite("crab");
    });
    let shows = |app: &App, emoji: &str| {
        let id = chat::id::emoji(&crate::emoji::code(emoji));
        Simulator::with_settings(fonts(), app.view()).find(selector::id(id)).is_ok()
    };
    assert!(shows(&app, "🦀") && !shows(&app, "😀"));
    // A shortcode.
    let _ = app.update(Message::Home(home::Message::Chat(chat::Message::EmojiQuery("+1".into()))));
    assert!(shows(&app, "👍"));
    let _ = app.update(Message::Home(home::Message::Chat(chat::Message::EmojiQuery("zzzz".into()))));
    assert!(Simulator::with_settings(fonts(), app.view()).find("No emoji by that name.").is_ok());
}

/// Renders one emoji as the chat draws an emoji it has no picture of, and counts the pixels
/// of strong colour (the text font would draw an empty box, or a black glyph).
fn coloured_pixels(emoji: &str, dir: &std::path::Path) -> usize {
    let stem =
        format!("emoji-{}", emoji.chars().map(|c| format!("{:x}", c as u32)).collect::<Vec<_>>().join("-"));
    coloured_pixels_of(widget::emoji::<()>(emoji, 96.0), (160.0, 160.0), &stem, dir)
}

/// Renders `view` at `size` into `dir` (its snapshot's file named after `stem`) and counts
/// the pixels of strong colour.
pub fn coloured_pixels_of<'a, M: 'a>(
    view: iced::Element<'a, M, iced::Theme, iced::Renderer>,
    size: (f32, f32),
    stem: &str,
    dir: &std::path::Path,
) -> usize {
    let mut ui = Simulator::with_size(fonts(), size, view);
    let snapshot = ui.snapshot(&widget::theme(false)).expect("a snapshot");
    assert!(snapshot.matches_image(dir.join(stem)).expect("the snapshot is written"));
    let file = std::fs::read_dir(dir)
        .expect("the folder")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name().is_some_and(|name| name.to_string_lossy().starts_with(&format!("{stem}-")))
        })
        .expect("the snapshot's file");
    let picture = image::open(file).expect("the snapshot decodes").to_rgba8();
    picture
        .pixels()
        .filter(|pixel| {
            let [r, g, b, _] = pixel.0;
            r.max(g).max(b) - r.min(g).min(b) > 60
        })
        .count()
}

#[test]
fn emoji_sequences_without_a_picture_are_drawn_in_colour() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A flag, a keycap, a skin tone, a rainbow flag, a subdivision flag, a ZWJ sequence, and
    // an emoji the text font has a black glyph of. (Noto draws families grey: no test here.)
    let samples = [
        "🇩🇪",
        "1\u{fe0f}\u{20e3}",
        "👍🏽",
        "🏳\u{fe0f}\u{200d}🌈",
        "🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}",
        "🧑\u{200d}🤝\u{200d}🧑",
        "😀",
    ];
    for emoji in samples {
        let coloured = coloured_pixels(emoji, dir.path());
        assert!(coloured > 2000, "{emoji} is drawn in colour: {coloured} pixels of strong colour");
    }
}

/// An app that logged in as Alice with these settings, saved at `path`, in the chat with Bob.
fn chatting_with(settings: Settings, path: &std::path::Path) -> App {
    let setup = Setup { settings, settings_path: Some(path.to_path_buf()), ..Setup::default() };
    let (mut app, _) = App::new(setup);
    let _ = app.update(Message::Login(login::Message::Finished(Ok(session()))));
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    app
}

#[test]
fn without_a_system_dialog_files_are_chosen_in_the_browser_where_they_were_last() {
    use crate::file_dialog::Answer;
    use crate::screen::attach;
    let dir = tempfile::tempdir().expect("temp dir");
    let desk = dir.path().join("desk");
    std::fs::create_dir(&desk).expect("mkdir");
    std::fs::write(desk.join("notes.txt"), b"hello").expect("write");
    let settings_path = dir.path().join("settings.json");
    let remembered = Settings { last_folder: Some(desk.clone()), ..Settings::default() };
    let mut app = chatting_with(remembered, &settings_path);
    run(&mut app, &|ui| {
        ui.click("Files").expect("the files button");
    });
    assert!(home(&app).panel.is_none(), "the system's dialog is asked first, off the UI thread");
    // No portal answers (as under Xvfb): the built-in browser opens, in the folder used last.
    let _ = app.update(Message::Home(home::Message::Dialog(home::AttachFor::Chat, Answer::Unavailable)));
    let Some(home::Panel::Attach(panel, home::AttachFor::Chat)) = &home(&app).panel else {
        panic!("the built-in browser opens")
    };
    assert_eq!((&panel.folder, &panel.mode), (&desk, &attach::Mode::Open));
    // The folder listing arrives (the runtime would read it off the UI thread).
    let entry = attach::Entry { name: "notes.txt".into(), folder: false, size: 5 };
    let _ = app
        .update(Message::Home(home::Message::Attach(attach::Message::Listed(desk.clone(), Ok(vec![entry])))));
    run(&mut app, &|ui| {
        ui.click("notes.txt").expect("the file");
    });
    assert!(home(&app).panel.is_none(), "back to the chat");
    let chat = home(&app).chat.as_ref().expect("the chat");
    assert_eq!(chat.staged, [chat::Staged { path: desk.join("notes.txt"), size: 5 }]);
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("Send the file").is_ok());
    assert!(ui.find("5 B").is_ok(), "its size");
}

#[test]
fn files_chosen_together_in_the_system_dialog_are_sent_in_the_order_chosen() {
    use crate::file_dialog::Answer;
    let dir = tempfile::tempdir().expect("temp dir");
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).expect("mkdir");
    let chosen = [photos.join("b-second.txt"), photos.join("a-third.txt"), photos.join("c-first.txt")];
    for (n, path) in chosen.iter().enumerate() {
        std::fs::write(path, vec![b'x'; n + 1]).expect("write");
    }
    let settings_path = dir.path().join("settings.json");
    let mut app = chatting_with(Settings::default(), &settings_path);
    // The user closes the dialog: nothing changes.
    let _ = app.update(Message::Home(home::Message::Dialog(home::AttachFor::Chat, Answer::Cancelled)));
    assert!(home(&app).panel.is_none() && open_chat(&app).staged.is_empty());
    assert_eq!(app.settings.last_folder, None);

    let _ = app
        .update(Message::Home(home::Message::Dialog(home::AttachFor::Chat, Answer::Chosen(chosen.to_vec()))));
    assert!(home(&app).panel.is_none(), "no browser: the system's dialog chose");
    let staged: Vec<_> = open_chat(&app).staged.iter().map(|s| s.path.clone()).collect();
    assert_eq!(staged, chosen, "they wait above the composer in the order chosen");
    // The folder is remembered for the next time, in the settings file too.
    assert_eq!(app.settings.last_folder.as_ref(), Some(&photos));
    let saved = Settings::load(&settings_path).expect("readable").expect("saved");
    assert_eq!(saved.last_folder, Some(photos.clone()));
    assert_eq!(home(&app).files.last_folder.as_ref(), Some(&photos), "the next dialog opens there");

    // Send: the files go one after the other, as dropped files do.
    let produced = run(&mut app, &|ui| {
        ui.click("Send 3 files").expect("the send button");
    });
    assert!(
        produced.iter().any(|m| matches!(m, Message::Home(home::Message::Chat(chat::Message::SendStaged)))),
        "{produced:?}"
    );
    let mut sources: Vec<_> = home(&app).files.transfers.values().filter_map(|t| t.source.clone()).collect();
    sources.sort();
    let mut wanted = chosen.to_vec();
    wanted.sort();
    assert_eq!(sources, wanted, "an upload for each file");
    assert!(open_chat(&app).staged.is_empty());
}

#[test]
fn the_folder_for_received_files_is_changed_in_the_settings() {
    use crate::file_dialog::Answer;
    use crate::screen::attach;
    let dir = tempfile::tempdir().expect("temp dir");
    let settings_path = dir.path().join("settings.json");
    let mut app = chatting_with(Settings::default(), &settings_path);
    let default = crate::settings::default_downloads().expect("a Downloads or home folder");
    assert_eq!(home(&app).files.folder.as_ref(), Some(&default), "received files go to Downloads");

    let _ = app.update(Message::Home(home::Message::OpenSettings));
    let produced = run(&mut app, &|ui| {
        assert!(ui.find(default.display().to_string().as_str()).is_ok(), "the folder is shown");
        ui.click(t!("settings-change-downloads").as_str()).expect("the change button");
    });
    assert!(produced.iter().any(|m| matches!(
        m,
        Message::Home(home::Message::Settings(home::settings::Message::ChangeDownloads))
    )));
    assert!(matches!(home(&app).panel, Some(home::Panel::Settings(_))), "the system's dialog is asked");

    // A folder chosen in the system's dialog: kept, saved, used by the next download.
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).expect("mkdir");
    let _ = app.update(Message::Home(home::Message::Dialog(
        home::AttachFor::Downloads,
        Answer::Chosen(vec![inbox.clone()]),
    )));
    assert!(matches!(home(&app).panel, Some(home::Panel::Settings(_))), "the settings stay open");
    assert_eq!(home(&app).files.folder.as_ref(), Some(&inbox));
    assert_eq!(
        Settings::load(&settings_path).expect("readable").expect("saved").downloads,
        Some(inbox.clone())
    );
    run(&mut app, &|ui| {
        assert!(ui.find(inbox.display().to_string().as_str()).is_ok(), "the new folder is shown");
    });

    // Without a system dialog, the built-in browser chooses a folder, starting at the current one.
    let _ = app.update(Message::Home(home::Message::Dialog(home::AttachFor::Downloads, Answer::Unavailable)));
    let Some(home::Panel::Attach(panel, home::AttachFor::Downloads)) = &home(&app).panel else {
        panic!("the built-in browser opens")
    };
    assert_eq!((&panel.folder, &panel.mode), (&inbox, &attach::Mode::Folder));
    let _ = app.update(Message::Home(home::Message::Attach(attach::Message::Up)));
    run(&mut app, &|ui| {
        ui.click("Use this folder").expect("the use button");
    });
    assert!(matches!(home(&app).panel, Some(home::Panel::Settings(_))), "back to the settings");
    assert_eq!(app.settings.downloads.as_deref(), Some(dir.path()));
    assert_eq!(home(&app).files.folder.as_deref(), Some(dir.path()));
    assert_eq!(
        Settings::load(&settings_path).expect("readable").expect("saved").downloads.as_deref(),
        Some(dir.path())
    );
    // The next start uses it.
    let saved = Settings::load(&settings_path).expect("readable").expect("saved");
    let next = chatting_with(saved, &settings_path);
    assert_eq!(home(&next).files.folder.as_deref(), Some(dir.path()));
}

#[test]
fn the_theme_the_window_size_and_the_last_chat_are_remembered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("settings.json");
    let setup = Setup { settings_path: Some(path.clone()), ..Setup::default() };
    let (mut app, _) = App::new(setup.clone());
    let _ = app.update(Message::Login(login::Message::Finished(Ok(session()))));
    assert!(!app.theme().extended_palette().is_dark);

    // Dark theme from the settings panel.
    let _ = app.update(Message::Home(home::Message::OpenSettings));
    let produced = {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        ui.click("Dark theme").expect("the dark theme toggle");
        ui.into_messages().collect::<Vec<_>>()
    };
    for message in produced {
        let _ = app.update(message);
    }
    assert!(app.theme().extended_palette().is_dark);
    let saved = || Settings::load(&path).expect("readable").expect("saved");
    assert!(saved().dark);

    // A drag resizes many times; the size is saved once the last resize has settled.
    let _ = app.update(Message::WindowResized(1200.4, 800.0));
    let _ = app.update(Message::WindowResized(1300.0, 850.0));
    let _ = app.update(Message::SaveWindow(1));
    assert_eq!(saved().window, None, "a newer resize came after the first");
    let _ = app.update(Message::SaveWindow(2));
    assert_eq!(saved().window, Some((1300, 850)));

    // The chat open last opens again at the next login, once the lists know it.
    let bob = bob();
    let _ = app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![
        bob.clone(),
    ])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    assert_eq!(saved().last_chats.values().copied().collect::<Vec<_>>(), [10]);

    let (mut again, _) = App::new(Setup { settings: saved(), settings_saved: true, ..setup });
    let _ = again.update(Message::Login(login::Message::Finished(Ok(session()))));
    assert!(home(&again).chat.is_none(), "not before the lists arrive");
    let _ =
        again.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob])))));
    assert_eq!(home(&again).chat.as_ref().map(|c| c.conversation_id), Some(10));
}

#[test]
fn requests_notify_in_the_background_and_own_requests_can_be_withdrawn() {
    use kith_shared::api::FriendRequest;
    let (notifier, notes) = crate::notify::Notifier::recording();
    let (mut app, _) = App::new(Setup { notifier, ..Setup::default() });
    let _ = app.update(Message::Login(login::Message::Finished(Ok(session()))));
    let dave = UserProfile { id: 9, username: "dave".into(), display_name: "Dave".into(), avatar_url: None };
    let bob = UserProfile { id: 8, username: "bob".into(), display_name: "Bob".into(), avatar_url: None };

    let _ = app.update(Message::WindowFocused(false));
    let incoming = FriendRequest { id: 1, from: dave, to: alice(), message: "chess?".into(), created_at: 0 };
    let _ = app.update(Message::Socket(socket::Event::Received(ServerFrame::FriendRequestReceived {
        request: incoming,
    })));
    assert_eq!(
        notes.try_recv().ok(),
        Some(crate::notify::Note {
            title: "Friend request".into(),
            body: "Dave wants to be your friend".into()
        })
    );

    // The user's own request shows in the inbox with Withdraw.
    let sent = FriendRequest { id: 2, from: alice(), to: bob, message: String::new(), created_at: 0 };
    let _ = app.update(Message::Socket(socket::Event::Received(ServerFrame::FriendRequestReceived {
        request: sent,
    })));
    assert!(notes.try_recv().is_err(), "one's own request is no news");
    let _ = app.update(Message::Home(home::Message::OpenRequests));
    let produced = {
        let mut ui = Simulator::with_settings(fonts(), app.view());
        assert!(ui.find("You asked Bob to be friends; waiting for an answer").is_ok());
        ui.click("Withdraw").expect("the withdraw button");
        ui.into_messages().collect::<Vec<_>>()
    };
    assert!(matches!(
        produced.as_slice(),
        [Message::Home(home::Message::Requests(home::requests::Message::Withdraw(2)))]
    ));
    for message in produced {
        let _ = app.update(message);
    }
    assert!(home(&app).session.roster.friend_requests.iter().all(|r| r.id != 2));
}

/// Bob's lines 1 to `count` in conversation 10, "line 1", "line 2", …
fn lines(count: i64) -> Vec<StoredMessage> {
    let now = clock::now_ms();
    (1..=count).map(|seq| stored(seq, 8, now, &format!("line {seq}"))).collect()
}

/// Draws a frame of `window` and handles what its widgets report (a scrolled log).
fn frame(app: &mut App, window: &mut Window) {
    for message in window.redraw(app) {
        let _ = app.update(message);
    }
}

/// Handles `message` as the runtime would: the view is laid out anew, then the widget
/// operations of the task it returned (scrolling) run on it.
fn update_in(app: &mut App, window: &mut Window, message: Message) {
    let task = app.update(message);
    frame(app, window);
    for message in window.run(app, task) {
        let _ = app.update(message);
    }
    frame(app, window);
}

// A runtime for the requests the tasks would make (never answered here).
#[tokio::test]
async fn a_chat_with_unread_messages_opens_at_a_divider_above_the_first() {
    let mut app = logged_in();
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    // The server says: 40 messages, read up to the 25th.
    let synced = crate::session::tests::sync_with(10, kith_shared::api::ConversationKind::Direct, 40, 25);
    let _ = app.update(Message::Socket(socket::Event::Received(synced)));
    let mut window = Window::new();
    update_in(&mut app, &mut window, Message::Home(home::Message::Open(10)));
    assert_eq!(home(&app).session.roster.unread(10), 0, "opening reads the conversation");
    update_in(&mut app, &mut window, Message::Home(home::Message::ChatLoaded(10, Ok(lines(40)))));

    assert!(window.shows(&app, "New messages"), "a divider above the first unread");
    assert!(window.shows(&app, "line 26"));
    assert!(!window.shows(&app, "line 40"), "the view starts at the first unread, not at the newest");
    assert!(!window.shows(&app, "line 20"));
    let log = window.scrolled_up_by(&app, chat::id::LOG);
    assert!(log > 100.0, "scrolled up from the newest: {log}");
    let chat = home(&app).chat.as_ref().expect("the chat is open");
    assert_eq!(chat.first_unread(), Some(26));
    assert_eq!(chat.hold_after, Some(40), "reading above: what comes next waits below");

    // Opened again with nothing unread: no divider, at the newest message.
    update_in(&mut app, &mut window, Message::Home(home::Message::Open(10)));
    update_in(&mut app, &mut window, Message::Home(home::Message::ChatLoaded(10, Ok(lines(40)))));
    assert!(!window.shows(&app, "New messages"));
    assert!(window.shows(&app, "line 40"));
    assert!(window.scrolled_up_by(&app, chat::id::LOG) < 1.0, "not where the chat was left before");
}

#[test]
fn a_search_result_in_read_history_counts_only_unread_messages_as_new() {
    let mut app = logged_in();
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    // 1000 messages, the last two unread; the search found the third.
    let synced = crate::session::tests::sync_with(10, kith_shared::api::ConversationKind::Direct, 1000, 998);
    let _ = app.update(Message::Socket(socket::Event::Received(synced)));
    let found = stored(3, 8, clock::now_ms(), "line 3");
    let _ = app.update(Message::Home(home::Message::Jumped(found.clone(), Ok(998))));
    let _ = app.update(Message::Home(home::Message::ChatLoaded(10, Ok(lines(1000)))));
    let chat = home(&app).chat.as_ref().expect("the chat is open");
    assert_eq!(chat.visible().filter_map(|m| m.seq).max(), Some(6), "the result and three after it");
    assert_eq!(chat.unseen(), 2, "seen messages below the result are not news");
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("2 new messages ↓").is_ok());
    assert!(ui.find("994 new messages ↓").is_err());
    drop(ui);

    // Everything read: the chip still leads back down, without calling anything new.
    let _ = app.update(Message::Home(home::Message::Jumped(found, Ok(998))));
    let _ = app.update(Message::Home(home::Message::ChatLoaded(10, Ok(lines(1000)))));
    assert_eq!(home(&app).chat.as_ref().map(chat::Chat::unseen), Some(0));
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("Newest messages ↓").is_ok());
}

/// Runs a task to its end and handles what it produced (its widget operations aside).
async fn settle(app: &mut App, task: iced::Task<Message>) {
    use futures_util::StreamExt;
    let Some(mut stream) = iced_test::runtime::task::into_stream(task) else { return };
    let mut produced = Vec::new();
    while let Some(action) = stream.next().await {
        if let iced_test::runtime::Action::Output(message) = action {
            produced.push(message);
        }
    }
    for message in produced {
        let _ = app.update(message);
    }
}

#[tokio::test]
async fn offline_a_picture_shows_from_the_thumbnail_kept_on_this_computer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let history = previous_session(dir.path()).await;
    let picture = kith_shared::frame::ChatMessage {
        id: 501,
        conversation_id: 42,
        seq: 2,
        sender_id: Some(9),
        client_id: None,
        sent_at: clock::now_ms(),
        content: Content::Image {
            upload_id: "0b7e-4c1d".into(),
            name: "harbour.jpg".into(),
            size: 30_000_000,
            mime: "image/jpeg".into(),
            width: 640,
            height: 480,
            thumbnail_id: "0b7e-4c1d-t".into(),
        },
        edited_at: None,
        reactions: Vec::new(),
        forwarded_from: None,
        muted: false,
    };
    history.store(&picture).await.expect("store");
    // Fetched in an earlier session (too large to be saved as it arrived).
    let folder = ServerAddress::parse("127.0.0.1:8000", "").expect("valid").folder_name();
    let thumbnails = dir.path().join(&folder).join(alice().id.to_string()).join("thumbnails");
    std::fs::create_dir_all(&thumbnails).expect("folder");
    ::image::RgbImage::from_pixel(8, 6, ::image::Rgb([20, 90, 160]))
        .save(thumbnails.join("0b7e-4c1d.png"))
        .expect("write the thumbnail");

    let mut app = typed_login(dir.path());
    let _ = app.update(Message::Login(login::Message::Finished(Err(unreachable()))));
    run(&mut app, &|ui| {
        ui.click("Browse offline").expect("browse offline button");
    });
    let _ = app
        .update(Message::Home(home::Message::Session(session::Message::HistoryOpened(Ok(history.clone())))));
    let _ = app.update(Message::Home(home::Message::Open(42)));
    let loaded = history.recent(42, 100).await.map_err(|e| e.to_string());
    let task = app.update(Message::Home(home::Message::ChatLoaded(42, loaded)));
    settle(&mut app, task).await;

    assert!(matches!(home(&app).files.thumbnail("0b7e-4c1d"), Some(crate::files::Picture::Ready(_))));
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("The picture cannot be shown.").is_err());
    assert!(ui.find("Loading the picture…").is_err());
    history.close().await;
}

#[test]
fn a_picture_arriving_below_does_not_shift_what_the_reader_reads() {
    let mut app = logged_in();
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    let mut messages = lines(40);
    messages[37].content = Content::Image {
        upload_id: "0b7e-4c1d".into(),
        name: "harbour.png".into(),
        size: 3_000,
        mime: "image/png".into(),
        width: 640,
        height: 480,
        thumbnail_id: "0b7e-4c1d-t".into(),
    };
    let _ = app.update(Message::Home(home::Message::ChatLoaded(10, Ok(messages))));
    let mut window = Window::new();
    frame(&mut app, &mut window);
    for message in window.wheel(&app, chat::id::LOG, 600.0) {
        let _ = app.update(message);
    }
    frame(&mut app, &mut window);
    let place = |window: &mut Window, app: &App| {
        window.find(app, "line 30").and_then(|line| iced_test::selector::Bounded::visible_bounds(&line))
    };
    let before = place(&mut window, &app).expect("line 30 is being read");

    // The thumbnail below (out of view) arrives.
    let mut png = std::io::Cursor::new(Vec::new());
    ::image::RgbImage::from_pixel(64, 48, ::image::Rgb([20, 90, 160]))
        .write_to(&mut png, ::image::ImageFormat::Png)
        .expect("encode");
    let arrived = home::Message::PictureLoaded("0b7e-4c1d".into(), Ok(png.into_inner()));
    let _ = app.update(Message::Home(arrived));
    frame(&mut app, &mut window);
    assert_eq!(place(&mut window, &app), Some(before), "line 30 stays where it was read");
}

/// Bob's chat of 40 lines open in a window, scrolled up 600 px to read: the app, the window
/// and how far up the view is.
fn reading_above() -> (App, Window, f32) {
    let mut app = logged_in();
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    let _ = app.update(Message::Home(home::Message::ChatLoaded(10, Ok(lines(40)))));
    let mut window = Window::new();
    frame(&mut app, &mut window);
    for message in window.wheel(&app, chat::id::LOG, 600.0) {
        let _ = app.update(message);
    }
    frame(&mut app, &mut window);
    let reading = window.scrolled_up_by(&app, chat::id::LOG);
    assert!(reading > 500.0, "{reading}");
    (app, window, reading)
}

#[test]
fn the_picture_viewer_leaves_the_chat_where_it_was_read() {
    let (mut app, mut window, reading) = reading_above();

    // A picture opens over the window, and closes again.
    let view = chat::Message::ViewImage { upload_id: "0b7e-4c1d".into(), name: "harbour.png".into() };
    let _ = app.update(Message::Home(home::Message::Chat(view)));
    frame(&mut app, &mut window);
    let _ = app.update(Message::Home(home::Message::CloseViewer));
    frame(&mut app, &mut window);
    // (Within a pixel: this app keeps no files, and the chat says so under the composer.)
    let after = window.scrolled_up_by(&app, chat::id::LOG);
    assert!((after - reading).abs() < 1.0, "the chat is where it was read: {after}, not {reading}");
    assert_eq!(home(&app).chat.as_ref().and_then(|c| c.hold_after), Some(40), "still reading above");
}

#[test]
fn a_panel_over_the_chat_leaves_it_where_it_was_read() {
    let (mut app, mut window, reading) = reading_above();

    // The settings cover the chat; a message arrives meanwhile; the settings close.
    update_in(&mut app, &mut window, Message::Home(home::Message::OpenSettings));
    let _ = app.update(Message::Home(home::Message::ChatLoaded(10, Ok(lines(41)))));
    update_in(&mut app, &mut window, Message::Home(home::Message::Escape));
    frame(&mut app, &mut window);
    let after = window.scrolled_up_by(&app, chat::id::LOG);
    assert!((after - reading).abs() < 1.0, "the chat is where it was read: {after}, not {reading}");
    let chat = home(&app).chat.as_ref().expect("the chat");
    assert_eq!((chat.hold_after, chat.unseen()), (Some(40), 1), "the new message waits below");
    assert!(window.shows(&app, "1 new message ↓"));
}

#[test]
fn the_window_has_a_minimum_size_and_ignores_a_saved_size_below_it() {
    let settings = crate::window_settings(None);
    assert_eq!(settings.min_size, Some(iced::Size::new(320.0, 400.0)));
    assert_eq!(settings.size, iced::Size::new(1000.0, 680.0));
    assert_eq!(crate::window_settings(Some((360, 500))).size, iced::Size::new(360.0, 500.0));
    assert_eq!(crate::window_settings(Some((200, 500))).size, iced::Size::new(1000.0, 680.0));
}

/// How many lines `content` takes in a message field `width` wide (8 px padding each side).
fn lines_in_field(content: &str, width: f32) -> f32 {
    use iced_test::core::text::{self, Paragraph as _};
    type Paragraph = <iced_test::renderer::Renderer as iced_test::core::text::Renderer>::Paragraph;
    let paragraph = Paragraph::with_text(text::Text {
        content,
        bounds: iced::Size::new(width - 16.0, f32::INFINITY),
        size: iced::Pixels(16.0),
        line_height: text::LineHeight::default(),
        font: widget::FONT,
        align_x: text::Alignment::Default,
        align_y: iced::alignment::Vertical::Top,
        shaping: text::Shaping::Advanced,
        wrapping: text::Wrapping::Word,
    });
    (paragraph.min_bounds().height / (16.0 * 1.3)).round()
}

/// The bounds of the widget with `id` on screen.
fn bounds_of(window: &mut Window, app: &App, id: &'static str) -> iced::Rectangle {
    let found = window.find(app, selector::id(id)).unwrap_or_else(|| panic!("no widget {id}"));
    iced_test::selector::Bounded::visible_bounds(&found).unwrap_or_else(|| panic!("{id} is not on screen"))
}

#[test]
fn a_narrow_window_shows_the_chat_full_width_with_a_usable_message_field() {
    for width in [320.0, 480.0, 700.0, 1000.0, 1400.0] {
        let mut app = logged_in();
        let _ = app
            .update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
        let _ = app.update(Message::Home(home::Message::Open(10)));
        let _ = app.update(Message::Home(home::Message::ChatLoaded(10, Ok(lines(40)))));
        let mut window = Window::sized(width, 600.0);
        frame(&mut app, &mut window);

        assert!(window.shows(&app, "line 40"), "{width} px: the chat is on screen");
        let field = bounds_of(&mut window, &app, chat::id::COMPOSER);
        assert!(field.width >= 200.0, "{width} px: the message field is {} px wide", field.width);
        assert!(field.x + field.width <= width, "{width} px: the field is inside the window");
        let placeholder = chat::placeholder(false, field.width);
        assert_eq!(lines_in_field(&placeholder, field.width), 1.0, "{width} px: {placeholder:?} is cut off");
        let side_bar = window.shows(&app, "Add friend");
        assert_eq!(side_bar, width >= home::NARROW, "{width} px: the side bar beside the chat or not");
        let log = bounds_of(&mut window, &app, chat::id::LOG);
        assert!(log.width <= chat::CHAT_MAX_WIDTH, "{width} px: the message column is capped: {}", log.width);
    }
}

#[test]
fn in_a_narrow_window_the_side_bar_comes_over_the_chat_and_goes_when_a_chat_opens() {
    let mut app = logged_in();
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let size = iced::Size::new(480.0, 600.0);
    // Nothing open: the side bar is the window.
    assert!(Simulator::with_size(fonts(), size, app.view()).find("Add friend").is_ok());
    run_at(&mut app, size, &|ui| {
        ui.click("Bob").expect("Bob in the list");
    });
    let mut ui = Simulator::with_size(fonts(), size, app.view());
    assert!(ui.find("Add friend").is_err(), "the chat takes the window");
    drop(ui);
    run_at(&mut app, size, &|ui| {
        ui.click("☰ Chats").expect("a button brings the list back");
    });
    assert!(home(&app).list_shown);
    run_at(&mut app, size, &|ui| {
        ui.click("«").expect("a button hides the list again");
    });
    assert!(!home(&app).list_shown);
    let _ = app.update(Message::Home(home::Message::ShowList(true)));
    let _ = app.update(Message::Home(home::Message::OpenSettings));
    assert!(!home(&app).list_shown, "a panel opened from the list takes the window");

    // A wide window folds the side bar away and brings it back.
    let wide = iced::Size::new(1000.0, 600.0);
    run_at(&mut app, wide, &|ui| {
        ui.click("«").expect("fold the side bar");
    });
    assert!(Simulator::with_size(fonts(), wide, app.view()).find("Add friend").is_err());
    run_at(&mut app, wide, &|ui| {
        ui.click("☰ Chats").expect("bring it back");
    });
    assert!(Simulator::with_size(fonts(), wide, app.view()).find("Add friend").is_ok());
}

/// Like [`run`], in a window of `size`.
fn run_at(app: &mut App, size: iced::Size, act: &dyn Fn(&mut Simulator<'_, Message>)) {
    let produced = {
        let mut ui = Simulator::with_size(fonts(), size, app.view());
        act(&mut ui);
        ui.into_messages().collect::<Vec<_>>()
    };
    for message in produced {
        let _ = app.update(message);
    }
}

#[test]
fn a_group_chat_in_a_narrow_window_leaves_its_members_out_for_the_message_field() {
    use kith_shared::api::{GroupMember, GroupProfile, MyGroup, Role};
    for (width, members) in [(480.0, false), (700.0, true), (1000.0, true), (1400.0, true)] {
        let mut app = logged_in();
        let group = GroupProfile {
            id: 20,
            name: "Climbers".into(),
            description: String::new(),
            owner_id: 8,
            member_count: 2,
            created_at: 0,
            announcement: None,
            avatar_url: None,
        };
        let mine = MyGroup { group, role: Role::Member, muted: false };
        let _ =
            app.update(Message::Home(home::Message::Session(session::Message::GroupsLoaded(Ok(vec![mine])))));
        let _ = app.update(Message::Home(home::Message::Open(20)));
        let member = GroupMember { user: alice(), role: Role::Member, online: true };
        let _ = app.update(Message::Home(home::Message::Session(session::Message::MembersLoaded(
            20,
            Ok(vec![member]),
        ))));
        let mut window = Window::sized(width, 600.0);
        frame(&mut app, &mut window);
        let field = bounds_of(&mut window, &app, chat::id::COMPOSER);
        assert!(field.width >= 200.0, "{width} px: the message field is {} px wide", field.width);
        assert_eq!(window.shows(&app, "Members · 1/1 online"), members, "{width} px");
        let log = bounds_of(&mut window, &app, chat::id::LOG);
        assert!(log.width <= chat::CHAT_MAX_WIDTH, "{width} px: the message column is capped: {}", log.width);
    }
}

#[test]
fn scrollbars_take_their_own_room_beside_the_lists() {
    let mut app = logged_in();
    let friends: Vec<Friend> = (0..30)
        .map(|i| Friend {
            user: UserProfile {
                id: 100 + i,
                username: format!("friend{i}"),
                display_name: format!("Friend {i}"),
                avatar_url: None,
            },
            online: false,
            conversation_id: 200 + i,
        })
        .chain([bob()])
        .collect();
    let _ = app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(friends)))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    let _ = app.update(Message::Home(home::Message::ChatLoaded(10, Ok(lines(40)))));
    let mut window = Window::sized(1000.0, 600.0);
    frame(&mut app, &mut window);
    for id in [home::id::LIST, chat::id::LOG] {
        match window.find(&app, selector::id(id)) {
            Some(iced_test::selector::Target::Scrollable { bounds, content_bounds, .. }) => {
                assert!(content_bounds.height > bounds.height, "{id} overflows");
                assert!(
                    content_bounds.x + content_bounds.width <= bounds.x + bounds.width - 10.0,
                    "{id}: the scrollbar would cover the content: {content_bounds:?} in {bounds:?}"
                );
            }
            other => panic!("no scrollable {id}: {other:?}"),
        }
    }
}

/// Whether a message is the one wanted.
type Wanted = dyn Fn(&Message) -> bool;

/// Clicks the field `id`, types `text` and presses Enter; returns the last message produced.
fn enter_in(app: &App, id: &'static str, text: &str) -> Option<Message> {
    let mut ui = Simulator::with_settings(fonts(), app.view());
    ui.click(selector::id(id)).unwrap_or_else(|_| panic!("no field {id}"));
    ui.typewrite(text);
    ui.tap_key(iced::keyboard::key::Named::Enter);
    ui.into_messages().last()
}

#[test]
fn enter_in_any_field_of_a_form_submits_it() {
    use crate::screen::{attach, group_admin, groups};
    use kith_shared::api::{GroupProfile, MyGroup, Role};
    let submits =
        |message: &Option<Message>, wanted: &dyn Fn(&Message) -> bool| message.as_ref().is_some_and(wanted);

    // Login and register, with the socket port shown.
    let (mut app, _) = App::new(Setup::default());
    let _ = app.update(Message::Login(login::Message::AdvancedToggled(true)));
    let _ = app.update(Message::Login(login::Message::ModeSwitched));
    for id in [
        login::id::SERVER,
        login::id::SOCKET_PORT,
        login::id::USERNAME,
        login::id::DISPLAY_NAME,
        login::id::PASSWORD,
    ] {
        let last = enter_in(&app, id, "x");
        assert!(submits(&last, &|m| matches!(m, Message::Login(login::Message::Submit))), "{id}: {last:?}");
    }

    let mut app = logged_in();
    let climbers = GroupProfile {
        id: 20,
        name: "Climbers".into(),
        description: String::new(),
        owner_id: 7,
        member_count: 1,
        created_at: 0,
        announcement: None,
        avatar_url: None,
    };
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let _ = app.update(Message::Home(home::Message::Session(session::Message::GroupsLoaded(Ok(vec![
        MyGroup { group: climbers, role: Role::Owner, muted: false },
    ])))));
    let panels: Vec<(home::Message, &'static str, &Wanted)> = vec![
        (home::Message::OpenAddFriend, home::add_friend::id::SEARCH, &|m| {
            matches!(m, Message::Home(home::Message::AddFriend(home::add_friend::Message::Search)))
        }),
        (home::Message::OpenAddFriend, home::add_friend::id::GREETING, &|m| {
            matches!(m, Message::Home(home::Message::AddFriend(home::add_friend::Message::Search)))
        }),
        (home::Message::OpenCreateGroup, groups::id::NAME, &|m| {
            matches!(m, Message::Home(home::Message::Groups(groups::Message::Create)))
        }),
        (home::Message::OpenCreateGroup, groups::id::DESCRIPTION, &|m| {
            matches!(m, Message::Home(home::Message::Groups(groups::Message::Create)))
        }),
        (home::Message::OpenJoinGroup, groups::id::SEARCH, &|m| {
            matches!(m, Message::Home(home::Message::Groups(groups::Message::Search)))
        }),
        (home::Message::OpenJoinGroup, groups::id::MESSAGE, &|m| {
            matches!(m, Message::Home(home::Message::Groups(groups::Message::Search)))
        }),
        (home::Message::OpenProfile, home::profile::id::DISPLAY_NAME, &|m| {
            matches!(m, Message::Home(home::Message::Profile(home::profile::Message::SaveDisplayName)))
        }),
        (home::Message::OpenProfile, home::profile::id::OLD_PASSWORD, &|m| {
            matches!(m, Message::Home(home::Message::Profile(home::profile::Message::SavePassword)))
        }),
        (home::Message::OpenProfile, home::profile::id::NEW_PASSWORD, &|m| {
            matches!(m, Message::Home(home::Message::Profile(home::profile::Message::SavePassword)))
        }),
        (home::Message::OpenProfile, home::profile::id::CONFIRM_PASSWORD, &|m| {
            matches!(m, Message::Home(home::Message::Profile(home::profile::Message::SavePassword)))
        }),
        (home::Message::Chat(chat::Message::ManageGroup), group_admin::id::NAME, &|m| {
            matches!(m, Message::Home(home::Message::GroupAdmin(group_admin::Message::SaveProfile)))
        }),
        (home::Message::Chat(chat::Message::ManageGroup), group_admin::id::DESCRIPTION, &|m| {
            matches!(m, Message::Home(home::Message::GroupAdmin(group_admin::Message::SaveProfile)))
        }),
        (home::Message::Chat(chat::Message::ManageGroup), group_admin::id::INVITE_MESSAGE, &|m| {
            matches!(m, Message::Home(home::Message::GroupAdmin(group_admin::Message::InviteSubmitted)))
        }),
        (
            home::Message::Dialog(home::AttachFor::Chat, crate::file_dialog::Answer::Unavailable),
            attach::id::PATH,
            &|m| matches!(m, Message::Home(home::Message::Attach(attach::Message::TypedSubmitted))),
        ),
    ];
    for (open, id, wanted) in panels {
        let _ = app.update(Message::Home(home::Message::Open(20)));
        let _ = app.update(Message::Home(open));
        let last = enter_in(&app, id, "x");
        assert!(submits(&last, wanted), "{id}: {last:?}");
    }

    // Enter in the invitation's message invites the one friend there is to invite.
    let _ = app.update(Message::Home(home::Message::Open(20)));
    let _ = app.update(Message::Home(home::Message::Chat(chat::Message::ManageGroup)));
    let _ = app.update(Message::Home(home::Message::GroupAdmin(group_admin::Message::InviteSubmitted)));
    let Some(home::Panel::GroupAdmin(panel)) = &home(&app).panel else { panic!("the group settings") };
    assert!(panel.busy, "the invitation to Bob is on its way");
}

#[tokio::test]
async fn logging_in_keeps_the_previous_lists_for_offline_browsing_until_the_new_ones_arrive() {
    use crate::offline::Snapshot;
    let dir = tempfile::tempdir().expect("temp dir");
    previous_session(dir.path()).await.close().await;
    let (mut app, _) = App::new(Setup { data_root: Some(dir.path().to_path_buf()), ..Setup::default() });
    let _ = app.update(Message::Login(login::Message::Finished(Ok(session()))));
    let path = Snapshot::path_for(dir.path(), &session().address.folder_name(), "alice");
    let saved = || Snapshot::load(&path).expect("readable").expect("written");
    // The server went away before this session's lists arrived: the last ones stand.
    assert_eq!(
        saved().friends.iter().map(|f| f.user.display_name.as_str()).collect::<Vec<_>>(),
        ["Bob Builder"]
    );
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    assert_eq!(saved().friends.iter().map(|f| f.user.display_name.as_str()).collect::<Vec<_>>(), ["Bob"]);
}

#[tokio::test]
async fn a_session_that_lost_the_server_browses_offline_with_the_names_of_group_senders() {
    use crate::history::History;
    use kith_shared::api::{GroupMember, GroupProfile, MyGroup, Role};
    // Without a data folder there is nothing to browse.
    let mut app = logged_in();
    let lost = socket::Event::Disconnected { reason: "refused".into(), retry_in: Duration::from_secs(8) };
    let _ = app.update(Message::Socket(lost.clone()));
    assert!(Simulator::with_settings(fonts(), app.view()).find("Browse offline").is_err());

    let dir = tempfile::tempdir().expect("temp dir");
    let (mut app, _) = App::new(Setup { data_root: Some(dir.path().to_path_buf()), ..Setup::default() });
    let _ = app.update(Message::Login(login::Message::Finished(Ok(session()))));
    let climbers = GroupProfile {
        id: 20,
        name: "Climbers".into(),
        description: String::new(),
        owner_id: 11,
        member_count: 2,
        created_at: 0,
        announcement: None,
        avatar_url: None,
    };
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let _ = app.update(Message::Home(home::Message::Session(session::Message::GroupsLoaded(Ok(vec![
        MyGroup { group: climbers, role: Role::Member, muted: false },
    ])))));
    let carol =
        UserProfile { id: 11, username: "carol".into(), display_name: "Carol".into(), avatar_url: None };
    let members = vec![
        GroupMember { user: alice(), role: Role::Member, online: true },
        GroupMember { user: carol, role: Role::Owner, online: true },
    ];
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::MembersLoaded(20, Ok(members)))));
    let history_path = History::path_for(dir.path(), &session().address.folder_name(), alice().id);
    let history = History::open(&history_path).await.expect("open the cache");
    let message = kith_shared::frame::ChatMessage {
        id: 600,
        conversation_id: 20,
        seq: 1,
        sender_id: Some(11),
        client_id: None,
        sent_at: clock::now_ms(),
        content: Content::text("Rope at six"),
        edited_at: None,
        reactions: Vec::new(),
        forwarded_from: None,
        muted: false,
    };
    history.store(&message).await.expect("store");

    // The server goes away and stays away.
    let _ = app.update(Message::Socket(lost));
    run(&mut app, &|ui| {
        ui.click("Browse offline").expect("the status line offers to browse offline");
    });
    assert!(home(&app).session.is_offline(), "browsing the local history");
    assert!(home(&app).session.socket_params().is_none(), "no socket offline");
    let _ = app
        .update(Message::Home(home::Message::Session(session::Message::HistoryOpened(Ok(history.clone())))));
    run(&mut app, &|ui| {
        ui.click("Climbers").expect("the group from the snapshot");
    });
    let loaded = history.recent(20, 300).await.map_err(|e| e.to_string());
    let _ = app.update(Message::Home(home::Message::ChatLoaded(20, loaded)));
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("Offline — history only").is_ok());
    assert!(ui.find("Rope at six").is_ok());
    assert!(ui.find("Carol").is_ok(), "the sender is named");
    assert!(ui.find("User 11").is_err());
    assert!(ui.find("Conversation 20").is_err());
    drop(ui);
    history.close().await;
}

#[tokio::test]
async fn a_former_friends_chat_keeps_their_name_offline() {
    use crate::history::History;
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut app, _) = App::new(Setup { data_root: Some(dir.path().to_path_buf()), ..Setup::default() });
    let _ = app.update(Message::Login(login::Message::Finished(Ok(session()))));
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    // The friendship ends; the history stays in the cache.
    let _ = app.update(Message::Socket(socket::Event::Received(ServerFrame::FriendRemoved { user_id: 8 })));
    let history_path = History::path_for(dir.path(), &session().address.folder_name(), alice().id);
    let history = History::open(&history_path).await.expect("open the cache");
    let message = kith_shared::frame::ChatMessage {
        id: 700,
        conversation_id: 10,
        seq: 1,
        sender_id: Some(8),
        client_id: None,
        sent_at: clock::now_ms(),
        content: Content::text("Bye for now"),
        edited_at: None,
        reactions: Vec::new(),
        forwarded_from: None,
        muted: false,
    };
    history.store(&message).await.expect("store");

    let lost = socket::Event::Disconnected { reason: "refused".into(), retry_in: Duration::from_secs(8) };
    let _ = app.update(Message::Socket(lost));
    let _ = app.update(Message::Home(home::Message::BrowseOffline));
    assert!(home(&app).session.is_offline());
    let _ = app
        .update(Message::Home(home::Message::Session(session::Message::HistoryOpened(Ok(history.clone())))));
    // Opened from a search result, say.
    let _ = app.update(Message::Home(home::Message::Open(10)));
    let loaded = history.recent(10, 300).await.map_err(|e| e.to_string());
    let _ = app.update(Message::Home(home::Message::ChatLoaded(10, loaded)));
    let mut ui = Simulator::with_settings(fonts(), app.view());
    assert!(ui.find("Bye for now").is_ok());
    assert!(ui.find("Bob").is_ok(), "the chat is named after the former friend");
    assert!(ui.find("Conversation 10").is_err());
    drop(ui);
    history.close().await;
}

mod reactions;
