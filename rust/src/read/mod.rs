//! Streaming readers: Parquet, Arrow IPC (file and stream, Feather v2), JSON, JSONL, CSV and
//! text files, plain or zstd/gzip-compressed, one file, a directory of shards, a glob, or a
//! directory written by `datasets`' `save_to_disk` — all as one [`BatchReader`] of record
//! batches of exactly `batch_size` rows (the last may be shorter) in bounded memory.

mod chunks;
mod compression;
mod csv;
mod detect;
mod inputs;
mod ipc;
mod json;
mod parquet;
mod rebatch;
mod source;
mod text;

use std::path::{Path, PathBuf};

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, SchemaRef};

pub use compression::{Compression, COMPRESSIONS};
pub use detect::{detect, Format, FORMATS};
pub use inputs::{list_inputs, Inputs};

use crate::error::{Error, Result};

/// What to read and how.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Format (and compression) to assume instead of detecting it, e.g. "jsonl" or "jsonl.zst".
    pub format: Option<String>,
    /// Rows per output batch (the last batch may be shorter).
    pub batch_size: usize,
    /// Threads for decoding; 0 = all cores.
    pub threads: usize,
    /// Columns to read, in the order wanted; `None` = all, in the file's order.
    pub columns: Option<Vec<String>>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { format: None, batch_size: 1024, threads: 0, columns: None }
    }
}

/// Batches of one file, each `Err` ending the stream.
pub(crate) type Batches = Box<dyn Iterator<Item = Result<RecordBatch>> + Send>;

/// One opened file: its schema (after projection) and its batches.
pub(crate) struct Part {
    /// After projection.
    pub schema: SchemaRef,
    /// Before projection: what later JSON and CSV shards are decoded into.
    pub source_schema: SchemaRef,
    pub batches: Batches,
}

/// The record batches of one or more files of one format, `batch_size` rows each.
pub struct BatchReader {
    schema: SchemaRef,
    batches: Batches,
    failed: bool,
}

impl BatchReader {
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

impl Iterator for BatchReader {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        // After an error the stream is over: a caller that goes on must not see later rows
        // as if nothing had been lost.
        if self.failed {
            return None;
        }
        let item = self.batches.next();
        self.failed = matches!(item, Some(Err(_)));
        item
    }
}

impl Iterator for ArrowBatches {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|item| item.map_err(to_arrow_error))
    }
}

/// A [`BatchReader`] whose items are `Result<RecordBatch, ArrowError>`.
pub struct ArrowBatches(pub BatchReader);

impl RecordBatchReader for ArrowBatches {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }
}

/// Our error kinds as the Arrow errors whose C stream codes keep them apart: I/O -> EIO,
/// the rest -> EINVAL.
pub fn to_arrow_error(err: Error) -> ArrowError {
    match err {
        Error::Io(m) | Error::NotFound(m) => ArrowError::IoError(m.clone(), std::io::Error::other(m)),
        Error::Format(m) => ArrowError::ParseError(m),
        other => ArrowError::InvalidArgumentError(other.to_string()),
    }
}

/// Opens `path` (a file, a directory, a glob pattern, or a `save_to_disk` directory).
pub fn open(path: &Path, options: &ReadOptions) -> Result<BatchReader> {
    if options.batch_size < 1 {
        return Err(Error::invalid(format!("batch_size must be at least 1, got {}", options.batch_size)));
    }
    let forced = options.format.as_deref().map(detect::parse_format).transpose()?;
    let inputs = list_inputs(path, forced.map(|(format, _)| format))?;
    let mut files = inputs.files.into_iter();
    let first = files.next().expect("list_inputs returns at least one file");
    let kind = kind_of(&first, forced, inputs.format)?;
    let head = open_part(&first, kind, None, options)?;
    let schema = head.schema.clone();
    // Each file's own compression: a directory may hold `a.jsonl` beside `b.jsonl.gz`.
    let rest = files.map(move |file| {
        let kind = kind_of(&file, forced, Some(kind.0));
        (file, kind)
    });
    let batches = chain(head.batches, rest, schema.clone(), head.source_schema, options.clone());
    let batches = rebatch::exact(batches, options.batch_size);
    Ok(BatchReader { schema, batches, failed: false })
}

/// The files `open` reads for `path`, in reading order (see [`list_inputs`]); `format`: the
/// format the caller names, as in [`ReadOptions::format`] (then files of any name are taken).
pub fn list_files(path: &Path, format: Option<&str>) -> Result<Inputs> {
    let forced = format.map(detect::parse_format).transpose()?;
    list_inputs(path, forced.map(|(format, _)| format))
}

/// Format and compression of what `path` stands for (for a directory or pattern: of its files).
pub fn detect_path(path: &Path) -> Result<(Format, Compression)> {
    let inputs = list_inputs(path, None)?;
    match inputs.format {
        Some(Format::HfDataset) => Ok((Format::HfDataset, Compression::None)),
        listed => kind_of(&inputs.files[0], None, listed),
    }
}

fn kind_of(
    file: &Path,
    forced: Option<(Format, Option<Compression>)>,
    listed: Option<Format>,
) -> Result<(Format, Compression)> {
    match forced {
        Some((format, Some(compression))) => Ok((format, detect::confirm(file, compression)?)),
        Some((format, None)) => Ok((format, detect::compression_of(file)?)),
        None => match listed {
            Some(format) => Ok((format, detect::compression_of(file)?)),
            None => detect(file),
        },
    }
}

/// The files after the first: each opened when the previous one ends, read with the first
/// one's schema (JSON and CSV are decoded into it; other formats must match it).
fn chain(
    head: Batches,
    rest: impl Iterator<Item = (PathBuf, Result<(Format, Compression)>)> + Send + 'static,
    schema: SchemaRef,
    source_schema: SchemaRef,
    options: ReadOptions,
) -> Batches {
    let tails = rest.flat_map(move |(file, kind)| -> Batches {
        match kind.and_then(|kind| open_part(&file, kind, Some(&source_schema), &options)) {
            Ok(part) if part.schema == schema => part.batches,
            Ok(part) => Box::new(std::iter::once(Err(Error::Format(format!(
                "{}: its columns {} differ from the first file's {}",
                file.display(),
                describe(&part.schema),
                describe(&schema)
            ))))),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    });
    Box::new(head.chain(tails))
}

fn describe(schema: &SchemaRef) -> String {
    let fields: Vec<String> = schema.fields().iter().map(|f| format!("{}: {}", f.name(), f.data_type())).collect();
    format!("[{}]", fields.join(", "))
}

/// Opens one file. `schema`: the schema of the first file, which JSON and CSV shards decode
/// into instead of inferring their own.
fn open_part(
    file: &Path,
    (format, compression): (Format, Compression),
    schema: Option<&SchemaRef>,
    options: &ReadOptions,
) -> Result<Part> {
    source::check_not_empty(file)?;
    let columns = options.columns.as_deref();
    match format {
        Format::Parquet => parquet::open(&source::seekable(file, compression)?, file, columns, options),
        Format::Arrow | Format::Feather | Format::HfDataset => ipc::open(file, compression, columns),
        Format::Json | Format::Jsonl => json::open(file, compression, format, schema, options),
        Format::Csv => csv::open(file, compression, schema, options),
        Format::Text => text::open(file, compression, columns, options),
    }
}

/// `batch` with the `columns` of `schema`, in that order; `None` keeps all columns.
pub(crate) fn project_indices(
    schema: &arrow_schema::Schema,
    columns: Option<&[String]>,
    file: &Path,
) -> Result<Option<Vec<usize>>> {
    let Some(columns) = columns else { return Ok(None) };
    let mut indices = Vec::with_capacity(columns.len());
    for name in columns {
        let index = schema.index_of(name).map_err(|_| {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            Error::invalid(format!("{}: no column {name:?}; the columns are {names:?}", file.display()))
        })?;
        if indices.contains(&index) {
            return Err(Error::invalid(format!("column {name:?} is asked for twice")));
        }
        indices.push(index);
    }
    Ok(Some(indices))
}

/// Applies a projection to a part decoded in full (JSON, CSV).
pub(crate) fn project_part(schema: SchemaRef, batches: Batches, indices: Option<Vec<usize>>) -> Result<Part> {
    let Some(indices) = indices else { return Ok(Part { schema: schema.clone(), source_schema: schema, batches }) };
    let projected = std::sync::Arc::new(schema.project(&indices).map_err(|e| Error::invalid(e.to_string()))?);
    let batches =
        batches.map(move |batch| batch.and_then(|b| b.project(&indices).map_err(|e| Error::invalid(e.to_string()))));
    Ok(Part { schema: projected, source_schema: schema, batches: Box::new(batches) })
}

#[cfg(test)]
mod tests;
