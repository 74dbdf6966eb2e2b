//! Python's `str` and `dict` methods with Python's semantics, for templates that call
//! `.strip()`, `.split()`, `.startswith(...)`, `.get(...)`, `.items()` ... (minijinja has
//! no methods of its own; `call_method` is the environment's unknown-method callback).
//!
//! Whitespace is `str.isspace()` (which includes `\x1c`-`\x1f`, `\x85`, `\xa0`, `\u2028`
//! ...), positions count code points, and case mappings are Python's full mappings.

use minijinja::value::{ObjectRepr, Tuple, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

/// `str.isspace()` for one character (Python 3.11; not Rust's `char::is_whitespace`).
pub fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | '\x1c'..='\x1f'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

fn stripped(chars: Option<&str>) -> impl Fn(char) -> bool + '_ {
    move |c| match chars {
        Some(set) => set.contains(c),
        None => is_space(c),
    }
}

/// `s.strip(chars)`; `None` strips whitespace.
pub fn strip<'a>(s: &'a str, chars: Option<&str>) -> &'a str {
    s.trim_matches(stripped(chars))
}

/// `s.lstrip(chars)`.
pub fn lstrip<'a>(s: &'a str, chars: Option<&str>) -> &'a str {
    s.trim_start_matches(stripped(chars))
}

/// `s.rstrip(chars)`.
pub fn rstrip<'a>(s: &'a str, chars: Option<&str>) -> &'a str {
    s.trim_end_matches(stripped(chars))
}

/// `s.split(None, maxsplit)`: runs of whitespace separate, empty words never appear; after
/// `maxsplit` splits (negative: no limit) the rest is one item, its leading whitespace gone.
pub fn split_whitespace(s: &str, maxsplit: i64) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s.trim_start_matches(is_space);
    let mut splits = 0;
    while !rest.is_empty() {
        if maxsplit >= 0 && splits == maxsplit {
            out.push(rest);
            break;
        }
        let end = rest.find(is_space).unwrap_or(rest.len());
        out.push(&rest[..end]);
        rest = rest[end..].trim_start_matches(is_space);
        splits += 1;
    }
    out
}

/// `s.rsplit(None, maxsplit)`, the mirror image of `split_whitespace`.
pub fn rsplit_whitespace(s: &str, maxsplit: i64) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s.trim_end_matches(is_space);
    let mut splits = 0;
    while !rest.is_empty() {
        if maxsplit >= 0 && splits == maxsplit {
            out.push(rest);
            break;
        }
        let start = rest.rfind(is_space).map_or(0, |i| i + rest[i..].chars().next().map_or(0, char::len_utf8));
        out.push(&rest[start..]);
        rest = rest[..start].trim_end_matches(is_space);
        splits += 1;
    }
    out.reverse();
    out
}

/// `s.split(sep, maxsplit)`; an empty `sep` is Python's ValueError.
pub fn split_sep<'a>(s: &'a str, sep: &str, maxsplit: i64) -> Result<Vec<&'a str>, String> {
    if sep.is_empty() {
        return Err("empty separator".into());
    }
    Ok(if maxsplit < 0 { s.split(sep).collect() } else { s.splitn(maxsplit as usize + 1, sep).collect() })
}

/// `s.rsplit(sep, maxsplit)`.
pub fn rsplit_sep<'a>(s: &'a str, sep: &str, maxsplit: i64) -> Result<Vec<&'a str>, String> {
    if sep.is_empty() {
        return Err("empty separator".into());
    }
    let mut out: Vec<&str> =
        if maxsplit < 0 { s.rsplit(sep).collect() } else { s.rsplitn(maxsplit as usize + 1, sep).collect() };
    out.reverse();
    Ok(out)
}

/// `s.splitlines(keepends)`: Python's line boundaries (`\r\n` is one).
pub fn splitlines(s: &str, keepends: bool) -> Vec<&str> {
    let is_break =
        |c: char| matches!(c, '\n' | '\r' | '\x0b' | '\x0c' | '\x1c'..='\x1e' | '\u{85}' | '\u{2028}' | '\u{2029}');
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !is_break(c) {
            continue;
        }
        let mut end = i + c.len_utf8();
        if c == '\r' && chars.peek().is_some_and(|&(_, n)| n == '\n') {
            chars.next();
            end += 1;
        }
        out.push(&s[start..if keepends { end } else { i }]);
        start = end;
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// Titlecase letters (category Lt): neither upper- nor lowercase, but cased.
fn is_titlecase_letter(c: char) -> bool {
    matches!(c, '\u{1c5}' | '\u{1c8}' | '\u{1cb}' | '\u{1f2}' | '\u{1f88}'..='\u{1f8f}' | '\u{1f98}'..='\u{1f9f}' | '\u{1fa8}'..='\u{1faf}' | '\u{1fbc}' | '\u{1fcc}' | '\u{1ffc}')
}

/// Python's "cased" characters (Lowercase, Uppercase or Lt).
fn is_cased(c: char) -> bool {
    c.is_lowercase() || c.is_uppercase() || is_titlecase_letter(c)
}

/// Python's full titlecase mapping of one character.
fn push_title(out: &mut String, c: char) {
    match TITLE_NOT_UPPER.binary_search_by_key(&c, |&(k, _)| k) {
        Ok(i) => out.push_str(TITLE_NOT_UPPER[i].1),
        Err(_) => out.extend(c.to_uppercase()),
    }
}

/// Bytes that `c` lowercases to; the same inside a string (only Σ depends on context, and
/// both σ and ς are two bytes), so offsets into `s.to_lowercase()` can be walked with it.
fn lower_len(c: char) -> usize {
    c.to_lowercase().map(char::len_utf8).sum()
}

/// `s.upper()` (full mappings: `ß` -> `SS`).
pub fn upper(s: &str) -> String {
    s.to_uppercase()
}

/// `s.lower()` (with the final-sigma rule, as Python applies it).
pub fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// `s.title()`: a character after a cased one is lowercased, any other is titlecased.
pub fn title(s: &str) -> String {
    let lowered = s.to_lowercase();
    let mut out = String::with_capacity(s.len());
    let (mut pos, mut previous_cased) = (0, false);
    for c in s.chars() {
        let n = lower_len(c);
        if previous_cased {
            out.push_str(&lowered[pos..pos + n]);
        } else {
            push_title(&mut out, c);
        }
        pos += n;
        previous_cased = is_cased(c);
    }
    out
}

/// `s.capitalize()`: the first character titlecased, the rest lowercased.
pub fn capitalize(s: &str) -> String {
    let Some(first) = s.chars().next() else {
        return String::new();
    };
    let lowered = s.to_lowercase();
    let mut out = String::with_capacity(s.len());
    push_title(&mut out, first);
    out.push_str(&lowered[lower_len(first)..]);
    out
}

/// jinja2's `title` filter (not `str.title`): words split at runs of `-`, whitespace,
/// `(`, `{`, `[`, `<`; each run's first character uppercased and the rest lowercased.
pub fn jinja_title(s: &str) -> String {
    let is_sep = |c: char| matches!(c, '-' | '(' | '{' | '[' | '<') || is_space(c);
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(first) = rest.chars().next() {
        let sep = is_sep(first);
        let end = rest.find(|c: char| is_sep(c) != sep).unwrap_or(rest.len());
        let run = &rest[..end];
        out.extend(first.to_uppercase());
        out.push_str(&run[first.len_utf8()..].to_lowercase());
        rest = &rest[end..];
    }
    out
}

/// `s.isupper()`.
pub fn isupper(s: &str) -> bool {
    is_case(s, true)
}

/// `s.islower()`.
pub fn islower(s: &str) -> bool {
    is_case(s, false)
}

/// `s.isupper()` / `s.islower()`: some cased character, and none of the other case.
fn is_case(s: &str, upper: bool) -> bool {
    let mut cased = false;
    for c in s.chars() {
        let (same, other) =
            if upper { (c.is_uppercase(), c.is_lowercase()) } else { (c.is_lowercase(), c.is_uppercase()) };
        if other || is_titlecase_letter(c) {
            return false;
        }
        cased |= same;
    }
    cased
}

/// Python's slice-index adjustment (`ADJUST_INDICES`) over `len` code points.
fn adjust(start: Option<i64>, end: Option<i64>, len: i64) -> (i64, i64) {
    let mut end = end.unwrap_or(len);
    if end > len {
        end = len;
    } else if end < 0 {
        end = (end + len).max(0);
    }
    let mut start = start.unwrap_or(0);
    if start < 0 {
        start = (start + len).max(0);
    }
    (start, end)
}

/// Byte offset of code point `index` (clamped to the end).
fn byte_at(s: &str, index: i64) -> usize {
    s.char_indices().nth(index.max(0) as usize).map_or(s.len(), |(i, _)| i)
}

/// `s.find(sub, start, end)` (`reverse`: `rfind`): a code-point index or -1.
pub fn find(s: &str, sub: &str, start: Option<i64>, end: Option<i64>, reverse: bool) -> i64 {
    let len = s.chars().count() as i64;
    let (start, end) = adjust(start, end, len);
    if end - start < sub.chars().count() as i64 {
        return -1;
    }
    let (lo, hi) = (byte_at(s, start), byte_at(s, end));
    let window = &s[lo..hi];
    let found = if reverse { window.rfind(sub) } else { window.find(sub) };
    found.map_or(-1, |i| start + window[..i].chars().count() as i64)
}

/// `s.count(sub, start, end)`: non-overlapping occurrences.
pub fn count(s: &str, sub: &str, start: Option<i64>, end: Option<i64>) -> i64 {
    let len = s.chars().count() as i64;
    let (start, end) = adjust(start, end, len);
    if end - start < sub.chars().count() as i64 {
        return 0;
    }
    if sub.is_empty() {
        return end - start + 1;
    }
    s[byte_at(s, start)..byte_at(s, end)].matches(sub).count() as i64
}

/// `s.startswith(prefix, start, end)` (`at_end`: `endswith`), CPython's `tailmatch`.
pub fn tailmatch(s: &str, affix: &str, start: Option<i64>, end: Option<i64>, at_end: bool) -> bool {
    let len = s.chars().count() as i64;
    let (start, end) = adjust(start, end, len);
    let n = affix.chars().count() as i64;
    if end - n < start {
        return false;
    }
    if n == 0 {
        return true;
    }
    let from = if at_end { end - n } else { start };
    let lo = byte_at(s, from);
    s[lo..].starts_with(affix)
}

/// The unknown-method callback: Python methods of `str` and `dict` values.
pub fn call_method(_state: &mut State, value: &Value, name: &str, args: &[Value]) -> Result<Value, Error> {
    let args = Args::new(name, args)?;
    match value.kind() {
        ValueKind::String => str_method(value.as_str().unwrap_or_default(), name, &args),
        ValueKind::Map if value.as_object().is_some_and(|o| o.repr() == ObjectRepr::Map) => {
            dict_method(value, name, &args)
        }
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}

/// A method call's arguments: positional, then keywords (only those Python accepts by name).
struct Args<'a> {
    method: &'a str,
    positional: Vec<Value>,
    keywords: Vec<(String, Value)>,
}

impl<'a> Args<'a> {
    fn new(method: &'a str, args: &[Value]) -> Result<Self, Error> {
        let mut positional = args.to_vec();
        let mut keywords = Vec::new();
        if positional.last().is_some_and(Value::is_kwargs) {
            let kwargs = positional.pop().expect("checked");
            for key in kwargs.try_iter()? {
                let item = kwargs.get_item(&key)?;
                keywords.push((key.to_string(), item));
            }
        }
        Ok(Args { method, positional, keywords })
    }

    /// Argument `index`, or the keyword `name` when the method takes it by name.
    fn get(&self, index: usize, name: Option<&str>) -> Option<&Value> {
        self.positional.get(index).or_else(|| {
            let name = name?;
            self.keywords.iter().find(|(k, _)| k == name).map(|(_, v)| v)
        })
    }

    /// Python's TypeError for too many positional arguments or an unknown keyword.
    fn check(&self, max: usize, names: &[&str]) -> Result<(), Error> {
        if self.positional.len() > max {
            return Err(type_error(format!(
                "{}() takes at most {max} arguments ({} given)",
                self.method,
                self.positional.len()
            )));
        }
        if let Some((k, _)) = self.keywords.iter().find(|(k, _)| !names.contains(&k.as_str())) {
            return Err(type_error(format!("{}() got an unexpected keyword argument '{k}'", self.method)));
        }
        Ok(())
    }

    /// A `str` argument; `None`/absent gives `None` when `optional`.
    fn string(&self, index: usize, name: Option<&str>, optional: bool) -> Result<Option<String>, Error> {
        match self.get(index, name) {
            None if optional => Ok(None),
            None => Err(type_error(format!("{}() missing required argument", self.method))),
            Some(v) if v.is_none() && optional => Ok(None),
            Some(v) => match v.as_str() {
                Some(s) if v.kind() == ValueKind::String => Ok(Some(s.to_string())),
                _ => Err(type_error(format!(
                    "{}() argument must be str, not {}",
                    self.method,
                    super::pyjson::python_type_name(v)
                ))),
            },
        }
    }

    /// An integer argument (`None`/absent: `None`).
    fn int(&self, index: usize, name: Option<&str>) -> Result<Option<i64>, Error> {
        match self.get(index, name) {
            None => Ok(None),
            Some(v) if v.is_none() => Ok(None),
            Some(v) if v.is_integer() || v.kind() == ValueKind::Bool => Ok(Some(i64::try_from(v.clone())?)),
            Some(v) => Err(type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                super::pyjson::python_type_name(v)
            ))),
        }
    }
}

fn type_error(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

fn strings(items: Vec<&str>) -> Value {
    Value::from(items.into_iter().map(Value::from).collect::<Vec<_>>())
}

fn str_method(s: &str, name: &str, args: &Args) -> Result<Value, Error> {
    let value = match name {
        "strip" | "lstrip" | "rstrip" => {
            args.check(1, &[])?;
            let chars = args.string(0, None, true)?;
            let f = match name {
                "strip" => strip,
                "lstrip" => lstrip,
                _ => rstrip,
            };
            Value::from(f(s, chars.as_deref()))
        }
        "split" | "rsplit" => {
            args.check(2, &["sep", "maxsplit"])?;
            let sep = args.string(0, Some("sep"), true)?;
            let maxsplit = args.int(1, Some("maxsplit"))?.unwrap_or(-1);
            let parts = match (sep, name == "split") {
                (None, true) => split_whitespace(s, maxsplit),
                (None, false) => rsplit_whitespace(s, maxsplit),
                (Some(sep), true) => split_sep(s, &sep, maxsplit).map_err(value_error)?,
                (Some(sep), false) => rsplit_sep(s, &sep, maxsplit).map_err(value_error)?,
            };
            strings(parts)
        }
        "splitlines" => {
            args.check(1, &["keepends"])?;
            strings(splitlines(s, args.get(0, Some("keepends")).is_some_and(Value::is_true)))
        }
        "startswith" | "endswith" => {
            args.check(3, &[])?;
            let (start, end) = (args.int(1, None)?, args.int(2, None)?);
            let at_end = name == "endswith";
            let affixes = affixes(args.get(0, None), name)?;
            Value::from(affixes.iter().any(|a| tailmatch(s, a, start, end, at_end)))
        }
        "upper" | "lower" | "title" | "capitalize" | "isspace" | "isupper" | "islower" => {
            args.check(0, &[])?;
            match name {
                "upper" => Value::from(upper(s)),
                "lower" => Value::from(lower(s)),
                "title" => Value::from(title(s)),
                "capitalize" => Value::from(capitalize(s)),
                "isspace" => Value::from(!s.is_empty() && s.chars().all(is_space)),
                "isupper" => Value::from(is_case(s, true)),
                _ => Value::from(is_case(s, false)),
            }
        }
        "replace" => {
            args.check(3, &[])?;
            let old = args.string(0, None, false)?.unwrap_or_default();
            let new = args.string(1, None, false)?.unwrap_or_default();
            match args.int(2, None)? {
                Some(n) if n >= 0 => Value::from(s.replacen(&old, &new, n as usize)),
                _ => Value::from(s.replace(&old, &new)),
            }
        }
        "find" | "rfind" | "index" | "rindex" | "count" => {
            args.check(3, &[])?;
            let sub = args.string(0, None, false)?.unwrap_or_default();
            let (start, end) = (args.int(1, None)?, args.int(2, None)?);
            if name == "count" {
                Value::from(count(s, &sub, start, end))
            } else {
                let at = find(s, &sub, start, end, name.starts_with('r'));
                if at < 0 && name.ends_with("index") {
                    return Err(value_error("substring not found".into()));
                }
                Value::from(at)
            }
        }
        "join" => {
            args.check(1, &[])?;
            join(s, args.get(0, None).unwrap_or(&Value::UNDEFINED))?
        }
        "removeprefix" | "removesuffix" => {
            args.check(1, &[])?;
            let affix = args.string(0, None, false)?.unwrap_or_default();
            let rest =
                if name == "removeprefix" { s.strip_prefix(affix.as_str()) } else { s.strip_suffix(affix.as_str()) };
            Value::from(rest.unwrap_or(s))
        }
        "partition" | "rpartition" => {
            args.check(1, &[])?;
            let sep = args.string(0, None, false)?.unwrap_or_default();
            if sep.is_empty() {
                return Err(value_error("empty separator".into()));
            }
            let found = if name == "partition" { s.find(&sep) } else { s.rfind(&sep) };
            let parts = match found {
                Some(i) => [&s[..i], sep.as_str(), &s[i + sep.len()..]],
                None if name == "partition" => [s, "", ""],
                None => ["", "", s],
            };
            strings(parts.to_vec())
        }
        _ => return Err(Error::from(ErrorKind::UnknownMethod)),
    };
    Ok(value)
}

fn value_error(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// The prefix (or suffixes) of `startswith`/`endswith`: a str, or a tuple/list of str.
fn affixes(arg: Option<&Value>, method: &str) -> Result<Vec<String>, Error> {
    let bad = || type_error(format!("{method} first arg must be str or a tuple of str"));
    let arg = arg.ok_or_else(bad)?;
    match arg.kind() {
        ValueKind::String => Ok(vec![arg.as_str().unwrap_or_default().to_string()]),
        ValueKind::Seq => arg
            .try_iter()?
            .map(|item| match item.kind() {
                ValueKind::String => Ok(item.as_str().unwrap_or_default().to_string()),
                _ => Err(bad()),
            })
            .collect(),
        _ => Err(bad()),
    }
}

/// `sep.join(iterable)`: every item must be a str.
fn join(sep: &str, iterable: &Value) -> Result<Value, Error> {
    let mut out = String::new();
    for (i, item) in iterable.try_iter()?.enumerate() {
        if item.kind() != ValueKind::String {
            return Err(type_error(format!(
                "sequence item {i}: expected str instance, {} found",
                super::pyjson::python_type_name(&item)
            )));
        }
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(item.as_str().unwrap_or_default());
    }
    Ok(Value::from(out))
}

/// A `(key, value)` tuple, as `dict.items()` yields.
pub fn pair(key: Value, value: Value) -> Value {
    Value::from_object(Tuple::from([key, value]))
}

fn dict_method(dict: &Value, name: &str, args: &Args) -> Result<Value, Error> {
    let object = dict.as_object().expect("a map value is an object");
    let value = match name {
        "get" => {
            args.check(2, &[])?;
            let key = args.get(0, None).ok_or_else(|| type_error("get expected at least 1 argument, got 0".into()))?;
            let default = args.get(1, None).cloned().unwrap_or(Value::from(()));
            object.get_value(key).unwrap_or(default)
        }
        "items" => {
            args.check(0, &[])?;
            let pairs = object.try_iter_pairs().into_iter().flatten();
            Value::from(pairs.map(|(k, v)| pair(k, v)).collect::<Vec<_>>())
        }
        "keys" | "values" => {
            args.check(0, &[])?;
            let pairs = object.try_iter_pairs().into_iter().flatten();
            let keys = name == "keys";
            Value::from(pairs.map(|(k, v)| if keys { k } else { v }).collect::<Vec<_>>())
        }
        _ => return Err(Error::from(ErrorKind::UnknownMethod)),
    };
    Ok(value)
}

/// Characters whose Python titlecase differs from their uppercase (Python 3.11):
/// `[(c, c.title()) for c in map(chr, range(0x110000)) if c.title() != c.upper()]`.
const TITLE_NOT_UPPER: &[(char, &str)] = &[
    ('\u{df}', "\u{53}\u{73}"),
    ('\u{1c4}', "\u{1c5}"),
    ('\u{1c5}', "\u{1c5}"),
    ('\u{1c6}', "\u{1c5}"),
    ('\u{1c7}', "\u{1c8}"),
    ('\u{1c8}', "\u{1c8}"),
    ('\u{1c9}', "\u{1c8}"),
    ('\u{1ca}', "\u{1cb}"),
    ('\u{1cb}', "\u{1cb}"),
    ('\u{1cc}', "\u{1cb}"),
    ('\u{1f1}', "\u{1f2}"),
    ('\u{1f2}', "\u{1f2}"),
    ('\u{1f3}', "\u{1f2}"),
    ('\u{587}', "\u{535}\u{582}"),
    ('\u{10d0}', "\u{10d0}"),
    ('\u{10d1}', "\u{10d1}"),
    ('\u{10d2}', "\u{10d2}"),
    ('\u{10d3}', "\u{10d3}"),
    ('\u{10d4}', "\u{10d4}"),
    ('\u{10d5}', "\u{10d5}"),
    ('\u{10d6}', "\u{10d6}"),
    ('\u{10d7}', "\u{10d7}"),
    ('\u{10d8}', "\u{10d8}"),
    ('\u{10d9}', "\u{10d9}"),
    ('\u{10da}', "\u{10da}"),
    ('\u{10db}', "\u{10db}"),
    ('\u{10dc}', "\u{10dc}"),
    ('\u{10dd}', "\u{10dd}"),
    ('\u{10de}', "\u{10de}"),
    ('\u{10df}', "\u{10df}"),
    ('\u{10e0}', "\u{10e0}"),
    ('\u{10e1}', "\u{10e1}"),
    ('\u{10e2}', "\u{10e2}"),
    ('\u{10e3}', "\u{10e3}"),
    ('\u{10e4}', "\u{10e4}"),
    ('\u{10e5}', "\u{10e5}"),
    ('\u{10e6}', "\u{10e6}"),
    ('\u{10e7}', "\u{10e7}"),
    ('\u{10e8}', "\u{10e8}"),
    ('\u{10e9}', "\u{10e9}"),
    ('\u{10ea}', "\u{10ea}"),
    ('\u{10eb}', "\u{10eb}"),
    ('\u{10ec}', "\u{10ec}"),
    ('\u{10ed}', "\u{10ed}"),
    ('\u{10ee}', "\u{10ee}"),
    ('\u{10ef}', "\u{10ef}"),
    ('\u{10f0}', "\u{10f0}"),
    ('\u{10f1}', "\u{10f1}"),
    ('\u{10f2}', "\u{10f2}"),
    ('\u{10f3}', "\u{10f3}"),
    ('\u{10f4}', "\u{10f4}"),
    ('\u{10f5}', "\u{10f5}"),
    ('\u{10f6}', "\u{10f6}"),
    ('\u{10f7}', "\u{10f7}"),
    ('\u{10f8}', "\u{10f8}"),
    ('\u{10f9}', "\u{10f9}"),
    ('\u{10fa}', "\u{10fa}"),
    ('\u{10fd}', "\u{10fd}"),
    ('\u{10fe}', "\u{10fe}"),
    ('\u{10ff}', "\u{10ff}"),
    ('\u{1f80}', "\u{1f88}"),
    ('\u{1f81}', "\u{1f89}"),
    ('\u{1f82}', "\u{1f8a}"),
    ('\u{1f83}', "\u{1f8b}"),
    ('\u{1f84}', "\u{1f8c}"),
    ('\u{1f85}', "\u{1f8d}"),
    ('\u{1f86}', "\u{1f8e}"),
    ('\u{1f87}', "\u{1f8f}"),
    ('\u{1f88}', "\u{1f88}"),
    ('\u{1f89}', "\u{1f89}"),
    ('\u{1f8a}', "\u{1f8a}"),
    ('\u{1f8b}', "\u{1f8b}"),
    ('\u{1f8c}', "\u{1f8c}"),
    ('\u{1f8d}', "\u{1f8d}"),
    ('\u{1f8e}', "\u{1f8e}"),
    ('\u{1f8f}', "\u{1f8f}"),
    ('\u{1f90}', "\u{1f98}"),
    ('\u{1f91}', "\u{1f99}"),
    ('\u{1f92}', "\u{1f9a}"),
    ('\u{1f93}', "\u{1f9b}"),
    ('\u{1f94}', "\u{1f9c}"),
    ('\u{1f95}', "\u{1f9d}"),
    ('\u{1f96}', "\u{1f9e}"),
    ('\u{1f97}', "\u{1f9f}"),
    ('\u{1f98}', "\u{1f98}"),
    ('\u{1f99}', "\u{1f99}"),
    ('\u{1f9a}', "\u{1f9a}"),
    ('\u{1f9b}', "\u{1f9b}"),
    ('\u{1f9c}', "\u{1f9c}"),
    ('\u{1f9d}', "\u{1f9d}"),
    ('\u{1f9e}', "\u{1f9e}"),
    ('\u{1f9f}', "\u{1f9f}"),
    ('\u{1fa0}', "\u{1fa8}"),
    ('\u{1fa1}', "\u{1fa9}"),
    ('\u{1fa2}', "\u{1faa}"),
    ('\u{1fa3}', "\u{1fab}"),
    ('\u{1fa4}', "\u{1fac}"),
    ('\u{1fa5}', "\u{1fad}"),
    ('\u{1fa6}', "\u{1fae}"),
    ('\u{1fa7}', "\u{1faf}"),
    ('\u{1fa8}', "\u{1fa8}"),
    ('\u{1fa9}', "\u{1fa9}"),
    ('\u{1faa}', "\u{1faa}"),
    ('\u{1fab}', "\u{1fab}"),
    ('\u{1fac}', "\u{1fac}"),
    ('\u{1fad}', "\u{1fad}"),
    ('\u{1fae}', "\u{1fae}"),
    ('\u{1faf}', "\u{1faf}"),
    ('\u{1fb2}', "\u{1fba}\u{345}"),
    ('\u{1fb3}', "\u{1fbc}"),
    ('\u{1fb4}', "\u{386}\u{345}"),
    ('\u{1fb7}', "\u{391}\u{342}\u{345}"),
    ('\u{1fbc}', "\u{1fbc}"),
    ('\u{1fc2}', "\u{1fca}\u{345}"),
    ('\u{1fc3}', "\u{1fcc}"),
    ('\u{1fc4}', "\u{389}\u{345}"),
    ('\u{1fc7}', "\u{397}\u{342}\u{345}"),
    ('\u{1fcc}', "\u{1fcc}"),
    ('\u{1ff2}', "\u{1ffa}\u{345}"),
    ('\u{1ff3}', "\u{1ffc}"),
    ('\u{1ff4}', "\u{38f}\u{345}"),
    ('\u{1ff7}', "\u{3a9}\u{342}\u{345}"),
    ('\u{1ffc}', "\u{1ffc}"),
    ('\u{fb00}', "\u{46}\u{66}"),
    ('\u{fb01}', "\u{46}\u{69}"),
    ('\u{fb02}', "\u{46}\u{6c}"),
    ('\u{fb03}', "\u{46}\u{66}\u{69}"),
    ('\u{fb04}', "\u{46}\u{66}\u{6c}"),
    ('\u{fb05}', "\u{53}\u{74}"),
    ('\u{fb06}', "\u{53}\u{74}"),
    ('\u{fb13}', "\u{544}\u{576}"),
    ('\u{fb14}', "\u{544}\u{565}"),
    ('\u{fb15}', "\u{544}\u{56b}"),
    ('\u{fb16}', "\u{54e}\u{576}"),
    ('\u{fb17}', "\u{544}\u{56d}"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_pythons() {
        // "".join(c for c in map(chr, range(0x110000)) if c.isspace()) == this set
        for c in ['\x1c', '\x1d', '\x1e', '\x1f', '\u{85}', '\u{a0}', '\u{2028}', '\u{3000}', '\x0b', '\x0c'] {
            assert!(is_space(c), "{c:?}");
        }
        for c in ['\u{200b}', '\u{180e}', '\u{feff}', 'a'] {
            assert!(!is_space(c), "{c:?}");
        }
        assert_eq!(strip("\x1c\u{a0} a b \u{2028}\x1f", None), "a b");
        assert_eq!(lstrip("xxaxx", Some("x")), "axx");
        assert_eq!(rstrip("\n\nab\n\n", Some("\n")), "\n\nab");
        assert_eq!(strip("abcba", Some("ab")), "c");
    }

    #[test]
    fn split_like_python() {
        // '  a b\x1c c  '.split() == ['a', 'b', 'c']
        assert_eq!(split_whitespace("  a b\x1c c  ", -1), ["a", "b", "c"]);
        // '  a b  c  '.split(None, 1) == ['a', 'b  c  ']
        assert_eq!(split_whitespace("  a b  c  ", 1), ["a", "b  c  "]);
        // '  a b  c  '.rsplit(None, 1) == ['  a b', 'c']
        assert_eq!(rsplit_whitespace("  a b  c  ", 1), ["  a b", "c"]);
        assert!(split_whitespace(" \u{a0} ", -1).is_empty());
        // 'a,,b,'.split(',') == ['a', '', 'b', '']
        assert_eq!(split_sep("a,,b,", ",", -1).unwrap(), ["a", "", "b", ""]);
        // 'a,b,c'.split(',', 1) == ['a', 'b,c'];  'a,b,c'.rsplit(',', 1) == ['a,b', 'c']
        assert_eq!(split_sep("a,b,c", ",", 1).unwrap(), ["a", "b,c"]);
        assert_eq!(rsplit_sep("a,b,c", ",", 1).unwrap(), ["a,b", "c"]);
        assert_eq!(split_sep("a", "", -1).unwrap_err(), "empty separator");
        // 'a\r\nb\x1cc\n'.splitlines() == ['a', 'b', 'c']
        assert_eq!(splitlines("a\r\nb\x1cc\n", false), ["a", "b", "c"]);
        assert_eq!(splitlines("a\r\nb", true), ["a\r\n", "b"]);
    }

    #[test]
    fn case_mappings_like_python() {
        assert_eq!(upper("straße ǆ"), "STRASSE Ǆ");
        assert_eq!(lower("ΟΔΟΣ İ"), "οδος i\u{307}");
        // 'hello wORLD ǆungla ßa ﬁx 3rd'.title()
        assert_eq!(title("hello wORLD ǆungla ßa ﬁx 3rd"), "Hello World ǅungla Ssa Fix 3Rd");
        // 'ΑΣ ΑΣ'.title() == 'Ας Ας'
        assert_eq!(title("ΑΣ ΑΣ"), "Ας Ας");
        // 'ǆEMO ΣΑΣ'.capitalize() == 'ǅemo σας'
        assert_eq!(capitalize("ǆEMO ΣΑΣ"), "ǅemo σας");
        // jinja2: "hello-wORLD (foo) o'neil"|title == "Hello-World (Foo) O'neil"
        assert_eq!(jinja_title("hello-wORLD (foo) o'neil"), "Hello-World (Foo) O'neil");
        assert!(is_case("ABC1", true) && !is_case("ǅ", true) && !is_case("123", false));
    }

    #[test]
    fn positions_count_code_points() {
        // 'é中abc'.find('a') == 2; 'aXa'.rfind('a') == 2; 'abc'.find('', 3) == 3; 'abc'.find('', 4) == -1
        assert_eq!(find("é中abc", "a", None, None, false), 2);
        assert_eq!(find("aXa", "a", None, None, true), 2);
        assert_eq!(find("abc", "", Some(3), None, false), 3);
        assert_eq!(find("abc", "", Some(4), None, false), -1);
        assert_eq!(find("é中abc", "b", Some(-2), None, false), 3);
        // 'aaaa'.count('aa') == 2; 'ab'.count('') == 3; 'abc'.count('', 4) == 0
        assert_eq!(count("aaaa", "aa", None, None), 2);
        assert_eq!(count("ab", "", None, None), 3);
        assert_eq!(count("abc", "", Some(4), None), 0);
        // 'é<x>'.startswith('<', 1); 'abc'.startswith('', 5) is False; 'abc'.endswith('b', 0, 2)
        assert!(tailmatch("é<x>", "<", Some(1), None, false));
        assert!(!tailmatch("abc", "", Some(5), None, false));
        assert!(tailmatch("abc", "b", Some(0), Some(2), true));
        assert!(!tailmatch("abc", "abcd", None, None, true));
    }
}
