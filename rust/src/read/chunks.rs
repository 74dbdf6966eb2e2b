//! Chunks of records read in order and decoded on all cores (the JSON reader's; CSV stays on
//! arrow-csv's one-thread reader: a chunked decode gained nothing there). While one round of chunks (one per thread) is decoded, the next round is read, so
//! memory holds two rounds at a time and reading is not a serial step between decodes.

use std::collections::VecDeque;

use arrow_array::RecordBatch;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::threads::{effective_threads, run_with_threads};

pub(crate) struct ParallelBatches<K, R, D> {
    /// The next chunk of `batch_size` records, `None` at the end.
    read: R,
    /// One chunk's records as one batch.
    decode: D,
    batch_size: usize,
    threads: usize,
    /// The round read ahead, and what stopped the reading, if something did.
    ahead: Vec<K>,
    stop: Option<Stop>,
    decoded: VecDeque<Result<RecordBatch>>,
    done: bool,
}

enum Stop {
    End,
    Failed(Error),
}

impl<K, R, D> ParallelBatches<K, R, D>
where
    K: Send + Sync,
    R: FnMut(usize) -> Result<Option<K>> + Send,
    D: Fn(&K) -> Result<RecordBatch> + Send + Sync,
{
    /// `first`: a chunk already read (e.g. the one schema inference read).
    pub fn new(read: R, decode: D, first: Option<K>, batch_size: usize, threads: usize) -> Self {
        let ahead = first.into_iter().collect();
        ParallelBatches { read, decode, batch_size, threads, ahead, stop: None, decoded: VecDeque::new(), done: false }
    }

    /// Decodes the round read ahead while reading the next one.
    fn fill(&mut self) {
        let wanted = effective_threads(self.threads);
        if self.ahead.is_empty() && self.stop.is_none() {
            let (round, stop) = read_round(&mut self.read, self.batch_size, wanted);
            (self.ahead, self.stop) = (round, stop);
        }
        let round = std::mem::take(&mut self.ahead);
        let (read, decode, batch_size) = (&mut self.read, &self.decode, self.batch_size);
        let (results, next) = if self.stop.is_none() {
            run_with_threads(self.threads, || {
                rayon::join(|| decode_round(&round, decode), || read_round(read, batch_size, wanted))
            })
        } else {
            (decode_round(&round, decode), (Vec::new(), None))
        };
        for result in results {
            let failed = result.is_err();
            self.decoded.push_back(result);
            if failed {
                // Nothing after an error: a later batch would hide the rows it lost.
                self.done = true;
                return;
            }
        }
        let (round, stop) = next;
        self.ahead = round;
        if stop.is_some() {
            self.stop = stop;
        }
        if self.ahead.is_empty() {
            // Everything read is decoded: a read error comes after the batches before it.
            if let Some(Stop::Failed(e)) = self.stop.take() {
                self.decoded.push_back(Err(e));
            }
            self.done = true;
        }
    }
}

/// Up to `wanted` chunks, and why fewer, if fewer.
fn read_round<K>(
    read: &mut impl FnMut(usize) -> Result<Option<K>>,
    batch_size: usize,
    wanted: usize,
) -> (Vec<K>, Option<Stop>) {
    let mut round = Vec::with_capacity(wanted);
    while round.len() < wanted {
        match read(batch_size) {
            Ok(Some(chunk)) => round.push(chunk),
            Ok(None) => return (round, Some(Stop::End)),
            Err(e) => return (round, Some(Stop::Failed(e))),
        }
    }
    (round, None)
}

fn decode_round<K: Sync>(
    round: &[K],
    decode: &(impl Fn(&K) -> Result<RecordBatch> + Sync),
) -> Vec<Result<RecordBatch>> {
    if round.len() > 1 {
        round.par_iter().map(decode).collect()
    } else {
        round.iter().map(decode).collect()
    }
}

impl<K, R, D> Iterator for ParallelBatches<K, R, D>
where
    K: Send + Sync,
    R: FnMut(usize) -> Result<Option<K>> + Send,
    D: Fn(&K) -> Result<RecordBatch> + Send + Sync,
{
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.decoded.is_empty() && !self.done {
            self.fill();
        }
        self.decoded.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{cast::AsArray, types::Int64Type, Int64Array};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    /// Chunks 0..count read in order (reading chunk `read_fails` fails), each decoded into a
    /// one-row batch holding its number (decoding chunk `decode_fails` fails): what comes out.
    fn run(
        count: i64,
        read_fails: Option<i64>,
        decode_fails: Option<i64>,
        threads: usize,
    ) -> Vec<std::result::Result<i64, String>> {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let mut next = 0;
        let read = move |_rows: usize| {
            let chunk = next;
            next += 1;
            match chunk {
                _ if Some(chunk) == read_fails => Err(Error::Io(format!("read {chunk}"))),
                _ if chunk >= count => Ok(None),
                _ => Ok(Some(chunk)),
            }
        };
        let decode = move |&chunk: &i64| {
            if Some(chunk) == decode_fails {
                return Err(Error::Format(format!("decode {chunk}")));
            }
            Ok(RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![chunk]))]).unwrap())
        };
        ParallelBatches::new(read, decode, None, 10, threads)
            .map(|b| b.map(|b| b.column(0).as_primitive::<Int64Type>().value(0)).map_err(|e| e.message().to_string()))
            .collect()
    }

    #[test]
    fn batches_in_order_and_nothing_after_an_error() {
        for threads in [1, 2] {
            let ok = |n: i64| (0..n).map(Ok).collect::<Vec<_>>();
            assert_eq!(run(7, None, None, threads), ok(7));
            assert_eq!(run(0, None, None, threads), ok(0));
            // A read error comes after every chunk read before it.
            let mut want = ok(5);
            want.push(Err("read 5".into()));
            assert_eq!(run(9, Some(5), None, threads), want);
            // A decode error ends the stream, though later chunks were read.
            let mut want = ok(3);
            want.push(Err("decode 3".into()));
            assert_eq!(run(9, None, Some(3), threads), want);
        }
    }
}
