//! Byte-level BPE over one piece: merges applied by rank exactly as the `tokenizers` crate
//! applies them (lowest rank first, leftmost first among equal ranks), on byte ids instead
//! of byte-level strings, with each token's byte length kept for offsets.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};

use ahash::AHashMap;

/// A token of a piece: its id and how many bytes of the piece it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub id: u32,
    pub len: u32,
}

/// The model: the id of each single byte, the whole-piece vocabulary (for `ignore_merges`)
/// and the merges as `(left, right) -> (rank, merged)`.
pub struct Bpe {
    byte_ids: [u32; 256],
    vocab: AHashMap<Box<[u8]>, u32>,
    merges: AHashMap<u64, (u32, u32)>,
    ignore_merges: bool,
    cache_id: u64,
}

/// Pieces longer than this are merged without the cache (the `tokenizers` crate's limit too):
/// they are rare and would crowd out the short ones.
const CACHE_MAX_PIECE: usize = 256;
/// Cached pieces per thread and model; the cache is emptied when full, so memory stays bounded
/// whatever the input.
const CACHE_CAPACITY: usize = 1 << 17;
/// Models whose caches a thread keeps; the least recently used beyond this is dropped.
const CACHES_PER_THREAD: usize = 4;
/// Pieces up to this many bytes are merged by scanning for the lowest rank (fast for short
/// pieces); longer ones with a heap, as the `tokenizers` crate does.
const SCAN_MAX_SYMBOLS: usize = 48;

static NEXT_CACHE_ID: AtomicU64 = AtomicU64::new(1);

type PieceCache = AHashMap<Box<[u8]>, Box<[Token]>>;

thread_local! {
    static CACHES: RefCell<Vec<(u64, PieceCache)>> = const { RefCell::new(Vec::new()) };
}

fn pair_key(left: u32, right: u32) -> u64 {
    (u64::from(left) << 32) | u64::from(right)
}

impl Bpe {
    /// `byte_ids[b]` is the id of byte `b`'s byte-level character; `vocab` maps each token's
    /// bytes to its id; `merges` are `(left, right, merged)` ids in rank order.
    pub fn new(
        byte_ids: [u32; 256],
        vocab: AHashMap<Box<[u8]>, u32>,
        merges: &[(u32, u32, u32)],
        ignore_merges: bool,
    ) -> Bpe {
        let mut table = AHashMap::with_capacity(merges.len());
        for (rank, &(left, right, merged)) in merges.iter().enumerate() {
            // A pair listed twice keeps its last rank, as the `tokenizers` crate's map does.
            table.insert(pair_key(left, right), (rank as u32, merged));
        }
        let cache_id = NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed);
        Bpe {
            byte_ids,
            vocab,
            merges: table,
            ignore_merges,
            cache_id,
        }
    }

    /// Appends the tokens of `piece` (non-empty) to `out`.
    pub fn encode_piece(&self, piece: &[u8], out: &mut Vec<Token>) {
        if self.ignore_merges {
            if let Some(&id) = self.vocab.get(piece) {
                out.push(Token {
                    id,
                    len: piece.len() as u32,
                });
                return;
            }
        }
        if piece.len() == 1 {
            out.push(Token {
                id: self.byte_ids[piece[0] as usize],
                len: 1,
            });
            return;
        }
        if piece.len() > CACHE_MAX_PIECE {
            self.merge(piece, out);
            return;
        }
        CACHES.with(|caches| {
            let mut caches = caches.borrow_mut();
            let cache = self.thread_cache(&mut caches);
            if let Some(tokens) = cache.get(piece) {
                out.extend_from_slice(tokens);
                return;
            }
            let start = out.len();
            self.merge(piece, out);
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(piece.into(), out[start..].into());
        })
    }

    /// This model's cache on this thread, made most recent.
    fn thread_cache<'a>(&self, caches: &'a mut Vec<(u64, PieceCache)>) -> &'a mut PieceCache {
        let index = match caches.iter().position(|(id, _)| *id == self.cache_id) {
            Some(i) => i,
            None => {
                if caches.len() >= CACHES_PER_THREAD {
                    caches.remove(0);
                }
                caches.push((self.cache_id, PieceCache::default()));
                caches.len() - 1
            }
        };
        let entry = caches.remove(index);
        caches.push(entry);
        &mut caches.last_mut().expect("just pushed").1
    }

    fn rank(&self, left: u32, right: u32) -> Option<(u32, u32)> {
        self.merges.get(&pair_key(left, right)).copied()
    }

    /// Appends the merged tokens of `piece` to `out`.
    fn merge(&self, piece: &[u8], out: &mut Vec<Token>) {
        let start = out.len();
        out.extend(piece.iter().map(|&b| Token {
            id: self.byte_ids[b as usize],
            len: 1,
        }));
        if piece.len() <= SCAN_MAX_SYMBOLS {
            self.merge_by_scan(out, start);
        } else {
            self.merge_by_heap(out, start);
        }
    }

    /// Repeatedly merges the lowest-ranked adjacent pair (the leftmost among equals) of
    /// `symbols[start..]`, in place.
    fn merge_by_scan(&self, symbols: &mut Vec<Token>, start: usize) {
        loop {
            let mut best: Option<(u32, usize, u32)> = None;
            for i in start..symbols.len().saturating_sub(1) {
                if let Some((rank, merged)) = self.rank(symbols[i].id, symbols[i + 1].id) {
                    if best.is_none_or(|(r, _, _)| rank < r) {
                        best = Some((rank, i, merged));
                    }
                }
            }
            let Some((_, i, merged)) = best else { return };
            symbols[i] = Token {
                id: merged,
                len: symbols[i].len + symbols[i + 1].len,
            };
            symbols.remove(i + 1);
        }
    }

    /// The same merges for long pieces: the `tokenizers` crate's algorithm (a heap of
    /// candidate pairs by rank then position over a linked list of symbols, stale entries
    /// skipped).
    fn merge_by_heap(&self, symbols: &mut Vec<Token>, start: usize) {
        let n = symbols.len() - start;
        let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect();
        let mut next: Vec<usize> = (1..=n).collect();
        let mut live: Vec<Token> = symbols[start..].to_vec();
        let mut heap = BinaryHeap::new();
        for i in 0..n.saturating_sub(1) {
            if let Some((rank, merged)) = self.rank(live[i].id, live[i + 1].id) {
                heap.push(Reverse((rank, i, merged)));
            }
        }
        while let Some(Reverse((rank, i, merged))) = heap.pop() {
            let j = next[i];
            if live[i].len == 0 || j >= n {
                continue;
            }
            // Stale: the pair at `i` is no longer the one this entry was made for.
            if self.rank(live[i].id, live[j].id) != Some((rank, merged)) {
                continue;
            }
            live[i] = Token {
                id: merged,
                len: live[i].len + live[j].len,
            };
            live[j].len = 0;
            next[i] = next[j];
            if next[i] < n {
                prev[next[i]] = i;
            }
            if prev[i] < n {
                let p = prev[i];
                if let Some((r, m)) = self.rank(live[p].id, live[i].id) {
                    heap.push(Reverse((r, p, m)));
                }
            }
            if next[i] < n {
                if let Some((r, m)) = self.rank(live[i].id, live[next[i]].id) {
                    heap.push(Reverse((r, i, m)));
                }
            }
        }
        symbols.truncate(start);
        symbols.extend(live.into_iter().filter(|t| t.len != 0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes a..e with merges: (a,b)->ab, (b,c)->bc, (ab,c)->abc, (c,c)->cc.
    fn model(ignore_merges: bool) -> Bpe {
        let mut byte_ids = [0u32; 256];
        for (i, b) in (b'a'..=b'e').enumerate() {
            byte_ids[b as usize] = i as u32;
        }
        let mut vocab = AHashMap::new();
        for (token, id) in [
            ("ab", 10),
            ("bc", 11),
            ("abc", 12),
            ("cc", 13),
            ("abcd", 14),
        ] {
            vocab.insert(token.as_bytes().into(), id);
        }
        let merges = [(0, 1, 10), (1, 2, 11), (10, 2, 12), (2, 2, 13)];
        Bpe::new(byte_ids, vocab, &merges, ignore_merges)
    }

    fn ids(bpe: &Bpe, text: &str, heap: bool) -> Vec<(u32, u32)> {
        let mut out = vec![];
        if heap {
            out.extend(text.bytes().map(|b| Token {
                id: bpe.byte_ids[b as usize],
                len: 1,
            }));
            bpe.merge_by_heap(&mut out, 0);
        } else {
            bpe.encode_piece(text.as_bytes(), &mut out);
        }
        out.iter().map(|t| (t.id, t.len)).collect()
    }

    #[test]
    fn merges_by_rank_then_position() {
        let bpe = model(false);
        for heap in [false, true] {
            assert_eq!(ids(&bpe, "abc", heap), [(12, 3)]);
            assert_eq!(ids(&bpe, "bcab", heap), [(11, 2), (10, 2)]);
            assert_eq!(ids(&bpe, "ccc", heap), [(13, 2), (2, 1)]);
            assert_eq!(ids(&bpe, "abcd", heap), [(12, 3), (3, 1)]);
        }
        assert_eq!(ids(&model(true), "abcd", false), [(14, 4)]);
    }

    #[test]
    fn scan_and_heap_agree_on_long_pieces() {
        let bpe = model(false);
        let text: String = (0..500)
            .map(|i| ["a", "b", "c", "cc", "abc", "e"][(i * 7 + i / 3) % 6])
            .collect();
        let mut scan = vec![];
        scan.extend(text.bytes().map(|b| Token {
            id: bpe.byte_ids[b as usize],
            len: 1,
        }));
        bpe.merge_by_scan(&mut scan, 0);
        assert_eq!(
            ids(&bpe, &text, true),
            scan.iter().map(|t| (t.id, t.len)).collect::<Vec<_>>()
        );
    }
}
