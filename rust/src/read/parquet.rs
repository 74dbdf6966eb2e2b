//! Parquet: one reader per column, advanced in lockstep and decoded in parallel, so every core
//! works even on a file with a single row group; memory stays at a few pages per column.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use bytes::Bytes;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use parquet::file::reader::{ChunkReader, Length};
use rayon::prelude::*;

use super::{project_indices, Part, ReadOptions};
use crate::error::{Error, Result};
use crate::threads::{effective_threads, run_with_threads};

/// A file read with positional reads (`pread`): the readers of several columns share it from
/// several threads without sharing a file offset.
#[derive(Clone)]
struct Positional(Arc<File>);

impl Length for Positional {
    fn len(&self) -> u64 {
        self.0.metadata().map_or(0, |m| m.len())
    }
}

/// Bytes read at once behind a page header. The parquet crate reads a header (thrift) a byte
/// or a field at a time and the page's data apart: unbuffered, every header cost dozens of
/// `pread` calls, which dominated files of many small row groups (strace showed it).
const HEADER_READ_BYTES: usize = 1 << 10;

impl ChunkReader for Positional {
    type T = BufReader<PositionalRead>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(BufReader::with_capacity(HEADER_READ_BYTES, PositionalRead { file: self.0.clone(), offset: start }))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        // The range comes from the file's metadata: a corrupt one must not make us allocate
        // more than the file holds (a failed allocation aborts the process).
        if start.checked_add(length as u64).is_none_or(|end| end > self.len()) {
            let size = self.len();
            return Err(parquet::errors::ParquetError::EOF(format!(
                "{length} bytes at {start} are past the end ({size} bytes)"
            )));
        }
        let mut buffer = vec![0; length];
        self.0.read_exact_at(&mut buffer, start)?;
        Ok(buffer.into())
    }
}

struct PositionalRead {
    file: Arc<File>,
    offset: u64,
}

impl Read for PositionalRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

pub(crate) fn open(file: &File, path: &Path, columns: Option<&[String]>, options: &ReadOptions) -> Result<Part> {
    let source = Positional(Arc::new(file.try_clone().map_err(|e| super::source::io_error(path, e))?));
    let metadata = ArrowReaderMetadata::load(&source, Default::default())
        .map_err(|e| Error::Format(format!("{}: not a readable Parquet file: {e}", path.display())))?;
    let full = metadata.schema().clone();
    let wanted = project_indices(&full, columns, path)?.unwrap_or_else(|| (0..full.fields().len()).collect());
    let schema: SchemaRef = Arc::new(full.project(&wanted).map_err(|e| Error::invalid(e.to_string()))?);
    // One reader per column when there are threads to share them; else one for all.
    let groups: Vec<Vec<usize>> = if effective_threads(options.threads) > 1 && wanted.len() > 1 {
        wanted.iter().map(|&c| vec![c]).collect()
    } else {
        vec![wanted.clone()]
    };
    // The same rows for every reader: they are zipped in lockstep.
    let rows = decode_rows(&metadata, &wanted, options.batch_size);
    let readers =
        groups.iter().map(|roots| column_reader(&source, &metadata, roots, rows, path)).collect::<Result<Vec<_>>>()?;
    let row_groups = metadata.metadata().row_groups().iter().map(|g| g.num_rows() as u64).collect();
    let lockstep = Lockstep {
        readers,
        groups,
        wanted,
        schema: schema.clone(),
        threads: options.threads,
        path: path.to_path_buf(),
        row_groups,
        rows_read: 0,
    };
    Ok(Part { schema: schema.clone(), source_schema: full, batches: Box::new(lockstep) })
}

/// Rows the parquet crate decodes at a time for the columns `wanted`. It reserves a list's
/// values by rows, not by values, so a batch of lists spanning many small row groups regrows
/// (and copies) its buffers once per page; in batches of at most a row group they grow once,
/// and rebatch joins them with one copy. Flat columns keep `batch_size`: their buffers are
/// reserved whole or grow by doubling, so the smaller pieces would only add that copy and
/// more lockstep steps (measured slower when flat columns are read beside a list).
fn decode_rows(metadata: &ArrowReaderMetadata, wanted: &[usize], batch_size: usize) -> usize {
    let schema = metadata.schema();
    if !wanted.iter().all(|&c| schema.field(c).data_type().is_nested()) {
        return batch_size;
    }
    let groups = metadata.metadata().row_groups().iter();
    let largest = groups.map(|g| usize::try_from(g.num_rows()).unwrap_or(usize::MAX)).max();
    batch_size.min(largest.unwrap_or(batch_size).max(1))
}

fn column_reader(
    source: &Positional,
    metadata: &ArrowReaderMetadata,
    roots: &[usize],
    batch_size: usize,
    path: &Path,
) -> Result<ParquetRecordBatchReader> {
    let mask = ProjectionMask::roots(metadata.metadata().file_metadata().schema_descr(), roots.iter().copied());
    ParquetRecordBatchReaderBuilder::new_with_metadata(source.clone(), metadata.clone())
        .with_projection(mask)
        .with_batch_size(batch_size)
        .build()
        .map_err(|e| Error::Format(format!("{}: {e}", path.display())))
}

/// Column readers that yield the same rows per batch, zipped into batches.
struct Lockstep {
    readers: Vec<ParquetRecordBatchReader>,
    /// The file columns each reader yields (in file order).
    groups: Vec<Vec<usize>>,
    /// The file columns of the output, in output order.
    wanted: Vec<usize>,
    schema: SchemaRef,
    threads: usize,
    path: PathBuf,
    /// Rows per row group, to say where a decoding error is.
    row_groups: Vec<u64>,
    rows_read: u64,
}

impl Iterator for Lockstep {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let readers = &mut self.readers;
        let parts: Vec<_> = if readers.len() == 1 {
            vec![readers[0].next()]
        } else {
            run_with_threads(self.threads, || readers.par_iter_mut().map(|r| r.next()).collect())
        };
        if parts.iter().all(Option::is_none) {
            return None;
        }
        Some(self.zip(parts))
    }
}

impl Lockstep {
    fn zip(
        &mut self,
        parts: Vec<Option<std::result::Result<RecordBatch, arrow_schema::ArrowError>>>,
    ) -> Result<RecordBatch> {
        let mut columns: Vec<Option<ArrayRef>> = vec![None; self.wanted.len()];
        let mut rows = None;
        for (part, group) in parts.into_iter().zip(&self.groups) {
            let batch = match part {
                Some(Ok(batch)) => batch,
                Some(Err(e)) => return Err(self.error(&e.to_string())),
                None => return Err(self.error("a column ended before the others")),
            };
            if *rows.get_or_insert(batch.num_rows()) != batch.num_rows() {
                return Err(self.error("columns decoded to different row counts"));
            }
            for (column, file_index) in batch.columns().iter().zip(group) {
                let out = self.wanted.iter().position(|w| w == file_index).expect("group columns are wanted");
                columns[out] = Some(column.clone());
            }
        }
        let rows = rows.unwrap_or(0);
        self.rows_read += rows as u64;
        let columns: Vec<ArrayRef> = columns.into_iter().map(|c| c.expect("every wanted column is read")).collect();
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)
            .map_err(|e| self.error(&e.to_string()))
    }

    /// A decoding error, located by row group (the batch being read starts at `rows_read`).
    fn error(&self, message: &str) -> Error {
        let mut start = 0;
        for (index, rows) in self.row_groups.iter().enumerate() {
            if self.rows_read < start + rows {
                return Error::Format(format!(
                    "{}: row group {index} (rows {start}..{}): {message}",
                    self.path.display(),
                    start + rows
                ));
            }
            start += rows;
        }
        Error::Format(format!("{}: {message}", self.path.display()))
    }
}
