//! What of a tokenizer.json the fast engine models, read off the JSON: a byte-level BPE
//! model, its split, normalizer, added tokens and post-processor. Anything else is
//! `Unsupported` with a reason, and that tokenizer stays on the `tokenizers` crate.

use ahash::AHashMap;
use serde_json::Value;

use super::added::AddedToken;
use super::merge::PieceMap;
use super::split::Splitter;

/// Why a tokenizer is not served by the fast engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

type Check<T> = std::result::Result<T, Unsupported>;

fn unsupported<T>(reason: impl Into<String>) -> Check<T> {
    Err(Unsupported(reason.into()))
}

/// A tokenizer.json reduced to what encoding needs.
pub struct Config {
    pub byte_ids: [u32; 256],
    /// Each token's bytes (its byte-level characters mapped back) and id.
    pub vocab: PieceMap<u32>,
    /// `(left, right, merged)` ids in rank order.
    pub merges: Vec<(u32, u32, u32)>,
    pub ignore_merges: bool,
    pub splitter: Splitter,
    pub nfc: bool,
    pub post: PostProcess,
}

/// The post-processor's effect on one sequence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostProcess {
    /// Ids a template puts before and after the text (with `add_special_tokens`).
    pub prefix: Vec<u32>,
    pub suffix: Vec<u32>,
    /// `ByteLevel` with `trim_offsets`: offsets exclude a token's leading and trailing
    /// spaces; the value is its `add_prefix_space`.
    pub trim_offsets: Option<bool>,
}

/// GPT-2's table from bytes to the printable characters byte-level vocabularies are
/// written in (the `tokenizers` crate's `bytes_char`).
pub fn byte_chars() -> [char; 256] {
    let printable = |b: u32| (0x21..=0x7E).contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
    let mut table = ['\0'; 256];
    let mut shifted = 0;
    for b in 0..256u32 {
        table[b as usize] = if printable(b) {
            char::from_u32(b).expect("latin-1")
        } else {
            shifted += 1;
            char::from_u32(255 + shifted).expect("latin extended")
        };
    }
    table
}

/// The bytes a byte-level token string stands for, or None if it has a character outside
/// the table (such a token can only be an added token, never a BPE result).
fn token_bytes(token: &str, byte_of: &AHashMap<char, u8>) -> Option<Box<[u8]>> {
    token.chars().map(|c| byte_of.get(&c).copied()).collect()
}

impl Config {
    /// Reads `json` (already loaded by the `tokenizers` crate, so well-formed) and the
    /// added tokens that crate holds.
    pub fn read(json: &Value, added: &[AddedToken]) -> Check<Config> {
        let nfc = normalizer(&json["normalizer"])?;
        let splitter = pre_tokenizer(&json["pre_tokenizer"])?;
        let post = post_processor(&json["post_processor"])?;
        check_added(added, nfc, post.trim_offsets.is_some())?;
        let model = &json["model"];
        if model["type"] != "BPE" {
            return unsupported(format!("model type {}", model["type"]));
        }
        if !(model["dropout"].is_null() || model["dropout"].as_f64() == Some(0.0)) {
            return unsupported("BPE dropout");
        }
        for option in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if !model[option].is_null() {
                return unsupported(format!("BPE {option}"));
            }
        }
        let chars = byte_chars();
        let byte_of: AHashMap<char, u8> = chars.iter().enumerate().map(|(b, &c)| (c, b as u8)).collect();
        let by_string = vocab_by_string(&model["vocab"])?;
        let mut byte_ids = [0u32; 256];
        for (b, c) in chars.iter().enumerate() {
            // A byte without a token would be dropped (or become unk): not modelled.
            byte_ids[b] = *by_string
                .get(c.to_string().as_str())
                .ok_or_else(|| Unsupported(format!("no token for byte {b:#04x}")))?;
        }
        let merges = merges(&model["merges"], &by_string)?;
        let vocab = by_string.iter().filter_map(|(token, &id)| Some((token_bytes(token, &byte_of)?, id))).collect();
        let ignore_merges = model["ignore_merges"].as_bool().unwrap_or(false);
        Ok(Config { byte_ids, vocab, merges, ignore_merges, splitter, nfc, post })
    }
}

fn vocab_by_string(vocab: &Value) -> Check<AHashMap<&str, u32>> {
    let Some(map) = vocab.as_object() else {
        return unsupported("BPE vocab is not an object");
    };
    map.iter()
        .map(|(token, id)| match id.as_u64().and_then(|id| u32::try_from(id).ok()) {
            Some(id) => Ok((token.as_str(), id)),
            None => unsupported(format!("vocab id {id} of {token:?}")),
        })
        .collect()
}

/// Merges as ids, ranked as the `tokenizers` crate ranks them (pairs, or legacy "a b"
/// strings after any `#version` line).
fn merges(merges: &Value, vocab: &AHashMap<&str, u32>) -> Check<Vec<(u32, u32, u32)>> {
    let Some(list) = merges.as_array() else {
        return unsupported("BPE merges are not a list");
    };
    let mut out = Vec::with_capacity(list.len());
    for merge in list {
        let (left, right) = match merge {
            Value::Array(pair) if pair.len() == 2 => (pair[0].as_str(), pair[1].as_str()),
            Value::String(line) if line.starts_with("#version") => continue,
            Value::String(line) => match line.split_once(' ') {
                Some((a, b)) if !b.contains(' ') => (Some(a), Some(b)),
                _ => (None, None),
            },
            _ => (None, None),
        };
        let (Some(left), Some(right)) = (left, right) else {
            return unsupported(format!("merge {merge}"));
        };
        let id = |token: &str| {
            vocab
                .get(token)
                .copied()
                .ok_or_else(|| Unsupported(format!("merge names {token:?}, not in the vocabulary")))
        };
        out.push((id(left)?, id(right)?, id(&format!("{left}{right}"))?));
    }
    Ok(out)
}

/// Whether the normalizer is NFC (else none).
fn normalizer(value: &Value) -> Check<bool> {
    match value {
        Value::Null => Ok(false),
        n if n["type"] == "NFC" => Ok(true),
        n if n["type"] == "Sequence" => match n["normalizers"].as_array().map(Vec::as_slice) {
            Some([]) => Ok(false),
            Some([one]) => normalizer(one),
            _ => unsupported(format!("normalizer {n}")),
        },
        n => unsupported(format!("normalizer {}", n["type"])),
    }
}

/// The splitter of `ByteLevel` (GPT-2's regex or none) or of `Split` + `ByteLevel`.
fn pre_tokenizer(pre: &Value) -> Check<Splitter> {
    let byte_level = |p: &Value| -> Check<bool> {
        if p["type"] != "ByteLevel" {
            return unsupported(format!("pre-tokenizer {}", p["type"]));
        }
        if p["add_prefix_space"] == true {
            return unsupported("ByteLevel add_prefix_space");
        }
        Ok(p["use_regex"] != false)
    };
    let steps: Vec<&Value> = match pre["type"].as_str() {
        Some("Sequence") => pre["pretokenizers"].as_array().map(|a| a.iter().collect()).unwrap_or_default(),
        Some(_) => vec![pre],
        None => return unsupported("no pre-tokenizer"),
    };
    match steps.as_slice() {
        [only] => Ok(if byte_level(only)? { Splitter::Gpt2 } else { Splitter::Whole }),
        [split, last] => {
            let regex = split_regex(split)?;
            if byte_level(last)? {
                return unsupported("Split followed by ByteLevel with its own regex");
            }
            Splitter::for_pattern(regex).ok_or_else(|| Unsupported(format!("split regex {regex:?}")))
        }
        _ => unsupported(format!("pre-tokenizer {pre}")),
    }
}

/// The regex of an isolating, non-inverted `Split`.
fn split_regex(split: &Value) -> Check<&str> {
    if split["type"] != "Split" || split["behavior"] != "Isolated" || split["invert"] != false {
        return unsupported(format!("pre-tokenizer {split}"));
    }
    split["pattern"]["Regex"].as_str().ok_or_else(|| Unsupported(format!("split pattern {}", split["pattern"])))
}

fn post_processor(post: &Value) -> Check<PostProcess> {
    let mut out = PostProcess::default();
    let steps: Vec<&Value> = match post["type"].as_str() {
        None => vec![],
        Some("Sequence") => post["processors"].as_array().map(|a| a.iter().collect()).unwrap_or_default(),
        Some(_) => vec![post],
    };
    for step in steps {
        match step["type"].as_str() {
            Some("ByteLevel") if step["trim_offsets"] == true => {
                out.trim_offsets = Some(step["add_prefix_space"] == true);
            }
            Some("ByteLevel") => {}
            Some("TemplateProcessing") => template(step, &mut out)?,
            _ => return unsupported(format!("post-processor {}", step["type"])),
        }
    }
    Ok(out)
}

/// A `TemplateProcessing` whose single-sequence template is special tokens around `$A`.
fn template(step: &Value, out: &mut PostProcess) -> Check<()> {
    let Some(pieces) = step["single"].as_array() else {
        return unsupported("template without a single-sequence form");
    };
    let mut seen_sequence = false;
    for piece in pieces {
        if piece["Sequence"]["id"] == "A" && !seen_sequence {
            seen_sequence = true;
            continue;
        }
        let Some(name) = piece["SpecialToken"]["id"].as_str() else {
            return unsupported(format!("template piece {piece}"));
        };
        let special = &step["special_tokens"][name];
        let ids = special["ids"].as_array().ok_or_else(|| Unsupported(format!("template token {name:?}")))?;
        let tokens = special["tokens"].as_array().map(Vec::as_slice).unwrap_or_default();
        if tokens.iter().any(|t| t.as_str().is_none_or(has_edge_space)) {
            return unsupported(format!("template token {name:?} with edge spaces"));
        }
        let side = if seen_sequence { &mut out.suffix } else { &mut out.prefix };
        for id in ids {
            side.push(
                id.as_u64()
                    .and_then(|id| u32::try_from(id).ok())
                    .ok_or_else(|| Unsupported(format!("template id {id}")))?,
            );
        }
    }
    if !seen_sequence {
        return unsupported("template without $A");
    }
    Ok(())
}

/// What `ByteLevel`'s offset trimming would trim in a token that is not byte-level text.
fn has_edge_space(token: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c == '\u{120}' || c.is_whitespace());
    edge(token.chars().next()) || edge(token.chars().next_back())
}

fn check_added(added: &[AddedToken], nfc: bool, trims: bool) -> Check<()> {
    for token in added {
        // The flags are checked by the caller from the `tokenizers` crate's tokens.
        if token.normalized && nfc && !token.content.is_ascii() {
            return unsupported(format!("normalized added token {:?} under NFC", token.content));
        }
        if trims && has_edge_space(&token.content) {
            return unsupported(format!("added token {:?} with edge spaces", token.content));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_chars_is_gpt2s_table() {
        let chars = byte_chars();
        assert_eq!(chars[b' ' as usize], 'Ġ');
        assert_eq!(chars[b'\n' as usize], 'Ċ');
        assert_eq!(chars[b'a' as usize], 'a');
        assert_eq!(chars[0], 'Ā');
        assert_eq!(chars[0xA0], 'ł');
        assert_eq!(chars[0xAD], 'Ń');
        let distinct: std::collections::HashSet<char> = chars.iter().copied().collect();
        assert_eq!(distinct.len(), 256);
    }
}
