//! The tokenizer behind every tokenizing strategy: one narrow interface, so a faster exact
//! encoder can replace the `tokenizers` crate without touching the strategies.

use std::str::FromStr;

use serde::Deserialize;
use tokenizers::{PostProcessor, TruncationDirection};

use super::bpe::{push_specials, AddedToken, FastBpe, Sink};
use crate::error::{Error, Result};

/// Token ids of a text with each token's span in the text, in code points (Python's
/// `return_offsets_mapping`), as `(start, end)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoded {
    pub ids: Vec<u32>,
    pub offsets: Vec<(usize, usize)>,
}

/// What the strategies need of a tokenizer. Implementations are exact: the ids are those
/// transformers' fast tokenizer gives for the same tokenizer JSON.
pub trait Encoder: Send + Sync {
    /// `tokenizer(text, add_special_tokens=...)["input_ids"]`, with no truncation.
    fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>>;
    /// The same ids with code-point offsets.
    fn encode_with_offsets(&self, text: &str, add_special_tokens: bool) -> Result<Encoded>;
    /// `tokenizer(text, add_special_tokens=True, truncation=True, max_length=max_length)` for a
    /// tokenizer whose `truncation_side` is `side`: the special tokens the post-processor adds
    /// count toward `max_length`. A `max_length` below their number is an error (the
    /// tokenizers library would compute `max_length - added` unchecked).
    fn encode_truncated(&self, text: &str, max_length: usize, side: TruncationSide) -> Result<Vec<u32>>;
}

/// The end `truncation=True` cuts: transformers passes the tokenizer's `truncation_side` to
/// the backend as the truncation direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TruncationSide {
    #[default]
    Right,
    Left,
}

impl From<TruncationSide> for TruncationDirection {
    fn from(side: TruncationSide) -> Self {
        match side {
            TruncationSide::Right => TruncationDirection::Right,
            TruncationSide::Left => TruncationDirection::Left,
        }
    }
}

/// The `tokenizers` crate on the JSON that transformers holds after loading
/// (`tokenizer.backend_tokenizer.to_str()`), set as transformers sets it for a call:
/// truncation and padding off, special tokens split or not as `split_special_tokens`.
pub struct HfTokenizer {
    plain: tokenizers::Tokenizer,
}

impl HfTokenizer {
    pub fn from_json(json: &str, split_special_tokens: bool) -> Result<Self> {
        let mut plain =
            tokenizers::Tokenizer::from_str(json).map_err(|e| Error::Format(format!("tokenizer JSON: {e}")))?;
        plain.with_truncation(None).map_err(|e| Error::Format(format!("tokenizer JSON: {e}")))?;
        plain.with_padding(None);
        plain.set_encode_special_tokens(split_special_tokens);
        // Ids are stored as int32, as `datasets` stores input_ids.
        if plain.get_vocab_size(true) > i32::MAX as usize {
            return Err(Error::invalid("the tokenizer has more than 2**31 - 1 tokens"));
        }
        Ok(HfTokenizer { plain })
    }

    /// The added tokens as this crate holds them after loading, or why the fast engine
    /// cannot cut them out the same way.
    fn added_tokens(&self) -> std::result::Result<Vec<AddedToken>, String> {
        let mut tokens: Vec<AddedToken> = Vec::new();
        for (&id, token) in self.plain.get_added_tokens_decoder().iter() {
            if token.single_word || token.lstrip || token.rstrip {
                return Err(format!("added token {:?} with single_word, lstrip or rstrip", token.content));
            }
            tokens.push(AddedToken {
                id,
                content: token.content.clone(),
                special: token.special,
                normalized: token.normalized,
            });
        }
        tokens.sort_by_key(|t| t.id);
        Ok(tokens)
    }

    fn encode_into(&self, text: &str, add_special_tokens: bool, sink: &mut Sink) -> Result<()> {
        if let Some(offsets) = sink.offsets.as_deref_mut() {
            let encoding = self.plain.encode_char_offsets(text, add_special_tokens).map_err(encode_error)?;
            sink.ids.extend_from_slice(encoding.get_ids());
            offsets.extend_from_slice(encoding.get_offsets());
        } else {
            let encoding = self.plain.encode_fast(text, add_special_tokens).map_err(encode_error)?;
            sink.ids.extend_from_slice(encoding.get_ids());
        }
        Ok(())
    }
}

fn encode_error(e: tokenizers::Error) -> Error {
    Error::Format(format!("tokenizer: {e}"))
}

impl Encoder for HfTokenizer {
    fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>> {
        let encoding = self.plain.encode_fast(text, add_special_tokens).map_err(encode_error)?;
        Ok(encoding.get_ids().to_vec())
    }

    fn encode_with_offsets(&self, text: &str, add_special_tokens: bool) -> Result<Encoded> {
        let encoding = self.plain.encode_char_offsets(text, add_special_tokens).map_err(encode_error)?;
        Ok(Encoded { ids: encoding.get_ids().to_vec(), offsets: encoding.get_offsets().to_vec() })
    }

    fn encode_truncated(&self, text: &str, max_length: usize, side: TruncationSide) -> Result<Vec<u32>> {
        // What `Tokenizer::post_process` does under TruncationParams { max_length,
        // LongestFirst, stride 0, direction } for a single sequence: cut the text's tokens to
        // leave room for the added special tokens, then post-process.
        let added = self.plain.get_post_processor().map_or(0, |p| p.added_tokens(false));
        let room = max_length.checked_sub(added).ok_or_else(|| {
            Error::invalid(format!("max_length {max_length} is below the {added} special tokens the tokenizer adds"))
        })?;
        let mut encoding = self.plain.encode_fast(text, false).map_err(encode_error)?;
        if encoding.len() > room {
            encoding.truncate(room, 0, side.into());
        }
        let encoding = self.plain.post_process(encoding, None, true).map_err(encode_error)?;
        Ok(encoding.get_ids().to_vec())
    }
}

/// Which engine encodes: the fast one wherever it models the tokenizer (`Auto`), or one
/// named.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineChoice {
    #[default]
    Auto,
    Fast,
    Tokenizers,
}

/// A tokenizer.json on the fast engine when it applies, else on the `tokenizers` crate; the
/// same ids and offsets either way. Under an NFC normalizer, a text that is not already NFC
/// is encoded by the `tokenizers` crate even on the fast engine.
pub struct Tokenizer {
    exact: HfTokenizer,
    fast: Option<FastBpe>,
    /// Why the fast engine does not serve this tokenizer.
    not_fast: Option<String>,
}

impl Tokenizer {
    pub fn from_json(json: &str, split_special_tokens: bool, engine: EngineChoice) -> Result<Tokenizer> {
        let exact = HfTokenizer::from_json(json, split_special_tokens)?;
        let (fast, not_fast) = match engine {
            EngineChoice::Tokenizers => (None, Some("the tokenizers engine was asked for".to_string())),
            _ => match fast_engine(&exact, json, split_special_tokens)? {
                Ok(fast) => (Some(fast), None),
                Err(why) if engine == EngineChoice::Fast => {
                    return Err(Error::invalid(format!("the fast engine does not model this tokenizer: {why}")))
                }
                Err(why) => (None, Some(why)),
            },
        };
        Ok(Tokenizer { exact, fast, not_fast })
    }

    /// "fast" or "tokenizers".
    pub fn engine(&self) -> &'static str {
        if self.fast.is_some() {
            "fast"
        } else {
            "tokenizers"
        }
    }

    /// Why the `tokenizers` crate serves this tokenizer (None on the fast engine).
    pub fn not_fast(&self) -> Option<&str> {
        self.not_fast.as_deref()
    }

    /// Appends the ids (and code-point offsets, if `sink` takes them) of `text`.
    pub fn encode_into(&self, text: &str, add_special_tokens: bool, sink: &mut Sink) -> Result<()> {
        match &self.fast {
            Some(fast) if fast.handles(text) => {
                fast.encode_into(text, add_special_tokens, sink);
                Ok(())
            }
            Some(fast) if text.len() > CHUNK_BYTES && fast.cuts_at_line_starts() => {
                self.encode_in_chunks(fast, text, add_special_tokens, sink)
            }
            _ => self.exact.encode_into(text, add_special_tokens, sink),
        }
    }

    /// A long text the fast engine cannot take whole (not NFC under an NFC normalizer), cut
    /// at line starts into parts of about CHUNK_BYTES: each part on the fast engine if it
    /// can, else on the `tokenizers` crate, whose memory on one long text grows to a hundred
    /// times its size.
    fn encode_in_chunks(&self, fast: &FastBpe, text: &str, add_special_tokens: bool, sink: &mut Sink) -> Result<()> {
        if add_special_tokens {
            push_specials(fast.prefix(), sink);
        }
        let mut chars_before = 0;
        for (start, end) in line_start_chunks(text, CHUNK_BYTES) {
            let part = &text[start..end];
            let first = sink.offsets.as_deref().map_or(0, Vec::len);
            if fast.handles(part) {
                fast.encode_into(part, false, sink);
            } else {
                self.exact.encode_into(part, false, sink)?;
            }
            if let Some(offsets) = sink.offsets.as_deref_mut() {
                for span in &mut offsets[first..] {
                    *span = (span.0 + chars_before, span.1 + chars_before);
                }
            }
            chars_before += part.chars().count();
        }
        if add_special_tokens {
            push_specials(fast.suffix(), sink);
        }
        Ok(())
    }
}

/// Texts past this size that the fast engine cannot take whole are cut into parts of about
/// this size.
const CHUNK_BYTES: usize = 1 << 16;

/// The byte ranges of `text` cut at the first line start after every `size` bytes: after a
/// `\n` that an ASCII non-space character follows (`FastBpe::cuts_at_line_starts`).
fn line_start_chunks(text: &str, size: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let mut end = (start + size).min(bytes.len());
        while end < bytes.len() && !(bytes[end - 1] == b'\n' && bytes[end].is_ascii_graphic()) {
            end += 1;
        }
        let chunk = (start, end);
        start = end;
        Some(chunk)
    })
}

fn fast_engine(
    exact: &HfTokenizer,
    json: &str,
    split_special_tokens: bool,
) -> Result<std::result::Result<FastBpe, String>> {
    let added = match exact.added_tokens() {
        Ok(added) => added,
        Err(why) => return Ok(Err(why)),
    };
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| Error::Format(format!("tokenizer JSON: {e}")))?;
    Ok(FastBpe::new(&value, &added, split_special_tokens)?.map_err(|why| why.0))
}

impl Encoder for Tokenizer {
    fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        self.encode_into(text, add_special_tokens, &mut Sink { ids: &mut ids, offsets: None })?;
        Ok(ids)
    }

    fn encode_with_offsets(&self, text: &str, add_special_tokens: bool) -> Result<Encoded> {
        let mut out = Encoded::default();
        self.encode_into(text, add_special_tokens, &mut Sink { ids: &mut out.ids, offsets: Some(&mut out.offsets) })?;
        Ok(out)
    }

    fn encode_truncated(&self, text: &str, max_length: usize, side: TruncationSide) -> Result<Vec<u32>> {
        let Some(fast) = &self.fast else {
            return self.exact.encode_truncated(text, max_length, side);
        };
        let added = fast.added_special();
        let room = max_length.checked_sub(added).ok_or_else(|| {
            Error::invalid(format!("max_length {max_length} is below the {added} special tokens the tokenizer adds"))
        })?;
        let mut ids = self.encode(text, false)?;
        if ids.len() > room {
            match side {
                TruncationSide::Right => ids.truncate(room),
                TruncationSide::Left => drop(ids.drain(..ids.len() - room)),
            }
        }
        Ok([fast.prefix(), &ids, fast.suffix()].concat())
    }
}
