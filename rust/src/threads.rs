//! Thread counts for the parallel kernels: `num_threads` 0 means all cores, and a larger
//! request is capped at the core count (never one OS thread per row).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::{ThreadPool, ThreadPoolBuilder};

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
/// threads. Pools are made once per size and kept: building one costs far more than a call.
pub fn run_with_threads<R: Send>(num_threads: usize, work: impl FnOnce() -> R + Send) -> R {
    let threads = effective_threads(num_threads);
    if threads == rayon::current_num_threads() {
        return work(); // the global pool already has that size
    }
    pool(threads).install(work)
}

fn pool(threads: usize) -> Arc<ThreadPool> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = OnceLock::new();
    let mut pools = POOLS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    pools
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
