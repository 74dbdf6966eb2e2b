//! The filters and tests whose minijinja versions differ from jinja2 as transformers
//! configures it, re-implemented with Python's semantics (jinja2 3.1 `filters.py` and
//! `tests.py`: each takes `str(value)` where jinja2's `soft_str` does).

use std::cmp::Ordering;

use minijinja::value::{Kwargs, ObjectRepr, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

use super::super::pyjson::{self, JsonOptions};
use super::super::pyrepr::py_str;
use super::super::pystr;

type FilterResult = Result<Value, Error>;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("tojson", tojson);
    env.add_filter("string", |v: &Value| Value::from(py_str(v)));
    env.add_filter("trim", trim);
    env.add_filter("upper", |v: &Value| Value::from(pystr::upper(&py_str(v))));
    env.add_filter("lower", |v: &Value| Value::from(pystr::lower(&py_str(v))));
    env.add_filter("capitalize", |v: &Value| Value::from(pystr::capitalize(&py_str(v))));
    env.add_filter("title", |v: &Value| Value::from(pystr::jinja_title(&py_str(v))));
    env.add_filter("join", join);
    env.add_filter("int", int);
    env.add_filter("float", float);
    env.add_filter("dictsort", dictsort);
    env.add_test("sequence", is_sequence);
    env.add_test("iterable", is_iterable);
    env.add_test("lower", |v: &Value| is_cased_as(v, false));
    env.add_test("upper", |v: &Value| is_cased_as(v, true));
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// transformers' `tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`.
fn tojson(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> FilterResult {
    const NAMES: [&str; 4] = ["ensure_ascii", "indent", "separators", "sort_keys"];
    if args.len() > NAMES.len() {
        return Err(invalid(format!(
            "tojson() takes from 1 to 5 positional arguments but {} were given",
            args.len() + 1
        )));
    }
    let mut slots: [Option<Value>; 4] = Default::default();
    for (slot, arg) in slots.iter_mut().zip(args.iter()) {
        *slot = Some(arg.clone());
    }
    for (slot, name) in slots.iter_mut().zip(NAMES) {
        if let Some(v) = kwargs.get::<Option<Value>>(name)? {
            if slot.is_some() {
                return Err(invalid(format!("tojson() got multiple values for argument '{name}'")));
            }
            *slot = Some(v);
        }
    }
    kwargs.assert_all_used()?;
    let [ensure_ascii, indent, separators, sort_keys] = slots;
    let options = JsonOptions::new(
        ensure_ascii.is_some_and(|v| v.is_true()),
        indent.filter(|v| !v.is_none()).map(|v| indent_unit(&v)).transpose()?,
        separators.filter(|v| !v.is_none()).map(|v| separator_pair(&v)).transpose()?,
        sort_keys.is_some_and(|v| v.is_true()),
    );
    pyjson::dumps(value, &options).map(Value::from).map_err(invalid)
}

/// `indent`: a str is the unit, an int `n` is `' ' * n`.
fn indent_unit(v: &Value) -> Result<String, Error> {
    if let Some(s) = v.as_str().filter(|_| v.kind() == ValueKind::String) {
        return Ok(s.to_string());
    }
    let n = i64::try_from(v.clone()).map_err(|_| invalid("indent must be an int or a str"))?;
    Ok(" ".repeat(n.max(0) as usize))
}

/// `separators`: a pair of strings `(item_separator, key_separator)`.
fn separator_pair(v: &Value) -> Result<(String, String), Error> {
    let items: Vec<Value> = v.try_iter().map(|it| it.collect()).unwrap_or_default();
    match items.as_slice() {
        [a, b] if a.kind() == ValueKind::String && b.kind() == ValueKind::String => {
            Ok((a.as_str().unwrap_or_default().to_string(), b.as_str().unwrap_or_default().to_string()))
        }
        _ => Err(invalid("separators must be a pair of strings")),
    }
}

/// `trim(value, chars=None)`: `str(value).strip(chars)`, Python's whitespace.
fn trim(value: &Value, chars: Option<Value>) -> FilterResult {
    let chars = chars.filter(|c| !c.is_none() && !c.is_undefined()).map(|c| py_str(&c));
    Ok(Value::from(pystr::strip(&py_str(value), chars.as_deref())))
}

/// `join(value, d='', attribute=None)`: `d.join(map(str, items))`.
fn join(value: &Value, sep: Option<Value>, kwargs: Kwargs) -> FilterResult {
    let sep = match sep.or(kwargs.get::<Option<Value>>("d")?) {
        Some(v) => py_str(&v),
        None => String::new(),
    };
    let attribute: Option<Value> = kwargs.get("attribute")?;
    kwargs.assert_all_used()?;
    let mut out = String::new();
    for (i, item) in value.try_iter()?.enumerate() {
        if i > 0 {
            out.push_str(&sep);
        }
        let item = match &attribute {
            Some(path) => lookup_path(&item, path),
            None => item,
        };
        out.push_str(&py_str(&item));
    }
    Ok(Value::from(out))
}

/// jinja2's attribute getter: a dotted path whose integer parts index.
fn lookup_path(item: &Value, path: &Value) -> Value {
    if path.is_integer() {
        return item.get_item(path).unwrap_or(Value::UNDEFINED);
    }
    let path = py_str(path);
    path.split('.').fold(item.clone(), |current, part| {
        let key = part.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(part));
        current.get_item(&key).unwrap_or(Value::UNDEFINED)
    })
}

/// `int(value, default=0, base=10)`: `int(value)` (a str may have whitespace and `_`), else
/// `int(float(value))`, else the default. An undefined value raises, as in jinja2.
fn int(value: &Value, default: Option<Value>, base: Option<u32>, kwargs: Kwargs) -> FilterResult {
    let default = match default {
        Some(d) => d,
        None => kwargs.get::<Option<Value>>("default")?.unwrap_or(Value::from(0)),
    };
    let base = match base {
        Some(b) => b,
        None => kwargs.get::<Option<u32>>("base")?.unwrap_or(10),
    };
    kwargs.assert_all_used()?;
    if value.is_undefined() {
        return Err(Error::new(ErrorKind::UndefinedError, "int() of an undefined value"));
    }
    let parsed = match value.kind() {
        ValueKind::Bool => Some(i128::from(value.is_true())),
        ValueKind::Number if value.is_integer() => i128::try_from(value.clone()).ok(),
        ValueKind::Number => f64::try_from(value.clone()).ok().and_then(float_to_int),
        ValueKind::String => {
            let text = pystr::strip(value.as_str().unwrap_or_default(), None);
            parse_python_int(text, base).or_else(|| parse_python_float(text).and_then(float_to_int))
        }
        _ => None,
    };
    Ok(parsed.map_or(default, Value::from))
}

/// `float(value, default=0.0)`: `float(value)` (a str as Python parses it), else the default.
fn float(value: &Value, default: Option<Value>, kwargs: Kwargs) -> FilterResult {
    let default = match default {
        Some(d) => d,
        None => kwargs.get::<Option<Value>>("default")?.unwrap_or(Value::from(0.0)),
    };
    kwargs.assert_all_used()?;
    if value.is_undefined() {
        return Err(Error::new(ErrorKind::UndefinedError, "float() of an undefined value"));
    }
    let parsed = match value.kind() {
        ValueKind::Bool => Some(if value.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => f64::try_from(value.clone()).ok(),
        ValueKind::String => parse_python_float(pystr::strip(value.as_str().unwrap_or_default(), None)),
        _ => None,
    };
    Ok(parsed.map_or(default, Value::from))
}

fn float_to_int(x: f64) -> Option<i128> {
    x.is_finite().then(|| x.trunc() as i128)
}

/// `int(text, base)`: sign, optional base prefix, digits with single `_` between them.
fn parse_python_int(text: &str, base: u32) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let prefix = match base {
        2 => Some("0b"),
        8 => Some("0o"),
        16 => Some("0x"),
        _ => None,
    };
    let digits = match prefix {
        Some(p) if digits.len() > 2 && digits[..2].eq_ignore_ascii_case(p) => {
            digits[2..].strip_prefix('_').unwrap_or(&digits[2..])
        }
        _ => digits,
    };
    if !(2..=36).contains(&base)
        || digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    let v = i128::from_str_radix(&clean, base).ok().filter(|_| !clean.starts_with(['+', '-']))?;
    Some(if negative { -v } else { v })
}

/// `float(text)` for the spellings Python accepts (underscores between digits too).
fn parse_python_float(text: &str) -> Option<f64> {
    let lower = text.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if matches!(unsigned, "inf" | "infinity" | "nan") {
        return lower.parse::<f64>().ok().or(Some(f64::NAN));
    }
    if text.contains("__") || text.starts_with('_') || text.ends_with('_') {
        return None;
    }
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    clean.parse::<f64>().ok()
}

/// `dictsort(value, case_sensitive=False, by='key', reverse=False)`: a stable sort of the
/// pairs by key (or value), strings compared lowercased unless `case_sensitive`.
fn dictsort(value: &Value, kwargs: Kwargs) -> FilterResult {
    let case_sensitive = kwargs.get::<Option<bool>>("case_sensitive")?.unwrap_or(false);
    let by_value = match kwargs.get::<Option<&str>>("by")? {
        None | Some("key") => false,
        Some("value") => true,
        Some(_) => return Err(invalid("You can only sort by either \"key\" or \"value\"")),
    };
    let reverse = kwargs.get::<Option<bool>>("reverse")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    let object = value
        .as_object()
        .filter(|o| o.repr() == ObjectRepr::Map)
        .ok_or_else(|| invalid("dictsort expects a mapping"))?;
    let mut pairs: Vec<(Value, Value)> = object.try_iter_pairs().into_iter().flatten().collect();
    let sort_key = |pair: &(Value, Value)| {
        let v = if by_value { &pair.1 } else { &pair.0 };
        match v.as_str().filter(|_| v.kind() == ValueKind::String) {
            Some(s) if !case_sensitive => Value::from(pystr::lower(s)),
            _ => v.clone(),
        }
    };
    let keys: Vec<Value> = pairs.iter().map(sort_key).collect();
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    let mut failed = None;
    order.sort_by(|&a, &b| {
        let ord = python_cmp(&keys[a], &keys[b]).unwrap_or_else(|e| {
            failed.get_or_insert(e);
            Ordering::Equal
        });
        if reverse {
            ord.reverse()
        } else {
            ord
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let sorted: Vec<Value> =
        order.into_iter().map(|i| std::mem::take(&mut pairs[i])).map(|(k, v)| pystr::pair(k, v)).collect();
    Ok(Value::from(sorted))
}

/// `a < b` as Python orders str with str and numbers (bools too) with numbers.
fn python_cmp(a: &Value, b: &Value) -> Result<Ordering, Error> {
    let number = |v: &Value| match v.kind() {
        ValueKind::Bool => Some(if v.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => f64::try_from(v.clone()).ok(),
        _ => None,
    };
    match (a.kind(), b.kind()) {
        (ValueKind::String, ValueKind::String) => Ok(a.as_str().cmp(&b.as_str())),
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => Ok(x.partial_cmp(&y).unwrap_or(Ordering::Equal)),
            _ => Err(invalid(format!(
                "'<' not supported between instances of '{}' and '{}'",
                pyjson::python_type_name(a),
                pyjson::python_type_name(b)
            ))),
        },
    }
}

/// jinja2's `sequence` test: `len(value)` and `value.__getitem__` exist: str, list, dict,
/// and the undefined value.
fn is_sequence(v: &Value) -> bool {
    matches!(v.kind(), ValueKind::String | ValueKind::Bytes | ValueKind::Seq | ValueKind::Map | ValueKind::Undefined)
}

/// jinja2's `iterable` test: `iter(value)` works (not for None or numbers).
fn is_iterable(v: &Value) -> bool {
    matches!(
        v.kind(),
        ValueKind::String
            | ValueKind::Bytes
            | ValueKind::Seq
            | ValueKind::Map
            | ValueKind::Iterable
            | ValueKind::Undefined
    )
}

/// jinja2's `lower` / `upper` tests: `str(value).islower()` / `.isupper()`.
fn is_cased_as(v: &Value, upper: bool) -> bool {
    let text = py_str(v);
    if upper {
        pystr::isupper(&text)
    } else {
        pystr::islower(&text)
    }
}
