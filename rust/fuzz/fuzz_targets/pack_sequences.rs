//! `fax_pack_sequences_rows` + `fax_pack_sequences` on inconsistent lists, lengths and
//! buffers: the status the rules predict, and on success the reference packing (tokens,
//! labels, mask, overflow counts).
#![no_main]

use arbitrary::Arbitrary;
use fastaxo::ffi::*;
use fastaxo_fuzz::{expect_status, nudge, reference, ListsInput, Out, Size};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    lists: ListsInput,
    max_length: Size,
    rule: u8,
    pad: i64,
    eos: i64,
    label_pad: i64,
    out_len_delta: i8,
    null_rows: bool,
    null_out: [bool; 3],
    null_counts: bool,
}

fuzz_target!(|input: Input| {
    let lists = input.lists.build();
    let max = input.max_length.get();
    let rule = (input.rule % 5) as u32; // 4: an unknown rule
    let expected = lists
        .expected
        .as_ref()
        .and_then(|r| reference::pack(r, max, input.eos, rule));

    let mut rows = 0usize;
    let rows_ptr = if input.null_rows {
        std::ptr::null_mut()
    } else {
        &mut rows as *mut usize
    };
    let status = unsafe { fax_pack_sequences_rows(&lists.raw, max, rule, rows_ptr) };
    let plan_ok = expected.is_some() && !input.null_rows;
    expect_status(
        "fax_pack_sequences_rows",
        status,
        if plan_ok { FAX_OK } else { FAX_ERR_INVALID_ARGUMENT },
    );
    if plan_ok {
        assert_eq!(rows, expected.as_ref().unwrap().0.len());
    }

    let planned_rows = expected.as_ref().map_or(1, |(r, _)| r.len());
    let exact = planned_rows.checked_mul(max);
    let out_len = nudge(exact.unwrap_or(usize::MAX), input.out_len_delta);
    let mut outs = input.null_out.map(|null| Out::new(out_len, null));
    let mut counts = FaxPackCounts {
        split: 7,
        truncated: 7,
        dropped: 7,
    };
    let counts_ptr = if input.null_counts {
        std::ptr::null_mut()
    } else {
        &mut counts as *mut FaxPackCounts
    };
    let [a, b, c] = &mut outs;
    let status = unsafe {
        fax_pack_sequences(
            &lists.raw,
            max,
            input.pad,
            input.eos,
            input.label_pad,
            rule,
            a.ptr(),
            b.ptr(),
            c.ptr(),
            out_len,
            counts_ptr,
        )
    };
    let ok = expected.is_some() && !outs.iter().any(|o| o.is_bad(out_len)) && exact == Some(out_len);
    expect_status(
        "fax_pack_sequences",
        status,
        if ok { FAX_OK } else { FAX_ERR_INVALID_ARGUMENT },
    );
    if ok {
        let (packed, want_counts) = expected.unwrap();
        let (ids, mask) = reference::lay_out(&packed, max, input.pad);
        let (labels, _) = reference::lay_out(&packed, max, input.label_pad);
        assert_eq!((&outs[0].0, &outs[1].0, &outs[2].0), (&ids, &labels, &mask));
        if !input.null_counts {
            assert_eq!([counts.split, counts.truncated, counts.dropped], want_counts);
        }
    }
});
