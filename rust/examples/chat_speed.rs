//! Single-thread speed of a prompt strategy on rows from an Arrow IPC file, the tokenizer
//! JSON and the plan JSON beside it: the Rust path alone, without Python, for profiling.
//!
//! cargo run --release --example chat_speed -- TOKENIZER.json PLAN.json ROWS.arrow [REPEAT]

use std::sync::Arc;
use std::time::Instant;

use arrow_ipc::reader::FileReader;
use fastaxo::tokenize::batch::{tokenize_batches, Strategy};
use fastaxo::tokenize::encoder::TruncationSide;
use fastaxo::tokenize::{Encoded, Encoder, EngineChoice, Plan, Tokenizer};

/// One token per character: with it the strategy does everything but BPE (the renders, the
/// diffs, the labels), which bounds what a faster tokenizer can give.
struct Chars;

impl Encoder for Chars {
    fn encode(&self, text: &str, _: bool) -> fastaxo::Result<Vec<u32>> {
        Ok(text.chars().map(|c| c as u32).collect())
    }
    fn encode_with_offsets(&self, text: &str, _: bool) -> fastaxo::Result<Encoded> {
        Ok(Encoded {
            ids: text.chars().map(|c| c as u32).collect(),
            offsets: (0..text.chars().count()).map(|i| (i, i + 1)).collect(),
        })
    }
    fn encode_truncated(&self, text: &str, max_length: usize, _: TruncationSide) -> fastaxo::Result<Vec<u32>> {
        Ok(text.chars().take(max_length).map(|c| c as u32).collect())
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tokenizer =
        Tokenizer::from_json(&std::fs::read_to_string(&args[0]).unwrap(), false, EngineChoice::Auto).unwrap();
    let plan = Plan::from_json(&std::fs::read_to_string(&args[1]).unwrap()).unwrap();
    let strategy = if std::env::var("CHARS").is_ok() {
        Strategy::new(plan, Arc::new(Chars)).unwrap()
    } else {
        Strategy::new(plan, Arc::new(tokenizer)).unwrap()
    };
    let reader = FileReader::try_new(std::fs::File::open(&args[2]).unwrap(), None).unwrap();
    let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
    let repeat: usize = args.get(3).map_or(3, |r| r.parse().unwrap());
    for _ in 0..repeat {
        let t = Instant::now();
        let out = tokenize_batches(&strategy, &batches, 1).unwrap();
        println!("{} output rows in {:.3} s", out.num_rows(), t.elapsed().as_secs_f64());
    }
}
