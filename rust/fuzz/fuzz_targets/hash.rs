//! `fax_hash_rows`, `fax_hash_hex` and the `FaxSeen` set with inconsistent rows, lengths that
//! are not multiples of 32, NULL pointers and wrong output sizes: the predicted status, and
//! on success sha2's digests, the plain hex, and first occurrences from a `HashSet`.
#![no_main]

use std::collections::HashSet;

use arbitrary::Arbitrary;
use fastaxo::ffi::*;
use fastaxo_fuzz::{expect_status, nudge, reference, ListsInput};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

#[derive(Arbitrary, Debug)]
struct Input {
    rows: ListsInput,
    num_threads: u8,
    digests_len_delta: i8,
    null_digests: bool,
    separator: i8,
    hex_len_delta: i8,
    null_hex: bool,
    /// Digests inserted into a seen set in two calls: indices into the digests (repeats allowed).
    first: Vec<u8>,
    second: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let rows = input.rows.build();
    let n = rows.raw.num_rows;
    let digests_len = nudge(n.saturating_mul(32), input.digests_len_delta);
    // Room for what is claimed, when that is small enough to allocate.
    let mut digests = vec![0u8; if digests_len <= 1 << 20 { digests_len } else { 0 }];
    let null = input.null_digests || digests.len() != digests_len;
    let ptr = if null {
        std::ptr::null_mut()
    } else {
        digests.as_mut_ptr()
    };
    let status = unsafe { fax_hash_rows(&rows.raw, input.num_threads as usize, ptr, digests_len) };
    let bytes_rows = rows
        .expected
        .as_ref()
        .filter(|_| input.rows.values_dtype == fastaxo_fuzz::Dtype::U8);
    let ok = digests_len % 32 == 0 && !(null && digests_len > 0) && bytes_rows.is_some() && digests_len == 32 * n;
    expect_status(
        "fax_hash_rows",
        status,
        if ok { FAX_OK } else { FAX_ERR_INVALID_ARGUMENT },
    );
    let want: Vec<[u8; 32]> = match (ok, bytes_rows) {
        (true, Some(r)) => r
            .iter()
            .map(|row| Sha256::digest(row.iter().map(|&b| b as u8).collect::<Vec<u8>>()).into())
            .collect(),
        _ => return,
    };
    let got: Vec<[u8; 32]> = digests.chunks(32).map(|c| c.try_into().unwrap()).collect();
    assert_eq!(got, want);

    let sep = input.separator as u8;
    let exact = reference::hex(&want, sep);
    let hex_len = nudge(exact.len(), input.hex_len_delta);
    let mut hex = vec![0u8; hex_len];
    let hex_ptr = if input.null_hex {
        std::ptr::null_mut()
    } else {
        hex.as_mut_ptr().cast()
    };
    let status = unsafe {
        fax_hash_hex(
            digests.as_ptr(),
            want.len(),
            input.separator as _,
            hex_ptr,
            hex_len,
            input.num_threads as usize,
        )
    };
    let ok = hex_len == exact.len() && !(input.null_hex && hex_len > 0);
    expect_status(
        "fax_hash_hex",
        status,
        if ok { FAX_OK } else { FAX_ERR_INVALID_ARGUMENT },
    );
    if ok {
        assert_eq!(hex, exact);
    }
    check_seen(&want, &input.first, &input.second);
});

/// Two inserts into one set keep exactly the first occurrences a `HashSet` keeps.
fn check_seen(digests: &[[u8; 32]], first: &[u8], second: &[u8]) {
    if digests.is_empty() {
        return;
    }
    let mut seen = std::ptr::null_mut();
    expect_status("fax_seen_new", unsafe { fax_seen_new(&mut seen) }, FAX_OK);
    let mut reference = HashSet::new();
    for picks in [first, second] {
        let batch: Vec<[u8; 32]> = picks.iter().map(|&i| digests[i as usize % digests.len()]).collect();
        let want: Vec<i64> = (0..batch.len())
            .filter(|&i| reference.insert(batch[i]))
            .map(|i| i as i64)
            .collect();
        let mut kept = vec![-1i64; batch.len()];
        let mut num_kept = usize::MAX;
        let status = unsafe {
            fax_seen_insert(
                seen,
                batch.as_ptr().cast(),
                batch.len(),
                kept.as_mut_ptr(),
                &mut num_kept,
            )
        };
        expect_status("fax_seen_insert", status, FAX_OK);
        assert_eq!(kept[..num_kept], want[..]);
    }
    let mut len = 0usize;
    expect_status("fax_seen_len", unsafe { fax_seen_len(seen, &mut len) }, FAX_OK);
    assert_eq!(len, reference.len());
    let status = unsafe {
        fax_seen_insert(
            std::ptr::null_mut(),
            digests.as_ptr().cast(),
            1,
            std::ptr::null_mut(),
            &mut len,
        )
    };
    expect_status("fax_seen_insert(NULL)", status, FAX_ERR_INVALID_ARGUMENT);
    unsafe { fax_seen_free(seen) };
}
