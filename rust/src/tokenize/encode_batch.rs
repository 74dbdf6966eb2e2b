//! A tokenizer over Arrow string columns on all cores: ids as one `list<int32>` array
//! (values and offsets written once, no per-text allocation kept), and, when asked, each
//! token's code-point span as `list<fixed_size_list<int64, 2>>`.

use std::sync::Arc;

use arrow_array::builder::{FixedSizeListBuilder, Int64Builder};
use arrow_array::{
    Array, ArrayRef, GenericListArray, Int32Array, LargeStringArray, OffsetSizeTrait, StringArray, StringViewArray,
};
use arrow_buffer::{OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field};
use rayon::prelude::*;

use super::bpe::Sink;
use super::encoder::Tokenizer;
use crate::error::{Error, Result};
use crate::threads::run_with_threads;

/// Texts per parallel task are grouped up to about this many bytes, so that short texts are
/// not one task each and long ones spread over the cores.
const TASK_BYTES: usize = 1 << 16;

#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchOptions {
    #[serde(default)]
    pub add_special_tokens: bool,
    #[serde(default)]
    pub offsets: bool,
    /// 0 = all cores.
    #[serde(default)]
    pub num_threads: usize,
}

/// The texts of one string column, whatever its Arrow string type; `first` is the number of
/// texts before it in the call (errors name texts by their index in the call).
pub struct Texts<'a> {
    get: Box<dyn Fn(usize) -> Option<&'a str> + Sync + 'a>,
    len: usize,
    first: usize,
}

impl<'a> Texts<'a> {
    pub fn of(array: &'a dyn Array, first: usize) -> Result<Texts<'a>> {
        let len = array.len();
        let get: Box<dyn Fn(usize) -> Option<&'a str> + Sync + 'a> = match array.data_type() {
            DataType::Utf8 => {
                let a = array.as_any().downcast_ref::<StringArray>().expect("utf8");
                Box::new(move |i| a.is_valid(i).then(|| a.value(i)))
            }
            DataType::LargeUtf8 => {
                let a = array.as_any().downcast_ref::<LargeStringArray>().expect("large utf8");
                Box::new(move |i| a.is_valid(i).then(|| a.value(i)))
            }
            DataType::Utf8View => {
                let a = array.as_any().downcast_ref::<StringViewArray>().expect("utf8 view");
                Box::new(move |i| a.is_valid(i).then(|| a.value(i)))
            }
            other => return Err(Error::invalid(format!("texts must be strings, not {other}"))),
        };
        Ok(Texts { get, len, first })
    }

    fn text(&self, i: usize) -> Result<&'a str> {
        (self.get)(i).ok_or_else(|| Error::invalid(format!("text {} is null", self.first + i)))
    }
}

/// One task's output: the ids of its texts back to back, each text's token count, and the
/// spans when asked.
#[derive(Default)]
struct Chunk {
    ids: Vec<u32>,
    counts: Vec<usize>,
    spans: Vec<(usize, usize)>,
}

/// Ids (and spans) of every text of `columns` (string arrays, one after the other).
pub fn encode_batch(
    tokenizer: &Tokenizer,
    columns: &[ArrayRef],
    options: BatchOptions,
) -> Result<(ArrayRef, Option<ArrayRef>)> {
    let mut chunks = Vec::new();
    let mut first = 0;
    for column in columns {
        let texts = Texts::of(column.as_ref(), first)?;
        first += texts.len;
        let ranges = task_ranges(&texts)?;
        let work = || {
            ranges
                .par_iter()
                .map(|&(a, b)| encode_range(tokenizer, &texts, a, b, options))
                .collect::<Result<Vec<Chunk>>>()
        };
        chunks.extend(run_with_threads(options.num_threads, work)?);
    }
    let total: usize = chunks.iter().map(|c| c.ids.len()).sum();
    // list<int32> unless the offsets overflow int32 (more than 2**31 - 1 tokens in one call).
    let small = total <= i32::MAX as usize;
    let ids = if small { id_lists::<i32>(&chunks)? } else { id_lists::<i64>(&chunks)? };
    let spans = match (options.offsets, small) {
        (false, _) => None,
        (true, true) => Some(span_lists::<i32>(&chunks)),
        (true, false) => Some(span_lists::<i64>(&chunks)),
    };
    Ok((ids, spans))
}

/// Consecutive row ranges of about TASK_BYTES of text each (checking every text is present).
fn task_ranges(texts: &Texts) -> Result<Vec<(usize, usize)>> {
    let mut ranges = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for i in 0..texts.len {
        bytes += texts.text(i)?.len() + 1;
        if bytes >= TASK_BYTES {
            ranges.push((start, i + 1));
            (start, bytes) = (i + 1, 0);
        }
    }
    if start < texts.len {
        ranges.push((start, texts.len));
    }
    Ok(ranges)
}

fn encode_range(tokenizer: &Tokenizer, texts: &Texts, a: usize, b: usize, options: BatchOptions) -> Result<Chunk> {
    let mut chunk = Chunk::default();
    for i in a..b {
        let before = chunk.ids.len();
        let mut sink = Sink { ids: &mut chunk.ids, offsets: options.offsets.then_some(&mut chunk.spans) };
        tokenizer.encode_into(texts.text(i)?, options.add_special_tokens, &mut sink)?;
        chunk.counts.push(chunk.ids.len() - before);
    }
    Ok(chunk)
}

fn id_lists<O: OffsetSizeTrait>(chunks: &[Chunk]) -> Result<ArrayRef> {
    let lengths = chunks.iter().flat_map(|c| c.counts.iter().copied());
    let offsets = OffsetBuffer::<O>::from_lengths(lengths);
    let mut values = Vec::with_capacity(chunks.iter().map(|c| c.ids.len()).sum());
    for chunk in chunks {
        // Ids are below 2**31 (the tokenizer refuses larger vocabularies).
        values.extend(chunk.ids.iter().map(|&id| id as i32));
    }
    let values = Int32Array::new(ScalarBuffer::from(values), None);
    let field = Arc::new(Field::new_list_field(DataType::Int32, false));
    let list = GenericListArray::<O>::try_new(field, offsets, Arc::new(values), None)
        .map_err(|e| Error::invalid(format!("ids: {e}")))?;
    Ok(Arc::new(list))
}

fn span_lists<O: OffsetSizeTrait>(chunks: &[Chunk]) -> ArrayRef {
    let lengths = chunks.iter().flat_map(|c| c.counts.iter().copied());
    let offsets = OffsetBuffer::<O>::from_lengths(lengths);
    let mut pairs =
        FixedSizeListBuilder::with_capacity(Int64Builder::new(), 2, chunks.iter().map(|c| c.spans.len()).sum())
            .with_field(Arc::new(Field::new_list_field(DataType::Int64, false)));
    for chunk in chunks {
        for &(start, end) in &chunk.spans {
            pairs.values().append_value(start as i64);
            pairs.values().append_value(end as i64);
            pairs.append(true);
        }
    }
    let pairs = pairs.finish();
    let field = Arc::new(Field::new_list_field(pairs.data_type().clone(), false));
    Arc::new(GenericListArray::<O>::new(field, offsets, Arc::new(pairs), None))
}
