//! Arrow IPC: the file format (Feather v2) and the stream format (`datasets`' `.arrow` files).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_ipc::reader::{FileReader, StreamReader};
use arrow_schema::{ArrowError, SchemaRef};

use super::compression::Compression;
use super::source::{io_error, seekable};
use super::{project_indices, Batches, Part};
use crate::error::{Error, Result};

pub(crate) fn open(path: &Path, compression: Compression, columns: Option<&[String]>) -> Result<Part> {
    let mut file = if compression == Compression::None {
        File::open(path).map_err(|e| io_error(path, e))?
    } else {
        seekable(path, compression)?
    };
    let mut magic = [0u8; 6];
    let is_file_format = file.read_exact(&mut magic).is_ok() && &magic == b"ARROW1";
    file.seek(SeekFrom::Start(0)).map_err(|e| io_error(path, e))?;
    let bad = |e: ArrowError| Error::Format(format!("{}: not a readable Arrow IPC file: {e}", path.display()));
    let (full, batches): (SchemaRef, Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send>) =
        if is_file_format {
            let reader = FileReader::try_new_buffered(file, None).map_err(bad)?;
            (reader.schema(), Box::new(reader))
        } else {
            let reader = StreamReader::try_new_buffered(file, None).map_err(bad)?;
            (reader.schema(), Box::new(reader))
        };
    let wanted = project_indices(&full, columns, path)?;
    let schema = match &wanted {
        Some(w) => Arc::new(full.project(w).map_err(|e| Error::invalid(e.to_string()))?),
        None => full.clone(),
    };
    let path: PathBuf = path.to_path_buf();
    let batches: Batches = Box::new(batches.map(move |batch| {
        let batch = batch.map_err(|e| Error::Format(format!("{}: {e}", path.display())))?;
        match &wanted {
            Some(w) => batch.project(w).map_err(|e| Error::invalid(e.to_string())),
            None => Ok(batch),
        }
    }));
    Ok(Part { schema, source_schema: full, batches })
}
