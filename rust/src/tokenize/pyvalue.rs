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

/// `json.loads(text)` for the JSON both parsers accept alike: duplicate keys keep the first
/// position and the last value, as a Python dict does. What serde_json refuses and Python
/// takes (NaN, Infinity, lone surrogates, integers past 64 bits) is `Unsupported`, as is
/// JSON that neither accepts: Python's error is then Python's to raise.
pub fn from_json(text: &str) -> Result<PyValue, Unsupported> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Unsupported(format!("JSON serde_json does not read: {e}")))?;
    from_serde(value)
}

pub fn from_serde(value: serde_json::Value) -> Result<PyValue, Unsupported> {
    use serde_json::Value as J;
    Ok(match value {
        J::Null => PyValue::None,
        J::Bool(b) => PyValue::Bool(b),
        J::Number(n) => {
            match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => PyValue::Int(i),
                // serde_json reads an integer past 64 bits as a float, Python as an int;
                // `1e19` is a float to both. Such values are not told apart: not modelled.
                (None, Some(f)) if f.fract() == 0.0 && f.abs() >= 9.2e18 => {
                    return Err(Unsupported(format!("JSON number {n}: an integer past int64 or a float as large; not modelled")))
                }
                (None, Some(f)) => PyValue::Float(f),
                (None, None) => return Err(Unsupported(format!("JSON number {n} is not modelled"))),
            }
        }
        J::String(s) => PyValue::Str(Arc::from(s)),
        J::Array(items) => PyValue::List(items.into_iter().map(from_serde).collect::<Result<_, _>>()?),
        J::Object(map) => {
            let mut dict = IndexMap::with_capacity(map.len());
            for (k, v) in map {
                dict.insert(Arc::from(k), from_serde(v)?);
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
    }
}
