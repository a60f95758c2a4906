//! Text the mouse can select, as in any desktop program: press and drag across it, double-click
//! a word, triple-click a line (a drag after either extends the selection word by word, or line
//! by line); Ctrl+C then copies what is selected. A message's text is one
//! paragraph of pieces (words, a mention that stands out, emoji in the colour font, and emoji
//! drawn as pictures in the room their piece takes), so a selection runs across all of them and
//! copies the text as it was written.
//!
//! The selection itself belongs to the owner: the widget shows the one it is given and reports
//! each change (`on_select`), so that the owner can offer it elsewhere (a menu's *Copy*).
//! A press anywhere else ends it. While a drag is held past the top or bottom of the visible
//! part (a scrollable's view), the widget says how far (`on_drag_past_edge`), so that the owner
//! can scroll; the selection then follows the text that moves under the pointer.

use iced::{Color, Element, Font, Length, Pixels, Point, Rectangle, Size, Theme, Vector};
use iced_core::text::{Highlight, LineHeight, Paragraph as _, Shaping, Span, Wrapping};
use iced_core::widget::{Tree, tree};
use iced_core::{Clipboard, Event, Layout, Shell, Widget, image, keyboard, layout, mouse, renderer};
use iced_graphics::text::Paragraph;
use iced_graphics::text::cosmic_text::Cursor;
use std::ops::Range;
use unicode_segmentation::UnicodeSegmentation;

/// A selection: where the press was (`anchor`) and where the pointer is now (`head`), as
/// byte offsets into the text; either may come first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Selection {
    pub anchor: usize,
    pub head: usize,
}

impl Selection {
    /// The bytes selected, first to last.
    pub fn range(self) -> Range<usize> {
        self.anchor.min(self.head)..self.anchor.max(self.head)
    }

    pub fn is_empty(self) -> bool {
        self.anchor == self.head
    }

    /// The part of `text` selected: nothing when it is empty or does not fit `text` (the
    /// text changed since).
    pub fn of(self, text: &str) -> Option<&str> {
        text.get(self.range()).filter(|part| !part.is_empty())
    }
}

/// One piece of the text: what is shown, and the text it stands for.
pub struct Piece<'a> {
    span: Span<'a, (), Font>,
    /// A picture drawn in the piece's room, and the text it stands for (the span is then a
    /// transparent stand-in); other pieces stand for the text they show.
    picture: Option<(image::Handle, String)>,
}

impl<'a> Piece<'a> {
    /// Text shown as it is: `span` holds it, with its looks.
    pub fn text(span: Span<'a, (), Font>) -> Self {
        Self { span, picture: None }
    }

    /// `source` (an emoji) drawn as `picture`, about `side` pixels wide.
    pub fn picture(source: &str, picture: image::Handle, side: f32) -> Self {
        // An em dash is one em wide in the text font: at `side` pixels it makes room for the
        // picture. Drawn transparent, it leaves only the picture to see. (The emoji itself
        // would not do: the GPU renderer draws colour glyphs whatever the span's colour.)
        let span = Span::new(STAND_IN)
            .size(side)
            .line_height(LineHeight::Absolute(Pixels(side)))
            .color(Color::TRANSPARENT);
        Self { span, picture: Some((picture, source.to_owned())) }
    }
}

const STAND_IN: &str = "\u{2014}";

/// Text the mouse can select; see the module's description.
pub struct SelectableText<'a, Message> {
    /// The whole text, as written.
    source: String,
    spans: Vec<Span<'a, (), Font>>,
    pictures: Vec<(usize, image::Handle)>,
    /// Where each piece starts in the text and in what is shown, and how long it is in each.
    map: Vec<Mapped>,
    size: f32,
    color: Box<dyn Fn(&Theme) -> Color + 'a>,
    selection_color: Box<dyn Fn(&Theme) -> Color + 'a>,
    selection: Option<Selection>,
    on_select: Option<Box<dyn Fn(Option<Selection>) -> Message + 'a>>,
    on_copy: Option<Box<dyn Fn(String) -> Message + 'a>>,
    on_drag_past_edge: Option<Box<dyn Fn(Option<f32>) -> Message + 'a>>,
}

#[derive(Debug, Clone, Copy)]
struct Mapped {
    source: usize,
    source_len: usize,
    shown: usize,
    shown_len: usize,
}

impl<'a, Message> SelectableText<'a, Message> {
    pub fn new(pieces: Vec<Piece<'a>>) -> Self {
        let mut source = String::new();
        let mut spans = Vec::with_capacity(pieces.len());
        let mut pictures = Vec::new();
        let mut map = Vec::with_capacity(pieces.len());
        let mut shown = 0;
        for (index, piece) in pieces.into_iter().enumerate() {
            let shown_len = piece.span.text.len();
            let stands_for = match &piece.picture {
                Some((_, emoji)) => emoji.as_str(),
                None => piece.span.text.as_ref(),
            };
            map.push(Mapped { source: source.len(), source_len: stands_for.len(), shown, shown_len });
            source.push_str(stands_for);
            if let Some((picture, _)) = piece.picture {
                pictures.push((index, picture));
            }
            shown += shown_len;
            spans.push(piece.span);
        }
        Self {
            source,
            spans,
            pictures,
            map,
            size: 15.0,
            color: Box::new(|theme| theme.palette().text),
            selection_color: Box::new(|theme| Color { a: 0.35, ..theme.palette().primary }),
            selection: None,
            on_select: None,
            on_copy: None,
            on_drag_past_edge: None,
        }
    }

    /// The text size in pixels.
    pub fn size(mut self, size: f32) -> Self {
        self.size = size;
        self
    }

    pub fn color(mut self, color: impl Fn(&Theme) -> Color + 'a) -> Self {
        self.color = Box::new(color);
        self
    }

    /// The colour under selected text.
    pub fn selection_color(mut self, color: impl Fn(&Theme) -> Color + 'a) -> Self {
        self.selection_color = Box::new(color);
        self
    }

    /// The selection to show.
    pub fn selection(mut self, selection: Option<Selection>) -> Self {
        self.selection = selection;
        self
    }

    /// Makes the text selectable: `on_select` hears every change (None: the selection ended).
    pub fn on_select(mut self, on_select: impl Fn(Option<Selection>) -> Message + 'a) -> Self {
        self.on_select = Some(Box::new(on_select));
        self
    }

    /// What Ctrl+C produces with the selected text.
    pub fn on_copy(mut self, on_copy: impl Fn(String) -> Message + 'a) -> Self {
        self.on_copy = Some(Box::new(on_copy));
        self
    }

    /// What a drag held past the top or bottom edge of the visible part produces: how many
    /// pixels past (negative above the top), and None once it is back inside or released.
    pub fn on_drag_past_edge(mut self, on_drag_past_edge: impl Fn(Option<f32>) -> Message + 'a) -> Self {
        self.on_drag_past_edge = Some(Box::new(on_drag_past_edge));
        self
    }

    /// Where offset `shown` of what is shown falls in the text (a picture's edge is the
    /// emoji's edge).
    fn to_source(&self, shown: usize) -> usize {
        let Some(piece) = self.map.iter().rfind(|m| m.shown <= shown) else { return 0 };
        let inside = shown - piece.shown;
        if piece.shown_len == piece.source_len {
            piece.source + inside.min(piece.source_len)
        } else if inside * 2 < piece.shown_len {
            piece.source
        } else {
            piece.source + piece.source_len
        }
    }

    /// Where offset `source` of the text falls in what is shown.
    fn to_shown(&self, source: usize) -> usize {
        let Some(piece) = self.map.iter().rfind(|m| m.source <= source) else { return 0 };
        let inside = source - piece.source;
        if piece.shown_len == piece.source_len {
            piece.shown + inside.min(piece.shown_len)
        } else if inside == 0 {
            piece.shown
        } else {
            piece.shown + piece.shown_len
        }
    }

    /// The offset in the text nearest to `point` (relative to the text's top left).
    fn offset_at(&self, paragraph: &Paragraph, point: Point) -> usize {
        let buffer = paragraph.buffer();
        let Some(cursor) = buffer.hit(point.x, point.y) else { return 0 };
        let line_start: usize = buffer
            .lines
            .iter()
            .take(cursor.line)
            .map(|line| line.text().len() + line.ending().as_str().len())
            .sum();
        self.to_source(line_start + cursor.index)
    }

    /// The word (as Unicode splits words) around offset `at` of the text.
    fn word_at(&self, at: usize) -> Selection {
        self.source
            .split_word_bound_indices()
            .map(|(start, word)| start..start + word.len())
            .find(|word| word.contains(&at) || word.end == self.source.len() && at == word.end)
            .map_or(Selection { anchor: at, head: at }, |word| Selection {
                anchor: word.start,
                head: word.end,
            })
    }

    /// The line (up to its line breaks) around offset `at` of the text.
    fn line_at(&self, at: usize) -> Selection {
        let at = self.source.floor_char_boundary(at);
        let start = self.source[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = self.source[at..].find('\n').map_or(self.source.len(), |i| at + i);
        Selection { anchor: start, head: end }
    }

    /// The unit of `by` around offset `at` of the text: the offset itself, its word or its line.
    fn unit_at(&self, by: Unit, at: usize) -> Selection {
        match by {
            Unit::Letter => Selection { anchor: at, head: at },
            Unit::Word => self.word_at(at),
            Unit::Line => self.line_at(at),
        }
    }

    /// The selection a drag that started with `first` (a unit of `by`) makes with the pointer
    /// at offset `at`: from `first` to the whole unit at `at`, whichever way it went.
    fn extend(&self, first: Selection, by: Unit, at: usize) -> Selection {
        let (first, here) = (first.range(), self.unit_at(by, at).range());
        if here.start < first.start {
            Selection { anchor: first.end, head: here.start }
        } else {
            Selection { anchor: first.start, head: here.end.max(first.end) }
        }
    }

    /// The selection, when it fits the text and is not empty.
    fn selected(&self) -> Option<&str> {
        self.selection?.of(&self.source)
    }
}

/// What a drag selects by: letters (after a press), words (after a double-click) or lines
/// (after a triple-click).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Letter,
    Word,
    Line,
}

/// A press being dragged.
#[derive(Debug, Clone, Copy)]
struct Drag {
    /// What the press selected (a point, a word or a line), kept whatever the drag adds.
    first: Selection,
    by: Unit,
    /// Where the pointer was last, from the top left of the visible part: when the view
    /// scrolls under a pointer that stays put (or has left the window), the text under it.
    pointer: Option<Vector>,
}

/// How many pixels `point` is above the top (negative) or below the bottom of `visible`.
fn past_edge(point: Point, visible: &Rectangle) -> Option<f32> {
    if point.y < visible.y {
        Some(point.y - visible.y)
    } else if point.y > visible.y + visible.height {
        Some(point.y - (visible.y + visible.height))
    } else {
        None
    }
}

/// What the widget keeps between frames: the laid out paragraph, and the press being dragged.
struct State {
    paragraph: Paragraph,
    spans: Vec<Span<'static, (), Font>>,
    /// The press, while the button is held.
    drag: Option<Drag>,
    /// How far past the edge of the visible part the drag was last said to be.
    past_edge: Option<f32>,
    last_click: Option<mouse::Click>,
}

impl<Message> Widget<Message, Theme, iced::Renderer> for SelectableText<'_, Message> {
    fn tag(&self) -> tree::Tag {
        tree::Tag::of::<State>()
    }

    fn state(&self) -> tree::State {
        tree::State::new(State {
            paragraph: Paragraph::default(),
            spans: Vec::new(),
            drag: None,
            past_edge: None,
            last_click: None,
        })
    }

    fn size(&self) -> Size<Length> {
        Size::new(Length::Shrink, Length::Shrink)
    }

    fn layout(
        &mut self,
        tree: &mut Tree,
        renderer: &iced::Renderer,
        limits: &layout::Limits,
    ) -> layout::Node {
        use iced_core::text::Renderer as _;
        let state = tree.state.downcast_mut::<State>();
        layout::sized(limits, Length::Shrink, Length::Shrink, |limits| {
            let text = iced_core::Text {
                content: self.spans.as_slice(),
                bounds: limits.max(),
                size: Pixels(self.size),
                line_height: LineHeight::default(),
                font: renderer.default_font(),
                align_x: iced_core::text::Alignment::Default,
                align_y: iced_core::alignment::Vertical::Top,
                shaping: Shaping::Advanced,
                wrapping: Wrapping::Word,
            };
            if state.spans != self.spans {
                // Other text (the list around it changed): a drag over the old one ends.
                state.drag = None;
                state.paragraph = Paragraph::with_spans(text);
                state.spans = self.spans.iter().cloned().map(Span::to_static).collect();
            } else {
                match state.paragraph.compare(text.with_content(())) {
                    iced_core::text::Difference::None => {}
                    iced_core::text::Difference::Bounds => state.paragraph.resize(limits.max()),
                    iced_core::text::Difference::Shape => state.paragraph = Paragraph::with_spans(text),
                }
            }
            state.paragraph.min_bounds()
        })
    }

    fn update(
        &mut self,
        tree: &mut Tree,
        event: &Event,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        _renderer: &iced::Renderer,
        _clipboard: &mut dyn Clipboard,
        shell: &mut Shell<'_, Message>,
        viewport: &Rectangle,
    ) {
        let Some(on_select) = &self.on_select else { return };
        let state = tree.state.downcast_mut::<State>();
        let bounds = layout.bounds();
        match event {
            Event::Mouse(mouse::Event::ButtonPressed(mouse::Button::Left)) => {
                let Some(at) = cursor.position_in(bounds) else {
                    // A press elsewhere ends the selection.
                    if self.selection.is_some() {
                        shell.publish(on_select(None));
                    }
                    return;
                };
                let click = mouse::Click::new(at, mouse::Button::Left, state.last_click);
                state.last_click = Some(click);
                let by = match click.kind() {
                    mouse::click::Kind::Single => Unit::Letter,
                    mouse::click::Kind::Double => Unit::Word,
                    mouse::click::Kind::Triple => Unit::Line,
                };
                let first = self.unit_at(by, self.offset_at(&state.paragraph, at));
                state.drag = Some(Drag { first, by, pointer: None });
                shell.publish(on_select(Some(first)));
                shell.capture_event();
            }
            Event::Mouse(mouse::Event::ButtonReleased(mouse::Button::Left)) => state.drag = None,
            Event::Keyboard(keyboard::Event::KeyPressed { key, physical_key, modifiers, .. })
                if modifiers.command() && key.to_latin(*physical_key) == Some('c') =>
            {
                if let (Some(on_copy), Some(selected), false) =
                    (&self.on_copy, self.selected(), shell.is_event_captured())
                {
                    shell.publish(on_copy(selected.to_owned()));
                    shell.capture_event();
                }
            }
            // Any other event while dragging (the pointer moved, or a frame after the view
            // scrolled under it): the selection reaches the text under the pointer.
            _ => {
                if let Some(drag) = &mut state.drag {
                    // Outside a scrollable's view the pointer only hovers ("levitates") over
                    // the text; it still counts for the drag.
                    let visible = viewport.position() - Point::ORIGIN;
                    let position = match (cursor.land().position(), drag.pointer) {
                        (Some(position), _) => {
                            drag.pointer = Some(position - Point::ORIGIN - visible);
                            position
                        }
                        (None, Some(pointer)) => Point::ORIGIN + visible + pointer,
                        (None, None) => return,
                    };
                    let at = self.offset_at(&state.paragraph, position - (bounds.position() - Point::ORIGIN));
                    let selection = self.extend(drag.first, drag.by, at);
                    if self.selection != Some(selection) {
                        shell.publish(on_select(Some(selection)));
                    }
                    let past = past_edge(position, viewport);
                    if past.is_some() {
                        // The view scrolls under the pointer: look again next frame.
                        shell.request_redraw();
                    }
                    if past != state.past_edge {
                        state.past_edge = past;
                        if let Some(on_drag_past_edge) = &self.on_drag_past_edge {
                            shell.publish(on_drag_past_edge(past));
                        }
                    }
                }
            }
        }
        // The drag ended (released, or the text changed under it) past the edge: no more.
        if state.drag.is_none()
            && state.past_edge.take().is_some()
            && let Some(on_drag_past_edge) = &self.on_drag_past_edge
        {
            shell.publish(on_drag_past_edge(None));
        }
    }

    fn draw(
        &self,
        tree: &Tree,
        renderer: &mut iced::Renderer,
        theme: &Theme,
        _style: &renderer::Style,
        layout: Layout<'_>,
        _cursor: mouse::Cursor,
        viewport: &Rectangle,
    ) {
        use iced_core::Renderer as _;
        use iced_core::image::Renderer as _;
        use iced_core::text::Renderer as _;
        let bounds = layout.bounds();
        let Some(clip) = bounds.intersection(viewport) else { return };
        let state = tree.state.downcast_ref::<State>();
        let paragraph = &state.paragraph;
        let origin = bounds.position() - Point::ORIGIN;
        // Spans that stand out (a mention of the user).
        for (index, span) in self.spans.iter().enumerate() {
            let Some(Highlight { background, border }) = span.highlight else { continue };
            for region in paragraph.span_bounds(index) {
                renderer.fill_quad(
                    renderer::Quad { bounds: region + origin, border, ..Default::default() },
                    background,
                );
            }
        }
        if let Some(selection) = self.selection.filter(|s| !s.is_empty()) {
            let colour = (self.selection_color)(theme);
            let range = selection.range();
            for region in selected_regions(paragraph, self.to_shown(range.start)..self.to_shown(range.end)) {
                renderer.fill_quad(renderer::Quad { bounds: region + origin, ..Default::default() }, colour);
            }
        }
        renderer.fill_paragraph(paragraph, bounds.position(), (self.color)(theme), *viewport);
        for (index, picture) in &self.pictures {
            let Some(room) = paragraph.span_bounds(*index).into_iter().next() else { continue };
            let side = room.width.min(room.height);
            let at = room.center() - Vector::new(side / 2.0, side / 2.0) + origin;
            renderer.draw_image(
                image::Image::new(picture.clone()),
                Rectangle::new(at, Size::new(side, side)),
                clip,
            );
        }
    }

    fn mouse_interaction(
        &self,
        _tree: &Tree,
        layout: Layout<'_>,
        cursor: mouse::Cursor,
        _viewport: &Rectangle,
        _renderer: &iced::Renderer,
    ) -> mouse::Interaction {
        if self.on_select.is_some() && cursor.is_over(layout.bounds()) {
            mouse::Interaction::Text
        } else {
            mouse::Interaction::default()
        }
    }

    fn operate(
        &mut self,
        _tree: &mut Tree,
        layout: Layout<'_>,
        _renderer: &iced::Renderer,
        operation: &mut dyn iced_core::widget::Operation,
    ) {
        operation.text(None, layout.bounds(), &self.source);
    }
}

/// The rectangles (relative to the text's top left) that cover the bytes `range` of what a
/// paragraph shows, one per visual line.
fn selected_regions(paragraph: &Paragraph, range: Range<usize>) -> Vec<Rectangle> {
    let buffer = paragraph.buffer();
    let mut line_starts = Vec::with_capacity(buffer.lines.len());
    let mut start = 0;
    for line in &buffer.lines {
        line_starts.push((start, line.text().len()));
        start += line.text().len() + line.ending().as_str().len();
    }
    let mut regions = Vec::new();
    for run in buffer.layout_runs() {
        let Some(&(line_start, line_len)) = line_starts.get(run.line_i) else { continue };
        if range.end < line_start || range.start > line_start + line_len {
            continue;
        }
        let from = range.start.saturating_sub(line_start).min(line_len);
        let to = range.end.saturating_sub(line_start).min(line_len);
        if let Some((x, width)) = run.highlight(Cursor::new(run.line_i, from), Cursor::new(run.line_i, to))
            && width > 0.0
        {
            regions.push(Rectangle::new(Point::new(x, run.line_top), Size::new(width, run.line_height)));
        }
    }
    regions
}

impl<'a, Message: 'a> From<SelectableText<'a, Message>> for Element<'a, Message> {
    fn from(text: SelectableText<'a, Message>) -> Self {
        Element::new(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(source: &str) -> SelectableText<'_, ()> {
        SelectableText::new(vec![Piece::text(Span::new(source))])
    }

    #[test]
    fn a_drag_extends_by_the_unit_it_started_with_either_way() {
        let source = "one two three\nfour five";
        let text = text(source);
        let of = |selection: Selection| selection.of(source).unwrap_or_default().to_owned();
        let two = text.word_at(5);
        assert_eq!(of(two), "two");
        // Forward into "three", back into "one": whole words, the first word kept.
        assert_eq!(of(text.extend(two, Unit::Word, 10)), "two three");
        let back = text.extend(two, Unit::Word, 1);
        assert_eq!((of(back), back.head), ("one two".to_owned(), 0), "the head at the pointer's side");
        // Inside the first word: just it.
        assert_eq!(of(text.extend(two, Unit::Word, 5)), "two");
        // By lines: the first line, then both.
        let first = text.line_at(2);
        assert_eq!(of(text.extend(first, Unit::Line, 3)), "one two three");
        assert_eq!(of(text.extend(first, Unit::Line, 16)), source);
        // By letters: from the press to the pointer.
        let press = Selection { anchor: 4, head: 4 };
        assert_eq!(text.extend(press, Unit::Letter, 6), Selection { anchor: 4, head: 6 });
        assert_eq!(text.extend(press, Unit::Letter, 1), Selection { anchor: 4, head: 1 });
    }

    #[test]
    fn past_the_edge_counts_pixels_above_as_negative() {
        let visible = Rectangle::new(Point::new(0.0, 100.0), Size::new(300.0, 400.0));
        assert_eq!(past_edge(Point::new(10.0, 70.0), &visible), Some(-30.0));
        assert_eq!(past_edge(Point::new(10.0, 100.0), &visible), None);
        assert_eq!(past_edge(Point::new(10.0, 499.0), &visible), None);
        assert_eq!(past_edge(Point::new(10.0, 520.0), &visible), Some(20.0));
    }
}
