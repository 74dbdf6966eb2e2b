//! The reading side: the input a window at a time, cut into records, each batch's wanted fields
//! noted as places in the windows (a [`Chunk`]), so that copying them out can run on other
//! threads while the next records are read.

use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::sync::Arc;

use super::split::{self, Span};
use crate::error::{Error, Result};
use crate::read::source::io_error;

/// Bytes read from the input at a time (more when one record is longer).
const READ_BYTES: usize = 4 << 20;

/// The decompressed input, a window of it at a time. A window is never changed once read, so
/// chunks can hold on to it.
pub(super) struct Window {
    input: Box<dyn BufRead + Send>,
    pub bytes: Arc<Vec<u8>>,
    /// Where the records not yet read start.
    start: usize,
    /// The input has ended: `bytes` holds all that is left of it.
    pub last: bool,
}

impl Window {
    /// The first `size` bytes of `input`.
    pub fn new(input: Box<dyn BufRead + Send>, size: usize) -> std::io::Result<Self> {
        let mut window = Window { input, bytes: Arc::default(), start: 0, last: false };
        window.next(size)?;
        Ok(window)
    }

    /// A new window: what is left of this one and up to `more` bytes of input.
    fn next(&mut self, more: usize) -> std::io::Result<()> {
        let held = &self.bytes[self.start..];
        let mut bytes = Vec::with_capacity(held.len() + more);
        bytes.extend_from_slice(held);
        let got = (&mut self.input).take(more as u64).read_to_end(&mut bytes)?;
        (self.bytes, self.start, self.last) = (Arc::new(bytes), 0, got < more);
        Ok(())
    }

    /// More input after a record that did not fit: at least as much again as is held.
    fn grow(&mut self) -> std::io::Result<()> {
        self.next(READ_BYTES.max(self.bytes.len() - self.start))
    }
}

/// One batch's records: each wanted field as (window, span), row after row.
pub(super) struct Chunk {
    pub windows: Vec<Arc<Vec<u8>>>,
    pub fields: Vec<(u32, Span)>,
    pub rows: usize,
    /// The line (records after the header, from 1) of the first row.
    pub first_line: usize,
}

pub(super) struct Records {
    window: Window,
    path: PathBuf,
    /// Fields per record.
    width: usize,
    /// The columns to keep, in the order wanted.
    wanted: Vec<usize>,
    /// The line of the next record.
    line: usize,
    spans: Vec<Span>,
}

impl Records {
    pub fn new(window: Window, path: PathBuf, width: usize, wanted: Vec<usize>) -> Self {
        Records { window, path, width, wanted, line: 1, spans: Vec::new() }
    }

    fn error(&self, message: impl std::fmt::Display) -> Error {
        Error::Format(format!("{}: {message}", self.path.display()))
    }

    /// The spans of the next record (into the window then held), `false` after the last.
    fn advance(&mut self) -> Result<bool> {
        loop {
            let window = &mut self.window;
            match split::record(&window.bytes, window.start, window.last, &mut self.spans) {
                Some(next) => {
                    window.start = next;
                    return Ok(true);
                }
                None if window.last => return Ok(false),
                None => window.grow().map_err(|e| io_error(&self.path, e))?,
            }
        }
    }

    /// The header row's names: they must be `expected` (a later shard's may differ).
    pub fn header(&mut self, expected: &[&String]) -> Result<()> {
        if !self.advance()? {
            return Err(self.error("no header row"));
        }
        let bytes = &self.window.bytes;
        let names: Vec<String> = self
            .spans
            .iter()
            .map(|span| {
                let mut value = Vec::new();
                span.copy_to(bytes, &mut value);
                String::from_utf8_lossy(&value).into_owned()
            })
            .collect();
        if names.iter().collect::<Vec<_>>() != expected {
            return Err(self.error(format!("the header {names:?} is not the columns {expected:?}")));
        }
        Ok(())
    }

    /// The next `rows` records (fewer at the end), `None` after the last.
    pub fn take(&mut self, rows: usize) -> Result<Option<Chunk>> {
        let mut chunk = Chunk {
            windows: Vec::new(),
            fields: Vec::with_capacity(rows.min(1 << 16) * self.wanted.len()),
            rows: 0,
            first_line: self.line,
        };
        while chunk.rows < rows {
            if !self.advance()? {
                break;
            }
            if self.spans.len() != self.width {
                let (line, width, got) = (self.line + chunk.rows, self.width, self.spans.len());
                return Err(
                    self.error(format!("incorrect number of fields for line {line}, expected {width} got {got}"))
                );
            }
            // The spans point into the window now held, which may be new.
            if chunk.windows.last().is_none_or(|w| !Arc::ptr_eq(w, &self.window.bytes)) {
                chunk.windows.push(self.window.bytes.clone());
            }
            let index = (chunk.windows.len() - 1) as u32;
            chunk.fields.extend(self.wanted.iter().map(|&i| (index, self.spans[i])));
            chunk.rows += 1;
        }
        if chunk.rows == 0 {
            return Ok(None);
        }
        self.line += chunk.rows;
        Ok(Some(chunk))
    }
}
