//! Concatenate byte segments into one buffer on all cores: the row gather of packing a
//! column whose rows are scattered over several Arrow buffers (TRL's `pack_dataset` takes
//! rows in bin order from each `datasets.map` batch).

use crate::error::{Error, Result};

/// Below this many bytes per task, waking another thread costs more than the copy.
const MIN_TASK_BYTES: usize = 1 << 20;

/// Writes `parts` one after the other into `out`, whose length must be their total.
pub fn concat_into(parts: &[&[u8]], out: &mut [u8]) -> Result<()> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    if total != out.len() {
        return Err(Error::invalid(format!("the output holds {} bytes, the segments {total}", out.len())));
    }
    let tasks = tasks(parts, out);
    if tasks.len() <= 1 {
        tasks.into_iter().for_each(copy_task);
        return Ok(());
    }
    use rayon::prelude::*;
    crate::threads::run_with_threads(0, || tasks.into_par_iter().for_each(copy_task));
    Ok(())
}

type Task<'a, 'b> = (&'b [&'a [u8]], &'b mut [u8]);

fn copy_task((parts, mut out): Task) {
    for part in parts {
        let (head, rest) = out.split_at_mut(part.len());
        head.copy_from_slice(part);
        out = rest;
    }
}

/// Runs of consecutive parts of about `MIN_TASK_BYTES` (or more) each, with their output.
fn tasks<'a, 'b>(parts: &'b [&'a [u8]], out: &'b mut [u8]) -> Vec<Task<'a, 'b>> {
    let mut tasks = Vec::new();
    let (mut first, mut bytes, mut rest) = (0, 0, out);
    for (i, part) in parts.iter().enumerate() {
        bytes += part.len();
        if bytes >= MIN_TASK_BYTES || i + 1 == parts.len() {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(bytes);
            tasks.push((&parts[first..=i], head));
            (first, bytes, rest) = (i + 1, 0, tail);
        }
    }
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concatenates_in_order() {
        let (a, b, c) = (vec![1u8, 2, 3], vec![], vec![9u8]);
        let mut out = vec![0u8; 4];
        concat_into(&[&a, &b, &c], &mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 9]);
    }

    #[test]
    fn large_inputs_split_into_tasks_and_match_a_plain_concat() {
        let mut rng = crate::testutil::Rng(3);
        let buffers: Vec<Vec<u8>> =
            (0..300).map(|_| (0..rng.below(40_000)).map(|_| rng.next() as u8).collect()).collect();
        let parts: Vec<&[u8]> = buffers.iter().map(Vec::as_slice).collect();
        let want: Vec<u8> = buffers.concat();
        let mut out = vec![0u8; want.len()];
        assert!(tasks(&parts, &mut out.clone()).len() > 1);
        concat_into(&parts, &mut out).unwrap();
        assert_eq!(out, want);
    }

    #[test]
    fn refuses_an_output_of_another_size() {
        assert!(concat_into(&[&[1u8, 2][..]], &mut [0u8; 3]).is_err());
        assert!(concat_into(&[], &mut []).is_ok());
    }
}
