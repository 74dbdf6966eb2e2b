//! Encodes text files with both engines of one tokenizer.json and reports any difference in
//! ids or code-point offsets (the first few in full), and each engine's single-thread speed.
//!
//! cargo run --release --example compare_engines -- TOKENIZER.json FILE... [--sep BYTE]
//! Each file is split into documents at the separator byte (default 0x1E, record separator).

use std::time::Instant;

use fastaxo::tokenize::{Encoder, EngineChoice, Tokenizer};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut sep, mut paths) = (0x1Eu8, Vec::new());
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        if arg == "--sep" {
            sep = it.next().and_then(|s| s.parse().ok()).expect("--sep BYTE");
        } else {
            paths.push(arg);
        }
    }
    let json = std::fs::read_to_string(&paths[0]).expect("tokenizer.json");
    let fast = Tokenizer::from_json(&json, false, EngineChoice::Fast).expect("fast engine");
    let exact = Tokenizer::from_json(&json, false, EngineChoice::Tokenizers).expect("tokenizers engine");
    let (mut bytes, mut docs, mut diffs) = (0usize, 0usize, 0usize);
    let (mut fast_time, mut exact_time) = (0f64, 0f64);
    for path in &paths[1..] {
        let data = std::fs::read(path).expect("text file");
        for doc in data.split(|&b| b == sep) {
            let text = std::str::from_utf8(doc).expect("UTF-8");
            let t = Instant::now();
            let a = fast.encode_with_offsets(text, false).expect("fast");
            fast_time += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let b = exact.encode_with_offsets(text, false).expect("exact");
            exact_time += t.elapsed().as_secs_f64();
            if a != b {
                diffs += 1;
                if diffs <= 5 {
                    report(text, &a, &b);
                }
            }
            bytes += doc.len();
            docs += 1;
        }
    }
    let mb = bytes as f64 / 1e6;
    println!("{docs} documents, {mb:.1} MB, {diffs} differ; fast {:.1} MB/s, tokenizers {:.1} MB/s (with offsets, one thread)", mb / fast_time, mb / exact_time);
    std::process::exit(i32::from(diffs > 0));
}

fn report(text: &str, a: &fastaxo::tokenize::Encoded, b: &fastaxo::tokenize::Encoded) {
    let i = (0..a.ids.len().min(b.ids.len()))
        .find(|&i| a.ids[i] != b.ids[i] || a.offsets[i] != b.offsets[i])
        .unwrap_or(a.ids.len().min(b.ids.len()));
    let lo = i.saturating_sub(3);
    let chars: Vec<char> = text.chars().collect();
    let around = |o: &[(usize, usize)]| {
        o.get(i).map(|&(s, _)| chars[s.saturating_sub(10)..(s + 20).min(chars.len())].iter().collect::<String>())
    };
    println!(
        "token {i}: fast {:?} {:?}\n          tokenizers {:?} {:?}\n          text near: {:?}",
        &a.ids[lo..(i + 3).min(a.ids.len())],
        &a.offsets[lo..(i + 3).min(a.offsets.len())],
        &b.ids[lo..(i + 3).min(b.ids.len())],
        &b.offsets[lo..(i + 3).min(b.offsets.len())],
        around(&b.offsets)
    );
}
