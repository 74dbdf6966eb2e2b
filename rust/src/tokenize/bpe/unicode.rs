//! The character classes of the pre-tokenizer regexes: `class(c)` is the set of classes
//! (`\p{L}`, `\p{N}`, `\s`, the letter categories, `\p{M}`) that `c` belongs to, as the bits
//! of `unicode_table`.
//!
//! The table is probed from Oniguruma rather than taken from Rust's `char` methods or any
//! Unicode database, because exactness means splitting text as the `tokenizers` crate does,
//! and tokenizers compiles its patterns with Oniguruma: that engine's Unicode version and
//! definitions decide. Rust's differ: `char::is_alphabetic` is the Alphabetic property, not
//! `\p{L}`, and the standard library follows its own Unicode version (17.0 in Rust 1.95, where
//! Oniguruma 6.9.10 has 16.0, so U+11DE0..U+11DE9 are numeric to `char::is_numeric` but not
//! `\p{N}`). rust/gen-unicode writes `unicode_table` by matching every code point with the
//! engine itself, and fails its test when the committed table drifts from it.

use super::unicode_table::RANGES;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The code points sharing one entry of the block index.
const BLOCK: usize = 256;

/// Code points 0..=0x10FFFF, in blocks.
const BLOCK_COUNT: usize = 0x110000 / BLOCK;

/// ASCII, most of the text in practice, is read from a table built at compile time.
static ASCII: [u16; 128] = ascii_table();

/// The classes of the ASCII characters, from the leading ranges of `RANGES`.
const fn ascii_table() -> [u16; 128] {
    let mut table = [0; 128];
    let mut i = 0;
    while i < RANGES.len() && RANGES[i].0 < 128 {
        let (first, last, bits) = RANGES[i];
        let mut cp = first;
        while cp <= last && cp < 128 {
            table[cp as usize] = bits;
            cp += 1;
        }
        i += 1;
    }
    table
}

/// A two-level lookup table: the block of a code point, then its entry in the block. Most
/// blocks repeat (unassigned planes, runs of CJK ideographs), so each distinct block is stored
/// once and the whole table takes tens of kilobytes instead of 2 MiB.
struct Blocks {
    index: [u16; BLOCK_COUNT],
    blocks: Vec<[u16; BLOCK]>,
}

/// The set of classes `c` belongs to: a combination of the bits of `unicode_table`
/// (`L`, `N`, `S`, `LU`, `LL`, `LT`, `LM`, `LO`, `M`); 0 for none.
#[inline]
pub fn class(c: char) -> u16 {
    let cp = c as usize;
    if cp < 128 {
        return ASCII[cp];
    }
    let table = blocks();
    table.blocks[table.index[cp / BLOCK] as usize][cp % BLOCK]
}

/// The lookup table, built on first use (under a millisecond's work) rather than generated
/// as source, so the committed table stays the readable list of ranges.
fn blocks() -> &'static Blocks {
    static BLOCKS: OnceLock<Blocks> = OnceLock::new();
    BLOCKS.get_or_init(build_blocks)
}

fn build_blocks() -> Blocks {
    let mut bits = vec![0u16; BLOCK_COUNT * BLOCK];
    for &(first, last, class) in RANGES {
        bits[first as usize..=last as usize].fill(class);
    }
    let mut table = Blocks { index: [0; BLOCK_COUNT], blocks: Vec::new() };
    let mut numbers: HashMap<[u16; BLOCK], u16> = HashMap::new();
    for (i, chunk) in bits.chunks_exact(BLOCK).enumerate() {
        let block: [u16; BLOCK] = chunk.try_into().unwrap();
        table.index[i] = *numbers.entry(block).or_insert_with(|| {
            table.blocks.push(block);
            (table.blocks.len() - 1) as u16
        });
    }
    table
}

#[cfg(test)]
mod tests {
    use super::super::unicode_table::{L, LL, LO, M, N, S};
    use super::*;

    /// The bits `RANGES` gives `cp`, by a search independent of the lookup table.
    fn ranges_class(cp: u32) -> u16 {
        match RANGES.binary_search_by(|&(first, last, _)| {
            if last < cp {
                std::cmp::Ordering::Less
            } else if first > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        }) {
            Ok(i) => RANGES[i].2,
            Err(_) => 0,
        }
    }

    #[test]
    fn ranges_are_sorted_disjoint_and_maximal() {
        for pair in RANGES.windows(2) {
            let ((_, last, bits), (first, _, next_bits)) = (pair[0], pair[1]);
            assert!(last < first, "{pair:X?} overlap or are out of order");
            assert!(last + 1 < first || bits != next_bits, "{pair:X?} should be one range");
        }
        assert!(RANGES.iter().all(|&(first, last, bits)| first <= last && bits != 0));
    }

    #[test]
    fn class_agrees_with_ranges_everywhere() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(class(c), ranges_class(c as u32), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn spot_checks() {
        assert_eq!(class('a'), L | LL);
        assert_eq!(class('5'), N);
        assert_eq!(class(' '), S);
        assert_eq!(class('\u{3000}'), S);
        assert_eq!(class('\u{301}'), M);
        assert_eq!(class('中'), L | LO);
        assert_eq!(class('\''), 0);
    }
}
