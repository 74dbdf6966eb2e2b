//! The kernels' rules written as plainly as possible (linear scans, no cleverness), to check
//! every successful call of a fuzz target against.

/// `fax_pad_width`: max(longest, target) rounded up to `multiple`; None when refused.
pub fn pad_width(rows: &[Vec<i64>], target: usize, multiple: usize) -> Option<usize> {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0).max(target);
    if multiple == 0 {
        return None;
    }
    width.div_ceil(multiple).checked_mul(multiple)
}

/// The padded row-major matrix.
pub fn pad(rows: &[Vec<i64>], width: usize, pad: i64, left: bool) -> Vec<i64> {
    let mut out = Vec::new();
    for r in rows {
        let padding = vec![pad; width - r.len()];
        if left {
            out.extend(padding.iter().chain(r));
        } else {
            out.extend(r.iter().chain(&padding));
        }
    }
    out
}

/// Overflow rules of `fax_pack_sequences`, as codes.
pub const SPLIT: u32 = 0;
pub const TRUNCATE: u32 = 1;
pub const DROP: u32 = 2;
pub const ERROR: u32 = 3;

/// Greedy packing, a cell at a time: the rows (real tokens only) and (split, truncated,
/// dropped); None when refused (max_length < 2, an unknown rule, or 'error' with an overlong row).
pub fn pack(rows: &[Vec<i64>], max: usize, eos: i64, rule: u32) -> Option<(Vec<Vec<i64>>, [usize; 3])> {
    if max < 2 || rule > ERROR {
        return None;
    }
    let (mut out, mut cur, mut counts) = (Vec::new(), Vec::new(), [0usize; 3]);
    fn flush(cur: &mut Vec<i64>, out: &mut Vec<Vec<i64>>) {
        if !cur.is_empty() {
            out.push(std::mem::take(cur));
        }
    }
    for r in rows {
        let mut item = r.clone();
        item.push(eos);
        if item.len() > max {
            match rule {
                ERROR => return None,
                DROP => {
                    counts[2] += 1;
                    continue;
                }
                TRUNCATE => {
                    counts[1] += 1;
                    item = r[..max - 1].to_vec();
                    item.push(eos);
                }
                _ => counts[0] += 1,
            }
            flush(&mut cur, &mut out);
            for t in item {
                cur.push(t);
                if cur.len() == max {
                    flush(&mut cur, &mut out);
                }
            }
            continue;
        }
        if cur.len() + item.len() > max {
            flush(&mut cur, &mut out);
        }
        cur.extend(item);
    }
    flush(&mut cur, &mut out);
    Some((out, counts))
}

/// Rows of real tokens laid into `width` columns: (values, mask) with `pad` after the tokens.
pub fn lay_out(rows: &[Vec<i64>], width: usize, pad: i64) -> (Vec<i64>, Vec<i64>) {
    let (mut values, mut mask) = (Vec::new(), Vec::new());
    for r in rows {
        values.extend(r.iter().copied().chain(std::iter::repeat(pad)).take(width));
        mask.extend((0..width).map(|c| (c < r.len()) as i64));
    }
    (values, mask)
}

/// `concatenate_and_pack` of one stream: all tokens in order, cut into rows, last one padded.
pub fn concatenate(rows: &[Vec<i64>], max: usize, pad: i64) -> Vec<i64> {
    let mut flat: Vec<i64> = rows.concat();
    let size = flat.len().div_ceil(max) * max;
    flat.resize(size, pad);
    flat
}

/// Whether two streams have the same number of rows, each of the same length.
pub fn same_shape(a: &[Vec<i64>], b: &[Vec<i64>]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.len() == y.len())
}

/// Strategies of `fax_pack_bins`, as codes.
pub const FIRST_FIT: u32 = 0;
pub const NEXT_FIT: u32 = 1;
pub const BEST_FIT_DECREASING: u32 = 2;
pub const FIRST_FIT_DECREASING: u32 = 3;

struct Bin {
    room: i64,
    items: Vec<usize>,
}

/// Bins (item indices in placement order) by scanning every bin for every item.
pub fn pack_bins(lengths: &[i64], capacity: i64, strategy: u32, max_items: usize) -> Vec<Vec<usize>> {
    let limit = if max_items == 0 { usize::MAX } else { max_items };
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    if strategy == BEST_FIT_DECREASING || strategy == FIRST_FIT_DECREASING {
        order.sort_by_key(|&i| std::cmp::Reverse(lengths[i])); // stable: ties keep input order
    }
    let mut bins: Vec<Bin> = Vec::new();
    for item in order {
        let len = lengths[item];
        let fits = |b: &Bin| b.room >= len && b.items.len() < limit;
        let chosen = match strategy {
            NEXT_FIT => bins.len().checked_sub(1).filter(|&last| fits(&bins[last])),
            BEST_FIT_DECREASING => (0..bins.len())
                .filter(|&b| fits(&bins[b]))
                .min_by_key(|&b| (bins[b].room, b)),
            _ => (0..bins.len()).find(|&b| fits(&bins[b])),
        };
        match chosen {
            Some(b) => {
                bins[b].room -= len;
                bins[b].items.push(item);
            }
            None => bins.push(Bin {
                room: capacity - len,
                items: vec![item],
            }),
        }
    }
    bins.into_iter().map(|b| b.items).collect()
}

/// `pack_bins` on consecutive groups of `group_size` items (0 = one group), indices global.
pub fn pack_bins_grouped(
    lengths: &[i64],
    capacity: i64,
    strategy: u32,
    max_items: usize,
    group_size: usize,
) -> Vec<Vec<usize>> {
    if group_size == 0 || group_size >= lengths.len() {
        return pack_bins(lengths, capacity, strategy, max_items);
    }
    let mut all = Vec::new();
    for (g, group) in lengths.chunks(group_size).enumerate() {
        for bin in pack_bins(group, capacity, strategy, max_items) {
            all.push(bin.into_iter().map(|i| i + g * group_size).collect());
        }
    }
    all
}

/// The four gather outputs for bins of rows (None when a bin is wider than `width`).
pub fn gather(
    ids: &[Vec<i64>],
    labels: &[Vec<i64>],
    bins: &[Vec<usize>],
    width: usize,
    pads: [i64; 4],
) -> Option<[Vec<i64>; 4]> {
    let mut out: [Vec<i64>; 4] = Default::default();
    for bin in bins {
        let mut row: [Vec<i64>; 4] = Default::default();
        for (k, &item) in bin.iter().enumerate() {
            row[0].extend(&ids[item]);
            row[1].extend(&labels[item]);
            row[2].extend(0..ids[item].len() as i64);
            row[3].extend(std::iter::repeat_n(k as i64 + 1, ids[item].len()));
        }
        if row[0].len() > width {
            return None;
        }
        for (o, (mut r, pad)) in out.iter_mut().zip(row.into_iter().zip(pads)) {
            r.resize(width, pad);
            o.extend(r);
        }
    }
    Some(out)
}

/// Lowercase hex of each digest, joined by the byte `separator` (0 = none).
pub fn hex(digests: &[[u8; 32]], separator: u8) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, d) in digests.iter().enumerate() {
        if i > 0 && separator != 0 {
            out.push(separator);
        }
        out.extend(d.iter().flat_map(|b| format!("{b:02x}").into_bytes()));
    }
    out
}
