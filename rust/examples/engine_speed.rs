//! Single-thread speed of the fast engine on text files (documents split at U+10FFFE, as
//! bench/corpus.py --write makes them), ids only, first pass (cold piece cache) and second,
//! per second of this thread's CPU time (so that other load on the machine matters less).
//!
//! cargo run --release --example engine_speed -- TOKENIZER.json FILE...

use fastaxo::tokenize::bpe::Sink;
use fastaxo::tokenize::{EngineChoice, Tokenizer};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = std::fs::read_to_string(&args[0]).expect("tokenizer.json");
    let engine = std::env::var("ENGINE").map_or(EngineChoice::Fast, |e| {
        if e == "tokenizers" {
            EngineChoice::Tokenizers
        } else {
            EngineChoice::Fast
        }
    });
    let tokenizer = Tokenizer::from_json(&json, false, engine).expect("tokenizer");
    for path in &args[1..] {
        let data = std::fs::read_to_string(path).expect("text");
        let docs: Vec<&str> = data.split('\u{10FFFE}').collect();
        for pass in ["cold", "warm"] {
            let mut ids = Vec::new();
            let t = thread_cpu_seconds();
            for doc in &docs {
                ids.clear();
                tokenizer.encode_into(doc, false, &mut Sink { ids: &mut ids, offsets: None }).expect("encode");
            }
            let s = thread_cpu_seconds() - t;
            println!("{path} {pass}: {:.1} MB/s", data.len() as f64 / 1e6 / s);
        }
    }
}

#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
}

fn thread_cpu_seconds() -> f64 {
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut t = Timespec { sec: 0, nsec: 0 };
    // SAFETY: a valid out-pointer for the duration of the call.
    #[expect(unsafe_code, reason = "the thread's CPU clock: the standard library has none")]
    unsafe {
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut t)
    };
    t.sec as f64 + t.nsec as f64 * 1e-9
}
