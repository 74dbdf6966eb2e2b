//! Batch padding: token lists -> a row-major `[rows, width]` int64 matrix.

use crate::error::{matrix_len, Error, Result};
use crate::lists::{Lists, Offset, Token};
use crate::threads::for_each_row;
use crate::with_lists;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Right,
    Left,
}

/// Row width for a batch: the longest row or `target`, whichever is larger, rounded up to a
/// multiple of `multiple`. A row longer than `target` is kept whole, never truncated.
pub fn padded_width(longest: usize, target: Option<usize>, multiple: Option<usize>) -> Result<usize> {
    let width = longest.max(target.unwrap_or(0));
    match multiple {
        None => Ok(width),
        Some(0) => Err(Error::invalid("pad_to_multiple_of must be at least 1")),
        Some(m) => width
            .div_ceil(m)
            .checked_mul(m)
            .ok_or_else(|| Error::invalid(format!("width {width} rounded up to pad_to_multiple_of {m} overflows"))),
    }
}

/// Writes every row of `lists`, padded with `pad_value` on `side`, into `out`
/// (`rows * width` elements, row-major). Every element of `out` is written.
pub fn pad_into(lists: &Lists, pad_value: i64, side: Side, out: &mut [i64], width: usize) -> Result<()> {
    let rows = lists.num_rows();
    if matrix_len(rows, width, "width")? != out.len() {
        return Err(Error::invalid(format!(
            "output holds {} elements, expected rows * width = {rows} * {width}",
            out.len()
        )));
    }
    let longest = lists.max_len();
    if longest > width {
        return Err(Error::BufferTooSmall {
            needed: longest,
            message: format!("a row has {longest} tokens but the output width is {width}"),
        });
    }
    if width == 0 {
        return Ok(());
    }
    with_lists!(lists, |v, o| pad_rows(v, o, pad_value, side, out, width));
    Ok(())
}

/// Convenience for Rust callers: allocates the output. Returns `(matrix, width)`.
pub fn pad(
    lists: &Lists,
    target: Option<usize>,
    multiple: Option<usize>,
    pad_value: i64,
    side: Side,
) -> Result<(Vec<i64>, usize)> {
    let width = padded_width(lists.max_len(), target, multiple)?;
    let mut out = vec![0i64; matrix_len(lists.num_rows(), width, "width")?];
    pad_into(lists, pad_value, side, &mut out, width)?;
    Ok((out, width))
}

fn pad_rows<T: Token, O: Offset>(values: &[T], offsets: &[O], pad: i64, side: Side, out: &mut [i64], width: usize) {
    for_each_row(out, width, |i, row| {
        let seq = &values[offsets[i].to_usize()..offsets[i + 1].to_usize()];
        pad_row(seq, pad, side, row);
    });
}

#[inline]
fn pad_row<T: Token>(seq: &[T], pad: i64, side: Side, row: &mut [i64]) {
    let gap = row.len() - seq.len();
    let (tokens, padding) = match side {
        Side::Right => {
            let (t, p) = row.split_at_mut(seq.len());
            (t, p)
        }
        Side::Left => {
            let (p, t) = row.split_at_mut(gap);
            (t, p)
        }
    };
    for (dst, src) in tokens.iter_mut().zip(seq) {
        *dst = src.to_i64();
    }
    padding.fill(pad);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lists::{Offsets, Values};

    fn reference(rows: &[Vec<i64>], width: usize, pad: i64, side: Side) -> Vec<i64> {
        let mut out = Vec::new();
        for r in rows {
            let padding = vec![pad; width - r.len()];
            match side {
                Side::Right => out.extend(r.iter().copied().chain(padding)),
                Side::Left => out.extend(padding.into_iter().chain(r.iter().copied())),
            }
        }
        out
    }

    use crate::testutil::{layout as to_layout, Rng};

    #[test]
    fn widths() {
        assert_eq!(padded_width(5, None, None).unwrap(), 5);
        assert_eq!(padded_width(5, Some(3), None).unwrap(), 5);
        assert_eq!(padded_width(5, Some(8), Some(3)).unwrap(), 9);
        assert_eq!(padded_width(0, None, Some(4)).unwrap(), 0);
        assert!(padded_width(5, None, Some(0)).is_err());
        assert!(padded_width(usize::MAX - 1, None, Some(4)).is_err());
    }

    #[test]
    fn matches_reference_small_and_parallel() {
        // Pseudo-random lengths and tokens; the big case crosses PARALLEL_MIN_ELEMENTS.
        for &(rows_n, max_len) in &[(0usize, 4usize), (7, 5), (3000, 300)] {
            let mut rng = Rng(0x9e3779b97f4a7c15);
            let mut next = || rng.next();
            let rows: Vec<Vec<i64>> =
                (0..rows_n).map(|_| (0..next() as usize % (max_len + 1)).map(|_| next() as i64).collect()).collect();
            let (values, offsets) = to_layout(&rows);
            let lists = Lists::new(Values::I64(&values), Offsets::I64(&offsets)).unwrap();
            for side in [Side::Left, Side::Right] {
                let (out, width) = pad(&lists, Some(max_len / 2), Some(8), -7, side).unwrap();
                assert_eq!(width, padded_width(lists.max_len(), Some(max_len / 2), Some(8)).unwrap());
                assert_eq!(out, reference(&rows, width, -7, side));
            }
        }
    }

    #[test]
    fn narrow_types_widen() {
        let values = [-128i8, 127, 5];
        let offsets = [0i32, 2, 3];
        let lists = Lists::new(Values::I8(&values), Offsets::I32(&offsets)).unwrap();
        let (out, width) = pad(&lists, Some(3), None, 0, Side::Left).unwrap();
        assert_eq!(width, 3);
        assert_eq!(out, vec![0, -128, 127, 0, 0, 5]);
    }

    #[test]
    fn too_narrow_output_is_an_error() {
        let values = [1i64, 2, 3];
        let offsets = [0i64, 3];
        let lists = Lists::new(Values::I64(&values), Offsets::I64(&offsets)).unwrap();
        let mut out = vec![0; 2];
        let err = pad_into(&lists, 0, Side::Right, &mut out, 2).unwrap_err();
        assert!(matches!(err, Error::BufferTooSmall { needed: 3, .. }));
        let mut out = vec![0; 5];
        assert!(matches!(pad_into(&lists, 0, Side::Right, &mut out, 4), Err(Error::InvalidArgument(_))));
    }
}
