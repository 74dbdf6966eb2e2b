//! Rows of Arrow record batches through a strategy on all cores, in input order, into
//! Arrow columns: `row` (the input row), `status` (0 done, 1 left to Python: `message` says
//! why), and Axolotl's `input_ids`, `labels`, `attention_mask` in the types `datasets`
//! writes them (its writer narrows these column names: list<int32>, list<int64>, list<int8>).

use std::sync::Arc;

use arrow_array::builder::{Int32Builder, Int64Builder, Int8Builder, ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use indexmap::IndexMap;
use rayon::prelude::*;

use super::chat::ChatStrategy;
use super::completion::CompletionStrategy;
use super::encoder::Encoder;
use super::input_output::InputOutputStrategy;
use super::instruct::InstructStrategy;
use super::plan::Plan;
use super::pyvalue::{from_arrow, PyValue};
use super::{Fallback, Tokenized};
use crate::error::{Error, Result};
use crate::threads::run_with_threads;

pub const STATUS_DONE: i8 = 0;
pub const STATUS_FALLBACK: i8 = 1;

/// A strategy ready to run: its plan compiled (template parsed, tokenizer shared).
#[expect(
    clippy::large_enum_variant,
    reason = "one Strategy per compiled plan, held for a whole call: boxing the chat variant saves nothing that matters"
)]
pub enum Strategy {
    Chat(ChatStrategy),
    Instruct(InstructStrategy),
    Completion(CompletionStrategy),
    InputOutput(InputOutputStrategy),
}

impl Strategy {
    pub fn new(plan: Plan, encoder: Arc<dyn Encoder>) -> Result<Strategy> {
        match plan {
            Plan::ChatTemplate(chat) => Ok(Strategy::Chat(ChatStrategy::new(chat, encoder)?)),
            Plan::Instruct(plan) => Ok(Strategy::Instruct(InstructStrategy::new(plan, encoder)?)),
            Plan::Completion(plan) => Ok(Strategy::Completion(CompletionStrategy::new(plan, encoder)?)),
            Plan::InputOutput(plan) => Ok(Strategy::InputOutput(InputOutputStrategy::new(plan, encoder))),
        }
    }

    /// The columns a row reads (those present are passed; an absent one is absent from the
    /// row dict, as in Python).
    fn columns(&self) -> Vec<&str> {
        match self {
            Strategy::Chat(s) => {
                let p = s.plan();
                vec![p.field_messages.as_str(), p.field_system.as_str(), p.field_tools.as_str()]
            }
            Strategy::Instruct(s) => s.columns(),
            Strategy::Completion(s) => s.columns(),
            Strategy::InputOutput(s) => s.columns(),
        }
    }

    /// The output rows of one input row (several for a chunking strategy).
    fn tokenize(&self, row: &IndexMap<Arc<str>, PyValue>) -> std::result::Result<Vec<Tokenized>, Fallback> {
        match self {
            Strategy::Chat(s) => s.tokenize(row).map(|t| vec![t]),
            Strategy::Instruct(s) => s.tokenize(row).map(|t| vec![t]),
            Strategy::Completion(s) => s.tokenize(row),
            Strategy::InputOutput(s) => s.tokenize(row).map(|t| vec![t]),
        }
    }
}

/// Each input row's result, read from `batch` by `strategy`.
fn run_row(
    strategy: &Strategy,
    batch: &RecordBatch,
    columns: &[(Arc<str>, usize)],
    row: usize,
) -> std::result::Result<Vec<Tokenized>, Fallback> {
    let mut values = IndexMap::with_capacity(columns.len());
    for (name, index) in columns {
        values.insert(name.clone(), from_arrow(batch.column(*index), row)?);
    }
    strategy.tokenize(&values)
}

/// Tokenizes every row of `batches` on `num_threads` threads (0 = all cores).
pub fn tokenize_batches(strategy: &Strategy, batches: &[RecordBatch], num_threads: usize) -> Result<RecordBatch> {
    let mut results = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        let columns: Vec<(Arc<str>, usize)> = strategy
            .columns()
            .into_iter()
            .filter_map(|name| schema.index_of(name).ok().map(|i| (Arc::from(name), i)))
            .collect();
        let rows = run_with_threads(num_threads, || {
            (0..batch.num_rows())
                .into_par_iter()
                .with_min_len(8)
                .map(|row| run_row(strategy, batch, &columns, row))
                .collect::<Vec<_>>()
        });
        results.extend(rows);
    }
    write_output(results)
}

pub fn output_schema() -> Schema {
    let list = |t| DataType::List(Arc::new(Field::new_list_field(t, true)));
    Schema::new(vec![
        Field::new("row", DataType::Int64, false),
        Field::new("status", DataType::Int8, false),
        Field::new("message", DataType::Utf8, true),
        Field::new("input_ids", list(DataType::Int32), true),
        Field::new("labels", list(DataType::Int64), true),
        Field::new("attention_mask", list(DataType::Int8), true),
    ])
}

fn write_output(results: Vec<std::result::Result<Vec<Tokenized>, Fallback>>) -> Result<RecordBatch> {
    let mut row_ids = Int64Builder::new();
    let mut status = Int8Builder::new();
    let mut message = StringBuilder::new();
    let mut ids = ListBuilder::new(Int32Builder::new());
    let mut labels = ListBuilder::new(Int64Builder::new());
    let mut mask = ListBuilder::new(Int8Builder::new());
    for (row, result) in results.into_iter().enumerate() {
        match result {
            Ok(outputs) => {
                for out in outputs {
                    row_ids.append_value(row as i64);
                    status.append_value(STATUS_DONE);
                    message.append_null();
                    mask.values().append_value_n(1, out.input_ids.len());
                    mask.append(true);
                    ids.values().extend(out.input_ids.iter().map(|&id| Some(id as i32)));
                    ids.append(true);
                    labels.values().append_slice(&out.labels);
                    labels.append(true);
                }
            }
            Err(Fallback(reason)) => {
                row_ids.append_value(row as i64);
                status.append_value(STATUS_FALLBACK);
                message.append_value(reason);
                ids.append(true);
                labels.append(true);
                mask.append(true);
            }
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(row_ids.finish()),
        Arc::new(status.finish()),
        Arc::new(message.finish()),
        Arc::new(ids.finish()),
        Arc::new(labels.finish()),
        Arc::new(mask.finish()),
    ];
    RecordBatch::try_new(Arc::new(output_schema()), columns)
        .map_err(|e| Error::invalid(format!("tokenized output: {e}")))
}
