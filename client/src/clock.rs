//! Times as the chat shows them: the local time of a message (`14:05`) and the day separators
//! between messages of different days (`Today`, `Yesterday`, `Tue 4 Mar`, `Tue 4 Mar 2025`).

use chrono::{DateTime, Datelike, Local, NaiveDate, TimeZone};

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A Unix-milliseconds instant in the local time zone (None when out of range).
pub fn local(ms: i64) -> Option<DateTime<Local>> {
    Local.timestamp_millis_opt(ms).single()
}

/// The local day of an instant.
pub fn day(ms: i64) -> Option<NaiveDate> {
    local(ms).map(|time| time.date_naive())
}

/// The local time of day, `HH:MM`.
pub fn time_of_day(ms: i64) -> String {
    local(ms).map(|time| time.format("%H:%M").to_string()).unwrap_or_default()
}

/// The separator shown before the first message of `day`.
pub fn day_label(day: NaiveDate, today: NaiveDate) -> String {
    if day == today {
        return t!("today");
    }
    if today.pred_opt() == Some(day) {
        return t!("yesterday");
    }
    let weekday = t!("weekday", day = day.weekday().number_from_monday());
    let month = t!("month", month = day.month());
    if day.year() == today.year() {
        t!("date-this-year", weekday = weekday, day = day.day(), month = month)
    } else {
        t!("date-other-year", weekday = weekday, day = day.day(), month = month, year = day.year())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
    }

    #[test]
    fn days_read_relative_then_absolute() {
        let today = date(2026, 3, 4);
        assert_eq!(day_label(date(2026, 3, 4), today), "Today");
        assert_eq!(day_label(date(2026, 3, 3), today), "Yesterday");
        assert_eq!(day_label(date(2026, 2, 27), today), "Fri 27 Feb");
        assert_eq!(day_label(date(2025, 12, 31), today), "Wed 31 Dec 2025");
        // Yesterday across a year boundary.
        assert_eq!(day_label(date(2025, 12, 31), date(2026, 1, 1)), "Yesterday");
    }

    #[test]
    fn days_read_in_chinese() {
        crate::i18n::set(crate::i18n::Lang::Chinese);
        let today = date(2026, 3, 4);
        let labels = [
            day_label(date(2026, 3, 4), today),
            day_label(date(2026, 3, 3), today),
            day_label(date(2026, 2, 27), today),
            day_label(date(2025, 12, 31), today),
        ];
        crate::i18n::set(crate::i18n::Lang::English);
        assert_eq!(labels, ["今天", "昨天", "2月27日 周五", "2025年12月31日 周三"]);
    }

    #[test]
    fn times_are_local_hours_and_minutes() {
        let ms = 1_772_600_000_000;
        let expected = Local.timestamp_millis_opt(ms).single().expect("in range");
        assert_eq!(time_of_day(ms), expected.format("%H:%M").to_string());
        assert_eq!(time_of_day(ms).len(), 5);
        assert_eq!(day(ms), Some(expected.date_naive()));
        // A minute later is the same day or the next, never earlier.
        assert!(day(ms + 60_000) >= day(ms));
        assert_eq!(time_of_day(i64::MAX), "");
    }
}
