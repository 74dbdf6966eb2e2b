//! `datetime.now().strftime(format)` for a naive local date-time, as CPython on glibc
//! prints it in the C locale: the glibc conversions, their flags (`-`, `_`, `0`, `^`, `#`)
//! and widths; `%f` is microseconds, `%z` and `%Z` are empty (no time zone), and an unknown
//! conversion is copied as written.

use std::fmt::Write;

use chrono::{Datelike, NaiveDateTime, Timelike};

const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// One `%` conversion: its flag, width and letter.
struct Spec {
    flag: Option<char>,
    width: Option<usize>,
    letter: char,
}

pub fn strftime(dt: &NaiveDateTime, format: &str) -> String {
    let mut out = String::with_capacity(format.len() + 16);
    let mut rest = format;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        match parse_spec(after) {
            Some((spec, used)) if convert(&mut out, dt, &spec) => rest = &after[used..],
            _ => {
                // Not a conversion glibc knows: copied as written.
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `[flag][width][E|O]letter` after a `%`, and the bytes it spans.
fn parse_spec(text: &str) -> Option<(Spec, usize)> {
    let mut chars = text.char_indices().peekable();
    let flag = chars.next_if(|&(_, c)| matches!(c, '-' | '_' | '0' | '^' | '#')).map(|(_, c)| c);
    let mut width = None;
    while let Some((_, d)) = chars.next_if(|&(_, c)| c.is_ascii_digit()) {
        width = Some(width.unwrap_or(0usize).saturating_mul(10).saturating_add(d as usize - '0' as usize));
    }
    chars.next_if(|&(_, c)| c == 'E' || c == 'O');
    let (at, letter) = chars.next()?;
    Some((Spec { flag, width, letter }, at + letter.len_utf8()))
}

/// Writes one conversion; false when the letter is not one glibc knows.
fn convert(out: &mut String, dt: &NaiveDateTime, spec: &Spec) -> bool {
    let weekday = dt.weekday().num_days_from_sunday() as usize;
    let hour12 = match dt.hour() % 12 {
        0 => 12,
        h => h,
    };
    match spec.letter {
        'a' => text(out, spec, &DAYS[weekday][..3], true),
        'A' => text(out, spec, DAYS[weekday], true),
        'b' | 'h' => text(out, spec, &MONTHS[dt.month0() as usize][..3], true),
        'B' => text(out, spec, MONTHS[dt.month0() as usize], true),
        'p' => text(out, spec, if dt.hour() < 12 { "AM" } else { "PM" }, false),
        'P' => text(out, spec, if dt.hour() < 12 { "am" } else { "pm" }, false),
        'c' => text(out, spec, &strftime(dt, "%a %b %e %H:%M:%S %Y"), true),
        'D' | 'x' => text(out, spec, &strftime(dt, "%m/%d/%y"), true),
        'F' => text(out, spec, &strftime(dt, "%Y-%m-%d"), true),
        'r' => text(out, spec, &strftime(dt, "%I:%M:%S %p"), true),
        'R' => text(out, spec, &strftime(dt, "%H:%M"), true),
        'T' | 'X' => text(out, spec, &strftime(dt, "%H:%M:%S"), true),
        'n' => out.push('\n'),
        't' => out.push('\t'),
        '%' => text(out, spec, "%", true),
        'z' | 'Z' => {}
        'f' => number(out, spec, i64::from(dt.nanosecond() / 1000 % 1_000_000), 6, '0'),
        'Y' => number(out, spec, i64::from(dt.year()), 1, '0'),
        'C' => number(out, spec, i64::from(dt.year()).div_euclid(100), 2, '0'),
        'y' => number(out, spec, i64::from(dt.year()).rem_euclid(100), 2, '0'),
        'G' => number(out, spec, i64::from(dt.iso_week().year()), 1, '0'),
        'g' => number(out, spec, i64::from(dt.iso_week().year()).rem_euclid(100), 2, '0'),
        'm' => number(out, spec, i64::from(dt.month()), 2, '0'),
        'd' => number(out, spec, i64::from(dt.day()), 2, '0'),
        'e' => number(out, spec, i64::from(dt.day()), 2, ' '),
        'j' => number(out, spec, i64::from(dt.ordinal()), 3, '0'),
        'H' => number(out, spec, i64::from(dt.hour()), 2, '0'),
        'k' => number(out, spec, i64::from(dt.hour()), 2, ' '),
        'I' => number(out, spec, i64::from(hour12), 2, '0'),
        'l' => number(out, spec, i64::from(hour12), 2, ' '),
        'M' => number(out, spec, i64::from(dt.minute()), 2, '0'),
        'S' => number(out, spec, i64::from(dt.second()), 2, '0'),
        'u' => number(out, spec, i64::from(dt.weekday().number_from_monday()), 1, '0'),
        'w' => number(out, spec, weekday as i64, 1, '0'),
        'U' => number(out, spec, i64::from((dt.ordinal0() + 7 - dt.weekday().num_days_from_sunday()) / 7), 2, '0'),
        'W' => number(out, spec, i64::from((dt.ordinal0() + 7 - dt.weekday().num_days_from_monday()) / 7), 2, '0'),
        'V' => number(out, spec, i64::from(dt.iso_week().week()), 2, '0'),
        _ => return false,
    }
    true
}

/// A text conversion: `^` uppercases; `#` uppercases names (`swap_upper`) and lowercases
/// AM/PM; a width pads with spaces on the left (zeros with the `0` flag).
fn text(out: &mut String, spec: &Spec, value: &str, swap_upper: bool) {
    let value = match spec.flag {
        Some('^') => value.to_uppercase(),
        Some('#') if swap_upper => value.to_uppercase(),
        Some('#') => value.to_lowercase(),
        _ => value.to_string(),
    };
    let pad = if spec.flag == Some('0') { '0' } else { ' ' };
    let width = spec.width.unwrap_or(0);
    out.extend(std::iter::repeat_n(pad, width.saturating_sub(value.chars().count())));
    out.push_str(&value);
}

/// A numeric conversion padded to `default_width` with `default_pad`; `-` drops the
/// padding, `_` pads with spaces, `0` with zeros, and a width replaces the default.
fn number(out: &mut String, spec: &Spec, value: i64, default_width: usize, default_pad: char) {
    let pad = match spec.flag {
        Some('-') => None,
        Some('_') => Some(' '),
        Some('0') => Some('0'),
        _ => Some(default_pad),
    };
    let digits = value.unsigned_abs().to_string();
    let sign = if value < 0 { "-" } else { "" };
    let width = spec.width.unwrap_or(default_width).saturating_sub(sign.len());
    match pad {
        Some('0') => {
            out.push_str(sign);
            out.extend(std::iter::repeat_n('0', width.saturating_sub(digits.len())));
        }
        Some(pad) => {
            out.extend(std::iter::repeat_n(pad, width.saturating_sub(digits.len())));
            out.push_str(sign);
        }
        None => out.push_str(sign),
    }
    let _ = write!(out, "{digits}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_python_on_glibc() {
        let dt = chrono::NaiveDate::from_ymd_opt(2024, 1, 7).unwrap().and_hms_micro_opt(5, 4, 3, 120).unwrap();
        // datetime(2024, 1, 7, 5, 4, 3, 120).strftime(...) with CPython 3.11 on glibc
        let cases = [
            ("%d %b %Y", "07 Jan 2024"),
            ("%Y-%m-%d", "2024-01-07"),
            ("%Q", "%Q"),
            ("%", "%"),
            ("a%", "a%"),
            ("%-d|%_d|%0e|%^a|%^B|%#b", "7| 7|07|SUN|JANUARY|JAN"),
            ("%c|%x|%X|%D|%r|%R|%T", "Sun Jan  7 05:04:03 2024|01/07/24|05:04:03|01/07/24|05:04:03 AM|05:04|05:04:03"),
            ("%C|%g|%G|%V|%U|%W|%u|%w|%j|%k|%l|%I|%p|%P", "20|24|2024|01|01|01|7|0|007| 5| 5|05|AM|am"),
            ("%z|%Z|%f|%E|%Ey|%Od|%h|%n|%t|%10Y|%3d", "||000120|%E|24|07|Jan|\n|\t|0000002024|007"),
            ("%-", "%-"),
            ("%5%", "    %"),
            ("%A %B %e", "Sunday January  7"),
        ];
        for (format, expected) in cases {
            assert_eq!(strftime(&dt, format), expected, "{format:?}");
        }
    }
}
