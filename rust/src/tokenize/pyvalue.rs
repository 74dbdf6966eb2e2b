//! Row values as the Python code being reproduced sees them: what `datasets` hands a map
//! function (Arrow `to_pylist`, then Axolotl's `remove_none_values`) and what `json.loads`
//! returns. Anything Python would hold that this does not model is an `Unsupported` error,
//! and the row goes to the Python path instead.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use indexmap::IndexMap;
use minijinja::Value;

/// A Python object of the kinds rows and JSON hold. Dict keys keep insertion order.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    List(Vec<PyValue>),
    Dict(IndexMap<Arc<str>, PyValue>),
}

/// Why a value cannot be modelled (the row then runs Python's own code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl PyValue {
    pub fn str(text: &str) -> PyValue {
        PyValue::Str(Arc::from(text))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            PyValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&PyValue> {
        match self {
            PyValue::Dict(d) => d.get(key),
            _ => None,
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, PyValue::None)
    }

    /// Python truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            PyValue::None => false,
            PyValue::Bool(b) => *b,
            PyValue::Int(i) => *i != 0,
            PyValue::Float(f) => *f != 0.0,
            PyValue::Str(s) => !s.is_empty(),
            PyValue::List(l) => !l.is_empty(),
            PyValue::Dict(d) => !d.is_empty(),
        }
    }

    /// The same object as a template value: dicts stay ordered maps, None is `none`.
    pub fn to_jinja(&self) -> Value {
        match self {
            PyValue::None => Value::from(()),
            PyValue::Bool(b) => Value::from(*b),
            PyValue::Int(i) => Value::from(*i),
            PyValue::Float(f) => Value::from(*f),
            PyValue::Str(s) => Value::from(s.clone()),
            PyValue::List(items) => Value::from(items.iter().map(PyValue::to_jinja).collect::<Vec<_>>()),
            PyValue::Dict(d) => Value::from_pairs(d.iter().map(|(k, v)| (Value::from(k.clone()), v.to_jinja()))),
        }
    }
}

/// `remove_none_values`: dict entries whose value is None go, at every level; None list
/// elements stay.
fn dict_entry(value: PyValue) -> Option<PyValue> {
    (!value.is_none()).then_some(value)
}

/// Row `row` of `array` as `to_pylist` then `remove_none_values` gives it.
pub fn from_arrow(array: &ArrayRef, row: usize) -> Result<PyValue, Unsupported> {
    if array.is_null(row) {
        return Ok(PyValue::None);
    }
    let value = match array.data_type() {
        DataType::Null => PyValue::None,
        DataType::Boolean => PyValue::Bool(array.as_boolean().value(row)),
        DataType::Int8 => PyValue::Int(array.as_primitive::<Int8Type>().value(row).into()),
        DataType::Int16 => PyValue::Int(array.as_primitive::<Int16Type>().value(row).into()),
        DataType::Int32 => PyValue::Int(array.as_primitive::<Int32Type>().value(row).into()),
        DataType::Int64 => PyValue::Int(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => PyValue::Int(array.as_primitive::<UInt8Type>().value(row).into()),
        DataType::UInt16 => PyValue::Int(array.as_primitive::<UInt16Type>().value(row).into()),
        DataType::UInt32 => PyValue::Int(array.as_primitive::<UInt32Type>().value(row).into()),
        DataType::UInt64 => {
            let v = array.as_primitive::<UInt64Type>().value(row);
            PyValue::Int(i64::try_from(v).map_err(|_| Unsupported(format!("integer {v} past int64")))?)
        }
        DataType::Float16 => PyValue::Float(array.as_primitive::<Float16Type>().value(row).to_f64()),
        DataType::Float32 => PyValue::Float(array.as_primitive::<Float32Type>().value(row).into()),
        DataType::Float64 => PyValue::Float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => PyValue::str(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => PyValue::str(array.as_string::<i64>().value(row)),
        DataType::Utf8View => PyValue::str(array.as_string_view().value(row)),
        DataType::List(_) => list(&array.as_list::<i32>().value(row))?,
        DataType::LargeList(_) => list(&array.as_list::<i64>().value(row))?,
        DataType::FixedSizeList(_, _) => list(&array.as_fixed_size_list().value(row))?,
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut dict = IndexMap::with_capacity(fields.len());
            for (field, column) in fields.iter().zip(s.columns()) {
                if let Some(v) = dict_entry(from_arrow(column, row)?) {
                    dict.insert(Arc::from(field.name().as_str()), v);
                }
            }
            PyValue::Dict(dict)
        }
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            let key = dict.normalized_keys()[row];
            from_arrow(dict.values(), key)?
        }
        other => return Err(Unsupported(format!("column type {other}"))),
    };
    Ok(value)
}

fn list(items: &ArrayRef) -> Result<PyValue, Unsupported> {
    (0..items.len()).map(|i| from_arrow(items, i)).collect::<Result<Vec<_>, _>>().map(PyValue::List)
}

/// `json.loads(text)`, as Python's decoder reads it: key order kept, a duplicate key keeps
/// its first position and takes the last value (a dict), integers are ints and anything with
/// a fraction or an exponent a correctly rounded float (`-0` is the int 0). What Python holds
/// and a `PyValue` cannot (NaN, Infinity, infinite floats, lone surrogates, integers past
/// int64) is `Unsupported`, as is text Python refuses (its error is then Python's to raise).
pub fn from_json(text: &str) -> Result<PyValue, Unsupported> {
    let mut parser = JsonParser { text, bytes: text.as_bytes(), at: 0 };
    parser.skip_whitespace();
    let value = parser.value(0)?;
    parser.skip_whitespace();
    if parser.at != parser.bytes.len() {
        return Err(parser.error("Extra data"));
    }
    Ok(value)
}

/// Python's `json.decoder` (strict: no control characters in strings), over UTF-8 text.
struct JsonParser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

/// Nesting past this is refused (Python's own limit is its recursion limit, ~1000).
const JSON_MAX_DEPTH: usize = 512;

impl JsonParser<'_> {
    fn error(&self, what: &str) -> Unsupported {
        let mut at = self.at.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        Unsupported(format!(
            "JSON that Python's json.loads refuses or that is not modelled: {what} at char {}",
            self.text[..at].chars().count()
        ))
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn expect(&mut self, literal: &str) -> bool {
        if self.text[self.at..].starts_with(literal) {
            self.at += literal.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<PyValue, Unsupported> {
        if depth > JSON_MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        match self.peek() {
            Some(b'"') => Ok(PyValue::Str(Arc::from(self.string()?))),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'n') if self.expect("null") => Ok(PyValue::None),
            Some(b't') if self.expect("true") => Ok(PyValue::Bool(true)),
            Some(b'f') if self.expect("false") => Ok(PyValue::Bool(false)),
            Some(b'N' | b'I') => Err(self.error("NaN or Infinity")),
            Some(b'-') if self.text[self.at..].starts_with("-Infinity") => Err(self.error("-Infinity")),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.error("Expecting value")),
        }
    }

    /// `(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?`: an int without fraction and exponent.
    fn number(&mut self) -> Result<PyValue, Unsupported> {
        let start = self.at;
        let digits = |p: &mut Self| {
            let from = p.at;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.at += 1;
            }
            p.at - from
        };
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.error("Expecting value")),
        }
        let integer_end = self.at;
        let mut is_float = false;
        if self.peek() == Some(b'.') && matches!(self.bytes.get(self.at + 1), Some(b'0'..=b'9')) {
            self.at += 1;
            digits(self);
            is_float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let mark = self.at;
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if digits(self) == 0 {
                self.at = mark; // not an exponent: the number ends before the `e`
            } else {
                is_float = true;
            }
        }
        let literal = &self.text[start..self.at];
        if is_float {
            let value: f64 = literal.parse().map_err(|_| self.error("a number"))?;
            if !value.is_finite() {
                return Err(self.error("a float past the float range (inf)"));
            }
            return Ok(PyValue::Float(value));
        }
        debug_assert_eq!(integer_end, self.at);
        literal.parse::<i64>().map(PyValue::Int).map_err(|_| self.error("an integer past int64"))
    }

    fn string(&mut self) -> Result<String, Unsupported> {
        self.at += 1; // the opening quote
        let mut out = String::new();
        loop {
            let run_start = self.at;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.at += 1;
            }
            out.push_str(&self.text[run_start..self.at]);
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let escape = self.peek().ok_or_else(|| self.error("Unterminated string"))?;
                    self.at += 1;
                    match escape {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let unit = self.hex4()?;
                            let code = if (0xd800..=0xdbff).contains(&unit) && self.text[self.at..].starts_with("\\u") {
                                let mark = self.at;
                                self.at += 2;
                                let low = self.hex4()?;
                                if (0xdc00..=0xdfff).contains(&low) {
                                    0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00)
                                } else {
                                    self.at = mark;
                                    unit
                                }
                            } else {
                                unit
                            };
                            out.push(char::from_u32(code).ok_or_else(|| self.error("a lone surrogate"))?);
                        }
                        _ => return Err(self.error("Invalid \\escape")),
                    }
                }
                Some(_) => return Err(self.error("Invalid control character")),
                None => return Err(self.error("Unterminated string")),
            }
        }
    }

    /// Python's `_decode_uXXXX`: exactly four hex digits.
    fn hex4(&mut self) -> Result<u32, Unsupported> {
        let digits = self.bytes.get(self.at..self.at + 4).ok_or_else(|| self.error("Invalid \\uXXXX escape"))?;
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(self.error("Invalid \\uXXXX escape"));
        }
        self.at += 4;
        Ok(u32::from_str_radix(std::str::from_utf8(digits).unwrap_or("0"), 16).unwrap_or(0))
    }

    fn array(&mut self, depth: usize) -> Result<PyValue, Unsupported> {
        self.at += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(PyValue::List(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.skip_whitespace();
                }
                Some(b']') => {
                    self.at += 1;
                    return Ok(PyValue::List(items));
                }
                _ => return Err(self.error("Expecting ',' delimiter")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<PyValue, Unsupported> {
        self.at += 1;
        let mut dict = IndexMap::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(PyValue::Dict(dict));
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.error("Expecting property name enclosed in double quotes"));
            }
            let key = self.string()?;
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error("Expecting ':' delimiter"));
            }
            self.at += 1;
            self.skip_whitespace();
            let value = self.value(depth + 1)?;
            dict.insert(Arc::from(key), value);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.skip_whitespace();
                }
                Some(b'}') => {
                    self.at += 1;
                    return Ok(PyValue::Dict(dict));
                }
                _ => return Err(self.error("Expecting ',' delimiter")),
            }
        }
    }
}

/// A serde_json value as Python holds it; a large whole float is refused, as it may have
/// been an integer literal past 64 bits (serde_json reads those as floats).
pub fn from_serde(value: serde_json::Value) -> Result<PyValue, Unsupported> {
    convert(value, true)
}

/// `ambiguous`: the text may hold an integer literal past 64 bits, which serde_json reads as
/// a float where Python reads an int, so a large whole float cannot be told from one.
fn convert(value: serde_json::Value, ambiguous: bool) -> Result<PyValue, Unsupported> {
    use serde_json::Value as J;
    Ok(match value {
        J::Null => PyValue::None,
        J::Bool(b) => PyValue::Bool(b),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => PyValue::Int(i),
            // An integer literal past int64 but within uint64: a Python int not held here.
            _ if n.is_u64() => return Err(Unsupported(format!("JSON integer {n} past int64 is not modelled"))),
            (None, Some(f)) if ambiguous && f.fract() == 0.0 && f.abs() >= 9.2e18 => {
                return Err(Unsupported(format!(
                    "JSON number {n}: an integer past int64 or a float as large; not modelled"
                )))
            }
            (None, Some(f)) => PyValue::Float(f),
            (None, None) => return Err(Unsupported(format!("JSON number {n} is not modelled"))),
        },
        J::String(s) => PyValue::Str(Arc::from(s)),
        J::Array(items) => PyValue::List(items.into_iter().map(|v| convert(v, ambiguous)).collect::<Result<_, _>>()?),
        J::Object(map) => {
            let mut dict = IndexMap::with_capacity(map.len());
            for (k, v) in map {
                dict.insert(Arc::from(k), convert(v, ambiguous)?);
            }
            PyValue::Dict(dict)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_python_dict_semantics() {
        let v = from_json(r#"{"b": 1, "a": 2.0, "b": 3}"#).unwrap();
        let PyValue::Dict(d) = v else { panic!() };
        assert_eq!(d.keys().map(|k| &**k).collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(d["b"], PyValue::Int(3));
        assert_eq!(d["a"], PyValue::Float(2.0));
        assert!(from_json("[NaN]").is_err());
        assert!(from_json("18446744073709551616").is_err());
        assert!(from_json("9223372036854775808").is_err());
        assert_eq!(from_json("-9223372036854775808"), Ok(PyValue::Int(i64::MIN)));
        assert_eq!(from_json(" -0 "), Ok(PyValue::Int(0)));
        assert_eq!(from_json("-0.0"), Ok(PyValue::Float(-0.0)));
        assert_eq!(from_json("9.199999999999999e+18"), Ok(PyValue::Float(9.199999999999999e18)));
        assert_eq!(from_json("933.2127355415175"), Ok(PyValue::Float(933.2127355415175)));
        assert_eq!(from_json("1E2"), Ok(PyValue::Float(100.0)));
        assert!(from_json("1e400").is_err());
        assert_eq!(from_json("1e-400"), Ok(PyValue::Float(0.0)));
        assert_eq!(from_json(r#""a\u00e9\ud83d\ude00\n\/""#), Ok(PyValue::str("aé😀\n/")));
        assert!(from_json(r#""\ud83d""#).is_err()); // a lone surrogate
        assert!(from_json("\"tab\there\"").is_err()); // a raw control character
        assert!(from_json("{\"\\\u{80}\": 1}").is_err()); // an escape of a multibyte character
        for bad in ["", "[1,]", "{\"a\":1,}", "01", "1.", "[1 2]", "{'a': 1}", "nul", "[1] x", "-", ".5", "+1", "1e"] {
            assert!(from_json(bad).is_err(), "{bad}");
        }
        assert_eq!(
            from_json(" [1 , {\"a\" : [ ] } ]\n"),
            Ok(PyValue::List(vec![
                PyValue::Int(1),
                PyValue::Dict(IndexMap::from_iter([(Arc::from("a"), PyValue::List(vec![]))])),
            ]))
        );
    }
}
