//! The pre-tokenizer regexes of byte-level BPE tokenizers as hand-written scanners: each
//! gives the pieces Oniguruma gives for its pattern (leftmost-first alternation with
//! backtracking), without a regex engine. A pattern not listed here is not modelled and
//! its tokenizer stays on the `tokenizers` crate.

use super::unicode::class;
use super::unicode_table::{
    FOLD_D, FOLD_E, FOLD_L, FOLD_M, FOLD_R, FOLD_S, FOLD_T, FOLD_V, L, LL, LM, LO, LT, LU, M, N, S,
};

/// GPT-2's pattern, built into the `ByteLevel` pre-tokenizer (`use_regex: true`).
pub const GPT2_PATTERN: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
/// Llama 3's `Split` pattern (tiktoken's cl100k_base).
pub const CL100K_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Qwen2 / 2.5 / 3's `Split` pattern: cl100k with single digits.
pub const QWEN2_PATTERN: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// GPT-4o's `Split` pattern (tiktoken's o200k_base): letters split at case changes, with
/// contractions as suffixes.
pub const O200K_PATTERN: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Mistral's tekken pattern: o200k without the contractions, with single digits.
pub const TEKKEN_PATTERN: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// How a text segment is cut into pieces before BPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Splitter {
    /// `ByteLevel` without a regex: the segment is one piece.
    Whole,
    Gpt2,
    /// The cl100k family; `max_digits` is the `{1,3}` bound (1 for Qwen2's `\p{N}`).
    Cl100k {
        max_digits: usize,
    },
    /// The o200k family: `contractions` says whether the letter runs take a contraction
    /// suffix (o200k) or not (tekken); `max_digits` as for cl100k.
    O200k {
        contractions: bool,
        max_digits: usize,
    },
}

impl Splitter {
    /// The scanner for a `Split` regex, if this module has one.
    pub fn for_pattern(pattern: &str) -> Option<Splitter> {
        match pattern {
            GPT2_PATTERN => Some(Splitter::Gpt2),
            CL100K_PATTERN => Some(Splitter::Cl100k { max_digits: 3 }),
            QWEN2_PATTERN => Some(Splitter::Cl100k { max_digits: 1 }),
            O200K_PATTERN => Some(Splitter::O200k { contractions: true, max_digits: 3 }),
            TEKKEN_PATTERN => Some(Splitter::O200k { contractions: false, max_digits: 1 }),
            _ => None,
        }
    }

    /// Calls `piece(start, end)` for each piece of `text`, in order; the pieces cover it.
    pub fn split(self, text: &str, mut piece: impl FnMut(usize, usize)) {
        let mut start = 0;
        while start < text.len() {
            let end = match self {
                Splitter::Whole => text.len(),
                Splitter::Gpt2 => gpt2_piece(text, start),
                Splitter::Cl100k { max_digits } => cl100k_piece(text, start, max_digits),
                Splitter::O200k { contractions, max_digits } => o200k_piece(text, start, contractions, max_digits),
            };
            piece(start, end);
            start = end;
        }
    }
}

/// The character at byte `i` (a char boundary below `text.len()`).
#[inline]
fn char_at(text: &str, i: usize) -> char {
    let b = text.as_bytes()[i];
    if b < 0x80 {
        b as char
    } else {
        text[i..].chars().next().unwrap_or('\0')
    }
}

/// The end of the longest run from `i` of characters whose class meets `keep`.
#[inline]
fn run_end(text: &str, mut i: usize, keep: impl Fn(char) -> bool) -> usize {
    while i < text.len() {
        let c = char_at(text, i);
        if !keep(c) {
            break;
        }
        i += c.len_utf8();
    }
    i
}

/// Like `run_end`, but at most `max` characters.
#[inline]
fn bounded_run_end(text: &str, mut i: usize, max: usize, keep: impl Fn(char) -> bool) -> usize {
    for _ in 0..max {
        if i >= text.len() {
            break;
        }
        let c = char_at(text, i);
        if !keep(c) {
            break;
        }
        i += c.len_utf8();
    }
    i
}

fn is_letter(c: char) -> bool {
    class(c) & L != 0
}

fn is_number(c: char) -> bool {
    class(c) & N != 0
}

fn is_space(c: char) -> bool {
    class(c) & S != 0
}

/// `[^\s\p{L}\p{N}]`
fn is_other(c: char) -> bool {
    class(c) & (S | L | N) == 0
}

/// Whether `c` matches the pattern letter `p` under `(?i:...)`: Oniguruma's case folding
/// (which also folds U+017F LONG S to s).
fn folds_to(c: char, p: char) -> bool {
    let set = match p {
        's' => FOLD_S,
        't' => FOLD_T,
        'r' => FOLD_R,
        'e' => FOLD_E,
        'm' => FOLD_M,
        'v' => FOLD_V,
        'l' => FOLD_L,
        'd' => FOLD_D,
        _ => return c == p,
    };
    set.contains(&c)
}

/// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`: o200k's "cased or caseless" letters and marks.
fn is_upper_or_caseless(c: char) -> bool {
    class(c) & (LU | LT | LM | LO | M) != 0
}

/// `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`
fn is_lower_or_caseless(c: char) -> bool {
    class(c) & (LL | LM | LO | M) != 0
}

/// `[^\r\n\p{L}\p{N}]`: the optional character before a letter run.
fn is_letter_prefix(c: char) -> bool {
    !is_newline(c) && class(c) & (L | N) == 0
}

fn is_newline(c: char) -> bool {
    c == '\r' || c == '\n'
}

/// The end of a contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`) at `i`, if there is
/// one; `fold` says whether a character matches a pattern letter.
fn contraction_end(text: &str, i: usize, fold: impl Fn(char, char) -> bool) -> Option<usize> {
    if text.as_bytes().get(i) != Some(&b'\'') {
        return None;
    }
    let one = i + 1;
    let c1 = text[one..].chars().next()?;
    if ['s', 't', 'm', 'd'].iter().any(|&p| fold(c1, p)) {
        return Some(one + c1.len_utf8());
    }
    let two = one + c1.len_utf8();
    let c2 = text[two..].chars().next()?;
    let pairs = [('r', 'e'), ('v', 'e'), ('l', 'l')];
    pairs.iter().any(|&(p1, p2)| fold(c1, p1) && fold(c2, p2)).then(|| two + c2.len_utf8())
}

/// The whitespace alternatives shared by both families at a whitespace run starting at `i`:
/// `\s+(?!\S)|\s+` — the run, less its last character when a non-space follows and the run
/// has more than one.
fn space_run_end(text: &str, i: usize, run_end: usize) -> usize {
    if run_end == text.len() {
        return run_end;
    }
    let last = text[..run_end].char_indices().next_back().map_or(i, |(j, _)| j);
    if last > i {
        last
    } else {
        run_end
    }
}

/// One piece of GPT-2's pattern at `i`.
fn gpt2_piece(text: &str, i: usize) -> usize {
    if let Some(end) = contraction_end(text, i, |c, p| c == p) {
        return end;
    }
    let c = char_at(text, i);
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional ASCII space, then a run.
    let (body, first) = if c == ' ' && i + 1 < text.len() { (i + 1, char_at(text, i + 1)) } else { (i, c) };
    for keep in [is_letter as fn(char) -> bool, is_number, is_other] {
        if keep(first) {
            return run_end(text, body, keep);
        }
    }
    // Whitespace (a lone space before a space, or any other whitespace).
    space_run_end(text, i, run_end(text, i, is_space))
}

/// One piece of the cl100k family's pattern at `i`.
fn cl100k_piece(text: &str, i: usize, max_digits: usize) -> usize {
    if let Some(end) = contraction_end(text, i, folds_to) {
        return end;
    }
    let c = char_at(text, i);
    // `[^\r\n\p{L}\p{N}]?\p{L}+`
    if is_letter(c) {
        return run_end(text, i, is_letter);
    }
    let next = i + c.len_utf8();
    if !is_newline(c) && !is_number(c) && next < text.len() && is_letter(char_at(text, next)) {
        return run_end(text, next, is_letter);
    }
    // `\p{N}{1,3}`
    if is_number(c) {
        return bounded_run_end(text, i, max_digits, is_number);
    }
    // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
    let body = if c == ' ' { next } else { i };
    if body < text.len() && is_other(char_at(text, body)) {
        let end = run_end(text, body, is_other);
        return run_end(text, end, is_newline);
    }
    // `\s*[\r\n]+`: the whitespace run up to its last line break, if it has one.
    let run = run_end(text, i, is_space);
    if let Some(last_newline) = text.as_bytes()[i..run].iter().rposition(|&b| b == b'\r' || b == b'\n') {
        return i + last_newline + 1;
    }
    // `\s+(?!\S)|\s+`
    space_run_end(text, i, run)
}

/// One piece of the o200k family's pattern at `i`.
fn o200k_piece(text: &str, i: usize, contractions: bool, max_digits: usize) -> usize {
    let c = char_at(text, i);
    let next = i + c.len_utf8();
    // The two letter alternatives, each with its optional prefix character tried first. Marks
    // are both prefix characters and letters here, so each alternative is retried without
    // the prefix before the next one is tried, as the regex engine backtracks.
    let prefixed = is_letter_prefix(c) && next < text.len();
    let starts: &[usize] = if prefixed { &[next, i] } else { &[i] };
    let letters = starts
        .iter()
        .find_map(|&at| cased_then_lower_end(text, at))
        .or_else(|| starts.iter().find_map(|&at| upper_then_lower_end(text, at)));
    if let Some(end) = letters {
        return match contractions {
            true => contraction_end(text, end, folds_to).unwrap_or(end),
            false => end,
        };
    }
    // `\p{N}{1,3}`
    if is_number(c) {
        return bounded_run_end(text, i, max_digits, is_number);
    }
    // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
    let body = if c == ' ' { next } else { i };
    if body < text.len() && is_other(char_at(text, body)) {
        let end = run_end(text, body, is_other);
        return run_end(text, end, |c| is_newline(c) || c == '/');
    }
    // `\s*[\r\n]+`, then `\s+(?!\S)|\s+`, as in cl100k.
    let run = run_end(text, i, is_space);
    if let Some(last_newline) = text.as_bytes()[i..run].iter().rposition(|&b| b == b'\r' || b == b'\n') {
        return i + last_newline + 1;
    }
    space_run_end(text, i, run)
}

/// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+` at `i`. The classes overlap,
/// so the greedy first run gives back characters until the second can match: the match
/// ends after the lower-case run that follows the first run, or else just after the last
/// character of the first run that is also in the second class.
fn cased_then_lower_end(text: &str, i: usize) -> Option<usize> {
    let mut at = i;
    let mut last_shared = None;
    while at < text.len() {
        let c = char_at(text, at);
        if !is_upper_or_caseless(c) {
            break;
        }
        if is_lower_or_caseless(c) {
            last_shared = Some(at);
        }
        at += c.len_utf8();
    }
    if at < text.len() && is_lower_or_caseless(char_at(text, at)) {
        return Some(run_end(text, at, is_lower_or_caseless));
    }
    last_shared.map(|j| run_end(text, j, is_lower_or_caseless))
}

/// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*` at `i`.
fn upper_then_lower_end(text: &str, i: usize) -> Option<usize> {
    let upper = run_end(text, i, is_upper_or_caseless);
    (upper > i).then(|| run_end(text, upper, is_lower_or_caseless))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(splitter: Splitter, text: &str) -> Vec<&str> {
        let mut out = vec![];
        splitter.split(text, |a, b| out.push(&text[a..b]));
        out
    }

    #[test]
    fn cl100k_examples() {
        let s = Splitter::Cl100k { max_digits: 3 };
        assert_eq!(
            pieces(s, "Hello world's 12345!!\n\n  x  "),
            ["Hello", " world", "'s", " ", "123", "45", "!!\n\n", " ", " x", "  "]
        );
        assert_eq!(pieces(s, "I'LL do\t\tit\r\n"), ["I", "'LL", " do", "\t", "\tit", "\r\n"]);
        assert_eq!(pieces(s, " 'sa"), [" '", "sa"]);
        assert_eq!(pieces(s, "'sa"), ["'s", "a"]);
    }

    #[test]
    fn o200k_examples() {
        let s = Splitter::O200k { contractions: true, max_digits: 3 };
        assert_eq!(
            pieces(s, "HelloWorld's  ABCdef 12345//x\n\n y"),
            ["Hello", "World's", " ", " ABCdef", " ", "123", "45", "//", "x", "\n\n", " y"]
        );
        // A mark is a prefix character and a letter: alone before a space it is a letter run.
        assert_eq!(pieces(s, "\u{301}A b"), ["\u{301}", "A", " b"]);
        assert_eq!(pieces(s, "中文"), ["中文"]);
        let tekken = Splitter::O200k { contractions: false, max_digits: 1 };
        assert_eq!(pieces(tekken, "it's 42"), ["it", "'s", " ", "4", "2"]);
    }

    #[test]
    fn gpt2_examples() {
        assert_eq!(
            pieces(Splitter::Gpt2, "Hello  world's 12 !!\n\n"),
            ["Hello", " ", " world", "'s", " 12", " !!", "\n\n"]
        );
        assert_eq!(pieces(Splitter::Gpt2, "'S"), ["'", "S"]);
    }
}
