//! The words of the interface, in English and Simplified Chinese: every text the client shows
//! goes through [`tr`] (or the [`t!`](crate::t) macro), which looks it up in the Fluent
//! messages of the active language (`client/locales/<lang>/kith.ftl`, built in). A message
//! missing in Chinese is taken from English.
//!
//! The active language is held here, set once at start from the settings (the system's locale
//! when the user chose none) and again when the user changes it: the next view draws in it.
//! Test builds keep it per thread, so tests running side by side each choose their own; it is
//! English until set.

use fluent_bundle::FluentResource;
use fluent_bundle::concurrent::FluentBundle;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    English,
    /// Simplified Chinese.
    Chinese,
}

/// The language the user chose in the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Language {
    /// The system's locale: Chinese when it is Chinese, else English.
    #[default]
    #[serde(rename = "system")]
    System,
    #[serde(rename = "en")]
    English,
    #[serde(rename = "zh-CN")]
    Chinese,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::System, Language::English, Language::Chinese];

    /// The language to show: the system's locale decides for [`Language::System`].
    pub fn resolve(self) -> Lang {
        match self {
            Language::System => system_lang(sys_locale::get_locale().as_deref()),
            Language::English => Lang::English,
            Language::Chinese => Lang::Chinese,
        }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Language::System => f.write_str(&tr("language-system")),
            // Each language by its own name, whatever the interface shows.
            Language::English => f.write_str("English"),
            Language::Chinese => f.write_str("简体中文"),
        }
    }
}

/// The language for a system locale such as `zh-CN`, `zh_CN.UTF-8` or `en-US`.
pub fn system_lang(locale: Option<&str>) -> Lang {
    match locale {
        Some(locale) if locale.to_ascii_lowercase().starts_with("zh") => Lang::Chinese,
        _ => Lang::English,
    }
}

const EN_FTL: &str = include_str!("../locales/en/kith.ftl");
const ZH_FTL: &str = include_str!("../locales/zh-CN/kith.ftl");

struct Bundles {
    en: FluentBundle<FluentResource>,
    zh: FluentBundle<FluentResource>,
}

fn bundle(lang: &str, source: &str) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = lang.parse().expect("a valid language tag");
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: they would show in names and numbers.
    bundle.set_use_isolating(false);
    // Both files are built in and checked by the tests below.
    let resource = FluentResource::try_new(source.to_owned()).expect("the built-in messages parse");
    bundle.add_resource(resource).expect("no message defined twice");
    bundle
}

static BUNDLES: LazyLock<Bundles> =
    LazyLock::new(|| Bundles { en: bundle("en", EN_FTL), zh: bundle("zh-CN", ZH_FTL) });

const ENGLISH: u8 = 0;
const CHINESE: u8 = 1;

#[cfg(not(test))]
static ACTIVE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(ENGLISH);

#[cfg(test)]
thread_local! {
    static THREAD_ACTIVE: std::cell::Cell<u8> = const { std::cell::Cell::new(ENGLISH) };
}

/// Makes `lang` the language of everything shown from now on.
pub fn set(lang: Lang) {
    let value = match lang {
        Lang::English => ENGLISH,
        Lang::Chinese => CHINESE,
    };
    #[cfg(test)]
    THREAD_ACTIVE.with(|active| active.set(value));
    #[cfg(not(test))]
    ACTIVE.store(value, std::sync::atomic::Ordering::Relaxed);
}

/// The language shown now.
pub fn current() -> Lang {
    #[cfg(test)]
    let value = THREAD_ACTIVE.with(|active| active.get());
    #[cfg(not(test))]
    let value = ACTIVE.load(std::sync::atomic::Ordering::Relaxed);
    if value == CHINESE { Lang::Chinese } else { Lang::English }
}

/// The text of message `key` in the active language.
pub fn tr(key: &str) -> String {
    format(key, None)
}

/// The text of message `key` in the active language, with its arguments.
pub fn tr_args(key: &str, args: &FluentArgs) -> String {
    format(key, Some(args))
}

fn format(key: &str, args: Option<&FluentArgs>) -> String {
    let bundles = &*BUNDLES;
    let active = match current() {
        Lang::English => &bundles.en,
        Lang::Chinese => &bundles.zh,
    };
    format_in(active, key, args).or_else(|| format_in(&bundles.en, key, args)).unwrap_or_else(|| {
        tracing::warn!(key, "no text for this message");
        key.to_owned()
    })
}

fn format_in(bundle: &FluentBundle<FluentResource>, key: &str, args: Option<&FluentArgs>) -> Option<String> {
    let pattern = bundle.get_message(key)?.value()?;
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, args, &mut errors);
    if !errors.is_empty() {
        tracing::warn!(key, ?errors, "a message did not format cleanly");
    }
    Some(text.into_owned())
}

/// The text of a message in the active language: `t!("key")`, or with arguments
/// `t!("key", name = value, count = n)` (each value anything a Fluent value is made from:
/// strings, numbers).
#[macro_export]
macro_rules! t {
    ($key:literal) => {
        $crate::i18n::tr($key)
    };
    ($key:literal, $($name:ident = $value:expr),+ $(,)?) => {{
        let mut args = $crate::i18n::FluentArgs::new();
        $(args.set(stringify!($name), $crate::i18n::value($value));)+
        $crate::i18n::tr_args($key, &args)
    }};
}

pub use fluent_bundle::FluentArgs;

/// A Fluent argument from a string or a number.
pub fn value<'a>(value: impl Into<ArgValue<'a>>) -> fluent_bundle::FluentValue<'a> {
    value.into().0
}

/// What [`t!`](crate::t) accepts as an argument.
pub struct ArgValue<'a>(fluent_bundle::FluentValue<'a>);

impl<'a> From<&'a str> for ArgValue<'a> {
    fn from(value: &'a str) -> Self {
        Self(value.into())
    }
}

impl<'a> From<&'a String> for ArgValue<'a> {
    fn from(value: &'a String) -> Self {
        Self(value.as_str().into())
    }
}

impl From<String> for ArgValue<'_> {
    fn from(value: String) -> Self {
        Self(value.into())
    }
}

macro_rules! number_arg {
    ($($ty:ty),+) => {$(
        impl From<$ty> for ArgValue<'_> {
            fn from(value: $ty) -> Self {
                Self(value.into())
            }
        }
        impl From<&$ty> for ArgValue<'_> {
            fn from(value: &$ty) -> Self {
                Self((*value).into())
            }
        }
    )+};
}

number_arg!(u8, u16, u32, u64, usize, i32, i64, f64);

#[cfg(test)]
mod tests {
    use super::*;
    use fluent_syntax::ast;

    /// The ids of the messages in a file, with the names of the arguments each one uses.
    fn messages(source: &str) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
        let resource = fluent_syntax::parser::parse(source).expect("the file parses");
        let mut out = std::collections::BTreeMap::new();
        for entry in resource.body {
            if let ast::Entry::Message(message) = entry {
                let mut args = std::collections::BTreeSet::new();
                if let Some(pattern) = &message.value {
                    pattern_args(pattern, &mut args);
                }
                out.insert(message.id.name.to_owned(), args);
            }
        }
        out
    }

    fn pattern_args(pattern: &ast::Pattern<&str>, out: &mut std::collections::BTreeSet<String>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                expression_args(expression, out);
            }
        }
    }

    fn expression_args(expression: &ast::Expression<&str>, out: &mut std::collections::BTreeSet<String>) {
        match expression {
            ast::Expression::Select { selector, variants } => {
                inline_args(selector, out);
                for variant in variants {
                    pattern_args(&variant.value, out);
                }
            }
            ast::Expression::Inline(inline) => inline_args(inline, out),
        }
    }

    fn inline_args(inline: &ast::InlineExpression<&str>, out: &mut std::collections::BTreeSet<String>) {
        match inline {
            ast::InlineExpression::VariableReference { id } => {
                out.insert(id.name.to_owned());
            }
            ast::InlineExpression::FunctionReference { arguments, .. } => {
                for argument in &arguments.positional {
                    inline_args(argument, out);
                }
            }
            ast::InlineExpression::Placeable { expression } => expression_args(expression, out),
            _ => {}
        }
    }

    #[test]
    fn both_languages_have_the_same_messages_and_arguments() {
        let en = messages(EN_FTL);
        let zh = messages(ZH_FTL);
        let only_en: Vec<_> = en.keys().filter(|key| !zh.contains_key(*key)).collect();
        let only_zh: Vec<_> = zh.keys().filter(|key| !en.contains_key(*key)).collect();
        assert!(only_en.is_empty(), "missing in zh-CN: {only_en:?}");
        assert!(only_zh.is_empty(), "missing in en: {only_zh:?}");
        for (key, args) in &en {
            // A translation may leave out a count its words do not need, never add one.
            assert!(zh[key].is_subset(args), "{key}: zh-CN uses {:?}, en {:?}", zh[key], args);
        }
        assert!(en.len() > 100, "only {} messages", en.len());
    }

    /// The message keys the code names: the first argument of each `t!(..)`, and of the
    /// `local(..)` helpers that pass a key on (`transfer`).
    fn keys_in_code(source: &str, out: &mut std::collections::BTreeSet<String>) {
        for call in ["t!(", "local("] {
            for (at, _) in source.match_indices(call) {
                let before = source[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = source[at + call.len()..].trim_start();
                let Some(rest) = rest.strip_prefix('"') else { continue };
                if let Some(end) = rest.find('"') {
                    out.insert(rest[..end].to_owned());
                }
            }
        }
    }

    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read the source folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") && !path.ends_with("i18n.rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_key_the_code_asks_for_has_a_message() {
        let mut files = Vec::new();
        rust_files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        let mut keys = std::collections::BTreeSet::new();
        for file in &files {
            keys_in_code(&std::fs::read_to_string(file).expect("read a source file"), &mut keys);
        }
        let en = messages(EN_FTL);
        let missing: Vec<_> = keys.iter().filter(|key| !en.contains_key(*key)).collect();
        assert!(missing.is_empty(), "no message for {missing:?}");
        assert!(keys.len() > 300, "only {} keys found in the code", keys.len());
    }

    #[test]
    fn every_message_formats_without_errors() {
        for (source, bundle) in [(EN_FTL, &BUNDLES.en), (ZH_FTL, &BUNDLES.zh)] {
            for (key, names) in messages(source) {
                let mut args = FluentArgs::new();
                for name in &names {
                    // Numbers fit both plain arguments and plural selectors.
                    args.set(name.clone(), 2);
                }
                let pattern = bundle.get_message(&key).and_then(|m| m.value()).expect("a value");
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, Some(&args), &mut errors);
                assert!(errors.is_empty(), "{key}: {errors:?}");
                assert!(!text.trim().is_empty(), "{key} is empty");
            }
        }
    }

    #[test]
    fn counts_choose_singular_and_plural_in_english() {
        set(Lang::English);
        assert_eq!(t!("unread-count", count = 1), "1 unread message");
        assert_eq!(t!("unread-count", count = 3), "3 unread messages");
        set(Lang::Chinese);
        assert_eq!(t!("unread-count", count = 3), "3 条未读消息");
        set(Lang::English);
    }

    #[test]
    fn the_active_language_is_used_and_english_fills_gaps() {
        set(Lang::Chinese);
        assert_eq!(tr("send"), "发送");
        // An unknown key shows as itself rather than nothing.
        assert_eq!(tr("no-such-message"), "no-such-message");
        set(Lang::English);
        assert_eq!(tr("send"), "Send");
    }

    #[test]
    fn system_locales_map_to_languages() {
        assert_eq!(system_lang(Some("zh-CN")), Lang::Chinese);
        assert_eq!(system_lang(Some("zh_CN.UTF-8")), Lang::Chinese);
        assert_eq!(system_lang(Some("en-US")), Lang::English);
        assert_eq!(system_lang(Some("de-DE")), Lang::English);
        assert_eq!(system_lang(None), Lang::English);
    }
}
