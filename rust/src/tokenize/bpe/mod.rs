//! The fast exact encoder for byte-level BPE tokenizer.json files (GPT-2, Llama 3, Qwen2/3,
//! GPT-4o's o200k, Mistral's tekken and their kin): added tokens cut out, each text part split
//! by a hand-written scanner of its pre-tokenizer regex, each piece merged by rank through a
//! per-thread cache, offsets computed from the tokens' byte lengths. Ids and offsets are the
//! `tokenizers` crate's; `Config::read` refuses (with a reason) whatever it does not model.
//!
//! - `config`: what of the JSON is modelled;
//! - `added`: added and special tokens;
//! - `split` (+ `unicode`, `unicode_table`): the pre-tokenizer scanners and the character
//!   classes they use, taken from Oniguruma;
//! - `merge`: BPE merges and the piece cache.

mod added;
mod config;
mod merge;
mod split;
mod unicode;
mod unicode_table;

use serde_json::Value;
use unicode_normalization::{is_nfc_quick, IsNormalized};

pub use added::AddedToken;
pub use config::Unsupported;

use added::{AddedTokens, Part};
use config::{Config, PostProcess};
use merge::{Bpe, Token};
use split::Splitter;

use crate::error::Result;

pub struct FastBpe {
    added: AddedTokens,
    splitter: Splitter,
    bpe: Bpe,
    nfc: bool,
    post: PostProcess,
    /// No added token holds a line break (see `cuts_at_line_starts`).
    added_single_line: bool,
}

/// Where encoded ids (and, when asked, code-point offsets) go.
pub struct Sink<'a> {
    pub ids: &'a mut Vec<u32>,
    pub offsets: Option<&'a mut Vec<(usize, usize)>>,
}

impl FastBpe {
    /// The fast engine for `json` with the added tokens the `tokenizers` crate loaded from
    /// it, or why it does not apply.
    pub fn new(
        json: &Value,
        added: &[AddedToken],
        split_special_tokens: bool,
    ) -> Result<std::result::Result<FastBpe, Unsupported>> {
        let config = match Config::read(json, added) {
            Ok(config) => config,
            Err(why) => return Ok(Err(why)),
        };
        let added_single_line = added.iter().all(|t| !t.content.contains('\n'));
        let added = AddedTokens::new(added, split_special_tokens)?;
        let bpe = Bpe::new(config.byte_ids, config.vocab, &config.merges, config.ignore_merges);
        Ok(Ok(FastBpe { added, splitter: config.splitter, bpe, nfc: config.nfc, post: config.post, added_single_line }))
    }

    /// Whether this engine encodes `text` exactly: always, except that under an NFC
    /// normalizer a text that is not already NFC goes to the `tokenizers` crate (whose
    /// alignments of normalized text this engine does not model).
    pub fn handles(&self, text: &str) -> bool {
        !self.nfc || text.is_ascii() || is_nfc_quick(text.chars()) == IsNormalized::Yes
    }

    /// Whether a text cut after a line break that an ASCII non-space character follows
    /// encodes as its parts do, one after the other: every modelled split regex ends a piece
    /// there, no added token spans it, and NFC never joins characters across it (an ASCII
    /// character is never the second of a composition, nor reordered). `ByteLevel` without a
    /// regex makes each text one piece, so it does not.
    pub fn cuts_at_line_starts(&self) -> bool {
        self.splitter != Splitter::Whole && self.added_single_line
    }

    /// The special-token ids the post-processor adds around a text.
    pub fn added_special(&self) -> usize {
        self.post.prefix.len() + self.post.suffix.len()
    }

    pub fn prefix(&self) -> &[u32] {
        &self.post.prefix
    }

    pub fn suffix(&self) -> &[u32] {
        &self.post.suffix
    }

    /// Appends the encoding of `text` (one `handles`) to `sink`.
    pub fn encode_into(&self, text: &str, add_special_tokens: bool, sink: &mut Sink) {
        if add_special_tokens {
            push_specials(&self.post.prefix, sink);
        }
        let mut parts = Vec::new();
        self.added.split(text, &mut parts);
        let mut tokens: Vec<Token> = Vec::new();
        let mut cursor = CharCursor::default();
        self.bpe.with_cache(|cache| {
            for &part in &parts {
                match part {
                    Part::Token(id, a, b) => {
                        sink.ids.push(id);
                        if let Some(offsets) = sink.offsets.as_deref_mut() {
                            offsets.push(cursor.span(text.as_bytes(), a, b));
                        }
                    }
                    Part::Text(a, b) => {
                        tokens.clear();
                        let bytes = &text.as_bytes()[a..b];
                        self.splitter
                            .split(&text[a..b], |s, e| self.bpe.encode_piece(&bytes[s..e], cache, &mut tokens));
                        self.push_tokens(text, a, &tokens, &mut cursor, sink);
                    }
                }
            }
        });
        if add_special_tokens {
            push_specials(&self.post.suffix, sink);
        }
    }

    fn push_tokens(&self, text: &str, mut at: usize, tokens: &[Token], cursor: &mut CharCursor, sink: &mut Sink) {
        sink.ids.extend(tokens.iter().map(|t| t.id));
        if let Some(offsets) = sink.offsets.as_deref_mut() {
            for t in tokens {
                let end = at + t.len as usize;
                let span = cursor.span(text.as_bytes(), at, end);
                offsets.push(match self.post.trim_offsets {
                    Some(add_prefix_space) => trim(&text.as_bytes()[at..end], span, add_prefix_space),
                    None => span,
                });
                at = end;
            }
        }
    }
}

pub(crate) fn push_specials(ids: &[u32], sink: &mut Sink) {
    sink.ids.extend_from_slice(ids);
    if let Some(offsets) = sink.offsets.as_deref_mut() {
        offsets.extend(ids.iter().map(|_| (0, 0)));
    }
}

/// Code-point positions of increasing byte positions of one text.
#[derive(Default)]
struct CharCursor {
    byte: usize,
    chars: usize,
}

impl CharCursor {
    /// Characters that start before byte `to` (at or after the last position asked).
    fn chars_before(&mut self, text: &[u8], to: usize) -> usize {
        self.chars += text[self.byte..to].iter().filter(|&&b| !is_continuation(b)).count();
        self.byte = to;
        self.chars
    }

    /// The code-point span of bytes `a..b`: from the character holding byte `a` to the end
    /// of the one holding byte `b - 1` (a token may hold part of a character).
    fn span(&mut self, text: &[u8], a: usize, b: usize) -> (usize, usize) {
        let before_a = self.chars_before(text, a);
        let start = if a < text.len() && is_continuation(text[a]) { before_a - 1 } else { before_a };
        (start, self.chars_before(text, b))
    }
}

fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

/// `ByteLevel`'s `trim_offsets` for a token of bytes `bytes` and span `span`: the span less
/// the token's leading and trailing spaces, except one leading space of a token at the
/// start under `add_prefix_space` (the `tokenizers` crate's `process_offsets`). Added and
/// special tokens never have edge spaces here (`Config::read` checks).
fn trim(bytes: &[u8], span: (usize, usize), add_prefix_space: bool) -> (usize, usize) {
    let (mut start, mut end) = span;
    let mut leading = bytes.iter().take_while(|&&b| b == b' ').count();
    let trailing = bytes.iter().rev().take_while(|&&b| b == b' ').count();
    if leading > 0 {
        if start == 0 && add_prefix_space && leading == 1 {
            leading = 0;
        }
        start = (start + leading).min(end);
    }
    if trailing > 0 && end >= trailing {
        end = (end - trailing).max(start);
    }
    (start, end)
}
