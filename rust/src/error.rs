//! The one error type of the kernels; `ffi` maps each kind to a status code.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The caller passed something the kernel cannot accept.
    InvalidArgument(String),
    /// Reading or writing a file failed.
    Io(String),
    /// A path names nothing (no such file, or a pattern that matches no file).
    NotFound(String),
    /// Data is not in the format it claims to be.
    Format(String),
    /// An output buffer is smaller than the result; `needed` is the size that fits.
    BufferTooSmall { needed: usize, message: String },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidArgument(message.into())
    }

    pub fn message(&self) -> &str {
        match self {
            Error::InvalidArgument(m) | Error::Io(m) | Error::NotFound(m) | Error::Format(m) => m,
            Error::BufferTooSmall { message, .. } => message,
        }
    }
}

/// Fails unless the output `name` holds exactly `expected` elements.
pub fn check_len(name: &str, len: usize, expected: usize) -> Result<()> {
    if len == expected {
        return Ok(());
    }
    Err(Error::invalid(format!("{name} holds {len} elements, expected {expected}")))
}

/// Elements of a row-major `[rows, width]` output. An unchecked product can wrap to a small
/// size and accept a too-small (even empty) buffer, so an overflow is refused, naming
/// `width_name`, the argument that set the width.
pub fn matrix_len(rows: usize, width: usize, width_name: &str) -> Result<usize> {
    rows.checked_mul(width)
        .ok_or_else(|| Error::invalid(format!("{rows} rows of {width_name} {width} overflow the address space")))
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}
