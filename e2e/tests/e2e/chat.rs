//! Friends and their chats: a request with its message, typing, unread counts, the local
//! cache, recall; the same by clicking on the window (log in, avatar, inbox, receipts,
//! search, a new name); a message arriving while the reader is scrolled up.

use crate::common::{PASSWORD, TestServer, friends, registered, text_of};
use iced::widget::text_editor;
use iced_test::selector;
use kith_client::app::{Message, Screen};
use kith_client::headless::Window;
use kith_client::history::{Delivery, StoredMessage};
use kith_client::roster::Reach;
use kith_client::screen::{attach, chat, home, login, search};
use kith_client::session;
use kith_shared::frame::Content;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_from_a_reaches_b_cache_and_unread_count_then_is_recalled() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = registered(&server).await;
    let alice_id = alice.main().user().id;
    let bob_id = bob.main().user().id;

    // Alice finds Bob and asks him, with a message.
    alice.home(home::Message::OpenAddFriend);
    alice.home(home::Message::AddFriend(home::add_friend::Message::SearchChanged("bob".into())));
    alice.home(home::Message::AddFriend(home::add_friend::Message::GreetingChanged(
        "It's Alice from the climbing club".into(),
    )));
    alice.home(home::Message::AddFriend(home::add_friend::Message::Search));
    alice
        .until_home("the search finds Bob", |home| matches!(&home.panel, Some(home::Panel::AddFriend(search)) if search.results.iter().any(|hit| hit.user.username == "bob")))
        .await;
    alice.home(home::Message::AddFriend(home::add_friend::Message::Ask(bob_id)));

    // Bob sees the request live, with its message, and accepts it.
    bob.until_home("the request reaches Bob", |home| home.session.roster.pending_count() == 1).await;
    let request = bob.main().session.roster.incoming_friend_requests().next().expect("a request").clone();
    assert_eq!(request.from.id, alice_id);
    assert_eq!(request.message, "It's Alice from the climbing club");
    bob.home(home::Message::Requests(home::requests::Message::AnswerFriend { id: request.id, accept: true }));
    bob.until_home("Alice is Bob's friend", |home| home.session.roster.friends.contains_key(&alice_id)).await;
    alice.until_home("Bob is Alice's friend", |home| home.session.roster.friends.contains_key(&bob_id)).await;
    let conversation = alice.main().session.roster.friends[&bob_id].conversation_id;
    assert_eq!(bob.main().session.roster.friends[&alice_id].conversation_id, conversation);

    // Alice opens the chat, types and sends.
    alice.home(home::Message::Open(conversation));
    let typed = text_editor::Action::Edit(text_editor::Edit::Paste(Arc::new("Hello Bob!".to_owned())));
    alice.home(home::Message::Chat(chat::Message::Edit(typed)));
    bob.until_home("Bob sees Alice typing", |home| {
        home.typing_line(conversation).as_deref() == Some("Alice is typing…")
    })
    .await;
    alice.home(home::Message::Chat(chat::Message::Send));
    alice
        .until_home("Alice's copy is acknowledged", |home| {
            home.chat.as_ref().is_some_and(|chat| {
                chat.messages.iter().any(|m| text_of(m) == Some("Hello Bob!") && m.delivery == Delivery::Sent)
            })
        })
        .await;

    // Bob, with the chat closed: one unread, the message in his local cache.
    bob.until_home("Bob has one unread message", |home| home.session.roster.unread(conversation) == 1).await;
    let cached =
        bob.until_cached(conversation, "Alice's message", |m| text_of(m) == Some("Hello Bob!")).await;
    assert_eq!(cached.len(), 1, "one copy: {cached:?}");
    assert_eq!(cached[0].sender_id, Some(alice_id));
    assert_eq!(cached[0].seq, Some(1));
    assert_eq!(bob.main().session.roster.total_unread(), 1);
    assert_eq!(bob.app.title(), "Kith (1) — Bob");

    // Opening the chat shows the message from the cache and clears the badge.
    bob.home(home::Message::Open(conversation));
    bob.until_home("Bob's chat shows the message", |home| {
        home.chat.as_ref().is_some_and(|chat| chat.messages.iter().any(|m| text_of(m) == Some("Hello Bob!")))
    })
    .await;
    assert_eq!(bob.main().session.roster.unread(conversation), 0);
    assert_eq!(bob.app.title(), "Kith — Bob");
    assert_eq!(bob.main().typing_line(conversation), None, "the message ended the typing");

    // Alice recalls it: both caches and both chats show it as recalled.
    alice.home(home::Message::Chat(chat::Message::Recall(1)));
    let recalled = |m: &StoredMessage| m.seq == Some(1) && m.content == Content::RECALLED;
    alice.until_cached(conversation, "the recalled marker", recalled).await;
    bob.until_cached(conversation, "the recalled marker", recalled).await;
    bob.until_home("Bob's chat shows the recall", |home| {
        home.chat.as_ref().is_some_and(|chat| chat.messages.iter().any(recalled))
    })
    .await;

    server.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_accept_a_request_and_chat_by_clicking() {
    let server = TestServer::start().await;
    let (mut alice, mut bob) = registered(&server).await;
    let alice_id = alice.main().user().id;
    let bob_id = bob.main().user().id;

    // Alice logs out, then logs in again on the login screen: her account, listed signed out,
    // fills in the server and name.
    alice.ui(|ui| {
        ui.click("Log out").expect("log out button");
    });
    alice.until("back at the login screen", |app| matches!(app.screen, Screen::Login(_))).await;
    alice.ui(|ui| {
        ui.click("Alice").expect("her account in the list");
    });
    alice.ui(|ui| {
        ui.click(selector::id(login::id::PASSWORD)).expect("password field");
        ui.typewrite(PASSWORD);
        ui.click("Log in").expect("log in button");
    });
    alice
        .until_home("logged in again and connected", |home| home.session.status == session::Status::Online)
        .await;

    // Bob picks a picture for his avatar in the profile panel.
    let desk = tempfile::tempdir().expect("temp dir");
    let portrait = desk.path().join("me.png");
    ::image::RgbImage::from_pixel(32, 32, ::image::Rgb([200, 80, 40])).save(&portrait).expect("write");
    bob.home(home::Message::OpenProfile);
    bob.ui(|ui| {
        ui.click("Change picture…").expect("the avatar button");
    });
    // No desktop portal here: the built-in browser opens in place of the system's dialog.
    bob.until_home("the file browser opens", |home| matches!(home.panel, Some(home::Panel::Attach(..))))
        .await;
    bob.home(home::Message::Attach(attach::Message::Choose(portrait)));
    bob.until_home("Bob's avatar is saved", |home| home.user().avatar_url.is_some() && home.avatar.is_some())
        .await;

    // Bob asks Alice; she opens the inbox, reads his message and accepts.
    bob.home(home::Message::OpenAddFriend);
    bob.home(home::Message::AddFriend(home::add_friend::Message::GreetingChanged(
        "Bob from the chess club".into(),
    )));
    bob.home(home::Message::AddFriend(home::add_friend::Message::Ask(alice_id)));
    alice.until_home("the request reaches Alice", |home| home.session.roster.pending_count() == 1).await;
    alice.ui(|ui| {
        ui.click("Requests").expect("requests button");
    });
    assert!(alice.sees("“Bob from the chess club”"), "the request's message is shown");
    alice.ui(|ui| {
        ui.click("Accept").expect("accept button");
    });
    alice.until_home("Bob is Alice's friend", |home| home.session.roster.friends.contains_key(&bob_id)).await;
    bob.until_home("Alice is Bob's friend", |home| home.session.roster.friends.contains_key(&alice_id)).await;
    let conversation = alice.main().session.roster.friends[&bob_id].conversation_id;
    alice
        .until_home("Alice has Bob's picture", |home| {
            home.files.avatar(home.session.roster.friends[&bob_id].user.avatar_url.as_deref()).is_some()
        })
        .await;

    // Alice clicks Bob in her list, types and presses Enter: the message appears in her chat.
    alice.ui(|ui| {
        ui.click("Bob").expect("Bob in the friends list");
    });
    assert_eq!(alice.main().chat.as_ref().map(|chat| chat.conversation_id), Some(conversation));
    alice.ui(|ui| {
        ui.click(selector::id(chat::id::COMPOSER)).expect("the composer");
        ui.typewrite("Hello from the window");
        ui.tap_key(iced::keyboard::key::Named::Enter);
    });
    alice
        .until_home("Alice's message is stored by the server", |home| {
            home.chat.as_ref().is_some_and(|chat| {
                chat.messages
                    .iter()
                    .any(|m| text_of(m) == Some("Hello from the window") && m.delivery == Delivery::Sent)
            })
        })
        .await;
    assert!(alice.sees("Hello from the window"), "the message is on screen");

    // Bob's list previews it; his device says it arrived, and Alice's chat says so.
    bob.until_cached(conversation, "Alice's message", |m| text_of(m) == Some("Hello from the window")).await;
    bob.until_home("Bob's list shows the preview", |home| {
        home.session.previews.get(&conversation).map(String::as_str) == Some("Hello from the window")
    })
    .await;
    assert!(bob.sees("Hello from the window"), "the preview is on screen");

    // The server's emoji set arrived and is cached beside the history for next time.
    bob.until_home("the emoji set is loaded", |home| {
        home.emoji.as_ref().is_some_and(|set| set.entries.len() > 100)
    })
    .await;
    let history_db = bob.main().history_path.clone().expect("a data folder");
    let cache = history_db.parent().and_then(|user| user.parent()).expect("the server folder").join("emoji");
    assert!(cache.join("manifest.json").is_file());
    assert!(cache.join("1f600.png").is_file());
    let sent_at = alice.main().chat.as_ref().and_then(|chat| chat.messages.last()).map(|m| m.sent_at);
    let time = kith_client::clock::time_of_day(sent_at.expect("a message"));
    alice
        .until_home("Alice sees it delivered", |home| {
            home.session.roster.reach(conversation, 1) == Reach::Delivered
        })
        .await;
    assert!(alice.sees(&format!("{time} · delivered")));

    // Bob opens the chat: Alice sees it read.
    bob.ui(|ui| {
        ui.click("Alice").expect("Alice in the friends list");
    });
    alice
        .until_home("Alice sees it read", |home| home.session.roster.reach(conversation, 1) == Reach::Read)
        .await;
    assert!(alice.sees(&format!("{time} · read")));
    assert!(alice.sees("You: Hello from the window"), "Alice's own list previews her message");

    // Ctrl+F: Alice searches her history and jumps to the message.
    alice.home(home::Message::OpenSearch);
    alice.ui(|ui| {
        ui.click(selector::id(search::id::QUERY)).expect("the search field");
        ui.typewrite("windo");
    });
    alice
        .until_home(
            "the search finds the message",
            |home| matches!(&home.panel, Some(home::Panel::Search(search)) if search.results.len() == 1),
        )
        .await;
    alice.ui(|ui| {
        ui.click("Hello from the window").expect("the result");
    });
    alice
        .until_home("the chat shows the result", |home| {
            home.panel.is_none()
                && home.chat.as_ref().is_some_and(|chat| {
                    chat.highlight == Some(1)
                        && chat.visible().any(|m| text_of(m) == Some("Hello from the window"))
                })
        })
        .await;
    assert!(alice.sees("Found"), "the result is marked");

    // Bob changes his name: Alice's list says so at once.
    bob.home(home::Message::OpenProfile);
    bob.home(home::Message::Profile(home::profile::Message::DisplayNameChanged("Bobby".into())));
    bob.home(home::Message::Profile(home::profile::Message::SaveDisplayName));
    alice
        .until_home("Alice sees Bob's new name", |home| {
            home.session.roster.friends[&bob_id].user.display_name == "Bobby"
        })
        .await;
    assert!(alice.sees("Bobby"));

    server.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_from_the_other_side_waits_below_while_the_reader_is_scrolled_up() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, conversation) = friends(&server).await;

    // A long chat: more lines than the window shows.
    alice.home(home::Message::Open(conversation));
    for n in 1..=40 {
        alice.say(&format!("line {n}"));
    }
    alice
        .until_home("Alice's lines are stored by the server", |home| {
            home.chat.as_ref().is_some_and(|c| {
                c.messages.len() == 40 && c.messages.iter().all(|m| m.delivery == Delivery::Sent)
            })
        })
        .await;
    bob.until_cached(conversation, "Alice's last line", |m| text_of(m) == Some("line 40")).await;

    // Bob opens it at the newest line, then scrolls up with the mouse wheel to read.
    bob.home(home::Message::Open(conversation));
    bob.until_home("Bob's chat shows the lines", |home| {
        home.chat.as_ref().is_some_and(|c| c.messages.len() == 40)
    })
    .await;
    let mut window = Window::new();
    bob.frame(&mut window);
    // The chat opens at the first unread line; Bob goes down to the newest.
    let newest = bob.app.update(Message::Home(home::Message::Chat(chat::Message::JumpToNewest)));
    for message in window.run(&bob.app, newest) {
        bob.update(message);
    }
    bob.frame(&mut window);
    assert!(window.scrolled_up_by(&bob.app, chat::id::LOG) < 1.0, "Bob is at the newest line");
    assert!(
        window.shows_in(&bob.app, chat::id::LOG, "line 40"),
        "{:?}",
        bob.main().chat.as_ref().map(|c| c
            .messages
            .iter()
            .map(|m| (m.seq, text_of(m).map(str::to_owned)))
            .collect::<Vec<_>>())
    );
    for message in window.wheel(&bob.app, chat::id::LOG, 400.0) {
        bob.update(message);
    }
    bob.frame(&mut window);
    let reading = window.scrolled_up_by(&bob.app, chat::id::LOG);
    assert!(reading > 300.0, "Bob reads above the newest line: {reading}");
    assert!(!window.shows_in(&bob.app, chat::id::LOG, "line 40"));

    // Alice writes once more: it reaches Bob's chat through the server and his cache.
    alice.say("are you there?");
    alice
        .until_home("Alice's question is stored by the server", |home| {
            home.chat.as_ref().is_some_and(|c| c.messages.iter().any(|m| m.seq == Some(41)))
        })
        .await;
    bob.until_home("the new line is in Bob's chat", |home| {
        home.chat.as_ref().is_some_and(|c| c.messages.iter().any(|m| text_of(m) == Some("are you there?")))
    })
    .await;
    bob.frame(&mut window);
    bob.frame(&mut window);
    assert_eq!(window.scrolled_up_by(&bob.app, chat::id::LOG), reading, "the view stays where Bob reads");
    assert!(window.shows(&bob.app, "1 new message ↓"), "the chip counts the new line");
    assert!(!window.shows_in(&bob.app, chat::id::LOG, "are you there?"), "the new line waits below");
    assert!(!window.shows_in(&bob.app, chat::id::LOG, "line 40"));

    // The chip brings it in and goes.
    let jump = bob.app.update(Message::Home(home::Message::Chat(chat::Message::JumpToNewest)));
    for message in window.run(&bob.app, jump) {
        bob.update(message);
    }
    bob.frame(&mut window);
    assert!(window.scrolled_up_by(&bob.app, chat::id::LOG) < 1.0);
    assert!(window.shows_in(&bob.app, chat::id::LOG, "are you there?"));
    assert!(!window.shows(&bob.app, "1 new message ↓"));

    server.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_quotes_and_an_edit_reaches_the_friend_live_and_after_a_restart() {
    let server = TestServer::start().await;
    let (mut alice, mut bob, conversation) = friends(&server).await;
    alice.home(home::Message::Open(conversation));
    bob.home(home::Message::Open(conversation));
    alice.say("Lunch at noon?");
    let sent = |m: &StoredMessage| text_of(m) == Some("Lunch at noon?") && m.delivery == Delivery::Sent;
    alice.until_cached(conversation, "Alice's question acknowledged", sent).await;
    let question =
        bob.until_cached(conversation, "Alice's question", |m| text_of(m) == Some("Lunch at noon?")).await;
    let question = question.iter().find(|m| text_of(m) == Some("Lunch at noon?")).expect("held").clone();
    bob.until_home("Bob's chat shows it", |home| {
        home.chat.as_ref().is_some_and(|chat| chat.messages.iter().any(|m| m.seq == question.seq))
    })
    .await;

    // Bob replies from the message's menu: the quote bar, then his answer quoting the question.
    bob.home(home::Message::Chat(chat::Message::MessageMenu(Some(question.local_id))));
    bob.ui(|ui| {
        ui.click("Reply").expect("Reply in the menu");
    });
    assert!(bob.sees("Replying to Alice"));
    bob.say("Yes, noon");
    let answered = |m: &StoredMessage| text_of(m) == Some("Yes, noon") && m.delivery == Delivery::Sent;
    bob.until_cached(conversation, "Bob's answer acknowledged", answered).await;
    let quotes =
        |m: &StoredMessage| matches!(&m.content, Content::Text { reply_to, .. } if *reply_to == question.seq);
    alice.until_cached(conversation, "Bob's reply", quotes).await;
    alice
        .until_home("Alice's chat shows the reply", |home| {
            home.chat.as_ref().is_some_and(|chat| chat.messages.iter().any(quotes))
        })
        .await;
    let seq = question.seq.expect("sent");
    let roster = &alice.main().session.roster;
    let quote = alice.main().chat.as_ref().expect("open").quote_words(roster, seq);
    assert_eq!(quote, ("You".to_owned(), "Lunch at noon?".to_owned()), "Alice sees what Bob quotes");

    // Alice edits her question from its menu.
    let mine = alice.main().chat.as_ref().expect("open").message_at(seq).expect("held").local_id;
    alice.home(home::Message::Chat(chat::Message::MessageMenu(Some(mine))));
    alice.ui(|ui| {
        ui.click("Edit").expect("Edit in the menu of one's own message");
    });
    assert!(alice.sees("Editing your message"));
    alice.home(home::Message::Chat(chat::Message::Edit(text_editor::Action::SelectAll)));
    alice.say("Lunch at one?");
    let edited = |text: &'static str| {
        move |m: &StoredMessage| m.seq == Some(seq) && text_of(m) == Some(text) && m.edited_at.is_some()
    };
    alice.until_cached(conversation, "the edit acknowledged", edited("Lunch at one?")).await;
    let cached = bob.until_cached(conversation, "the edit", edited("Lunch at one?")).await;
    assert_eq!(cached.len(), 2, "the question and the reply; the edit is no line of its own: {cached:?}");
    bob.until_home("Bob's chat shows the new text", |home| {
        home.chat.as_ref().is_some_and(|chat| chat.messages.iter().any(edited("Lunch at one?")))
    })
    .await;
    let roster = &bob.main().session.roster;
    let quote = bob.main().chat.as_ref().expect("open").quote_words(roster, seq);
    assert_eq!(quote.1, "Lunch at one?", "the quote shows the message as it is now");
    assert_eq!(bob.main().session.roster.unread(conversation), 0, "an edit is no news");

    // Bob's app is closed; Alice edits again; started again, Bob's app catches up.
    let mut bob = bob.reopen(&server, "bob");
    alice.home(home::Message::Chat(chat::Message::MessageMenu(Some(mine))));
    alice.ui(|ui| {
        ui.click("Edit").expect("Edit in the menu");
    });
    alice.home(home::Message::Chat(chat::Message::Edit(text_editor::Action::SelectAll)));
    alice.say("Lunch at two?");
    alice.until_cached(conversation, "the second edit acknowledged", edited("Lunch at two?")).await;
    bob.until_home("Bob is back online", |home| home.session.status == session::Status::Online).await;
    bob.until_cached(conversation, "the edit made while away", edited("Lunch at two?")).await;

    server.server.shutdown().await;
}
