//! `fax_concatenate_rows` + `fax_concatenate_and_pack` on three streams that may disagree in
//! shape, be invalid, or come with wrong buffers: the predicted status, and on success the
//! reference (all tokens in order, cut into rows, last row padded).
#![no_main]

use arbitrary::Arbitrary;
use fastaxo::ffi::*;
use fastaxo_fuzz::{expect_status, nudge, reference, ListsInput, OffsetsInput, Out, Size};
use libfuzzer_sys::fuzz_target;

/// The labels or mask stream: mostly the ids' layout with other values (same shape).
#[derive(Arbitrary, Debug)]
enum Stream {
    SameShape(Vec<i64>),
    Other(ListsInput),
}

#[derive(Arbitrary, Debug)]
struct Input {
    ids: ListsInput,
    labels: Stream,
    mask: Stream,
    max_length: Size,
    pad: i64,
    label_pad: i64,
    out_len_delta: i8,
    null_rows: bool,
    null_out: [bool; 3],
}

fn stream(ids: &ListsInput, s: &Stream) -> ListsInput {
    match s {
        Stream::Other(l) => l.clone(),
        Stream::SameShape(values) => {
            let mut l = ids.clone();
            let n = l.values.len().max(match &l.offsets {
                OffsetsInput::Lengths { start, lengths } => {
                    *start as usize + lengths.iter().map(|&x| x as usize).sum::<usize>()
                }
                OffsetsInput::Raw(_) => 0,
            });
            l.values = values.iter().copied().cycle().take(n).collect();
            l.values.resize(n, 1);
            l
        }
    }
}

fuzz_target!(|input: Input| {
    let built = [
        input.ids.clone(),
        stream(&input.ids, &input.labels),
        stream(&input.ids, &input.mask),
    ]
    .map(|l| l.build());
    let max = input.max_length.get();
    let valid = match (&built[0].expected, &built[1].expected, &built[2].expected) {
        (Some(a), Some(b), Some(c)) if max >= 1 && reference::same_shape(a, b) && reference::same_shape(a, c) => {
            Some([a, b, c])
        }
        _ => None,
    };
    let total = valid.map(|[a, _, _]| a.iter().map(Vec::len).sum::<usize>());

    let mut rows = 0usize;
    let rows_ptr = if input.null_rows {
        std::ptr::null_mut()
    } else {
        &mut rows as *mut usize
    };
    let status = unsafe { fax_concatenate_rows(&built[0].raw, &built[1].raw, &built[2].raw, max, rows_ptr) };
    let plan_ok = valid.is_some() && !input.null_rows;
    expect_status(
        "fax_concatenate_rows",
        status,
        if plan_ok { FAX_OK } else { FAX_ERR_INVALID_ARGUMENT },
    );
    if plan_ok {
        assert_eq!(Some(rows), total.map(|t| t.div_ceil(max)));
    }

    let exact = total.map_or(Some(max), |t| t.div_ceil(max).checked_mul(max));
    let out_len = nudge(exact.unwrap_or(usize::MAX), input.out_len_delta);
    let mut outs = input.null_out.map(|null| Out::new(out_len, null));
    let [a, b, c] = &mut outs;
    let status = unsafe {
        fax_concatenate_and_pack(
            &built[0].raw,
            &built[1].raw,
            &built[2].raw,
            max,
            input.pad,
            input.label_pad,
            a.ptr(),
            b.ptr(),
            c.ptr(),
            out_len,
        )
    };
    let ok = valid.is_some() && !outs.iter().any(|o| o.is_bad(out_len)) && exact == Some(out_len);
    expect_status(
        "fax_concatenate_and_pack",
        status,
        if ok { FAX_OK } else { FAX_ERR_INVALID_ARGUMENT },
    );
    if let (true, Some([ids, labels, mask])) = (ok, valid) {
        assert_eq!(outs[0].0, reference::concatenate(ids, max, input.pad));
        assert_eq!(outs[1].0, reference::concatenate(labels, max, input.label_pad));
        assert_eq!(outs[2].0, reference::concatenate(mask, max, 0));
    }
});
