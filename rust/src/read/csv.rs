//! CSV with a header row (quoted fields may hold delimiters and newlines), types inferred from
//! the first records; a later value that does not parse as its column's type is an error that
//! names the line. Empty fields are nulls.

use std::io::{BufRead, Cursor, Read};
use std::path::Path;
use std::sync::Arc;

use arrow_csv::reader::Format as CsvFormat;
use arrow_csv::ReaderBuilder;
use arrow_schema::SchemaRef;

use super::compression::Compression;
use super::json::INFER_LINES;
use super::source::{io_error, open_bytes};
use super::{project_indices, project_part, Part, ReadOptions};
use crate::error::{Error, Result};

/// Bytes read ahead to infer types from (at most `INFER_LINES` records of them).
const INFER_BYTES: u64 = 8 << 20;

pub(crate) fn open(
    path: &Path,
    compression: Compression,
    schema: Option<&SchemaRef>,
    options: &ReadOptions,
) -> Result<Part> {
    let mut input = open_bytes(path, compression)?;
    let mut prefix = Vec::new();
    (&mut input).take(INFER_BYTES).read_to_end(&mut prefix).map_err(|e| io_error(path, e))?;
    let whole = (prefix.len() as u64) < INFER_BYTES;
    let format = CsvFormat::default().with_header(true);
    let bad = |e: arrow_schema::ArrowError| Error::Format(format!("{}: {e}", path.display()));
    let schema = match schema {
        Some(schema) => schema.clone(),
        None => {
            // Only records known to be complete: the prefix may end inside one.
            let records =
                if whole { INFER_LINES } else { complete_records(&prefix).saturating_sub(2).min(INFER_LINES) };
            let (schema, _) = format.infer_schema(Cursor::new(&prefix), Some(records)).map_err(bad)?;
            if schema.fields().is_empty() {
                return Err(Error::Format(format!("{}: no header row", path.display())));
            }
            Arc::new(schema)
        }
    };
    let wanted = project_indices(&schema, options.columns.as_deref(), path)?;
    let all: Box<dyn BufRead + Send> = Box::new(Cursor::new(prefix).chain(input));
    let reader = ReaderBuilder::new(schema.clone())
        .with_format(format.with_header_validation(true))
        .with_batch_size(options.batch_size)
        .build_buffered(all)
        .map_err(bad)?;
    let path = path.to_path_buf();
    let batches = reader.map(move |b| b.map_err(|e| Error::Format(format!("{}: {e}", path.display()))));
    project_part(schema, Box::new(batches), wanted)
}

/// How many records `bytes` holds in full (the header counts as one).
fn complete_records(bytes: &[u8]) -> usize {
    let mut reader = csv_core::Reader::new();
    let (mut output, mut ends) = (vec![0u8; 1 << 16], vec![0usize; 1024]);
    let (mut input, mut count) = (bytes, 0);
    loop {
        let (result, read, _, _) = reader.read_record(input, &mut output, &mut ends);
        input = &input[read..];
        match result {
            csv_core::ReadRecordResult::Record => count += 1,
            csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::End => return count,
            // A long record: its bytes are not needed, only where it ends.
            csv_core::ReadRecordResult::OutputFull | csv_core::ReadRecordResult::OutputEndsFull => {}
        }
    }
}
