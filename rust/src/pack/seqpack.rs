//! Sequence packing into fixed-length rows: `pack_sequences` (greedy, each sequence followed
//! by EOS) and `concatenate_and_pack` (the pretraining "wrapped" layout).
//!
//! Both run in two steps so callers can allocate the output: a plan (`plan_pack`, cheap:
//! lengths only) says how many rows there are; the fill writes them, rows in parallel.

use rayon::prelude::*;

use crate::error::{check_len, matrix_len, Error, Result};
use crate::lists::{Lists, Offset, Token};
use crate::threads::{rows_per_task, run_with_threads, PARALLEL_MIN_ELEMENTS};
use crate::with_lists;

/// What to do with a sequence that does not fit a row even alone (`len + 1 > max_length`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Continue it across rows, starting on a fresh row.
    Split,
    /// Keep its first `max_length - 1` tokens and the EOS.
    Truncate,
    /// Skip it.
    Drop,
    /// Refuse the batch, naming the sequence.
    Error,
}

/// How many sequences each overflow rule touched, so that nothing is lost without a trace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OverflowCounts {
    pub split: usize,
    pub truncated: usize,
    pub dropped: usize,
}

/// Tokens `start..end` of sequence `seq`, followed by EOS when `eos` is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    seq: usize,
    start: usize,
    end: usize,
    eos: bool,
}

/// Where every piece of every sequence goes: row `r` holds
/// `segments[row_starts[r]..row_starts[r + 1]]`, left to right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackPlan {
    segments: Vec<Segment>,
    row_starts: Vec<usize>,
    pub counts: OverflowCounts,
}

impl PackPlan {
    pub fn num_rows(&self) -> usize {
        self.row_starts.len() - 1
    }

    fn push(&mut self, segment: Segment) {
        self.segments.push(segment);
    }

    fn close_row(&mut self) {
        self.row_starts.push(self.segments.len());
    }
}

/// Values written around the tokens.
#[derive(Clone, Copy, Debug)]
pub struct PackValues {
    pub pad_token_id: i64,
    pub eos_token_id: i64,
    pub label_pad_id: i64,
}

fn check_max_length(max_length: usize) -> Result<()> {
    if max_length < 2 {
        return Err(Error::invalid(format!("max_length must be at least 2 (a token and the EOS), got {max_length}")));
    }
    Ok(())
}

/// Greedy, in input order: a sequence and its EOS go into the current row if they fit, else
/// the row is closed (padded) and a new one starts. Over-long sequences follow `overflow`.
pub fn plan_pack(lists: &Lists, max_length: usize, overflow: Overflow) -> Result<PackPlan> {
    check_max_length(max_length)?;
    let mut plan = PackPlan {
        segments: Vec::with_capacity(lists.num_rows() + 1),
        row_starts: vec![0],
        counts: OverflowCounts::default(),
    };
    let mut used = 0usize; // tokens in the current row
    for seq in 0..lists.num_rows() {
        let len = lists.row_len(seq);
        if len < max_length {
            if used + len + 1 > max_length {
                plan.close_row();
                used = 0;
            }
            plan.push(Segment { seq, start: 0, end: len, eos: true });
            used += len + 1;
            continue;
        }
        match overflow {
            Overflow::Error => {
                return Err(Error::invalid(format!(
                    "sequence {seq} has {len} tokens: with its EOS it does not fit max_length {max_length} (overflow='error')"
                )))
            }
            Overflow::Drop => plan.counts.dropped += 1,
            Overflow::Truncate => {
                plan.counts.truncated += 1;
                if used > 0 {
                    plan.close_row();
                }
                plan.push(Segment { seq, start: 0, end: max_length - 1, eos: true });
                used = max_length;
            }
            Overflow::Split => {
                plan.counts.split += 1;
                if used > 0 {
                    plan.close_row();
                    used = 0;
                }
                used = place_split(&mut plan, seq, len, max_length, used);
            }
        }
    }
    if used > 0 {
        plan.close_row();
    }
    Ok(plan)
}

/// Lays sequence `seq` (len tokens + EOS) from the start of a row across as many rows as it
/// needs; returns how full the last row is.
fn place_split(plan: &mut PackPlan, seq: usize, len: usize, max_length: usize, mut used: usize) -> usize {
    let mut start = 0;
    while start < len {
        let end = (start + max_length - used).min(len);
        let eos = end == len && end - start + used < max_length;
        plan.push(Segment { seq, start, end, eos });
        used += end - start + eos as usize;
        start = end;
        if used == max_length {
            plan.close_row();
            used = 0;
        }
        if eos {
            return used;
        }
    }
    // The tokens ended exactly at a row's end: the EOS opens the next row.
    plan.push(Segment { seq, start: len, end: len, eos: true });
    1
}

/// Writes the planned rows into three row-major `[rows, max_length]` matrices: tokens,
/// labels (the tokens where the mask is 1) and the attention mask (1 on tokens, 0 on padding).
pub fn fill_pack(
    lists: &Lists,
    plan: &PackPlan,
    max_length: usize,
    values: PackValues,
    input_ids: &mut [i64],
    labels: &mut [i64],
    attention_mask: &mut [i64],
) -> Result<()> {
    check_max_length(max_length)?;
    let size = matrix_len(plan.num_rows(), max_length, "max_length")?;
    for (name, out) in [("input_ids", &*input_ids), ("labels", &*labels), ("attention_mask", &*attention_mask)] {
        check_len(name, out.len(), size)?;
    }
    with_lists!(lists, |v, o| fill_rows(v, o, plan, max_length, values, input_ids, labels, attention_mask));
    Ok(())
}

#[expect(
    clippy::too_many_arguments,
    reason = "the kernel behind a C export: each buffer and option is its own argument"
)]
fn fill_rows<T: Token, O: Offset>(
    tokens: &[T],
    offsets: &[O],
    plan: &PackPlan,
    width: usize,
    values: PackValues,
    input_ids: &mut [i64],
    labels: &mut [i64],
    mask: &mut [i64],
) {
    type Row<'a> = (usize, ((&'a mut [i64], &'a mut [i64]), &'a mut [i64]));
    let fill = |(r, ((ids, lab), msk)): Row| {
        let mut col = 0;
        for s in &plan.segments[plan.row_starts[r]..plan.row_starts[r + 1]] {
            let base = offsets[s.seq].to_usize();
            for (k, t) in tokens[base + s.start..base + s.end].iter().enumerate() {
                ids[col + k] = t.to_i64();
            }
            col += s.end - s.start;
            if s.eos {
                ids[col] = values.eos_token_id;
                col += 1;
            }
        }
        lab[..col].copy_from_slice(&ids[..col]);
        msk[..col].fill(1);
        ids[col..].fill(values.pad_token_id);
        lab[col..].fill(values.label_pad_id);
        msk[col..].fill(0);
    };
    if input_ids.len() < PARALLEL_MIN_ELEMENTS {
        let rows = input_ids.chunks_mut(width).zip(labels.chunks_mut(width));
        rows.zip(mask.chunks_mut(width)).enumerate().for_each(fill);
    } else {
        let rows = input_ids.par_chunks_mut(width).zip(labels.par_chunks_mut(width));
        let rows = rows.zip(mask.par_chunks_mut(width)).enumerate();
        run_with_threads(0, || rows.with_min_len(rows_per_task(width)).for_each(fill));
    }
}

/// Rows of `concatenate_and_pack`: the token count divided by `max_length`, rounded up.
/// The three streams must hold the same number of sequences with the same lengths.
pub fn concat_rows(input_ids: &Lists, labels: &Lists, attention_mask: &Lists, max_length: usize) -> Result<usize> {
    if max_length < 1 {
        return Err(Error::invalid("max_length must be at least 1"));
    }
    for (name, other) in [("labels", labels), ("attention_mask", attention_mask)] {
        input_ids.check_same_shape(other, "input_ids", name)?;
    }
    Ok(input_ids.total_len().div_ceil(max_length))
}

/// Concatenates each stream and cuts it into rows of `max_length`; the last row is padded
/// with `pad` (`pad_token_id`, `label_pad_id`, 0 for the mask). Outputs hold
/// `concat_rows(..) * max_length` elements.
#[expect(
    clippy::too_many_arguments,
    reason = "the kernel behind a C export: each buffer and option is its own argument"
)]
pub fn concatenate_and_pack(
    input_ids: &Lists,
    labels: &Lists,
    attention_mask: &Lists,
    max_length: usize,
    pad_token_id: i64,
    label_pad_id: i64,
    out_ids: &mut [i64],
    out_labels: &mut [i64],
    out_mask: &mut [i64],
) -> Result<()> {
    let size = matrix_len(concat_rows(input_ids, labels, attention_mask, max_length)?, max_length, "max_length")?;
    for (lists, out, pad) in
        [(input_ids, out_ids, pad_token_id), (labels, out_labels, label_pad_id), (attention_mask, out_mask, 0)]
    {
        check_len("an output", out.len(), size)?;
        let n = with_lists!(lists, |v, o| concat_into(v, o, out));
        out[n..].fill(pad);
    }
    Ok(())
}

/// Copies every row, in order, to the front of `out`; returns the token count.
fn concat_into<T: Token, O: Offset>(values: &[T], offsets: &[O], out: &mut [i64]) -> usize {
    let (first, last) = (offsets[0].to_usize(), offsets[offsets.len() - 1].to_usize());
    for (dst, src) in out.iter_mut().zip(&values[first..last]) {
        *dst = src.to_i64();
    }
    last - first
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lists::{Offsets, Values};

    const V: PackValues = PackValues { pad_token_id: 0, eos_token_id: 99, label_pad_id: -100 };

    use crate::testutil::{layout, Rng};

    /// The rule written as plainly as possible: a stream of (token, is_real) cells per row.
    fn reference(rows: &[Vec<i64>], max_length: usize, overflow: Overflow) -> (Vec<Vec<i64>>, OverflowCounts) {
        let mut out: Vec<Vec<i64>> = Vec::new();
        let mut cur: Vec<i64> = Vec::new();
        let mut counts = OverflowCounts::default();
        let flush = |cur: &mut Vec<i64>, out: &mut Vec<Vec<i64>>| {
            if !cur.is_empty() {
                out.push(std::mem::take(cur));
            }
        };
        for r in rows {
            let mut item = r.clone();
            item.push(99);
            if item.len() > max_length {
                match overflow {
                    Overflow::Drop => {
                        counts.dropped += 1;
                        continue;
                    }
                    Overflow::Truncate => {
                        counts.truncated += 1;
                        item = r[..max_length - 1].to_vec();
                        item.push(99);
                    }
                    Overflow::Split => counts.split += 1,
                    Overflow::Error => panic!("reference does not do errors"),
                }
                flush(&mut cur, &mut out);
                for t in item {
                    cur.push(t);
                    if cur.len() == max_length {
                        flush(&mut cur, &mut out);
                    }
                }
                continue;
            }
            if cur.len() + item.len() > max_length {
                flush(&mut cur, &mut out);
            }
            cur.extend(item);
        }
        flush(&mut cur, &mut out);
        (out, counts)
    }

    fn run(rows: &[Vec<i64>], max_length: usize, overflow: Overflow) -> (Vec<Vec<i64>>, OverflowCounts) {
        let (values, offsets) = layout(rows);
        let lists = Lists::new(Values::I64(&values), Offsets::I64(&offsets)).unwrap();
        let plan = plan_pack(&lists, max_length, overflow).unwrap();
        let n = plan.num_rows() * max_length;
        let (mut ids, mut labels, mut mask) = (vec![7; n], vec![7; n], vec![7; n]);
        fill_pack(&lists, &plan, max_length, V, &mut ids, &mut labels, &mut mask).unwrap();
        let mut out = Vec::new();
        for r in 0..plan.num_rows() {
            let row = &ids[r * max_length..(r + 1) * max_length];
            let m = &mask[r * max_length..(r + 1) * max_length];
            let l = &labels[r * max_length..(r + 1) * max_length];
            let real = m.iter().filter(|&&x| x == 1).count();
            assert!(m[..real].iter().all(|&x| x == 1) && m[real..].iter().all(|&x| x == 0));
            assert_eq!(&l[..real], &row[..real]);
            assert!(l[real..].iter().all(|&x| x == -100) && row[real..].iter().all(|&x| x == 0));
            out.push(row[..real].to_vec());
        }
        (out, plan.counts)
    }

    #[test]
    fn matches_reference_on_random_batches() {
        let mut rng = Rng(0x2545f4914f6cdd1d);
        let mut next = move |m: u64| rng.below(m);
        for _ in 0..500 {
            let max_length = 2 + next(12) as usize;
            let rows: Vec<Vec<i64>> = (0..next(12))
                .map(|_| (0..next(2 * max_length as u64 + 2)).map(|_| 1 + next(50) as i64).collect())
                .collect();
            for overflow in [Overflow::Split, Overflow::Truncate, Overflow::Drop] {
                assert_eq!(
                    run(&rows, max_length, overflow),
                    reference(&rows, max_length, overflow),
                    "{rows:?} {max_length} {overflow:?}"
                );
            }
        }
    }

    #[test]
    fn large_batch_in_parallel_matches_reference() {
        let rows: Vec<Vec<i64>> = (0..5000).map(|i| (0..(i * 7919) % 300).map(|t| t as i64 + 1).collect()).collect();
        assert_eq!(run(&rows, 512, Overflow::Split), reference(&rows, 512, Overflow::Split));
    }

    #[test]
    fn split_counts_and_error_names_the_sequence() {
        let rows = vec![vec![1, 2], vec![3, 4, 5, 6, 7], vec![8]];
        let (out, counts) = run(&rows, 4, Overflow::Split);
        assert_eq!(out, vec![vec![1, 2, 99], vec![3, 4, 5, 6], vec![7, 99, 8, 99]]);
        assert_eq!(counts, OverflowCounts { split: 1, truncated: 0, dropped: 0 });
        let (values, offsets) = layout(&rows);
        let lists = Lists::new(Values::I64(&values), Offsets::I64(&offsets)).unwrap();
        let err = plan_pack(&lists, 4, Overflow::Error).unwrap_err();
        assert!(err.message().starts_with("sequence 1 has 5 tokens"), "{err}");
        assert!(plan_pack(&lists, 1, Overflow::Split).is_err());
    }

    #[test]
    fn concatenation_wraps_rows() {
        let (ids, offs) = layout(&[vec![1, 2, 3], vec![4, 5]]);
        let (mask, _) = layout(&[vec![1, 1, 1], vec![1, 0]]);
        let a = Lists::new(Values::I64(&ids), Offsets::I64(&offs)).unwrap();
        let m = Lists::new(Values::I64(&mask), Offsets::I64(&offs)).unwrap();
        assert_eq!(concat_rows(&a, &a, &m, 4).unwrap(), 2);
        let (mut o1, mut o2, mut o3) = (vec![9; 8], vec![9; 8], vec![9; 8]);
        concatenate_and_pack(&a, &a, &m, 4, 0, -100, &mut o1, &mut o2, &mut o3).unwrap();
        assert_eq!(o1, vec![1, 2, 3, 4, 5, 0, 0, 0]);
        assert_eq!(o2, vec![1, 2, 3, 4, 5, -100, -100, -100]);
        assert_eq!(o3, vec![1, 1, 1, 1, 0, 0, 0, 0]);
        let (short, offs2) = layout(&[vec![1, 2, 3], vec![4]]);
        let b = Lists::new(Values::I64(&short), Offsets::I64(&offs2)).unwrap();
        assert!(concat_rows(&a, &b, &m, 4).unwrap_err().message().contains("sequence 1"));
    }
}
