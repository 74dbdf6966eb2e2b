//! `fax_pad_width` + `fax_pad_sequences` on inconsistent token lists, sizes and buffers: every
//! call returns the status the documented rules predict, and a successful pad equals the
//! plain reference.
#![no_main]

use arbitrary::Arbitrary;
use fastaxo::ffi::*;
use fastaxo_fuzz::{expect_status, nudge, reference, ListsInput, Out, Size};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    lists: ListsInput,
    target: Size,
    multiple: Size,
    /// None: pad to the planned width; else this one.
    width: Option<Size>,
    out_len_delta: i8,
    null_width: bool,
    null_out: bool,
    pad_value: i64,
    side: u8,
}

fuzz_target!(|input: Input| {
    let lists = input.lists.build();
    let rows = lists.expected.as_ref();
    let (target, multiple) = (input.target.get(), input.multiple.get());
    let planned = rows.and_then(|r| reference::pad_width(r, target, multiple));

    let mut width = 0usize;
    let width_ptr = if input.null_width {
        std::ptr::null_mut()
    } else {
        &mut width as *mut usize
    };
    let status = unsafe { fax_pad_width(&lists.raw, target, multiple, width_ptr) };
    let ok = planned.is_some() && !input.null_width;
    expect_status(
        "fax_pad_width",
        status,
        if ok { FAX_OK } else { FAX_ERR_INVALID_ARGUMENT },
    );
    if ok {
        assert_eq!(Some(width), planned);
    }

    let width = input.width.map_or(planned.unwrap_or(3), Size::get);
    let num_rows = lists.raw.num_rows;
    let exact = num_rows.checked_mul(width);
    let out_len = nudge(exact.unwrap_or(usize::MAX), input.out_len_delta);
    let mut out = Out::new(out_len, input.null_out);
    let side = (input.side % 3) as u32; // 2: an unknown side
    let status = unsafe { fax_pad_sequences(&lists.raw, width, input.pad_value, side, out.ptr(), out_len) };
    let longest = rows.map_or(0, |r| r.iter().map(Vec::len).max().unwrap_or(0));
    let expected = if side > 1 || rows.is_none() || out.is_bad(out_len) || exact != Some(out_len) {
        FAX_ERR_INVALID_ARGUMENT
    } else if longest > width {
        FAX_ERR_BUFFER_TOO_SMALL
    } else {
        FAX_OK
    };
    expect_status("fax_pad_sequences", status, expected);
    if expected == FAX_OK {
        assert_eq!(out.0, reference::pad(rows.unwrap(), width, input.pad_value, side == 1));
    }
});
