//! Bytes of a file, decompressed on the fly; errors that name the file.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use super::compression::Compression;
use crate::error::{Error, Result};

const BUFFER: usize = 1 << 20;

/// An I/O error about `path`: a missing file is `NotFound`, the rest `Io`.
pub(crate) fn io_error(path: &Path, err: io::Error) -> Error {
    let message = format!("{}: {err}", path.display());
    match err.kind() {
        io::ErrorKind::NotFound => Error::NotFound(message),
        _ => Error::Io(message),
    }
}

/// An empty file is a mistake (a failed download, a truncated copy), not an empty dataset.
pub(crate) fn check_not_empty(file: &Path) -> Result<()> {
    let len = std::fs::metadata(file).map_err(|e| io_error(file, e))?.len();
    if len == 0 {
        return Err(Error::Format(format!("{}: the file is empty", file.display())));
    }
    Ok(())
}

/// The decompressed bytes of `file`, buffered; read errors (corrupt or truncated compressed
/// data among them) surface as `io::Error`s from the reader.
pub(crate) fn open_bytes(file: &Path, compression: Compression) -> Result<Box<dyn BufRead + Send>> {
    let raw = File::open(file).map_err(|e| io_error(file, e))?;
    Ok(match compression {
        Compression::None => Box::new(BufReader::with_capacity(BUFFER, raw)),
        Compression::Gzip => Box::new(BufReader::with_capacity(BUFFER, TruncationCheck::gzip(raw))),
        Compression::Zstd => {
            let decoder = zstd::stream::read::Decoder::new(raw).map_err(|e| io_error(file, e))?;
            Box::new(BufReader::with_capacity(BUFFER, decoder))
        }
    })
}

/// flate2's multi-member decoder reports a stream cut inside a member as a plain end of file;
/// this wrapper checks at the end that the last member was complete.
struct TruncationCheck {
    inner: flate2::bufread::MultiGzDecoder<BufReader<File>>,
}

impl TruncationCheck {
    fn gzip(raw: File) -> Self {
        TruncationCheck { inner: flate2::bufread::MultiGzDecoder::new(BufReader::with_capacity(BUFFER, raw)) }
    }
}

impl Read for TruncationCheck {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() && !self.inner.get_mut().fill_buf()?.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "trailing bytes after the gzip data"));
        }
        Ok(n)
    }
}

/// A file the Parquet and Arrow-file readers can seek in: the file itself, or its
/// decompressed copy in an anonymous temporary file (deleted when dropped).
pub(crate) fn seekable(file: &Path, compression: Compression) -> Result<File> {
    if compression == Compression::None {
        return File::open(file).map_err(|e| io_error(file, e));
    }
    let mut input = open_bytes(file, compression)?;
    let mut copy = tempfile::tempfile().map_err(|e| Error::Io(format!("cannot create a temporary file: {e}")))?;
    io::copy(&mut input, &mut copy).map_err(|e| io_error(file, e))?;
    Ok(copy)
}
