//! The compressions the readers decode: their names, C codes and file suffixes (shared by
//! format detection and the decompressing byte source).

use std::ffi::CStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Every compression with its name and file suffix; a compression's C code is its index.
pub const COMPRESSIONS: [(Compression, &CStr, &str); 3] =
    [(Compression::None, c"none", ""), (Compression::Gzip, c"gzip", "gz"), (Compression::Zstd, c"zstd", "zst")];

/// A format's or compression's name as text.
pub(super) fn text(name: &'static CStr) -> &'static str {
    name.to_str().expect("names are ASCII")
}

impl Compression {
    pub fn name(self) -> &'static str {
        COMPRESSIONS.iter().find(|(c, _, _)| *c == self).map_or("?", |(_, n, _)| text(n))
    }

    pub fn code(self) -> i32 {
        COMPRESSIONS.iter().position(|(c, _, _)| *c == self).unwrap_or(0) as i32
    }
}
