//! Python's `json.dumps`, which transformers installs as the templates' `tojson` filter:
//! `json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`.
//! Unlike minijinja's own `tojson` nothing is HTML-escaped, floats print as Python's
//! `repr` (`1e-05`), and NaN / infinities print as `NaN` / `Infinity` (`allow_nan=True`).

use std::fmt::Write;

use minijinja::value::{ObjectRepr, Value, ValueKind};

use super::pyrepr::float_repr;

/// The keyword arguments of `json.dumps` that the filter exposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonOptions {
    pub ensure_ascii: bool,
    /// `None`: everything on one line. `Some(unit)`: one item a line, indented by `unit`
    /// per level (`indent=2` is two spaces, a string indent is used as is).
    pub indent: Option<String>,
    pub item_separator: String,
    pub key_separator: String,
    pub sort_keys: bool,
}

impl Default for JsonOptions {
    /// transformers' `tojson` defaults.
    fn default() -> Self {
        JsonOptions::new(false, None, None, false)
    }
}

impl JsonOptions {
    /// As `json.dumps` resolves its arguments: without `separators`, `(', ', ': ')`, or
    /// `(',', ': ')` when there is an indent.
    pub fn new(
        ensure_ascii: bool,
        indent: Option<String>,
        separators: Option<(String, String)>,
        sort_keys: bool,
    ) -> Self {
        let (item_separator, key_separator) = separators.unwrap_or_else(|| {
            let item = if indent.is_some() { "," } else { ", " };
            (item.to_string(), ": ".to_string())
        });
        JsonOptions { ensure_ascii, indent, item_separator, key_separator, sort_keys }
    }
}

/// `json.dumps(value, ...)`; the error is Python's TypeError/ValueError message.
pub fn dumps(value: &Value, options: &JsonOptions) -> Result<String, String> {
    let mut out = String::new();
    Encoder { options, out: &mut out }.value(value, 0)?;
    Ok(out)
}

/// Appends a JSON string literal as `json.dumps` writes it.
pub fn write_json_string(out: &mut String, s: &str, ensure_ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if ensure_ascii && (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float as the JSON encoder writes it (`allow_nan=True`).
fn float_text(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        float_repr(x)
    }
}

struct Encoder<'a> {
    options: &'a JsonOptions,
    out: &'a mut String,
}

impl Encoder<'_> {
    fn value(&mut self, value: &Value, level: usize) -> Result<(), String> {
        match value.kind() {
            ValueKind::None => self.out.push_str("null"),
            ValueKind::Bool => self.out.push_str(if value.is_true() { "true" } else { "false" }),
            ValueKind::Number if value.is_integer() => {
                let _ = write!(self.out, "{value}");
            }
            ValueKind::Number => {
                let x = f64::try_from(value.clone()).unwrap_or(f64::NAN);
                self.out.push_str(&float_text(x));
            }
            ValueKind::String => {
                write_json_string(self.out, value.as_str().unwrap_or_default(), self.options.ensure_ascii)
            }
            ValueKind::Seq => self.list(value, level)?,
            ValueKind::Map if value.as_object().is_some_and(|o| o.repr() == ObjectRepr::Map) => {
                self.dict(value, level)?
            }
            _ => return Err(format!("Object of type {} is not JSON serializable", python_type_name(value))),
        }
        Ok(())
    }

    fn list(&mut self, value: &Value, level: usize) -> Result<(), String> {
        let items: Vec<Value> = value.try_iter().map(|it| it.collect()).unwrap_or_default();
        if items.is_empty() {
            self.out.push_str("[]");
            return Ok(());
        }
        self.out.push('[');
        for (i, item) in items.iter().enumerate() {
            self.separator(i, level + 1);
            self.value(item, level + 1)?;
        }
        self.close(level, ']');
        Ok(())
    }

    fn dict(&mut self, value: &Value, level: usize) -> Result<(), String> {
        let object = value.as_object().expect("checked by the caller");
        let mut pairs: Vec<(Value, Value)> = object.try_iter_pairs().map(|it| it.collect()).unwrap_or_default();
        if pairs.is_empty() {
            self.out.push_str("{}");
            return Ok(());
        }
        if self.options.sort_keys {
            sort_pairs(&mut pairs)?;
        }
        self.out.push('{');
        for (i, (key, item)) in pairs.iter().enumerate() {
            self.separator(i, level + 1);
            let key = key_text(key)?;
            write_json_string(self.out, &key, self.options.ensure_ascii);
            self.out.push_str(&self.options.key_separator);
            self.value(item, level + 1)?;
        }
        self.close(level, '}');
        Ok(())
    }

    /// Before item `i` at nesting `level`: the item separator (not before the first),
    /// then with an indent a newline and the indentation.
    fn separator(&mut self, i: usize, level: usize) {
        if i > 0 {
            self.out.push_str(&self.options.item_separator);
        }
        self.newline(level);
    }

    fn close(&mut self, level: usize, bracket: char) {
        self.newline(level);
        self.out.push(bracket);
    }

    fn newline(&mut self, level: usize) {
        if let Some(unit) = &self.options.indent {
            self.out.push('\n');
            for _ in 0..level {
                self.out.push_str(unit);
            }
        }
    }
}

/// A dict key as `json.dumps` turns it into a string: str, int, float, bool and None only.
fn key_text(key: &Value) -> Result<String, String> {
    match key.kind() {
        ValueKind::String => Ok(key.as_str().unwrap_or_default().to_string()),
        ValueKind::Bool => Ok(if key.is_true() { "true" } else { "false" }.into()),
        ValueKind::None => Ok("null".into()),
        ValueKind::Number if key.is_integer() => Ok(key.to_string()),
        ValueKind::Number => Ok(float_text(f64::try_from(key.clone()).unwrap_or(f64::NAN))),
        _ => Err(format!("keys must be str, int, float, bool or None, not {}", python_type_name(key))),
    }
}

/// `sorted(d.items())`: keys compare as Python compares them; str and numbers do not mix.
fn sort_pairs(pairs: &mut [(Value, Value)]) -> Result<(), String> {
    let all_str = pairs.iter().all(|(k, _)| k.kind() == ValueKind::String);
    let all_num = pairs.iter().all(|(k, _)| matches!(k.kind(), ValueKind::Number | ValueKind::Bool));
    if all_str {
        pairs.sort_by(|a, b| a.0.as_str().cmp(&b.0.as_str()));
    } else if all_num {
        let num = |v: &Value| f64::try_from(v.clone()).unwrap_or_else(|_| if v.is_true() { 1.0 } else { 0.0 });
        pairs.sort_by(|a, b| num(&a.0).total_cmp(&num(&b.0)));
    } else {
        return Err("'<' not supported between instances of dict keys of different types".into());
    }
    Ok(())
}

/// The name Python's error message would give the value's type.
pub fn python_type_name(value: &Value) -> &'static str {
    match value.kind() {
        ValueKind::Undefined => "Undefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if value.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        ValueKind::Iterable => "generator",
        _ => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        Value::from_pairs([
            ("name", Value::from("get_weather")),
            ("b", Value::from(vec![Value::from(1), Value::from(2.5), Value::from(1e-5), Value::from(1e16)])),
            ("a", Value::from_pairs([("x", Value::from(())), ("y", Value::from(true))])),
            ("text", Value::from("<é>&'\"\\\n\u{1f}\u{7f}😀")),
            ("e", Value::from(Vec::<Value>::new())),
        ])
    }

    #[test]
    fn default_matches_transformers_tojson() {
        // json.dumps(obj, ensure_ascii=False)
        assert_eq!(
            dumps(&sample(), &JsonOptions::default()).unwrap(),
            r#"{"name": "get_weather", "b": [1, 2.5, 1e-05, 1e+16], "a": {"x": null, "y": true}, "text": "<é>&'\"\\\n\u001f"#
                .to_string()
                + "\u{7f}😀\", \"e\": []}"
        );
    }

    #[test]
    fn ensure_ascii_escapes_like_python() {
        let opts = JsonOptions::new(true, None, None, false);
        // json.dumps("é\x7f😀")
        assert_eq!(dumps(&Value::from("é\u{7f}😀"), &opts).unwrap(), r#""\u00e9\u007f\ud83d\ude00""#);
    }

    #[test]
    fn indent_separators_and_sort_keys() {
        // json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True)
        let opts = JsonOptions::new(false, Some("  ".into()), None, true);
        let v = Value::from_pairs([
            ("b", Value::from(vec![Value::from(1)])),
            ("a", Value::from_pairs([("z", Value::from(()))])),
            ("c", Value::from(Vec::<Value>::new())),
        ]);
        assert_eq!(
            dumps(&v, &opts).unwrap(),
            "{\n  \"a\": {\n    \"z\": null\n  },\n  \"b\": [\n    1\n  ],\n  \"c\": []\n}"
        );
        // json.dumps([1, {"a": 2}], separators=(",", ":"))
        let compact = JsonOptions::new(false, None, Some((",".into(), ":".into())), false);
        let v = Value::from(vec![Value::from(1), Value::from_pairs([("a", Value::from(2))])]);
        assert_eq!(dumps(&v, &compact).unwrap(), r#"[1,{"a":2}]"#);
        // json.dumps([1, 2], indent=0)
        let zero = JsonOptions::new(false, Some(String::new()), None, false);
        assert_eq!(dumps(&Value::from(vec![1, 2]), &zero).unwrap(), "[\n1,\n2\n]");
    }

    #[test]
    fn non_finite_floats_and_keys() {
        let v = Value::from(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY]);
        assert_eq!(dumps(&v, &JsonOptions::default()).unwrap(), "[NaN, Infinity, -Infinity]");
        // json.dumps({1: 1, 2.5: 2, None: 3})
        let v = Value::from_pairs([
            (Value::from(1), Value::from(1)),
            (Value::from(2.5), Value::from(2)),
            (Value::from(()), Value::from(3)),
        ]);
        assert_eq!(dumps(&v, &JsonOptions::default()).unwrap(), r#"{"1": 1, "2.5": 2, "null": 3}"#);
        assert_eq!(
            dumps(&Value::UNDEFINED, &JsonOptions::default()).unwrap_err(),
            "Object of type Undefined is not JSON serializable"
        );
    }
}
