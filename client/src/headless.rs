//! A window without a display, for tests: the app's fonts, and [`Window`], which keeps the
//! widgets' state from one view to the next and runs the widget operations tasks ask for.
//! Built for this crate's tests and, with the `headless` feature, for the end-to-end tests.

use crate::app::{App, Message};
use crate::widget;
use iced_test::selector;

/// The settings of a simulator or headless window: the fonts the app bundles, as its window uses.
pub fn fonts() -> iced::Settings {
    iced::Settings {
        fonts: vec![
            widget::FONT_REGULAR.into(),
            widget::FONT_BOLD.into(),
            widget::FONT_EMOJI.into(),
            widget::FONT_CJK.into(),
        ],
        default_font: widget::FONT,
        ..iced::Settings::default()
    }
}

/// A window that keeps its widgets' state (scroll offsets, focus) from one view to the next,
/// as the real runtime does; the simulator builds every view afresh. It also runs the widget
/// operations (scrolling, focus) that the tasks of `update` ask for.
pub struct Window {
    renderer: iced_test::renderer::Renderer,
    cache: Option<UiCache>,
    size: iced::Size,
    cursor: iced::mouse::Cursor,
}

type UiCache = iced_test::runtime::user_interface::Cache;

impl Default for Window {
    fn default() -> Self {
        Self::new()
    }
}

impl Window {
    /// A window of 1000x680, the app's first size.
    pub fn new() -> Self {
        use iced_test::core::renderer::Headless;
        let settings = fonts();
        for font in settings.fonts {
            iced_test::renderer::graphics::text::font_system()
                .write()
                .expect("the font system")
                .load_font(font);
        }
        let backend = std::env::var("ICED_TEST_BACKEND").ok();
        let renderer = iced_test::futures::futures::executor::block_on(iced_test::renderer::Renderer::new(
            settings.default_font,
            settings.default_text_size,
            backend.as_deref(),
        ))
        .expect("a headless renderer");
        Self {
            renderer,
            cache: None,
            size: iced::Size::new(1000.0, 680.0),
            cursor: iced::mouse::Cursor::Unavailable,
        }
    }

    /// A window of this size.
    pub fn sized(width: f32, height: f32) -> Self {
        Self { size: iced::Size::new(width, height), ..Self::new() }
    }

    /// Puts the mouse pointer at `at`, for the events that follow.
    pub fn point_at(&mut self, at: iced::Point) {
        self.cursor = iced::mouse::Cursor::Available(at);
    }

    /// Builds the app's current view on the state kept so far and hands it `events`; returns
    /// the messages they produced (not handled yet).
    pub fn events(&mut self, app: &App, events: &[iced::Event]) -> Vec<Message> {
        let mut ui = iced_test::runtime::UserInterface::build(
            app.view(),
            self.size,
            self.cache.take().unwrap_or_default(),
            &mut self.renderer,
        );
        let mut messages = Vec::new();
        let _ = ui.update(
            events,
            self.cursor,
            &mut self.renderer,
            &mut iced_test::core::clipboard::Null,
            &mut messages,
        );
        self.cache = Some(ui.into_cache());
        messages
    }

    /// A new frame: widgets publish what changed (a scrollable, where its view now is).
    pub fn redraw(&mut self, app: &App) -> Vec<Message> {
        let frame = iced::window::Event::RedrawRequested(iced::time::Instant::now());
        self.events(app, &[iced::Event::Window(frame)])
    }

    /// The first widget `selector` finds in the current view.
    pub fn find<S>(&mut self, app: &App, selector: S) -> Option<S::Output>
    where
        S: iced_test::Selector + Send,
        S::Output: Clone + Send,
    {
        use iced_test::core::widget::Operation as _;
        let mut found = iced_test::Selector::find(selector);
        self.operate(app, &mut found);
        match found.finish() {
            iced_test::core::widget::operation::Outcome::Some(output) => output,
            _ => None,
        }
    }

    /// Runs a widget operation over the current view, keeping the widgets' state.
    fn operate<T>(&mut self, app: &App, operation: &mut impl iced_test::core::widget::Operation<T>) {
        let mut ui = iced_test::runtime::UserInterface::build(
            app.view(),
            self.size,
            self.cache.take().unwrap_or_default(),
            &mut self.renderer,
        );
        ui.operate(&self.renderer, &mut iced_test::core::widget::operation::black_box(operation));
        self.cache = Some(ui.into_cache());
    }

    /// Whether `text` is on screen, inside the visible part of any scrollable.
    pub fn shows(&mut self, app: &App, text: &str) -> bool {
        self.find(app, text).is_some_and(|found| found.visible_bounds().is_some())
    }

    /// Whether `text` is on screen inside the widget with `id` (the same words elsewhere, say
    /// in the side bar's preview of the latest message, do not count).
    pub fn shows_in(&mut self, app: &App, id: &'static str, text: &str) -> bool {
        use iced_test::core::widget::Operation as _;
        let Some(area) = self
            .find(app, selector::id(id))
            .and_then(|target| iced_test::selector::Bounded::visible_bounds(&target))
        else {
            return false;
        };
        let mut all = iced_test::Selector::find_all(text);
        self.operate(app, &mut all);
        match all.finish() {
            iced_test::core::widget::operation::Outcome::Some(found) => {
                found.iter().any(|text| text.visible_bounds().is_some_and(|bounds| area.intersects(&bounds)))
            }
            _ => false,
        }
    }

    /// How far the scrollable with `id` is scrolled up from its end (from the newest line, for
    /// the chat log).
    pub fn scrolled_up_by(&mut self, app: &App, id: &'static str) -> f32 {
        match self.find(app, selector::id(id)) {
            Some(iced_test::selector::Target::Scrollable { bounds, content_bounds, translation, .. }) => {
                (content_bounds.height - bounds.height).max(0.0) - translation.y
            }
            other => panic!("no scrollable {id}: {other:?}"),
        }
    }

    /// Turns the mouse wheel over the widget with `id` by `pixels` (positive: up).
    pub fn wheel(&mut self, app: &App, id: &'static str, pixels: f32) -> Vec<Message> {
        let target = self.find(app, selector::id(id)).unwrap_or_else(|| panic!("no widget {id}"));
        let bounds = iced_test::selector::Bounded::visible_bounds(&target).expect("the widget is on screen");
        self.cursor = iced::mouse::Cursor::Available(bounds.center());
        let delta = iced::mouse::ScrollDelta::Pixels { x: 0.0, y: pixels };
        self.events(app, &[iced::Event::Mouse(iced::mouse::Event::WheelScrolled { delta })])
    }

    /// Runs the widget operations a task asks for (scrolling, finding a widget), as the
    /// runtime does once the view is laid out, feeding their answers back to the task; the
    /// rest of its work (requests, the cache) is left alone. Returns the messages it produced
    /// by then.
    pub fn run(&mut self, app: &App, task: iced::Task<Message>) -> Vec<Message> {
        use futures_util::{FutureExt, StreamExt};
        use iced_test::core::widget::operation::Outcome;
        let Some(mut stream) = iced_test::runtime::task::into_stream(task) else { return Vec::new() };
        let mut produced = Vec::new();
        // Whatever is ready now; an answered operation makes its follow-up ready.
        while let Some(Some(action)) = stream.next().now_or_never() {
            let operation = match action {
                iced_test::runtime::Action::Widget(operation) => operation,
                iced_test::runtime::Action::Output(message) => {
                    produced.push(message);
                    continue;
                }
                _ => continue,
            };
            let mut ui = iced_test::runtime::UserInterface::build(
                app.view(),
                self.size,
                self.cache.take().unwrap_or_default(),
                &mut self.renderer,
            );
            let mut next = Some(operation);
            while let Some(mut operation) = next.take() {
                ui.operate(&self.renderer, operation.as_mut());
                if let Outcome::Chain(chained) = operation.finish() {
                    next = Some(chained);
                }
            }
            self.cache = Some(ui.into_cache());
        }
        produced
    }
}
