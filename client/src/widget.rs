//! The app's `Element` alias, its fonts and theme, and the small widgets every screen uses:
//! avatar, presence dot, unread badge, dialog, text with colour emoji.

use crate::emoji::{self, Segment};
use iced::widget::text::Span;
use iced::widget::{
    button, center, column, container, image, mouse_area, opaque, rich_text, row, span, stack, text,
};
use iced::{Alignment, Background, Border, Color, Font, Length, Theme, font};

pub type Element<'a, Message> = iced::Element<'a, Message>;

/// The bundled text font (DejaVu Sans), so the look does not depend on the machine.
pub const FONT_REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
pub const FONT_BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");
pub const FONT: Font = Font::with_name("DejaVu Sans");
pub const BOLD: Font = Font { weight: font::Weight::Bold, ..FONT };

/// The bundled fallback font for Chinese, Japanese and Korean (Droid Sans Fallback, Apache-2.0,
/// 4 MB): the text font has no Han characters, and iced's text shaping takes those from here
/// when the system has no font with them.
pub const FONT_CJK: &[u8] = include_bytes!("../assets/fonts/DroidSansFallbackFull.ttf");

/// The bundled colour emoji font (Noto Color Emoji 2.042, SIL OFL 1.1, 11 MB): every emoji
/// the server's pictures do not cover is drawn with it, each emoji in a run of its own (the
/// text font has no glyphs for most emoji, and black ones for some).
pub const FONT_EMOJI: &[u8] = include_bytes!("../assets/fonts/NotoColorEmoji.ttf");
/// The family name inside that font, which iced finds it by.
pub const EMOJI_FAMILY: &str = "Noto Color Emoji";
pub const EMOJI: Font = Font::with_name(EMOJI_FAMILY);

/// How wide the emoji font's pictures are, in ems.
const EMOJI_EM_WIDTH: f32 = 1.25;

/// One emoji in the colour font, about `side` pixels wide.
pub fn emoji<'a, Message: 'a>(emoji: &str, side: f32) -> Element<'a, Message> {
    text(emoji.to_owned()).font(EMOJI).size(side / EMOJI_EM_WIDTH).into()
}

/// One emoji in the colour font, about `side` pixels wide, as a span of a text.
pub fn emoji_span<'a>(emoji: &str, side: f32) -> Span<'a, (), Font> {
    span(emoji.to_owned()).font(EMOJI).size(side / EMOJI_EM_WIDTH)
}

/// A text whose emoji are drawn in colour: its words in `font`, each emoji a span of the
/// colour emoji font. For names and quoted messages. (Without emoji it is a plain text.)
pub fn emoji_text<'a, Message: 'a>(
    body: &str,
    size: f32,
    font: Font,
    style: impl Fn(&Theme) -> text::Style + 'a,
) -> Element<'a, Message> {
    let parts = emoji::segments(body, None);
    if !parts.iter().any(|part| matches!(part, Segment::Emoji(_))) {
        return text(body.to_owned()).size(size).font(font).style(style).into();
    }
    let spans: Vec<Span<'a, (), Font>> = parts
        .into_iter()
        .map(|part| match part {
            Segment::Word(word) => span(word.to_owned()),
            Segment::Emoji(emoji) => span(emoji.to_owned()).font(EMOJI),
            Segment::Break => span("\n"),
        })
        .collect();
    rich_text(spans).size(size).font(font).style(style).into()
}

/// The app's colours: a calm blue on light grey, or on dark grey.
pub fn theme(dark: bool) -> Theme {
    if dark {
        Theme::custom(
            "Kith dark",
            iced::theme::Palette {
                background: Color::from_rgb8(0x1B, 0x1E, 0x23),
                text: Color::from_rgb8(0xE3, 0xE6, 0xEA),
                primary: Color::from_rgb8(0x3C, 0x7D, 0xE8),
                success: Color::from_rgb8(0x3B, 0xB8, 0x6E),
                warning: Color::from_rgb8(0xE8, 0xA8, 0x35),
                danger: Color::from_rgb8(0xE0, 0x55, 0x55),
            },
        )
    } else {
        Theme::custom(
            "Kith",
            iced::theme::Palette {
                background: Color::from_rgb8(0xF7, 0xF8, 0xFA),
                text: Color::from_rgb8(0x1F, 0x23, 0x28),
                primary: Color::from_rgb8(0x2F, 0x6F, 0xDE),
                success: Color::from_rgb8(0x2E, 0x9E, 0x5B),
                warning: Color::from_rgb8(0xE0, 0x9A, 0x1B),
                danger: Color::from_rgb8(0xD0, 0x3B, 0x3B),
            },
        )
    }
}

/// The colour of raised surfaces (side bar, cards): white, or a lighter grey when dark.
pub fn surface(theme: &Theme) -> Color {
    if theme.extended_palette().is_dark { Color::from_rgb8(0x26, 0x2A, 0x31) } else { Color::WHITE }
}

/// The colour of other people's message bubbles.
pub fn bubble_colour(theme: &Theme) -> Color {
    if theme.extended_palette().is_dark {
        Color::from_rgb8(0x30, 0x35, 0x3D)
    } else {
        Color::from_rgb8(0xEC, 0xEE, 0xF1)
    }
}

/// Message text: white on one's own (accent) bubbles, the theme's text colour otherwise.
pub fn message_text(mine: bool) -> impl Fn(&Theme) -> text::Style {
    move |theme: &Theme| text::Style { color: Some(if mine { Color::WHITE } else { theme.palette().text }) }
}

/// Up to two initials of a name: the first letters of its first two words, upper case.
pub fn initials(name: &str) -> String {
    let letters: String = name
        .split_whitespace()
        .filter_map(|word| word.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .collect();
    if letters.is_empty() { "?".to_owned() } else { letters.to_uppercase() }
}

/// A stable colour for a user or group id, from a small pleasant set.
pub fn avatar_color(seed: i64) -> Color {
    const COLORS: [(u8, u8, u8); 8] = [
        (0xE5, 0x73, 0x73),
        (0xF0, 0x9A, 0x4A),
        (0xC7, 0xA5, 0x2E),
        (0x5B, 0xB1, 0x6B),
        (0x3E, 0xA8, 0xB8),
        (0x4A, 0x86, 0xE0),
        (0x8A, 0x6C, 0xD8),
        (0xD4, 0x6B, 0xB0),
    ];
    let (r, g, b) = COLORS[seed.rem_euclid(COLORS.len() as i64) as usize];
    Color::from_rgb8(r, g, b)
}

/// A round avatar: the picture when there is one, else initials on a coloured disc.
pub fn avatar<'a, Message: 'a>(
    name: &str,
    seed: i64,
    picture: Option<&image::Handle>,
    size: f32,
) -> Element<'a, Message> {
    if let Some(handle) = picture {
        return image(handle.clone())
            .width(size)
            .height(size)
            .content_fit(iced::ContentFit::Cover)
            .border_radius(size / 2.0)
            .into();
    }
    let background = avatar_color(seed);
    container(text(initials(name)).size(size * 0.4).font(BOLD).color(Color::WHITE))
        .center(size)
        .style(move |_theme: &Theme| container::Style {
            background: Some(Background::Color(background)),
            border: Border { radius: (size / 2.0).into(), ..Border::default() },
            ..container::Style::default()
        })
        .into()
}

/// A small green (online) or grey (offline) dot.
pub fn presence_dot<'a, Message: 'a>(online: bool) -> Element<'a, Message> {
    let colour = if online { Color::from_rgb8(0x2E, 0xB8, 0x5C) } else { Color::from_rgb8(0xB0, 0xB5, 0xBC) };
    container(text(""))
        .width(10)
        .height(10)
        .style(move |_theme: &Theme| container::Style {
            background: Some(Background::Color(colour)),
            border: Border { radius: 5.0.into(), ..Border::default() },
            ..container::Style::default()
        })
        .into()
}

/// The number in a red pill, or nothing for zero.
pub fn badge<'a, Message: 'a>(count: i64) -> Option<Element<'a, Message>> {
    (count > 0).then(|| {
        let label = if count > 99 { "99+".to_owned() } else { count.to_string() };
        container(text(label).size(12).font(BOLD).color(Color::WHITE))
            .padding([1, 7])
            .style(|theme: &Theme| container::Style {
                background: Some(Background::Color(theme.palette().danger)),
                border: Border { radius: 9.0.into(), ..Border::default() },
                ..container::Style::default()
            })
            .into()
    })
}

/// "@" in a pill of the accent colour: an unread message mentions the user.
pub fn mention_badge<'a, Message: 'a>() -> Element<'a, Message> {
    container(text("@").size(12).font(BOLD).color(Color::WHITE))
        .padding([1, 6])
        .style(|theme: &Theme| container::Style {
            background: Some(Background::Color(theme.palette().primary)),
            border: Border { radius: 9.0.into(), ..Border::default() },
            ..container::Style::default()
        })
        .into()
}

/// A message's frame around any `body` (a picture, a file card): on the right in the accent
/// colour when `tinted`, else light grey; the sender's name above, `footer` and the optional
/// Recall button below.
pub fn message_frame<'a, Message: Clone + 'a>(
    body: Element<'a, Message>,
    sender: Option<String>,
    mine: bool,
    tinted: bool,
    footer: String,
    recall: Option<Message>,
) -> Element<'a, Message> {
    let mut content = column![].spacing(2);
    if let Some(sender) = sender {
        content = content.push(emoji_text(&sender, 12.0, BOLD, text::secondary));
    }
    content = content.push(body);
    let bubble =
        container(content).padding([7, 12]).max_width(520).style(move |theme: &Theme| container::Style {
            background: Some(Background::Color(if tinted {
                theme.palette().primary
            } else {
                bubble_colour(theme)
            })),
            border: Border { radius: 12.0.into(), ..Border::default() },
            ..container::Style::default()
        });
    let mut under = row![text(footer).size(11).style(text::secondary)].spacing(8).align_y(Alignment::Center);
    if let Some(recall) = recall {
        under = under.push(
            button(text(t!("recall-for-everyone")).size(11)).style(button::text).padding(0).on_press(recall),
        );
    }
    let stacked = column![bubble, under].spacing(2);
    let stacked = if mine { stacked.align_x(Alignment::End) } else { stacked };
    container(stacked)
        .width(Length::Fill)
        .align_x(if mine { Alignment::End } else { Alignment::Start })
        .into()
}

/// `text` on one line (runs of white space become one space), at most `max_chars`
/// characters, the last an ellipsis when cut.
pub fn one_line(text: &str, max_chars: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max_chars {
        return flat;
    }
    let mut cut: String = flat.chars().take(max_chars.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// A group member's role, as shown beside the name.
pub fn role_name(role: kith_shared::api::Role) -> String {
    match role {
        kith_shared::api::Role::Owner => t!("role-owner"),
        kith_shared::api::Role::Admin => t!("role-admin"),
        kith_shared::api::Role::Member => t!("role-member"),
    }
}

/// A side panel's heading: its title, and Close on the right.
pub fn panel_title<'a, Message: Clone + 'a>(title: &str, close: Message) -> Element<'a, Message> {
    row![
        text(title.to_owned()).size(22).font(BOLD),
        iced::widget::space().width(Length::Fill),
        button(text(t!("close"))).style(button::text).on_press(close)
    ]
    .align_y(Alignment::Center)
    .into()
}

/// The day a run of messages was sent, centred between thin rules.
pub fn day_separator<'a, Message: 'a>(label: String) -> Element<'a, Message> {
    row![
        iced::widget::rule::horizontal(1),
        text(label).size(12).font(BOLD).style(text::secondary),
        iced::widget::rule::horizontal(1),
    ]
    .spacing(10)
    .padding([6, 0])
    .align_y(Alignment::Center)
    .into()
}

/// A centred grey line for group events and recalled messages.
pub fn system_line<'a, Message: 'a>(line: String) -> Element<'a, Message> {
    container(text(line).size(12).style(text::secondary))
        .width(Length::Fill)
        .align_x(Alignment::Center)
        .into()
}

/// An error line in the danger colour.
pub fn error_line<'a, Message: 'a>(message: &str) -> Element<'a, Message> {
    text(message.to_owned()).size(14).style(text::danger).into()
}

/// A card (white, or raised grey when dark) with rounded corners.
pub fn card<'a, Message: 'a>(content: impl Into<Element<'a, Message>>) -> container::Container<'a, Message> {
    container(content).padding(20).style(|theme: &Theme| container::Style {
        background: Some(Background::Color(surface(theme))),
        border: Border {
            radius: 10.0.into(),
            width: 1.0,
            color: theme.extended_palette().background.strong.color,
        },
        ..container::Style::default()
    })
}

/// A `content` card, when there is one, centred over `base` on a dimmed backdrop; a click
/// beside it sends `on_blur`.
pub fn modal<'a, Message: Clone + 'a>(
    base: impl Into<Element<'a, Message>>,
    content: Option<Element<'a, Message>>,
    on_blur: Option<Message>,
) -> Element<'a, Message> {
    overlay(base, content.map(|content| card(content).max_width(460).into()), on_blur)
}

/// `content`, when there is one, centred over `base` on a dimmed backdrop; a click beside it
/// sends `on_blur`. `base` is the first layer of a stack either way: the widget tree keeps
/// its shape, so the widgets under the overlay keep their state (a chat's scroll position,
/// the composer's text and focus) when it comes and goes.
pub fn overlay<'a, Message: Clone + 'a>(
    base: impl Into<Element<'a, Message>>,
    content: Option<Element<'a, Message>>,
    on_blur: Option<Message>,
) -> Element<'a, Message> {
    let Some(content) = content else { return stack![base.into()].into() };
    let backdrop = center(opaque(content)).style(|_theme: &Theme| container::Style {
        background: Some(Background::Color(Color { a: 0.45, ..Color::BLACK })),
        ..container::Style::default()
    });
    let backdrop = match on_blur {
        Some(message) => mouse_area(backdrop).on_press(message),
        None => mouse_area(backdrop),
    };
    stack![base.into(), opaque(backdrop)].into()
}

/// A message box: a title, a text and one OK button.
pub fn notice<'a, Message: Clone + 'a>(title: &str, body: &str, ok: Message) -> Element<'a, Message> {
    column![
        text(title.to_owned()).size(20).font(BOLD),
        text(body.to_owned()),
        row![iced::widget::space().width(Length::Fill), button(text(t!("ok"))).on_press(ok).padding([6, 22])]
    ]
    .spacing(16)
    .align_x(Alignment::Start)
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_flattens_and_cuts_with_an_ellipsis() {
        assert_eq!(one_line("See you\n  at   seven", 40), "See you at seven");
        assert_eq!(one_line("See you at seven", 9), "See you…", "no space before the ellipsis");
        assert_eq!(one_line("Grüße aus Köln", 6).chars().count(), 6);
        assert_eq!(one_line("", 5), "");
    }

    #[test]
    fn initials_take_the_first_two_words() {
        assert_eq!(initials("Ada Lovelace"), "AL");
        assert_eq!(initials("grace brewster hopper"), "GB");
        assert_eq!(initials("  zoë "), "Z");
        assert_eq!(initials("(bob) [the builder]"), "BT");
        assert_eq!(initials(""), "?");
        assert_eq!(initials("!!!"), "?");
        assert_eq!(initials("éric"), "É");
    }

    #[test]
    fn avatar_colours_are_stable_and_defined_for_every_id() {
        assert_eq!(avatar_color(3), avatar_color(3));
        assert_eq!(avatar_color(3), avatar_color(11));
        assert_ne!(avatar_color(3), avatar_color(4));
        let _ = avatar_color(i64::MIN);
        let _ = avatar_color(-1);
    }
}
