//! Writes `src/tokenize/bpe/unicode_table.rs`, the character classes of the pre-tokenizer
//! regexes as the `tokenizers` crate's Oniguruma decides them, or, with `--check`, fails when
//! the committed table differs from what Oniguruma answers now.
//! Usage (from rust/): cargo run --release -p fastaxo-gen-unicode [-- --check]
//!
//! Nothing is read from a Unicode database: every scalar value is matched against each class
//! by the engine itself, so the table is exact for this Oniguruma build, whatever Unicode
//! version and whatever definition of `\s` it carries.

use onig::{Regex, SearchOptions};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

// The bits the derived classes below are computed from.
const L: u16 = 1;
const N: u16 = 2;
const S: u16 = 4;

/// The classes of the table: constant name, bit, Oniguruma class, what it is.
const CLASSES: [(&str, u16, &str, &str); 9] = [
    ("L", L, r"\p{L}", "letter"),
    ("N", N, r"\p{N}", "number"),
    ("S", S, r"\s", "white space, as Oniguruma defines it"),
    ("LU", 8, r"\p{Lu}", "uppercase letter"),
    ("LL", 16, r"\p{Ll}", "lowercase letter"),
    ("LT", 32, r"\p{Lt}", "titlecase letter"),
    ("LM", 64, r"\p{Lm}", "modifier letter"),
    ("LO", 128, r"\p{Lo}", "other letter"),
    ("M", 256, r"\p{M}", "mark"),
];

/// Whether a character with these class bits is in a derived class.
type Derived = fn(char, u16) -> bool;

/// The bracket classes of the patterns, which a scanner computes from the bits: checked
/// against Oniguruma so that their complements and unions are the ones the bits give.
const DERIVED: [(&str, Derived); 3] = [
    (r"[^\r\n\p{L}\p{N}]", |c, bits| bits & (L | N) == 0 && c != '\r' && c != '\n'),
    (r"[^\s\p{L}\p{N}]", |_, bits| bits & (S | L | N) == 0),
    (r"\S", |_, bits| bits & S == 0),
];

/// The contraction alternative of the patterns, tried in this order.
const CONTRACTIONS: [&str; 7] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

/// The letters of `CONTRACTIONS`, whose case-insensitive matches the table lists.
const LETTERS: &str = "stremvld";

/// Code points whose `\s` membership differs between regex engines, reported in the table.
const SPACE_QUESTIONS: [u32; 9] = [0x1C, 0x1D, 0x1E, 0x1F, 0x85, 0xA0, 0x180E, 0x200B, 0xFEFF];

/// Where the table goes, relative to rust/.
const TABLE_PATH: &str = "src/tokenize/bpe/unicode_table.rs";

/// For each letter, the characters `(?i:letter)` matches.
type Folds = [(char, Vec<char>)];

/// What Oniguruma answered.
struct Probed {
    /// The class bits of every code point (surrogates: 0).
    bits: Vec<u16>,
    /// The folds of the letters of `LETTERS`.
    folds: Vec<(char, Vec<char>)>,
}

fn main() -> ExitCode {
    let table_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(TABLE_PATH);
    let check = std::env::args().any(|a| a == "--check");

    let started = Instant::now();
    let probed = probe();
    eprintln!("probed Oniguruma {} in {:.1} s", onig::version(), started.elapsed().as_secs_f64());
    eprintln!("{} ranges; {}", ranges(&probed.bits).len(), space_findings(&probed.bits));
    for (letter, chars) in &probed.folds {
        eprintln!("(?i:{letter}) matches {}", fold_list(chars));
    }
    let generated = render(&probed);

    if check {
        compare(&table_path, &generated)
    } else {
        std::fs::write(&table_path, &generated).expect("write the unicode table");
        eprintln!("wrote {}", table_path.display());
        ExitCode::SUCCESS
    }
}

fn compare(path: &Path, generated: &str) -> ExitCode {
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed == generated {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "{} is out of date with Oniguruma: run `cargo run --release -p fastaxo-gen-unicode` in rust/ and commit it",
            path.display()
        );
        ExitCode::FAILURE
    }
}

/// Asks Oniguruma everything the table holds, and checks what the table cannot hold
/// (panicking when the engine behaves in a way the scanner would not reproduce).
fn probe() -> Probed {
    let bits = probe_classes();
    check_derived(&bits);
    let folds = LETTERS.chars().map(|letter| (letter, fold_set(letter))).collect();
    let probed = Probed { bits, folds };
    check_contractions(&probed.folds);
    probed
}

/// Every Unicode scalar value: the code points a Rust `str` can hold.
fn scalar_values() -> impl Iterator<Item = char> {
    (0..=0x10FFFF).filter_map(char::from_u32)
}

/// Compiles the way tokenizers does: `onig::Regex::new`, default syntax, no options.
fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("Oniguruma rejects {pattern}: {e}"))
}

/// Whether `re` matches exactly the one-character string `c` (`is_match` is a whole-string
/// match).
fn matches_char(re: &Regex, c: char) -> bool {
    re.is_match(c.encode_utf8(&mut [0; 4]))
}

fn probe_classes() -> Vec<u16> {
    let mut bits = vec![0u16; 0x110000];
    for (_, bit, pattern, _) in CLASSES {
        let class = regex(pattern);
        for c in scalar_values().filter(|&c| matches_char(&class, c)) {
            bits[c as usize] |= bit;
        }
    }
    bits
}

fn check_derived(bits: &[u16]) {
    for (pattern, expected) in DERIVED {
        let class = regex(pattern);
        for c in scalar_values() {
            let want = expected(c, bits[c as usize]);
            assert_eq!(matches_char(&class, c), want, "{pattern} on U+{:04X} disagrees with the bits", c as u32);
        }
    }
}

/// The characters `(?i:letter)` matches on their own.
fn fold_set(letter: char) -> Vec<char> {
    let folded = regex(&format!("(?i:{letter})"));
    scalar_values().filter(|&c| matches_char(&folded, c)).collect()
}

fn folds_of(folds: &Folds, letter: char) -> &[char] {
    &folds.iter().find(|(l, _)| *l == letter).expect("a letter of LETTERS").1
}

/// Checks that the contraction alternative matches exactly what the fold sets predict: one
/// character per pattern letter, none standing for two. Oniguruma applies multi-character
/// case folds (`(?i:ss)` matches "ß"), so a character folding to "ll", "re" or "'s" would
/// match where a scanner built on the fold sets would not.
fn check_contractions(folds: &Folds) {
    assert_eq!(fold_set('\''), ['\''], "(?i:') matches more than the apostrophe");
    let alternation = regex(&format!("(?i:{})", CONTRACTIONS.join("|")));
    let expected = expected_contractions(folds);
    let surprises: Vec<String> = contraction_probes(folds)
        .filter_map(|text| {
            let got = alternation.match_with_options(&text, 0, SearchOptions::SEARCH_OPTION_NONE, None);
            let want = expected.iter().find(|m| text.starts_with(m.as_str())).map(String::len);
            (got != want).then(|| format!("{text:?}: Oniguruma {got:?}, fold sets {want:?}"))
        })
        .collect();
    assert!(surprises.is_empty(), "the contractions are not the fold sets':\n{}", surprises.join("\n"));
}

/// The texts on which a character could match more than one pattern letter: every code point
/// alone, before "e" or "l" and after the apostrophe (a fold for "'s", "'r", "'l", "re", ...),
/// and every character after each first letter of 're, 've and 'll.
fn contraction_probes(folds: &Folds) -> impl Iterator<Item = String> + '_ {
    let singles = scalar_values().flat_map(|c| [format!("{c}"), format!("{c}e"), format!("{c}l"), format!("'{c}")]);
    let firsts = ['r', 'v', 'l'].into_iter().flat_map(|letter| folds_of(folds, letter).iter().copied());
    let pairs = firsts.flat_map(|first| scalar_values().map(move |c| format!("'{first}{c}")));
    singles.chain(pairs)
}

/// Every string the alternation matches if each pattern letter matches one character of its
/// fold set (the apostrophe only itself), in the order of the alternatives: at a position,
/// the first of them that the text starts with is the match.
fn expected_contractions(folds: &Folds) -> Vec<String> {
    let matches_of = |alternative: &str| {
        alternative.chars().fold(vec![String::new()], |prefixes, letter| {
            let chars = if letter == '\'' { &['\''][..] } else { folds_of(folds, letter) };
            prefixes.iter().flat_map(|prefix| chars.iter().map(move |c| format!("{prefix}{c}"))).collect()
        })
    };
    CONTRACTIONS.into_iter().flat_map(matches_of).collect()
}

/// Maximal runs `(first, last, bits)` of code points with the same non-zero bits.
fn ranges(bits: &[u16]) -> Vec<(u32, u32, u16)> {
    let mut ranges: Vec<(u32, u32, u16)> = Vec::new();
    for (cp, &b) in (0u32..).zip(bits).filter(|(_, &b)| b != 0) {
        match ranges.last_mut() {
            Some((_, last, prev)) if *last + 1 == cp && *prev == b => *last = cp,
            _ => ranges.push((cp, cp, b)),
        }
    }
    ranges
}

/// Which of `SPACE_QUESTIONS` `\s` matches and which it does not, as one sentence.
fn space_findings(bits: &[u16]) -> String {
    let (yes, no): (Vec<u32>, Vec<u32>) = SPACE_QUESTIONS.into_iter().partition(|&cp| bits[cp as usize] & S != 0);
    let list = |cps: Vec<u32>| match cps.len() {
        0 => "none".to_string(),
        _ => cps.iter().map(|cp| format!("U+{cp:04X}")).collect::<Vec<_>>().join(", "),
    };
    format!("`\\s` matches {}; not {}.", list(yes), list(no))
}

/// A fold set as Rust char literals, non-ASCII ones escaped so the file stays ASCII.
fn fold_list(chars: &[char]) -> String {
    let literal = |&c: &char| {
        if c.is_ascii() {
            format!("'{c}'")
        } else {
            format!("'\\u{{{:X}}}'", c as u32)
        }
    };
    chars.iter().map(literal).collect::<Vec<_>>().join(", ")
}

/// A bit set as an expression of the constants, e.g. `L | LU`.
fn bits_expression(bits: u16) -> String {
    let names: Vec<&str> = CLASSES.iter().filter(|&&(_, bit, ..)| bits & bit != 0).map(|&(name, ..)| name).collect();
    names.join(" | ")
}

fn render(probed: &Probed) -> String {
    let mut out = String::new();
    render_header(&mut out, &probed.bits);
    for (name, bit, pattern, what) in CLASSES {
        writeln!(out, "\n/// `{pattern}`: {what}.\npub const {name}: u16 = {bit};").unwrap();
    }
    writeln!(out, "\n/// Maximal inclusive ranges `(first, last, bits)` of the code points in at least one class,")
        .unwrap();
    writeln!(out, "/// sorted; a code point in no range is in no class.").unwrap();
    writeln!(out, "pub static RANGES: &[(u32, u32, u16)] = &[").unwrap();
    for (first, last, bits) in ranges(&probed.bits) {
        writeln!(out, "    (0x{first:04X}, 0x{last:04X}, {}),", bits_expression(bits)).unwrap();
    }
    writeln!(out, "];").unwrap();
    for (letter, chars) in &probed.folds {
        writeln!(out, "\n/// The characters `(?i:{letter})` matches.").unwrap();
        writeln!(out, "pub static FOLD_{}: &[char] = &[{}];", letter.to_ascii_uppercase(), fold_list(chars)).unwrap();
    }
    out
}

fn render_header(out: &mut String, bits: &[u16]) {
    let lines = [
        "// @generated by fastaxo-gen-unicode; do not edit".to_string(),
        format!(
            "//! The character classes of the pre-tokenizer regexes as Oniguruma {} decides them.",
            onig::version()
        ),
        "//!".into(),
        "//! Probed code point by code point from the Oniguruma build the `tokenizers` crate links".into(),
        "//! (onig 6.5.3), so that a hand-written scanner classifies exactly as its regexes do.".into(),
        "//! Regenerate with `cargo run --release -p fastaxo-gen-unicode` in rust/.".into(),
        "//!".into(),
        "//! Of the code points regex engines disagree about:".into(),
        format!("//! {}", space_findings(bits)),
        "//!".into(),
        "//! `(?i:'s|'t|'re|'ve|'m|'ll|'d)` matches exactly the apostrophe (which folds with no other".into(),
        "//! character) followed by one character of each letter's `FOLD_*` set: checked for every".into(),
        "//! code point, no character stands for two letters.".into(),
    ];
    for line in lines {
        writeln!(out, "{line}").unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The drift test: the committed table is what Oniguruma answers now.
    #[test]
    fn committed_table_is_up_to_date() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(TABLE_PATH);
        let committed = std::fs::read_to_string(&path).expect("read the unicode table");
        assert!(
            committed == render(&probe()),
            "{} is out of date: run `cargo run --release -p fastaxo-gen-unicode`",
            path.display()
        );
    }
}
