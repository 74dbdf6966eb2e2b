//! Added tokens (special or not) cut out of a text before BPE, as the `tokenizers` crate's
//! `AddedVocabulary` cuts them: leftmost-longest matches with the same automaton crate,
//! tokens matched on the raw text first, then those marked `normalized` in what is left.
//! Tokens with `single_word`, `lstrip` or `rstrip` are not modelled (their tokenizer stays
//! on the `tokenizers` crate).

use daachorse::{DoubleArrayAhoCorasick, DoubleArrayAhoCorasickBuilder, MatchKind};

use crate::error::{Error, Result};

/// One added token as the `tokenizers` crate holds it after loading.
#[derive(Debug, Clone)]
pub struct AddedToken {
    pub id: u32,
    pub content: String,
    pub special: bool,
    pub normalized: bool,
}

/// A part of a text: plain text for BPE, or an added token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Text(usize, usize),
    Token(u32, usize, usize),
}

pub struct AddedTokens {
    raw: Option<Matcher>,
    normalized: Option<Matcher>,
}

/// One automaton and, per pattern value, whether that token is skipped (a special token
/// under `split_special_tokens`: its text is then plain text). `first_byte`: the byte every
/// token starts with, when they share one (`<` for Llama 3's and Qwen's): a text without it
/// has no match, which a byte search tells faster than the automaton.
struct Matcher {
    automaton: DoubleArrayAhoCorasick<u32>,
    ids: Vec<u32>,
    skipped: Vec<bool>,
    first_byte: Option<u8>,
}

impl Matcher {
    fn new(tokens: &[&AddedToken], split_special_tokens: bool) -> Result<Option<Matcher>> {
        if tokens.is_empty() {
            return Ok(None);
        }
        let patterns = tokens.iter().enumerate().map(|(i, t)| (t.content.as_str(), i as u32));
        let automaton = DoubleArrayAhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build_with_values(patterns)
            .map_err(|e| Error::Format(format!("added tokens: {e}")))?;
        let ids = tokens.iter().map(|t| t.id).collect();
        let skipped = tokens.iter().map(|t| split_special_tokens && t.special).collect();
        let first = tokens[0].content.as_bytes()[0];
        let first_byte = tokens.iter().all(|t| t.content.as_bytes()[0] == first).then_some(first);
        Ok(Some(Matcher { automaton, ids, skipped, first_byte }))
    }

    /// Appends the parts of `text[start..end]` to `out`.
    fn split(&self, text: &str, start: usize, end: usize, out: &mut Vec<Part>) {
        if self.first_byte.is_some_and(|b| !text.as_bytes()[start..end].contains(&b)) {
            out.push(Part::Text(start, end));
            return;
        }
        let mut at = start;
        for m in self.automaton.leftmost_find_iter(&text[start..end]) {
            let value = m.value() as usize;
            if self.skipped[value] {
                continue;
            }
            let (a, b) = (start + m.start(), start + m.end());
            if at < a {
                out.push(Part::Text(at, a));
            }
            out.push(Part::Token(self.ids[value], a, b));
            at = b;
        }
        if at < end {
            out.push(Part::Text(at, end));
        }
    }
}

impl AddedTokens {
    pub fn new(tokens: &[AddedToken], split_special_tokens: bool) -> Result<AddedTokens> {
        // The `tokenizers` crate skips empty contents (it cannot match them).
        let usable: Vec<&AddedToken> = tokens.iter().filter(|t| !t.content.is_empty()).collect();
        let (normalized, raw): (Vec<&AddedToken>, Vec<&AddedToken>) = usable.into_iter().partition(|t| t.normalized);
        Ok(AddedTokens {
            raw: Matcher::new(&raw, split_special_tokens)?,
            normalized: Matcher::new(&normalized, split_special_tokens)?,
        })
    }

    /// The parts of `text`, in order, covering it (an empty text has none).
    pub fn split(&self, text: &str, out: &mut Vec<Part>) {
        out.clear();
        if text.is_empty() {
            return;
        }
        match &self.raw {
            Some(raw) => raw.split(text, 0, text.len(), out),
            None => out.push(Part::Text(0, text.len())),
        }
        let Some(normalized) = &self.normalized else {
            return;
        };
        let first = std::mem::take(out);
        for part in first {
            match part {
                Part::Text(a, b) => normalized.split(text, a, b, out),
                token => out.push(token),
            }
        }
    }
}
