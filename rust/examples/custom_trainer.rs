//! TRL's "bfd" packing of a few token rows with the fastaxo crate.
use fastaxo::segments::concat_into;
use fastaxo::trlpack::pack_groups;

fn main() -> fastaxo::Result<()> {
    let rows: Vec<Vec<i32>> = vec![vec![1, 2, 3], vec![4, 5], vec![6, 7, 8, 9], vec![10]];
    let lengths: Vec<i64> = rows.iter().map(|r| r.len() as i64).collect();
    // The gather copies bytes: each row as its tokens' native-endian bytes.
    let bytes: Vec<Vec<u8>> = rows.iter().map(|r| r.iter().flat_map(|t| t.to_ne_bytes()).collect()).collect();
    // One group (one `datasets.map` batch), rows of at most 5 tokens.
    let packing = pack_groups(&lengths, &[0, rows.len()], 5)?;
    for bin in packing.bin_offsets.windows(2) {
        let items = &packing.order[bin[0] as usize..bin[1] as usize];
        let parts: Vec<&[u8]> = items.iter().map(|&i| bytes[i as usize].as_slice()).collect();
        let mut packed = vec![0u8; parts.iter().map(|p| p.len()).sum()];
        concat_into(&parts, &mut packed)?;
        let tokens: Vec<i32> = packed.chunks_exact(4).map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]])).collect();
        println!("{tokens:?}");
    }
    Ok(())
}
