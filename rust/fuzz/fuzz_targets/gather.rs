//! `fax_gather_packed` with any packing (indices out of range, offsets decreasing or past
//! `order`, too many items for the width), labels of another shape, NULL pointers and wrong
//! output lengths: the predicted status, and on success the reference rows.
#![no_main]

use arbitrary::Arbitrary;
use fastaxo::ffi::*;
use fastaxo_fuzz::{expect_status, nudge, reference, ListsInput, Out, Size};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Order {
    /// Item indices modulo the number of rows (valid when there are rows).
    Items(Vec<u8>),
    Any(Vec<i64>),
}

#[derive(Arbitrary, Debug)]
enum BinOffsets {
    /// Bin sizes; the offsets then cover order from the start.
    Sizes(Vec<u8>),
    Any(Vec<i64>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    ids: ListsInput,
    /// None: labels are the tokens (a NULL labels pointer).
    labels: Option<ListsInput>,
    order: Order,
    bin_offsets: BinOffsets,
    /// Claim fewer bins than the offsets describe.
    fewer_bins: u8,
    width: Size,
    pads: [i64; 4],
    out_len_delta: i8,
    null_order: bool,
    null_pads: bool,
    null_out: [bool; 4],
}

fn check_packing(ids: &[Vec<i64>], order: &[i64], offsets: &[i64], width: usize) -> Result<Vec<Vec<usize>>, i32> {
    let (bad, items) = (FAX_ERR_INVALID_ARGUMENT, ids.len() as i64);
    if order.iter().any(|&i| i < 0 || i >= items) {
        return Err(bad);
    }
    let monotonic = offsets.windows(2).all(|w| w[0] <= w[1]);
    if offsets[0] < 0 || !monotonic || offsets[offsets.len() - 1] > order.len() as i64 {
        return Err(bad);
    }
    let bins: Vec<Vec<usize>> = offsets
        .windows(2)
        .map(|w| {
            order[w[0] as usize..w[1] as usize]
                .iter()
                .map(|&i| i as usize)
                .collect()
        })
        .collect();
    if bins
        .iter()
        .any(|b| b.iter().map(|&i| ids[i].len()).sum::<usize>() > width)
    {
        return Err(FAX_ERR_BUFFER_TOO_SMALL);
    }
    Ok(bins)
}

fuzz_target!(|input: Input| {
    let ids = input.ids.build();
    let labels = input.labels.as_ref().map(ListsInput::build);
    let rows = ids.raw.num_rows.max(1) as u64;
    let order: Vec<i64> = match &input.order {
        Order::Items(v) => v.iter().map(|&i| (i as u64 % rows) as i64).collect(),
        Order::Any(v) => v.clone(),
    };
    let offsets: Vec<i64> = match &input.bin_offsets {
        BinOffsets::Sizes(s) => std::iter::once(0)
            .chain(s.iter().scan(0i64, |acc, &x| {
                *acc += x as i64;
                Some(*acc)
            }))
            .collect(),
        BinOffsets::Any(v) => v.clone(),
    };
    // The pointer must hold num_bins + 1 offsets; with none, only NULL is honest.
    let num_bins = offsets
        .len()
        .saturating_sub(1)
        .saturating_sub(input.fewer_bins as usize);
    let offsets_ptr = if offsets.is_empty() {
        std::ptr::null()
    } else {
        offsets.as_ptr()
    };
    let width = input.width.get();
    let expected_bins = offsets.len().checked_sub(1).map(|_| num_bins);
    let exact = expected_bins.map_or(Some(0), |b| b.checked_mul(width));
    let out_len = nudge(exact.unwrap_or(usize::MAX), input.out_len_delta);
    let mut outs = input.null_out.map(|null| Out::new(out_len, null));
    let pads = FaxGatherPads {
        pad_token_id: input.pads[0],
        label_pad_id: input.pads[1],
        position_pad_id: input.pads[2],
        attention_pad_id: input.pads[3],
    };
    let [a, b, c, d] = &mut outs;
    let status = unsafe {
        fax_gather_packed(
            &ids.raw,
            labels.as_ref().map_or(std::ptr::null(), |l| &l.raw),
            if input.null_order {
                std::ptr::null()
            } else {
                order.as_ptr()
            },
            order.len(),
            offsets_ptr,
            num_bins,
            width,
            if input.null_pads { std::ptr::null() } else { &pads },
            a.ptr(),
            b.ptr(),
            c.ptr(),
            d.ptr(),
            out_len,
        )
    };

    let label_rows = match &labels {
        None => ids.expected.clone(),
        Some(l) => l.expected.clone(),
    };
    let expected = (|| {
        let bad = FAX_ERR_INVALID_ARGUMENT;
        let (Some(id_rows), Some(label_rows)) = (&ids.expected, &label_rows) else {
            return Err(bad);
        };
        if input.null_order && !order.is_empty()
            || offsets.is_empty()
            || input.null_pads
            || outs.iter().any(|o| o.is_bad(out_len))
        {
            return Err(bad);
        }
        let bins = check_packing(id_rows, &order, &offsets[..num_bins + 1], width)?;
        if !reference::same_shape(id_rows, label_rows) || exact != Some(out_len) {
            return Err(bad);
        }
        Ok(reference::gather(id_rows, label_rows, &bins, width, input.pads).expect("bins were checked"))
    })();
    match expected {
        Err(code) => expect_status("fax_gather_packed", status, code),
        Ok(want) => {
            expect_status("fax_gather_packed", status, FAX_OK);
            for (k, w) in want.iter().enumerate() {
                assert_eq!(&outs[k].0, w, "output {k}");
            }
        }
    }
});
