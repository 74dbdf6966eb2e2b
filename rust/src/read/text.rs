//! Text: one row per line in a column `text`, line breaks (`\n`, `\r\n`) removed, empty lines
//! kept as empty strings; bytes that are not UTF-8 are an error naming the line.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::compression::Compression;
use super::source::{io_error, open_bytes};
use super::{project_indices, project_part, Part, ReadOptions};
use crate::error::{Error, Result};

pub(crate) fn open(
    path: &Path,
    compression: Compression,
    columns: Option<&[String]>,
    options: &ReadOptions,
) -> Result<Part> {
    let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new("text", DataType::Utf8, false)]));
    let wanted = project_indices(&schema, columns, path)?;
    let reader = TextReader {
        input: open_bytes(path, compression)?,
        path: path.to_path_buf(),
        schema: schema.clone(),
        batch_size: options.batch_size,
        line: 0,
        done: false,
    };
    project_part(schema, Box::new(reader), wanted)
}

struct TextReader {
    input: Box<dyn BufRead + Send>,
    path: PathBuf,
    schema: SchemaRef,
    batch_size: usize,
    line: u64,
    done: bool,
}

impl Iterator for TextReader {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let batch = self.batch();
        if !matches!(batch, Ok(Some(_))) {
            self.done = true;
        }
        batch.transpose()
    }
}

impl TextReader {
    fn batch(&mut self) -> Result<Option<RecordBatch>> {
        let mut out = StringBuilder::new();
        let mut line = Vec::new();
        let mut rows = 0;
        while rows < self.batch_size {
            line.clear();
            if self.input.read_until(b'\n', &mut line).map_err(|e| io_error(&self.path, e))? == 0 {
                break;
            }
            self.line += 1;
            if line.last() == Some(&b'\n') {
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
            }
            let text = std::str::from_utf8(&line).map_err(|e| {
                Error::Format(format!("{}: line {}: not valid UTF-8 ({e})", self.path.display(), self.line))
            })?;
            out.append_value(text);
            rows += 1;
        }
        if rows == 0 {
            return Ok(None);
        }
        RecordBatch::try_new(self.schema.clone(), vec![Arc::new(out.finish())])
            .map(Some)
            .map_err(|e| Error::Format(e.to_string()))
    }
}
