//! Sample packing: the safe core of every packing kernel.
//!
//! - [`bins`]: bin packing of sequence lengths into fixed-capacity bins, strategy by strategy
//!   (Axolotl's multipack first fit and next fit, first- and best-fit decreasing);
//! - [`seqpack`]: greedy sequence packing into fixed-length rows, and the pretraining
//!   concatenation;
//! - [`gather`]: the packed-batch gather that turns a packing into the trainer's matrices;
//! - [`trlpack`]: TRL's best-fit decreasing, bin for bin;
//! - [`segments`]: the byte-segment gather that builds TRL's packed columns.

pub mod bins;
pub mod gather;
pub mod segments;
pub mod seqpack;
pub mod trlpack;

pub use bins::{pack_bins, pack_bins_grouped, Packing, Strategy};
