//! CSV with a header row (quoted fields may hold delimiters and newlines), types inferred from
//! the first records by arrow-csv; a later value that does not parse as its column's type is
//! an error that names the line. Empty fields are nulls. One thread cuts records ([`split`],
//! [`records`]) while others copy the wanted fields, once, into arrays ([`columns`]).

mod columns;
mod records;
mod split;

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use arrow_csv::reader::Format as CsvFormat;
use arrow_schema::SchemaRef;

use self::records::{Chunk, Records, Window};
use super::chunks::ParallelBatches;
use super::compression::Compression;
use super::json::INFER_LINES;
use super::source::{io_error, open_bytes};
use super::{project_indices, Part, ReadOptions};
use crate::error::{Error, Result};

/// Bytes read ahead to infer types from (at most `INFER_LINES` records of them).
const INFER_BYTES: usize = 8 << 20;

pub(crate) fn open(
    path: &Path,
    compression: Compression,
    schema: Option<&SchemaRef>,
    options: &ReadOptions,
) -> Result<Part> {
    let window = Window::new(open_bytes(path, compression)?, INFER_BYTES).map_err(|e| io_error(path, e))?;
    let source_schema = match schema {
        Some(schema) => schema.clone(),
        None => infer(&window, path)?,
    };
    let fields = source_schema.fields();
    let wanted = project_indices(&source_schema, options.columns.as_deref(), path)?
        .unwrap_or_else(|| (0..fields.len()).collect());
    let schema = Arc::new(source_schema.project(&wanted).map_err(|e| Error::invalid(e.to_string()))?);
    let path = path.to_path_buf();
    let mut records = Records::new(window, path.clone(), fields.len(), wanted.clone());
    records.header(&fields.iter().map(|f| f.name()).collect::<Vec<_>>())?;
    let decoding = schema.clone();
    let read = move |rows| records.take(rows);
    let decode = move |chunk: &Chunk| columns::decode(chunk, &decoding, &wanted, &path);
    let batches = ParallelBatches::new(read, decode, None, options.batch_size, options.threads);
    Ok(Part { schema, source_schema, batches: Box::new(batches) })
}

/// The schema arrow-csv infers from the first records of the window.
fn infer(window: &Window, path: &Path) -> Result<SchemaRef> {
    // Only records known to be complete: the window may end inside one.
    let records =
        if window.last { INFER_LINES } else { complete_records(&window.bytes).saturating_sub(2).min(INFER_LINES) };
    let format = CsvFormat::default().with_header(true);
    let (schema, _) = format
        .infer_schema(Cursor::new(window.bytes.as_slice()), Some(records))
        .map_err(|e| Error::Format(format!("{}: {e}", path.display())))?;
    if schema.fields().is_empty() {
        return Err(Error::Format(format!("{}: no header row", path.display())));
    }
    Ok(Arc::new(schema))
}

/// How many records `bytes` holds in full (the header counts as one).
fn complete_records(bytes: &[u8]) -> usize {
    let (mut spans, mut at, mut count) = (Vec::new(), 0, 0);
    while let Some(next) = split::record(bytes, at, false, &mut spans) {
        (at, count) = (next, count + 1);
    }
    count
}

#[cfg(test)]
mod tests;
