//! Next fit (Axolotl's `allocate_sequentially`): only the newest bin is open.

/// `allocate_sequentially`: only the newest bin is open; an item that does not fit closes it.
/// Bins hold consecutive items, so the order is just 0..n. Returns `(order, bin_offsets)`.
pub(super) fn next_fit(lengths: &[i64], capacity: i64, max_items: u32) -> (Vec<i64>, Vec<i64>) {
    let mut bin_offsets = Vec::new();
    // Room -1 fits nothing, so the first item opens the first bin.
    let mut remaining = -1i64;
    let mut count = 0u32;
    for (item, &len) in lengths.iter().enumerate() {
        if len <= remaining && count < max_items {
            remaining -= len;
            count += 1;
        } else {
            // Axolotl skips closing an empty bin; here every bin holds the item that opened it.
            bin_offsets.push(item as i64);
            remaining = capacity - len;
            count = 1;
        }
    }
    bin_offsets.push(lengths.len() as i64);
    ((0..lengths.len() as i64).collect(), bin_offsets)
}
