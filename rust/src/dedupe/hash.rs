//! SHA-256 of string/binary rows (the keys of exact dedupe) and their lowercase hex form.
//!
//! Rows are hashed independently, so splitting them over threads cannot change a digest:
//! the output is the same for every thread count.

use rayon::prelude::*;
use sha2::{Digest as _, Sha256};

use super::seen::Digest;
use crate::error::{Error, Result};
use crate::lists::{Lists, Offset, Offsets, Values};
use crate::threads::run_with_threads;

/// Bytes hashed per rayon task: enough to pay for the task, small enough to balance rows of
/// very different lengths. Below this in total, the calling thread hashes alone.
const TASK_BYTES: usize = 1 << 16;
/// Digests hex-encoded per rayon task (256 KiB of hex).
const HEX_TASK_DIGESTS: usize = 1 << 12;
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Writes the SHA-256 of every row of `rows` (bytes) to `out`, which holds one digest per row.
pub fn hash_rows_into(rows: &Lists, out: &mut [Digest], num_threads: usize) -> Result<()> {
    let Values::U8(values) = rows.values() else {
        return Err(Error::invalid("rows must be bytes (uint8 values): strings or binary data"));
    };
    if out.len() != rows.num_rows() {
        return Err(Error::invalid(format!(
            "the output holds {} digests but there are {} rows",
            out.len(),
            rows.num_rows()
        )));
    }
    let total = rows.total_len();
    // Rows per task from the mean row length: ~TASK_BYTES of input per task.
    let rows_per_task = (TASK_BYTES / (total / out.len().max(1)).max(1)).max(1);
    let parallel = total >= TASK_BYTES && out.len() > rows_per_task;
    match rows.offsets() {
        Offsets::I32(o) => hash_chunks(values, o, out, rows_per_task, parallel, num_threads),
        Offsets::I64(o) => hash_chunks(values, o, out, rows_per_task, parallel, num_threads),
    }
    Ok(())
}

/// Convenience for Rust callers: allocates the output.
pub fn hash_rows(rows: &Lists, num_threads: usize) -> Result<Vec<Digest>> {
    let mut out = vec![[0u8; 32]; rows.num_rows()];
    hash_rows_into(rows, &mut out, num_threads)?;
    Ok(out)
}

fn hash_chunks<O: Offset>(
    values: &[u8],
    offsets: &[O],
    out: &mut [Digest],
    rows_per_task: usize,
    parallel: bool,
    num_threads: usize,
) {
    let hash = |(k, chunk): (usize, &mut [Digest])| {
        let first = k * rows_per_task;
        for (i, digest) in (first..).zip(chunk) {
            let row = &values[offsets[i].to_usize()..offsets[i + 1].to_usize()];
            *digest = Sha256::digest(row).into();
        }
    };
    if parallel {
        run_with_threads(num_threads, || out.par_chunks_mut(rows_per_task).enumerate().for_each(hash));
    } else {
        hash((0, out));
    }
}

/// Writes each digest as 64 lowercase hex characters into `hex`, back to back, or with
/// `separator` between consecutive digests (not after the last): then one `str.split` gives
/// the strings, faster than slicing them out one by one. `hex` must be exactly that long.
pub fn write_hex(digests: &[Digest], separator: Option<u8>, hex: &mut [u8], num_threads: usize) -> Result<()> {
    let stride = if separator.is_some() { 65 } else { 64 };
    let needed = hex_len(digests.len(), separator);
    if needed != Some(hex.len()) {
        return Err(Error::invalid(format!(
            "the hex output holds {} bytes but {} digests need {}",
            hex.len(),
            digests.len(),
            needed.map_or("more than fit in memory".into(), |n| n.to_string())
        )));
    }
    let encode = |(hex, digests): (&mut [u8], &[Digest])| {
        // Every piece is `stride` bytes except the very last digest's (no separator after it).
        for (out, digest) in hex.chunks_mut(stride).zip(digests) {
            encode_hex(digest, &mut out[..64]);
            if let (Some(sep), Some(slot)) = (separator, out.get_mut(64)) {
                *slot = sep;
            }
        }
    };
    if digests.len() <= HEX_TASK_DIGESTS {
        encode((hex, digests));
    } else {
        run_with_threads(num_threads, || {
            hex.par_chunks_mut(stride * HEX_TASK_DIGESTS).zip(digests.par_chunks(HEX_TASK_DIGESTS)).for_each(encode)
        });
    }
    Ok(())
}

/// Bytes `write_hex` writes for `n` digests (None on overflow).
pub fn hex_len(n: usize, separator: Option<u8>) -> Option<usize> {
    match (n, separator) {
        (0, _) => Some(0),
        (n, None) => n.checked_mul(64),
        (n, Some(_)) => n.checked_mul(65).map(|b| b - 1),
    }
}

#[inline]
fn encode_hex(digest: &Digest, out: &mut [u8]) {
    for (pair, &byte) in out.chunks_exact_mut(2).zip(digest) {
        pair[0] = HEX_DIGITS[usize::from(byte >> 4)];
        pair[1] = HEX_DIGITS[usize::from(byte & 0xf)];
    }
}

/// The SHA-256 code sha2 runs on this machine: "sha-ni" (x86 SHA extensions), "aarch64-sha2"
/// (ARMv8 SHA2 instructions) or "soft/asm" (portable Rust; assembly on loongarch64).
///
/// Mirrors sha2 0.11's choice (src/sha256.rs): a `sha2_backend`/`sha2_256_backend` cfg given
/// in RUSTFLAGS forces a backend (the same cfg reaches this crate); otherwise sha2 asks the CPU
/// at runtime, on x86 for "sha" and "sse4.1" through cpufeatures' CPUID check.
#[expect(unexpected_cfgs, reason = "sha2's cfgs are unknown to this crate's check-cfg list")]
pub fn sha256_backend() -> &'static str {
    if cfg!(any(sha2_backend = "soft", sha2_256_backend = "soft")) {
        "soft/asm"
    } else if cfg!(sha2_256_backend = "x86-sha") || has_sha_ni() {
        "sha-ni"
    } else if cfg!(sha2_256_backend = "aarch64-sha2") || has_aarch64_sha2() {
        "aarch64-sha2"
    } else {
        "soft/asm"
    }
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn has_sha_ni() -> bool {
    // sha2 checks "sha" and "sse4.1"; its SHA-NI code also uses ssse3 and sse2, which every
    // CPU with sse4.1 has, so checking them too cannot change the answer.
    is_x86_feature_detected!("sha")
        && is_x86_feature_detected!("sse2")
        && is_x86_feature_detected!("ssse3")
        && is_x86_feature_detected!("sse4.1")
}

#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
fn has_sha_ni() -> bool {
    false
}

#[cfg(target_arch = "aarch64")]
fn has_aarch64_sha2() -> bool {
    std::arch::is_aarch64_feature_detected!("sha2")
}

#[cfg(not(target_arch = "aarch64"))]
fn has_aarch64_sha2() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(digests: &[Digest]) -> Vec<String> {
        let mut packed = vec![0u8; 64 * digests.len()];
        write_hex(digests, None, &mut packed, 0).unwrap();
        let mut split = vec![0u8; hex_len(digests.len(), Some(b'\n')).unwrap()];
        write_hex(digests, Some(b'\n'), &mut split, 0).unwrap();
        let hex: Vec<String> = packed.chunks(64).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
        let split = String::from_utf8(split).unwrap();
        assert_eq!(if hex.is_empty() { String::new() } else { hex.join("\n") }, split);
        hex
    }

    #[test]
    fn known_vectors_from_a_sliced_layout() {
        // FIPS 180-2 examples; junk before the first row and after the last (a sliced array).
        let long = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        let mut values = b"JUNK".to_vec();
        values.extend(b"abc");
        values.extend(long);
        values.extend(b"JUNK");
        let offsets = [4i32, 7, 7, 7 + long.len() as i32];
        let rows = Lists::new(Values::U8(&values), Offsets::I32(&offsets)).unwrap();
        assert_eq!(
            hex(&hash_rows(&rows, 1).unwrap()),
            [
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            ]
        );
    }

    #[test]
    fn same_result_for_every_thread_count() {
        // Pseudo-random rows of 0..3000 bytes: well past TASK_BYTES, so the pool is used.
        let mut rng = crate::testutil::Rng(0x9e3779b97f4a7c15);
        let mut next = || rng.next();
        let mut values = Vec::new();
        let mut offsets = vec![0i64];
        for _ in 0..2000 {
            let len = next() as usize % 3000;
            values.extend((0..len).map(|_| next() as u8));
            offsets.push(values.len() as i64);
        }
        let rows = Lists::new(Values::U8(&values), Offsets::I64(&offsets)).unwrap();
        let serial: Vec<Digest> =
            offsets.windows(2).map(|w| Sha256::digest(&values[w[0] as usize..w[1] as usize]).into()).collect();
        for threads in [1, 2, 3, 0, 10_000] {
            let digests = hash_rows(&rows, threads).unwrap();
            assert_eq!(digests, serial, "num_threads = {threads}");
            assert_eq!(hex(&digests), hex(&serial));
        }
        let many = vec![[0xa5u8; 32]; 3 * HEX_TASK_DIGESTS + 1]; // parallel hex path
        assert!(hex(&many).iter().all(|h| h == &"a5".repeat(32)));
    }

    #[test]
    fn bad_arguments() {
        let tokens = [1i32, 2];
        let offsets = [0i32, 2];
        let rows = Lists::new(Values::I32(&tokens), Offsets::I32(&offsets)).unwrap();
        assert!(matches!(hash_rows(&rows, 1), Err(Error::InvalidArgument(_))));
        let rows = Lists::new(Values::U8(b"ab"), Offsets::I32(&offsets)).unwrap();
        let mut out = vec![[0u8; 32]; 2];
        assert!(matches!(hash_rows_into(&rows, &mut out, 1), Err(Error::InvalidArgument(_))));
        let mut hex = vec![0u8; 128];
        assert!(matches!(write_hex(&out, Some(b' '), &mut hex, 1), Err(Error::InvalidArgument(_))));
        assert!(write_hex(&out, None, &mut hex, 1).is_ok());
        assert!(hash_rows(&Lists::new(Values::U8(&[]), Offsets::I64(&[0])).unwrap(), 0).unwrap().is_empty());
    }

    #[test]
    fn backend_matches_sha2s_choice() {
        let backend = sha256_backend();
        #[cfg(target_arch = "x86_64")]
        assert_eq!(backend == "sha-ni", is_x86_feature_detected!("sha") && is_x86_feature_detected!("sse4.1"));
        assert!(["sha-ni", "aarch64-sha2", "soft/asm"].contains(&backend), "{backend}");
    }
}
