//! Axolotl 0.19.0's `input_output` strategy (`RawInputOutputStrategy`) for one row: each
//! segment of `segments` tokenized alone without special tokens and concatenated; a
//! segment's tokens are trained when its `label` is truthy or with `train_on_inputs`.

use std::sync::Arc;

use serde::Deserialize;

use super::encoder::Encoder;
use super::instruct::Row;
use super::pyvalue::PyValue;
use super::{Fallback, Tokenized, IGNORE_INDEX};

/// The column Axolotl reads (`prompt["segments"]`, not configurable).
const SEGMENTS: &str = "segments";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputOutputPlan {
    pub train_on_inputs: bool,
}

pub struct InputOutputStrategy {
    plan: InputOutputPlan,
    encoder: Arc<dyn Encoder>,
}

/// One segment's `(label, text)`, as `RawInputOutputPrompter.build_prompt` yields it.
fn segment(value: &PyValue) -> Result<(bool, &str), Fallback> {
    // A null label or text lost its key when read from Arrow: Python would see None there
    // (falsy label, or a tokenizer error), so such segments are left to Python.
    let label = value.get("label").ok_or_else(|| Fallback("a segment without a label".into()))?;
    let text = value.get("text").ok_or_else(|| Fallback("a segment without a text".into()))?;
    if matches!(label, PyValue::List(_) | PyValue::Dict(_)) {
        return Err(Fallback("a segment label that is a list or dict".into()));
    }
    let text = text.as_str().ok_or_else(|| Fallback("a segment text that is not a string".into()))?;
    Ok((label.truthy(), text))
}

impl InputOutputStrategy {
    pub fn new(plan: InputOutputPlan, encoder: Arc<dyn Encoder>) -> Self {
        InputOutputStrategy { plan, encoder }
    }

    pub fn columns(&self) -> Vec<&str> {
        vec![SEGMENTS]
    }

    /// `tokenize_prompt(row)`.
    pub fn tokenize(&self, row: &Row) -> Result<Tokenized, Fallback> {
        let segments = match row.get(SEGMENTS) {
            Some(PyValue::List(items)) => items,
            Some(_) => return Err(Fallback("segments that are not a list".into())),
            None => return Err(Fallback("no \"segments\" column (Axolotl raises KeyError)".into())),
        };
        let mut input_ids = Vec::new();
        let mut labels = Vec::new();
        for value in segments {
            let (label, text) = segment(value)?;
            let ids = self.encoder.encode(text, false).map_err(|e| Fallback(e.to_string()))?;
            let start = input_ids.len();
            input_ids.extend(ids.iter().map(|&id| i64::from(id)));
            if label || self.plan.train_on_inputs {
                labels.extend_from_slice(&input_ids[start..]);
            } else {
                labels.resize(input_ids.len(), IGNORE_INDEX);
            }
        }
        Ok(Tokenized { input_ids, labels })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::instruct::tests::CharEncoder;
    use indexmap::IndexMap;

    fn seg(label: PyValue, text: &str) -> PyValue {
        let mut d = IndexMap::new();
        d.insert(Arc::from("label"), label);
        d.insert(Arc::from("text"), PyValue::str(text));
        PyValue::Dict(d)
    }

    fn row(segments: Vec<PyValue>) -> Row {
        [(Arc::from(SEGMENTS), PyValue::List(segments))].into_iter().collect()
    }

    #[test]
    fn labels_follow_segment_flags() {
        let s =
            InputOutputStrategy::new(InputOutputPlan { train_on_inputs: false }, Arc::new(CharEncoder { bos: true }));
        let out = s
            .tokenize(&row(vec![
                seg(PyValue::Bool(false), "ab"),
                seg(PyValue::Bool(true), "c"),
                seg(PyValue::Int(0), ""),
            ]))
            .unwrap();
        assert_eq!(out.input_ids, vec![97, 98, 99]);
        assert_eq!(out.labels, vec![IGNORE_INDEX, IGNORE_INDEX, 99]);
        let s =
            InputOutputStrategy::new(InputOutputPlan { train_on_inputs: true }, Arc::new(CharEncoder { bos: true }));
        let out = s.tokenize(&row(vec![seg(PyValue::Bool(false), "ab")])).unwrap();
        assert_eq!(out.labels, out.input_ids);
        assert!(s.tokenize(&row(vec![PyValue::None])).is_err());
        assert!(s.tokenize(&Row::new()).is_err());
    }
}
