//! Thread pools for the parallel kernels: `num_threads` 0 means all cores, and a larger
//! request is capped at the core count (never one OS thread per row).
//!
//! Kernels never use rayon's global pool: after `fork()` (`datasets.map(num_proc=...)`,
//! DataLoader workers) a child inherits the pool but not its threads, and a job sent to it
//! would wait forever. Our pools remember the process that made them; a forked child makes
//! its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::{ThreadPool, ThreadPoolBuilder};

/// Below this many output elements one thread is faster than waking a pool.
pub(crate) const PARALLEL_MIN_ELEMENTS: usize = 1 << 16;

/// Rows per parallel task for rows of `width` elements: about PARALLEL_MIN_ELEMENTS each.
pub fn rows_per_task(width: usize) -> usize {
    (PARALLEL_MIN_ELEMENTS / width.max(1)).max(1)
}

/// Calls `fill(i, row)` for every `width`-element row of `out` (width > 0): on this thread
/// for small outputs, on all cores for large ones.
pub fn for_each_row(out: &mut [i64], width: usize, fill: impl Fn(usize, &mut [i64]) + Sync + Send) {
    use rayon::prelude::*;
    if out.len() < PARALLEL_MIN_ELEMENTS {
        out.chunks_mut(width).enumerate().for_each(|(i, row)| fill(i, row));
    } else {
        let rows = out.par_chunks_mut(width).enumerate().with_min_len(rows_per_task(width));
        run_with_threads(0, || rows.for_each(|(i, row)| fill(i, row)));
    }
}

/// `for_each_row` for rows of different lengths: row `i` is `out[offsets[i]..offsets[i + 1]]`
/// (`offsets` non-decreasing from 0 to `out.len()`).
pub fn for_each_ragged_row(out: &mut [i64], offsets: &[i64], fill: impl Fn(usize, &mut [i64]) + Sync + Send) {
    use rayon::prelude::*;
    let parallel = out.len() >= PARALLEL_MIN_ELEMENTS;
    let mut rows = Vec::with_capacity(offsets.len().saturating_sub(1));
    let mut rest = out;
    for w in offsets.windows(2) {
        let (row, tail) = std::mem::take(&mut rest).split_at_mut((w[1] - w[0]) as usize);
        rows.push(row);
        rest = tail;
    }
    if parallel {
        let per_task = rows_per_task(offsets[offsets.len() - 1] as usize / rows.len().max(1));
        let rows = rows.par_iter_mut().enumerate().with_min_len(per_task);
        run_with_threads(0, || rows.for_each(|(i, row)| fill(i, row)));
    } else {
        rows.into_iter().enumerate().for_each(|(i, row)| fill(i, row));
    }
}

/// The number of threads a request for `num_threads` gets.
pub fn effective_threads(num_threads: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if num_threads == 0 {
        cores
    } else {
        num_threads.min(cores)
    }
}

/// Runs `work` (which may use rayon's parallel iterators) on `effective_threads(num_threads)`
/// threads. Pools are made once per size and process, and kept: building one costs far more
/// than a call.
pub fn run_with_threads<R: Send>(num_threads: usize, work: impl FnOnce() -> R + Send) -> R {
    pool(effective_threads(num_threads)).install(work)
}

#[derive(Default)]
struct Pools {
    pid: u32,
    by_size: HashMap<usize, Arc<ThreadPool>>,
}

fn pool(threads: usize) -> Arc<ThreadPool> {
    static POOLS: OnceLock<Mutex<Pools>> = OnceLock::new();
    let mut pools = POOLS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    let pid = std::process::id();
    if pools.pid != pid {
        // In a forked child the parent's pools have no threads; dropping them would wait
        // for those threads, so they are leaked (once per fork).
        std::mem::forget(std::mem::take(&mut pools.by_size));
        pools.pid = pid;
    }
    pools
        .by_size
        .entry(threads)
        .or_insert_with(|| {
            let pool = ThreadPoolBuilder::new().num_threads(threads).build();
            Arc::new(pool.expect("cannot start a thread pool"))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_and_runs_on_the_requested_size() {
        let cores = effective_threads(0);
        assert!(cores >= 1);
        assert_eq!(effective_threads(10_000), cores);
        assert_eq!(run_with_threads(1, rayon::current_num_threads), 1);
        assert_eq!(run_with_threads(0, rayon::current_num_threads), cores);
    }
}
