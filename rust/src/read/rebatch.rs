//! Batches of exactly `n` rows, whatever sizes the file's own batches have: a batch that
//! already fits passes through untouched, a larger one is sliced (no copy), and only pieces
//! of several batches are copied into one. An error comes after every row read before it
//! (the rows short of a whole batch then make a shorter batch), and nothing comes after it.

use std::collections::VecDeque;

use arrow_array::RecordBatch;

use super::Batches;
use crate::error::{Error, Result};

pub(crate) fn exact(inner: Batches, n: usize) -> Batches {
    Box::new(Rebatch { inner, n, pending: VecDeque::new(), pending_rows: 0, done: false, error: None })
}

struct Rebatch {
    inner: Batches,
    n: usize,
    pending: VecDeque<RecordBatch>,
    pending_rows: usize,
    done: bool,
    error: Option<Error>,
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
                    self.error = Some(e);
                }
                None => self.done = true,
            }
        }
        if self.pending_rows == 0 {
            return self.error.take().map(Err);
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{cast::AsArray, types::Int64Type, Int64Array};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    /// Batches of the given sizes holding 0, 1, 2, ... in order, then `error` if given,
    /// rebatched into `n` rows: each batch's values, or the error's text.
    fn rebatch(sizes: &[i64], error: bool, n: usize) -> Vec<std::result::Result<Vec<i64>, String>> {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let mut next = 0;
        let mut inner: Vec<Result<RecordBatch>> = sizes
            .iter()
            .map(|&size| {
                let values = Int64Array::from_iter_values(next..next + size);
                next += size;
                Ok(RecordBatch::try_new(schema.clone(), vec![Arc::new(values)]).unwrap())
            })
            .collect();
        if error {
            inner.push(Err(Error::Format("bad row group".into())));
            inner.push(Ok(RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![99]))]).unwrap()));
        }
        exact(Box::new(inner.into_iter()), n)
            .map(|r| r.map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec()).map_err(|e| e.to_string()))
            .collect()
    }

    #[test]
    fn exact_sizes_whatever_the_input_sizes() {
        let out = rebatch(&[3, 5, 0, 2], false, 4);
        assert_eq!(out, vec![Ok(vec![0, 1, 2, 3]), Ok(vec![4, 5, 6, 7]), Ok(vec![8, 9])]);
        assert_eq!(rebatch(&[], false, 4), vec![]);
    }

    #[test]
    fn rows_before_an_error_come_before_it_and_nothing_after() {
        let out = rebatch(&[3, 3], true, 4);
        assert_eq!(out.len(), 3, "{out:?}");
        assert_eq!(out[..2], [Ok(vec![0, 1, 2, 3]), Ok(vec![4, 5])]);
        assert!(out[2].as_ref().unwrap_err().contains("bad row group"));
        let aligned = rebatch(&[4], true, 4);
        assert_eq!(aligned[0], Ok(vec![0, 1, 2, 3]));
        assert!(aligned[1].is_err() && aligned.len() == 2);
    }
}
