//! Batches of exactly `n` rows, whatever sizes the file's own batches have: a batch that
//! already fits passes through untouched, a larger one is sliced (no copy), and only pieces
//! of several batches are copied into one.

use std::collections::VecDeque;

use arrow_array::RecordBatch;

use super::Batches;
use crate::error::{Error, Result};

pub(crate) fn exact(inner: Batches, n: usize) -> Batches {
    Box::new(Rebatch { inner, n, pending: VecDeque::new(), pending_rows: 0, done: false })
}

struct Rebatch {
    inner: Batches,
    n: usize,
    pending: VecDeque<RecordBatch>,
    pending_rows: usize,
    done: bool,
}

impl Iterator for Rebatch {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.pending_rows < self.n && !self.done {
            match self.inner.next() {
                Some(Ok(batch)) if batch.num_rows() == 0 => {}
                Some(Ok(batch)) => {
                    self.pending_rows += batch.num_rows();
                    self.pending.push_back(batch);
                }
                Some(Err(e)) => {
                    self.done = true;
                    self.pending.clear();
                    return Some(Err(e));
                }
                None => self.done = true,
            }
        }
        if self.pending_rows == 0 {
            return None;
        }
        Some(self.take(self.n.min(self.pending_rows)))
    }
}

impl Rebatch {
    fn take(&mut self, rows: usize) -> Result<RecordBatch> {
        let mut pieces = Vec::new();
        let mut wanted = rows;
        while wanted > 0 {
            let front = self.pending.pop_front().expect("pending holds `rows` rows");
            if front.num_rows() <= wanted {
                wanted -= front.num_rows();
                pieces.push(front);
            } else {
                pieces.push(front.slice(0, wanted));
                self.pending.push_front(front.slice(wanted, front.num_rows() - wanted));
                wanted = 0;
            }
        }
        self.pending_rows -= rows;
        if pieces.len() == 1 {
            return Ok(pieces.pop().expect("one piece"));
        }
        arrow_select::concat::concat_batches(&pieces[0].schema(), &pieces).map_err(|e| Error::Format(e.to_string()))
    }
}
