//! Axolotl's dataset tokenization (its prompt strategies) in Rust, row for row identical:
//! chat templates rendered with minijinja set up as transformers sets up jinja2, tokenized
//! with an `Encoder`, labels computed as Axolotl 0.19.0 computes them.
//!
//! - `encoder`: the tokenizer interface, the `tokenizers`-crate implementation and the
//!   engine choice;
//! - `bpe`: the fast exact byte-level BPE engine;
//! - `template` (+ `pyjson`, `pystr`, `pyrepr`): the chat-template environment;
//! - `pyvalue`: row values with Python's semantics (Arrow and JSON in);
//! - `plan`: what Python resolved once per dataset (strategy, template, options);
//! - `conversation` + `chat`: the `chat_template` strategy, one row at a time;
//! - `batch`: rows in parallel, Arrow columns out, a status per row.

pub mod batch;
pub mod bpe;
pub mod chat;
pub mod completion;
pub mod conversation;
pub mod encode_batch;
pub mod encoder;
pub mod input_output;
pub mod instruct;
pub mod plan;
pub mod pyjson;
pub mod pyrepr;
pub mod pystr;
pub mod pyvalue;
pub mod template;

pub use encoder::{Encoded, Encoder, EngineChoice, HfTokenizer, Tokenizer};
pub use plan::Plan;
pub use pyvalue::{PyValue, Unsupported};
pub use template::ChatTemplate;

/// Axolotl's label for a token that is not trained.
pub const IGNORE_INDEX: i64 = -100;

/// One row's result. Token ids are below 2**31 (the int32 `datasets` stores them in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokenized {
    pub input_ids: Vec<i64>,
    pub labels: Vec<i64>,
}

/// A row this code does not compute (an input it does not model, or one Axolotl fails
/// on): the reason, for the caller that then runs Axolotl's own code on the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback(pub String);

impl From<Unsupported> for Fallback {
    fn from(u: Unsupported) -> Self {
        Fallback(u.0)
    }
}
