//! Axolotl 0.19.0's `completion` strategy (`CompletionPromptTokenizingStrategy`) for one row:
//! the text field tokenized once (`_tokenize`, truncated to `sequence_len * 64` as Axolotl's
//! loader sets it, EOS appended when there is room) and cut into pieces of `sequence_len`
//! tokens, one output row each, labels equal to the ids.

use std::sync::Arc;

use serde::Deserialize;

use super::encoder::Encoder;
use super::instruct::{tokenize_text, Row, TokenizeRule};
use super::pyvalue::PyValue;
use super::{Fallback, Tokenized};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletionPlan {
    /// The strategy's `field` (`text` unless the dataset config sets `field`).
    pub field: String,
    /// The strategy's `sequence_len`: the size of the pieces.
    pub sequence_len: usize,
    /// `_tokenize`'s settings; `max_length` is the strategy's (`sequence_len * 64`).
    pub tokenize: TokenizeRule,
}

pub struct CompletionStrategy {
    plan: CompletionPlan,
    encoder: Arc<dyn Encoder>,
}

impl CompletionStrategy {
    pub fn new(plan: CompletionPlan, encoder: Arc<dyn Encoder>) -> Result<Self> {
        if plan.sequence_len == 0 {
            return Err(Error::invalid("completion plan: sequence_len is 0"));
        }
        Ok(CompletionStrategy { plan, encoder })
    }

    pub fn columns(&self) -> Vec<&str> {
        vec![self.plan.field.as_str()]
    }

    /// The rows `tokenize_prompt` makes of one input row (none for an empty text).
    pub fn tokenize(&self, row: &Row) -> std::result::Result<Vec<Tokenized>, Fallback> {
        let field = &self.plan.field;
        let value = row
            .get(field.as_str())
            .ok_or_else(|| Fallback(format!("no {field:?} column (Axolotl raises KeyError)")))?;
        let text = match value {
            PyValue::Str(text) => text,
            // `if not prompt`: no tokens, so no rows.
            PyValue::None | PyValue::Bool(_) | PyValue::Int(_) | PyValue::Float(_) if !value.truthy() => {
                return Ok(Vec::new())
            }
            _ => return Err(Fallback(format!("a {field:?} value that is not a string"))),
        };
        let ids = tokenize_text(&*self.encoder, &self.plan.tokenize, text, true, false)?;
        Ok(ids
            .chunks(self.plan.sequence_len)
            .map(|piece| Tokenized { input_ids: piece.to_vec(), labels: piece.to_vec() })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::instruct::tests::{rule, CharEncoder};

    fn strategy(sequence_len: usize, bos: bool) -> CompletionStrategy {
        let plan = CompletionPlan { field: "text".into(), sequence_len, tokenize: rule(sequence_len * 64) };
        CompletionStrategy::new(plan, Arc::new(CharEncoder { bos })).unwrap()
    }

    fn row(value: PyValue) -> Row {
        [(Arc::from("text"), value)].into_iter().collect()
    }

    #[test]
    fn pieces_of_sequence_len_with_eos_at_the_end() {
        let out = strategy(3, true).tokenize(&row(PyValue::str("abcd"))).unwrap();
        let ids: Vec<Vec<i64>> = out.iter().map(|t| t.input_ids.clone()).collect();
        assert_eq!(ids, vec![vec![1, 97, 98], vec![99, 100, 2]]);
        assert!(out.iter().all(|t| t.labels == t.input_ids));
        let out = strategy(3, false).tokenize(&row(PyValue::str("abc"))).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].input_ids, vec![2]);
    }

    #[test]
    fn empty_text_is_no_rows_and_other_values_fall_back() {
        assert!(strategy(3, true).tokenize(&row(PyValue::str(""))).unwrap().is_empty());
        assert!(strategy(3, true).tokenize(&row(PyValue::None)).unwrap().is_empty());
        assert!(strategy(3, true).tokenize(&row(PyValue::Int(4))).is_err());
        assert!(strategy(3, true).tokenize(&Row::new()).is_err());
    }
}
