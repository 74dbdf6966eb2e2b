//! The tokenizer behind every tokenizing strategy: one narrow interface, so a faster exact
//! encoder can replace the `tokenizers` crate without touching the strategies.

use std::str::FromStr;

use serde::Deserialize;
use tokenizers::{PostProcessor, Tokenizer, TruncationDirection};

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
    plain: Tokenizer,
}

impl HfTokenizer {
    pub fn from_json(json: &str, split_special_tokens: bool) -> Result<Self> {
        let mut plain = Tokenizer::from_str(json).map_err(|e| Error::Format(format!("tokenizer JSON: {e}")))?;
        plain.with_truncation(None).map_err(|e| Error::Format(format!("tokenizer JSON: {e}")))?;
        plain.with_padding(None);
        plain.set_encode_special_tokens(split_special_tokens);
        // Ids are stored as int32, as `datasets` stores input_ids.
        if plain.get_vocab_size(true) > i32::MAX as usize {
            return Err(Error::invalid("the tokenizer has more than 2**31 - 1 tokens"));
        }
        Ok(HfTokenizer { plain })
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.plain.token_to_id(token)
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
