//! Reactions in the window: chips under a message with counts (one's own highlighted), a
//! click on a chip or a quick reaction in the menu toggles one's own, *More…* opens the emoji
//! panel to react with any emoji.

use super::{bob, logged_in, open_chat, stored};
use crate::app::{App, Message};
use crate::clock;
use crate::headless::fonts;
use crate::screen::{chat, home};
use crate::session;
use iced_test::Simulator;
use kith_shared::frame::Reactions;

fn chat_message(message: chat::Message) -> Message {
    Message::Home(home::Message::Chat(message))
}

/// Clicks the widget showing `label` and returns what it produced (not yet applied).
fn click(app: &App, label: &str) -> Vec<Message> {
    let mut ui = Simulator::with_settings(fonts(), app.view());
    ui.click(label).unwrap_or_else(|_| panic!("{label:?} on screen"));
    ui.into_messages().collect()
}

fn on_screen(app: &App, label: &str) -> bool {
    Simulator::with_settings(fonts(), app.view()).find(label).is_ok()
}

#[test]
fn reactions_show_as_chips_and_toggle_from_a_chip_the_menu_and_the_panel() {
    let mut app = logged_in();
    let _ =
        app.update(Message::Home(home::Message::Session(session::Message::FriendsLoaded(Ok(vec![bob()])))));
    let _ = app.update(Message::Home(home::Message::Open(10)));
    let now = clock::now_ms();
    let messages = vec![stored(1, 8, now, "Meet at the station?"), stored(2, 7, now, "On my way")];
    let _ = app.update(Message::Home(home::Message::ChatLoaded(10, Ok(messages))));
    assert!(!on_screen(&app, "👍"), "no reactions yet");

    // Bob and Alice put 👍 on Bob's message, Bob ❤️: two chips, "2" and "1".
    let reactions = [(
        1,
        vec![
            Reactions { emoji: "👍".into(), user_ids: vec![8, 7] },
            Reactions { emoji: "❤️".into(), user_ids: vec![8] },
        ],
    )];
    let _ =
        app.update(Message::Home(home::Message::ReactionsLoaded(10, Ok(reactions.into_iter().collect()))));
    assert!(on_screen(&app, "👍") && on_screen(&app, "❤️"));
    assert!(on_screen(&app, "2") && on_screen(&app, "1"), "the counts");
    assert_eq!(open_chat(&app).who_reacted(&crate::roster::Roster::new(7), &[8, 7]), "User 8 and You");

    // A click on the 👍 chip takes Alice's back; on ❤️ puts hers.
    let mut ui = Simulator::with_settings(fonts(), app.view());
    ui.click(iced_test::selector::id(chat::id::reaction(1, "👍"))).expect("the chip by its id");
    let produced: Vec<Message> = ui.into_messages().collect();
    assert!(
        matches!(produced.as_slice(), [Message::Home(home::Message::Chat(chat::Message::React(1, e)))] if e == "👍"),
        "{produced:?}"
    );
    let mut chat = chat::Chat::new(10, 7);
    chat.messages = vec![stored(1, 8, now, "Meet at the station?")];
    chat.reactions = open_chat(&app).reactions.clone();
    assert_eq!(
        chat.update(chat::Message::React(1, "👍".into())),
        Some(chat::Event::React { seq: 1, emoji: "👍".into(), on: false })
    );
    assert_eq!(
        chat.update(chat::Message::React(1, "❤️".into())),
        Some(chat::Event::React { seq: 1, emoji: "❤️".into(), on: true })
    );

    // The menu offers the quick reactions and More…; More… opens the panel to react.
    let _ = app.update(chat_message(chat::Message::MessageMenu(Some(2))));
    for emoji in chat::QUICK_REACTIONS {
        assert!(on_screen(&app, emoji), "{emoji} in the menu");
    }
    let produced = click(&app, "😮");
    assert!(
        matches!(produced.as_slice(), [Message::Home(home::Message::Chat(chat::Message::React(2, e)))] if e == "😮"),
        "{produced:?}"
    );
    let produced = click(&app, "More…");
    for message in produced {
        let _ = app.update(message);
    }
    assert_eq!(open_chat(&app).reacting, Some(2));
    assert!(open_chat(&app).emoji_open);
    assert!(on_screen(&app, "Choose an emoji to react with."));
}
