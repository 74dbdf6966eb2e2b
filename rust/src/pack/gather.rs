//! The packed-batch gather: from token columns and a packing (`order`, `bin_offsets`, as
//! `pack::pack_bins` returns it), write the `[rows, width]` matrices a trainer consumes, in
//! the layout of Axolotl's `V2BatchSamplerDataCollatorForSeq2Seq`: samples of a bin side by
//! side, position ids restarting at 0 for every sample, attention mask numbering the samples
//! 1..K inside the row.

use crate::error::{check_len, matrix_len, Error, Result};
use crate::lists::{Lists, Offset, Token};
use crate::threads::{for_each_ragged_row, for_each_row};
use crate::with_lists;

/// Values written on the padding of each output.
#[derive(Clone, Copy, Debug)]
pub struct GatherPads {
    pub pad_token_id: i64,
    pub label_pad_id: i64,
    pub position_pad_id: i64,
    pub attention_pad_id: i64,
}

/// The four outputs, each `rows * width` elements, row-major.
pub struct GatherOut<'a> {
    pub input_ids: &'a mut [i64],
    pub labels: &'a mut [i64],
    pub position_ids: &'a mut [i64],
    pub attention_mask: &'a mut [i64],
}

/// Checks a packing against the number of items and the row width; returns the row count.
pub fn check_packing(lists: &Lists, order: &[i64], bin_offsets: &[i64], width: usize) -> Result<usize> {
    for (bin, tokens) in bin_tokens(lists, order, bin_offsets)?.into_iter().enumerate() {
        if tokens > width {
            return Err(Error::BufferTooSmall {
                needed: tokens,
                message: format!("bin {bin} holds {tokens} tokens but the row width is {width}"),
            });
        }
    }
    Ok(bin_offsets.len() - 1)
}

/// Checks a packing against the number of items; returns the tokens of each bin.
fn bin_tokens(lists: &Lists, order: &[i64], bin_offsets: &[i64]) -> Result<Vec<usize>> {
    let items = lists.num_rows();
    if let Some((i, &x)) = order.iter().enumerate().find(|(_, &x)| x < 0 || x as u64 >= items as u64) {
        return Err(Error::invalid(format!("order[{i}] = {x} is not an item index (there are {items} items)")));
    }
    let Some(&last) = bin_offsets.last() else {
        return Err(Error::invalid("bin_offsets must hold num_bins + 1 entries (at least one)"));
    };
    if bin_offsets[0] < 0 || last as u64 > order.len() as u64 || bin_offsets.windows(2).any(|w| w[1] < w[0]) {
        return Err(Error::invalid(format!(
            "bin_offsets must be non-decreasing and within 0..={} (the length of order)",
            order.len()
        )));
    }
    let tokens = |w: &[i64]| order[w[0] as usize..w[1] as usize].iter().map(|&i| lists.row_len(i as usize)).sum();
    Ok(bin_offsets.windows(2).map(tokens).collect())
}

/// Writes one row per bin. `labels`, when given, must have the shape of `input_ids`; without
/// it the labels are the tokens.
pub fn gather_packed(
    input_ids: &Lists,
    labels: Option<&Lists>,
    order: &[i64],
    bin_offsets: &[i64],
    width: usize,
    pads: GatherPads,
    out: GatherOut,
) -> Result<()> {
    let rows = check_packing(input_ids, order, bin_offsets, width)?;
    check_labels(input_ids, labels)?;
    let size = matrix_len(rows, width, "width")?;
    if width == 0 {
        return check_outputs(&out, size);
    }
    let bins = Bins { order, bin_offsets, rows: Rows::Width(width) };
    bins.write(input_ids, labels, pads, out, size)
}

/// `gather_packed` without padding: the rows back to back (the first bin's tokens, then the
/// second's...), row `i` at `row_offsets[i]..row_offsets[i + 1]` (`num_bins + 1` entries,
/// written here). Each output holds exactly the bins' tokens.
pub fn gather_packed_lists(
    input_ids: &Lists,
    labels: Option<&Lists>,
    order: &[i64],
    bin_offsets: &[i64],
    out: GatherOut,
    row_offsets: &mut [i64],
) -> Result<()> {
    let tokens = bin_tokens(input_ids, order, bin_offsets)?;
    check_labels(input_ids, labels)?;
    check_len("row_offsets", row_offsets.len(), tokens.len() + 1)?;
    row_offsets[0] = 0;
    for (i, n) in tokens.iter().enumerate() {
        row_offsets[i + 1] = row_offsets[i] + *n as i64; // the tokens of existing lists: no overflow
    }
    let size = tokens.iter().sum();
    // Rows hold exactly their tokens: the padding values are never written.
    let pads = GatherPads { pad_token_id: 0, label_pad_id: 0, position_pad_id: 0, attention_pad_id: 0 };
    let bins = Bins { order, bin_offsets, rows: Rows::Offsets(row_offsets) };
    bins.write(input_ids, labels, pads, out, size)
}

fn check_labels(input_ids: &Lists, labels: Option<&Lists>) -> Result<()> {
    match labels {
        Some(labels) => input_ids.check_same_shape(labels, "input_ids", "labels"),
        None => Ok(()),
    }
}

/// Checks the four outputs against their `size`.
fn check_outputs(out: &GatherOut, size: usize) -> Result<()> {
    for (name, o) in [
        ("input_ids", &*out.input_ids),
        ("labels", &*out.labels),
        ("position_ids", &*out.position_ids),
        ("attention_mask", &*out.attention_mask),
    ] {
        check_len(name, o.len(), size)?;
    }
    Ok(())
}

/// How the output splits into rows: a fixed width (padded rows) or offsets (unpadded).
enum Rows<'a> {
    Width(usize),
    Offsets(&'a [i64]),
}

struct Bins<'a> {
    order: &'a [i64],
    bin_offsets: &'a [i64],
    rows: Rows<'a>,
}

impl Bins<'_> {
    /// Checks the outputs, then writes the four of them.
    fn write(
        &self,
        input_ids: &Lists,
        labels: Option<&Lists>,
        pads: GatherPads,
        out: GatherOut,
        size: usize,
    ) -> Result<()> {
        check_outputs(&out, size)?;
        with_lists!(input_ids, |v, o| self.write_tokens(v, o, pads.pad_token_id, out.input_ids));
        let labels = labels.unwrap_or(input_ids);
        with_lists!(labels, |v, o| self.write_tokens(v, o, pads.label_pad_id, out.labels));
        self.write_positions(input_ids, pads, out.position_ids, out.attention_mask);
        Ok(())
    }

    fn items(&self, row: usize) -> &[i64] {
        &self.order[self.bin_offsets[row] as usize..self.bin_offsets[row + 1] as usize]
    }

    fn for_rows(&self, out: &mut [i64], fill: impl Fn(usize, &mut [i64]) + Sync + Send) {
        match self.rows {
            Rows::Width(width) => for_each_row(out, width, fill),
            Rows::Offsets(offsets) => for_each_ragged_row(out, offsets, fill),
        }
    }

    fn write_tokens<T: Token, O: Offset>(&self, values: &[T], offsets: &[O], pad: i64, out: &mut [i64]) {
        self.for_rows(out, |r, row| {
            let mut col = 0;
            for &item in self.items(r) {
                let seq = &values[offsets[item as usize].to_usize()..offsets[item as usize + 1].to_usize()];
                for (dst, src) in row[col..col + seq.len()].iter_mut().zip(seq) {
                    *dst = src.to_i64();
                }
                col += seq.len();
            }
            row[col..].fill(pad);
        });
    }

    fn write_positions(&self, lists: &Lists, pads: GatherPads, positions: &mut [i64], mask: &mut [i64]) {
        self.for_rows(positions, |r, row| {
            let mut col = 0;
            for &item in self.items(r) {
                let n = lists.row_len(item as usize);
                for (k, p) in row[col..col + n].iter_mut().enumerate() {
                    *p = k as i64;
                }
                col += n;
            }
            row[col..].fill(pads.position_pad_id);
        });
        self.for_rows(mask, |r, row| {
            let mut col = 0;
            for (k, &item) in self.items(r).iter().enumerate() {
                let n = lists.row_len(item as usize);
                row[col..col + n].fill(k as i64 + 1);
                col += n;
            }
            row[col..].fill(pads.attention_pad_id);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lists::{Offsets, Values};

    #[test]
    fn writes_v2_collator_layout() {
        let values = [1i32, 2, 3, 4, 5, 6];
        let offsets = [0i32, 2, 3, 6];
        let lists = Lists::new(Values::I32(&values), Offsets::I32(&offsets)).unwrap();
        let labels_v = [-100i64, 2, 3, -100, 5, 6];
        let labels = Lists::new(Values::I64(&labels_v), Offsets::I32(&offsets)).unwrap();
        let (order, bins) = ([2i64, 1, 0], [0i64, 2, 3]);
        let pads = GatherPads { pad_token_id: 0, label_pad_id: -100, position_pad_id: 0, attention_pad_id: 0 };
        let mut o = [vec![9; 10], vec![9; 10], vec![9; 10], vec![9; 10]];
        let [ids, lab, pos, mask] = &mut o;
        let out = GatherOut { input_ids: ids, labels: lab, position_ids: pos, attention_mask: mask };
        gather_packed(&lists, Some(&labels), &order, &bins, 5, pads, out).unwrap();
        assert_eq!(o[0], vec![4, 5, 6, 3, 0, 1, 2, 0, 0, 0]);
        assert_eq!(o[1], vec![-100, 5, 6, 3, -100, -100, 2, -100, -100, -100]);
        assert_eq!(o[2], vec![0, 1, 2, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(o[3], vec![1, 1, 1, 2, 0, 1, 1, 0, 0, 0]);
    }

    #[test]
    fn lists_layout_is_the_padded_rows_unpadded() {
        let values = [1i32, 2, 3, 4, 5, 6];
        let offsets = [0i32, 2, 3, 6];
        let lists = Lists::new(Values::I32(&values), Offsets::I32(&offsets)).unwrap();
        let (order, bins) = ([2i64, 1, 0], [0i64, 2, 2, 3]);
        let mut o = [vec![9; 6], vec![9; 6], vec![9; 6], vec![9; 6]];
        let mut row_offsets = [9i64; 4];
        let [ids, lab, pos, mask] = &mut o;
        let out = GatherOut { input_ids: ids, labels: lab, position_ids: pos, attention_mask: mask };
        gather_packed_lists(&lists, None, &order, &bins, out, &mut row_offsets).unwrap();
        assert_eq!(row_offsets, [0, 4, 4, 6]);
        assert_eq!(o[0], vec![4, 5, 6, 3, 1, 2]);
        assert_eq!(o[1], o[0]);
        assert_eq!(o[2], vec![0, 1, 2, 0, 0, 1]);
        assert_eq!(o[3], vec![1, 1, 1, 2, 1, 1]);
        let out = GatherOut {
            input_ids: &mut [0; 5],
            labels: &mut [0; 5],
            position_ids: &mut [0; 5],
            attention_mask: &mut [0; 5],
        };
        assert!(gather_packed_lists(&lists, None, &order, &bins, out, &mut row_offsets).is_err());
        // 6 tokens
    }

    #[test]
    fn rejects_bad_packings() {
        let values = [1i64, 2, 3];
        let offsets = [0i64, 2, 3];
        let lists = Lists::new(Values::I64(&values), Offsets::I64(&offsets)).unwrap();
        assert!(check_packing(&lists, &[0, 2], &[0, 2], 8).is_err()); // item 2 does not exist
        assert!(check_packing(&lists, &[0, 1], &[0, 3], 8).is_err()); // offset past order
        assert!(check_packing(&lists, &[0, 1], &[1, 0, 2], 8).is_err()); // decreasing
        assert!(matches!(check_packing(&lists, &[0, 1], &[0, 2], 2), Err(Error::BufferTooSmall { needed: 3, .. })));
        assert_eq!(check_packing(&lists, &[1, 0], &[0, 1, 2], 2).unwrap(), 2);
    }

    #[test]
    fn refuses_rows_times_width_that_overflows() {
        // 2 empty bins of width 2**63: 2**64 elements would wrap to 0 and accept empty outputs.
        let (values, offsets) = ([1i64], [0i64, 1]);
        let lists = Lists::new(Values::I64(&values), Offsets::I64(&offsets)).unwrap();
        let pads = GatherPads { pad_token_id: 0, label_pad_id: 0, position_pad_id: 0, attention_pad_id: 0 };
        let out = GatherOut { input_ids: &mut [], labels: &mut [], position_ids: &mut [], attention_mask: &mut [] };
        let err = gather_packed(&lists, None, &[], &[0, 0, 0], 1 << 63, pads, out).unwrap_err();
        assert!(matches!(&err, Error::InvalidArgument(m) if m.contains("width")), "{err:?}");
    }
}
