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
    vocab: PieceMap<u32>,
    merges: AHashMap<u64, (u32, u32)>,
    /// `(rank, merged)` of every pair of single bytes, indexed by `first << 8 | second`: a
    /// piece's first pairs, looked up without hashing.
    byte_pairs: Box<[(u32, u32)]>,
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
/// Pieces up to this many bytes are merged with an array of pair ranks scanned for the
/// lowest (fast for short pieces); longer ones with a heap, as the `tokenizers` crate does.
const SCAN_MAX_SYMBOLS: usize = 16;

static NEXT_CACHE_ID: AtomicU64 = AtomicU64::new(1);

/// A map from byte strings; those of up to 15 bytes (nearly all pieces) are keyed by one
/// integer, which hashes and compares without a call to `memcmp`.
pub struct PieceMap<V> {
    short: AHashMap<u128, V>,
    long: AHashMap<Box<[u8]>, V>,
}

impl<V> Default for PieceMap<V> {
    fn default() -> Self {
        PieceMap { short: AHashMap::default(), long: AHashMap::default() }
    }
}

/// The bytes and length of a piece of up to 15 bytes packed into one integer (bytes little
/// endian from bit 0, the length in the top byte), read with overlapping word loads rather
/// than a variable-length copy.
#[inline]
fn short_key(piece: &[u8]) -> Option<u128> {
    let len = piece.len();
    let bytes = match len {
        0..=3 => piece.iter().rev().fold(0u128, |acc, &b| (acc << 8) | u128::from(b)),
        4..=7 => {
            let low = u32::from_le_bytes(piece[..4].try_into().expect("4 bytes"));
            let high = u64::from(u32::from_le_bytes(piece[len - 4..].try_into().expect("4 bytes"))) >> (8 * (8 - len));
            u128::from(low) | (u128::from(high) << 32)
        }
        8..=15 => {
            let low = u64::from_le_bytes(piece[..8].try_into().expect("8 bytes"));
            let high =
                u128::from(u64::from_le_bytes(piece[len - 8..].try_into().expect("8 bytes"))) >> (8 * (16 - len));
            u128::from(low) | (high << 64)
        }
        _ => return None,
    };
    Some(bytes | ((len as u128) << 120))
}

impl<V> PieceMap<V> {
    #[inline]
    pub fn get(&self, piece: &[u8]) -> Option<&V> {
        match short_key(piece) {
            Some(key) => self.short.get(&key),
            None => self.long.get(piece),
        }
    }

    pub fn insert(&mut self, piece: &[u8], value: V) {
        match short_key(piece) {
            Some(key) => self.short.insert(key, value),
            None => self.long.insert(piece.into(), value),
        };
    }
}

impl<V> FromIterator<(Box<[u8]>, V)> for PieceMap<V> {
    fn from_iter<I: IntoIterator<Item = (Box<[u8]>, V)>>(items: I) -> Self {
        let mut map = PieceMap::default();
        for (piece, value) in items {
            map.insert(&piece, value);
        }
        map
    }
}

/// One thread's pieces for one model: a small direct-mapped table of recent short pieces
/// (it stays in the core's cache, where the vocabulary and merge tables do not), then every
/// merged piece.
pub struct PieceCache {
    recent: Box<[Recent]>,
    merged: MergedPieces,
    pairs: Box<[PairSlot]>,
    scratch: HeapScratch,
}

/// Every merged piece of a thread (up to CACHE_CAPACITY): the pieces' bytes and tokens live in
/// two arenas, so that caching a piece allocates nothing and emptying the cache frees nothing.
/// Pieces of up to 15 bytes are keyed by `short_key`; longer ones by a hash of their bytes,
/// checked against the stored bytes on a hit (a collision is a miss, then overwritten).
#[derive(Default)]
struct MergedPieces {
    short: AHashMap<u128, Span>,
    long: AHashMap<u64, (Span, Span)>,
    hasher: ahash::RandomState,
    bytes: Vec<u8>,
    tokens: Vec<Token>,
}

/// `start..start + len` of an arena.
#[derive(Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// Where a piece is filed in MergedPieces: its short key, or the hash of its bytes.
#[derive(Clone, Copy)]
enum PieceKey {
    Short(u128),
    Long(u64),
}

impl MergedPieces {
    #[inline]
    fn key(&self, short: Option<u128>, piece: &[u8]) -> PieceKey {
        match short {
            Some(key) => PieceKey::Short(key),
            None => PieceKey::Long(self.hasher.hash_one(piece)),
        }
    }

    /// The tokens of `piece` (filed under `key`), if it was merged before.
    #[inline]
    fn get(&self, key: PieceKey, piece: &[u8]) -> Option<&[Token]> {
        let tokens = match key {
            PieceKey::Short(key) => *self.short.get(&key)?,
            PieceKey::Long(hash) => {
                let (bytes, tokens) = *self.long.get(&hash)?;
                if &self.bytes[bytes.range()] != piece {
                    return None;
                }
                tokens
            }
        };
        Some(&self.tokens[tokens.range()])
    }

    fn insert(&mut self, key: PieceKey, piece: &[u8], tokens: &[Token]) {
        if self.short.len() + self.long.len() >= CACHE_CAPACITY {
            self.short.clear();
            self.long.clear();
            self.bytes.clear();
            self.tokens.clear();
        }
        let token_span = Span { start: self.tokens.len() as u32, len: tokens.len() as u32 };
        self.tokens.extend_from_slice(tokens);
        match key {
            PieceKey::Short(key) => {
                self.short.insert(key, token_span);
            }
            PieceKey::Long(hash) => {
                let byte_span = Span { start: self.bytes.len() as u32, len: piece.len() as u32 };
                self.bytes.extend_from_slice(piece);
                self.long.insert(hash, (byte_span, token_span));
            }
        }
    }
}

/// Slots of the recent-piece table (a power of two).
const RECENT_SLOTS: usize = 1 << 15;
/// Slots of the recent-pair table (a power of two): merging looks up every adjacent pair, and
/// the same pairs recur (the bytes of one character, common syllables).
const PAIR_SLOTS: usize = 1 << 13;

/// A recent pair lookup: `key` is `pair_key` (0, the pair of two byte-0 tokens, is never
/// stored, so 0 is empty), then its rank and merged id, or NO_MERGE.
#[derive(Clone, Copy, Default)]
struct PairSlot {
    key: u64,
    rank: u32,
    merged: u32,
}

/// The rank of a pair that has no merge: above every real rank.
const NO_MERGE: (u32, u32) = (u32::MAX, 0);

/// Pair ranks: the merges table behind this thread's recent-pair table.
pub struct Ranks<'a> {
    table: &'a AHashMap<u64, (u32, u32)>,
    recent: &'a mut [PairSlot],
}

impl Ranks<'_> {
    /// `(rank, merged)` of the pair, or NO_MERGE.
    #[inline]
    fn get(&mut self, left: u32, right: u32) -> (u32, u32) {
        let key = pair_key(left, right);
        let index = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - PAIR_SLOTS.trailing_zeros())) as usize;
        let slot = &mut self.recent[index];
        if slot.key == key && key != 0 {
            return (slot.rank, slot.merged);
        }
        let (rank, merged) = self.table.get(&key).copied().unwrap_or(NO_MERGE);
        *slot = PairSlot { key, rank, merged };
        (rank, merged)
    }
}
/// Tokens a recent-piece slot holds; pieces with more are looked up in `merged` only.
const RECENT_TOKENS: usize = 3;

/// A recent piece: its key and its tokens (ids and byte lengths); `key == 0` is empty (no
/// piece has length 0).
#[derive(Clone, Copy, Default)]
struct Recent {
    key: u128,
    ids: [u32; RECENT_TOKENS],
    lens: [u8; RECENT_TOKENS],
    count: u8,
}

impl Default for PieceCache {
    fn default() -> Self {
        PieceCache {
            recent: vec![Recent::default(); RECENT_SLOTS].into_boxed_slice(),
            merged: MergedPieces::default(),
            pairs: vec![PairSlot::default(); PAIR_SLOTS].into_boxed_slice(),
            scratch: HeapScratch::default(),
        }
    }
}

#[inline]
fn recent_slot(key: u128) -> usize {
    let folded = (key as u64) ^ ((key >> 64) as u64).rotate_left(29);
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - RECENT_SLOTS.trailing_zeros())) as usize
}

impl PieceCache {
    #[inline]
    fn recent(&self, key: u128, out: &mut Vec<Token>) -> bool {
        let slot = &self.recent[recent_slot(key)];
        if slot.key != key {
            return false;
        }
        for i in 0..slot.count as usize {
            out.push(Token { id: slot.ids[i], len: u32::from(slot.lens[i]) });
        }
        true
    }

    #[inline]
    fn remember(&mut self, key: u128, tokens: &[Token]) {
        if tokens.len() <= RECENT_TOKENS {
            let mut slot = Recent { key, count: tokens.len() as u8, ..Recent::default() };
            for (i, t) in tokens.iter().enumerate() {
                slot.ids[i] = t.id;
                slot.lens[i] = t.len as u8;
            }
            self.recent[recent_slot(key)] = slot;
        }
    }
}

thread_local! {
    static CACHES: RefCell<Vec<(u64, PieceCache)>> = const { RefCell::new(Vec::new()) };
}

fn pair_key(left: u32, right: u32) -> u64 {
    (u64::from(left) << 32) | u64::from(right)
}

impl Bpe {
    /// `byte_ids[b]` is the id of byte `b`'s byte-level character; `vocab` maps each token's
    /// bytes to its id; `merges` are `(left, right, merged)` ids in rank order.
    pub fn new(byte_ids: [u32; 256], vocab: PieceMap<u32>, merges: &[(u32, u32, u32)], ignore_merges: bool) -> Bpe {
        let mut table = AHashMap::with_capacity(merges.len());
        for (rank, &(left, right, merged)) in merges.iter().enumerate() {
            // A pair listed twice keeps its last rank, as the `tokenizers` crate's map does.
            table.insert(pair_key(left, right), (rank as u32, merged));
        }
        let byte_pairs = (0..1usize << 16)
            .map(|i| table.get(&pair_key(byte_ids[i >> 8], byte_ids[i & 0xFF])).copied().unwrap_or(NO_MERGE))
            .collect();
        let cache_id = NEXT_CACHE_ID.fetch_add(1, Ordering::Relaxed);
        Bpe { byte_ids, vocab, merges: table, byte_pairs, ignore_merges, cache_id }
    }

    /// Runs `work` with this model's piece cache on this thread (most recently used first).
    pub fn with_cache<R>(&self, work: impl FnOnce(&mut PieceCache) -> R) -> R {
        CACHES.with(|caches| {
            let mut caches = caches.borrow_mut();
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
            if index + 1 != caches.len() {
                let entry = caches.remove(index);
                caches.push(entry);
            }
            work(&mut caches.last_mut().expect("just pushed").1)
        })
    }

    /// Appends the tokens of `piece` (non-empty) to `out`.
    #[inline]
    pub fn encode_piece(&self, piece: &[u8], cache: &mut PieceCache, out: &mut Vec<Token>) {
        if piece.len() == 1 {
            out.push(Token { id: self.byte_ids[piece[0] as usize], len: 1 });
            return;
        }
        let key = short_key(piece);
        if let Some(key) = key {
            if cache.recent(key, out) {
                return;
            }
        }
        let start = out.len();
        let mut ranks = Ranks { table: &self.merges, recent: &mut cache.pairs };
        self.encode_uncached(piece, key, &mut cache.merged, &mut ranks, &mut cache.scratch, out);
        if let Some(key) = key {
            cache.remember(key, &out[start..]);
        }
    }

    /// `encode_piece` past the recent-piece table (`short`: the piece's short key, if any).
    fn encode_uncached(
        &self,
        piece: &[u8],
        short: Option<u128>,
        merged: &mut MergedPieces,
        ranks: &mut Ranks,
        scratch: &mut HeapScratch,
        out: &mut Vec<Token>,
    ) {
        if self.ignore_merges {
            if let Some(&id) = self.vocab.get(piece) {
                out.push(Token { id, len: piece.len() as u32 });
                return;
            }
        }
        if piece.len() > CACHE_MAX_PIECE {
            self.merge(piece, ranks, scratch, out);
            return;
        }
        let key = merged.key(short, piece);
        if let Some(tokens) = merged.get(key, piece) {
            out.extend_from_slice(tokens);
            return;
        }
        let start = out.len();
        self.merge(piece, ranks, scratch, out);
        merged.insert(key, piece, &out[start..]);
    }

    /// Appends the merged tokens of `piece` to `out`.
    fn merge(&self, piece: &[u8], ranks: &mut Ranks, scratch: &mut HeapScratch, out: &mut Vec<Token>) {
        self.merge_using(piece.len() > SCAN_MAX_SYMBOLS, piece, ranks, scratch, out);
    }

    /// `merge` with the heap or the scan.
    fn merge_using(
        &self,
        heap: bool,
        piece: &[u8],
        ranks: &mut Ranks,
        scratch: &mut HeapScratch,
        out: &mut Vec<Token>,
    ) {
        let start = out.len();
        out.extend(piece.iter().map(|&b| Token { id: self.byte_ids[b as usize], len: 1 }));
        scratch.pair.clear();
        scratch.pair.extend(piece.windows(2).map(|w| self.byte_pairs[usize::from(w[0]) << 8 | usize::from(w[1])]));
        if heap {
            merge_by_heap(ranks, out, start, scratch);
        } else {
            merge_by_scan(ranks, out, start, &scratch.pair);
        }
    }
}

/// Repeatedly merges the lowest-ranked adjacent pair (the leftmost among equals) of
/// `symbols[start..]` (at most SCAN_MAX_SYMBOLS), in place, keeping each pair's rank in an
/// array (`first_pairs` to begin with) so that a merge looks up only the two pairs it changes.
fn merge_by_scan(ranks: &mut Ranks, symbols: &mut Vec<Token>, start: usize, first_pairs: &[(u32, u32)]) {
    let mut pair = [NO_MERGE; SCAN_MAX_SYMBOLS];
    let mut pairs = symbols.len() - start - 1;
    pair[..pairs].copy_from_slice(first_pairs);
    while pairs > 0 {
        let mut best = 0;
        for i in 1..pairs {
            if pair[i].0 < pair[best].0 {
                best = i;
            }
        }
        let (rank, merged) = pair[best];
        if rank == NO_MERGE.0 {
            return;
        }
        let i = start + best;
        symbols[i] = Token { id: merged, len: symbols[i].len + symbols[i + 1].len };
        symbols.remove(i + 1);
        pair.copy_within(best + 1..pairs, best);
        pairs -= 1;
        if best > 0 {
            pair[best - 1] = ranks.get(symbols[i - 1].id, merged);
        }
        if best < pairs {
            pair[best] = ranks.get(merged, symbols[i + 1].id);
        }
    }
}

/// The heap merge's working arrays, kept per thread so that a long piece allocates nothing.
#[derive(Default)]
pub struct HeapScratch {
    /// Candidate merges as `rank << 32 | position`: lowest rank first, then leftmost.
    heap: Vec<Reverse<u64>>,
    /// `(rank, merged)` of the pair that starts at each live symbol, or NO_MERGE.
    pair: Vec<(u32, u32)>,
    next: Vec<u32>,
    prev: Vec<u32>,
}

/// The same merges for long pieces: the `tokenizers` crate's algorithm (a heap of candidate
/// pairs by rank then position over a linked list of symbols, stale entries skipped). An
/// entry is stale when the pair now at its position has another rank: a rank names one pair.
/// `scratch.pair` holds the `(rank, merged)` of the first pairs.
fn merge_by_heap(ranks: &mut Ranks, symbols: &mut Vec<Token>, start: usize, scratch: &mut HeapScratch) {
    let live = &mut symbols[start..];
    let n = live.len();
    let HeapScratch { heap, pair, next, prev } = scratch;
    next.clear();
    next.extend(1..=n as u32);
    prev.clear();
    prev.extend((0..n as u32).map(|i| i.wrapping_sub(1)));
    pair.push(NO_MERGE);
    heap.clear();
    heap.extend(pair.iter().enumerate().filter(|(_, p)| p.0 != NO_MERGE.0).map(|(i, p)| candidate(p.0, i)));
    let mut heap = BinaryHeap::from(std::mem::take(heap));
    while let Some(Reverse(entry)) = heap.pop() {
        let (rank, i) = ((entry >> 32) as u32, (entry & 0xFFFF_FFFF) as usize);
        if live[i].len == 0 || pair[i].0 != rank {
            continue;
        }
        let j = next[i] as usize;
        live[i] = Token { id: pair[i].1, len: live[i].len + live[j].len };
        live[j].len = 0;
        next[i] = next[j];
        let (before, after) = (prev[i] as usize, next[i] as usize);
        if after < n {
            prev[after] = i as u32;
            pair[i] = ranks.get(live[i].id, live[after].id);
            if pair[i].0 != NO_MERGE.0 {
                heap.push(candidate(pair[i].0, i));
            }
        } else {
            pair[i] = NO_MERGE;
        }
        if before < n {
            pair[before] = ranks.get(live[before].id, live[i].id);
            if pair[before].0 != NO_MERGE.0 {
                heap.push(candidate(pair[before].0, before));
            }
        }
    }
    scratch.heap = heap.into_vec();
    let mut kept = start;
    for i in start..symbols.len() {
        if symbols[i].len != 0 {
            symbols[kept] = symbols[i];
            kept += 1;
        }
    }
    symbols.truncate(kept);
}

#[inline]
fn candidate(rank: u32, position: usize) -> Reverse<u64> {
    Reverse((u64::from(rank) << 32) | position as u64)
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
        let mut vocab = PieceMap::default();
        for (token, id) in [("ab", 10), ("bc", 11), ("abc", 12), ("cc", 13), ("abcd", 14)] {
            vocab.insert(token.as_bytes(), id);
        }
        let merges = [(0, 1, 10), (1, 2, 11), (10, 2, 12), (2, 2, 13)];
        Bpe::new(byte_ids, vocab, &merges, ignore_merges)
    }

    fn ids(bpe: &Bpe, text: &str, heap: bool) -> Vec<(u32, u32)> {
        let mut out = vec![];
        if heap {
            merged(bpe, text.as_bytes(), true, &mut out);
        } else {
            bpe.with_cache(|cache| bpe.encode_piece(text.as_bytes(), cache, &mut out));
        }
        out.iter().map(|t| (t.id, t.len)).collect()
    }

    fn merged(bpe: &Bpe, piece: &[u8], heap: bool, out: &mut Vec<Token>) {
        let mut slots = vec![PairSlot::default(); PAIR_SLOTS];
        let ranks = &mut Ranks { table: &bpe.merges, recent: &mut slots };
        bpe.merge_using(heap, piece, ranks, &mut HeapScratch::default(), out);
    }

    /// The textbook algorithm: merge the lowest-ranked adjacent pair, leftmost first, until
    /// none has a merge.
    fn reference(bpe: &Bpe, piece: &[u8]) -> Vec<Token> {
        let mut symbols: Vec<Token> = piece.iter().map(|&b| Token { id: bpe.byte_ids[b as usize], len: 1 }).collect();
        loop {
            let best = (0..symbols.len().saturating_sub(1))
                .filter_map(|i| bpe.merges.get(&pair_key(symbols[i].id, symbols[i + 1].id)).map(|&(r, m)| (r, i, m)))
                .min();
            let Some((_, i, merged)) = best else { return symbols };
            symbols[i] = Token { id: merged, len: symbols[i].len + symbols[i + 1].len };
            symbols.remove(i + 1);
        }
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
    fn short_keys_are_the_zero_padded_bytes_and_length() {
        for len in 0..=15 {
            let piece: Vec<u8> = (1..=len as u8).collect();
            let mut expected = [0u8; 16];
            expected[..len].copy_from_slice(&piece);
            expected[15] = len as u8;
            assert_eq!(short_key(&piece), Some(u128::from_le_bytes(expected)));
        }
        assert_eq!(short_key(&[0; 16]), None);
    }

    #[test]
    fn scan_and_heap_agree_with_the_reference() {
        let bpe = model(false);
        let mut seed = 7u64;
        for _ in 0..400 {
            let length = 2 + (seed % 300) as usize;
            let text: Vec<u8> = (0..length)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    b"aabbcccde"[(seed >> 33) as usize % 9]
                })
                .collect();
            let want = reference(&bpe, &text);
            let mut heap = vec![];
            merged(&bpe, &text, true, &mut heap);
            assert_eq!(heap, want, "{}", String::from_utf8_lossy(&text));
            if length <= SCAN_MAX_SYMBOLS {
                let mut scan = vec![];
                merged(&bpe, &text, false, &mut scan);
                assert_eq!(scan, want, "{}", String::from_utf8_lossy(&text));
            }
        }
    }
}
