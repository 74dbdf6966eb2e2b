//! Which format and compression a file has: from its name, confirmed by its first bytes.

use std::ffi::CStr;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::compression::{text, Compression};
use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Parquet,
    /// Arrow IPC, file or stream format (told apart by the magic bytes).
    Arrow,
    /// Feather v2 = the Arrow IPC file format.
    Feather,
    Csv,
    /// One top-level array of objects, or (as `datasets` accepts too) one object per line.
    Json,
    Jsonl,
    /// One row per line, in a column `text`.
    Text,
    /// A directory written by `datasets`' `save_to_disk`.
    HfDataset,
}

/// Every format with its name (a C string, for the C ABI too); a format's C code is its index.
pub const FORMATS: [(Format, &CStr); 8] = [
    (Format::Parquet, c"parquet"),
    (Format::Arrow, c"arrow"),
    (Format::Feather, c"feather"),
    (Format::Csv, c"csv"),
    (Format::Json, c"json"),
    (Format::Jsonl, c"jsonl"),
    (Format::Text, c"text"),
    (Format::HfDataset, c"hf_dataset"),
];

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

impl Format {
    pub fn name(self) -> &'static str {
        FORMATS.iter().find(|(f, _)| *f == self).map_or("?", |(_, n)| text(n))
    }

    pub fn code(self) -> i32 {
        FORMATS.iter().position(|(f, _)| *f == self).unwrap_or(0) as i32
    }
}

/// A format name as users write it: "parquet", "JSONL", "jsonl.zst", "csv.gz", "txt".
pub fn parse_format(name: &str) -> Result<(Format, Option<Compression>)> {
    let lower = name.trim().to_ascii_lowercase();
    let (base, compression) = match lower.rsplit_once('.') {
        Some((base, suffix)) => match compression_suffix(suffix) {
            Some(c) => (base.to_string(), Some(c)),
            None => (lower.clone(), None),
        },
        None => (lower.clone(), None),
    };
    let format = match base.as_str() {
        "txt" => Some(Format::Text),
        "ipc" | "arrows" => Some(Format::Arrow),
        "ndjson" => Some(Format::Jsonl),
        other => FORMATS.iter().find(|(_, n)| text(n) == other).map(|(f, _)| *f),
    };
    match format {
        Some(format) => Ok((format, compression)),
        None => {
            let names: Vec<&str> = FORMATS.iter().map(|(_, n)| text(n)).collect();
            Err(Error::invalid(format!("unknown dataset type {name:?}; known: {}", names.join(", "))))
        }
    }
}

fn compression_suffix(suffix: &str) -> Option<Compression> {
    match suffix {
        "zst" | "zstd" => Some(Compression::Zstd),
        "gz" | "gzip" => Some(Compression::Gzip),
        _ => None,
    }
}

/// Format and compression of a file: from its extensions, or from its first bytes when the
/// extension says nothing; the compression named must match the bytes.
pub fn detect(file: &Path) -> Result<(Format, Compression)> {
    let compression = compression_of(file)?;
    let name = file.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let base = match compression {
        Compression::None => name.as_str(),
        _ => name.rsplit_once('.').map_or("", |(b, _)| b),
    };
    let extension = base.rsplit_once('.').map_or("", |(_, e)| e);
    if let Some(format) = format_of_extension(extension) {
        return Ok((format, compression));
    }
    sniff(file, compression)
}

fn format_of_extension(extension: &str) -> Option<Format> {
    Some(match extension {
        "parquet" | "pq" => Format::Parquet,
        "arrow" | "ipc" | "arrows" => Format::Arrow,
        "feather" => Format::Feather,
        "csv" => Format::Csv,
        "json" => Format::Json,
        "jsonl" | "ndjson" => Format::Jsonl,
        "txt" | "text" => Format::Text,
        _ => return None,
    })
}

/// True when the name has an extension the readers know (shards in a directory).
pub(crate) fn has_known_extension(file: &Path) -> bool {
    let name = file.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let mut parts = name.rsplit('.');
    let last = parts.next().unwrap_or("");
    let base = if compression_suffix(last).is_some() { parts.next().unwrap_or("") } else { last };
    name.contains('.') && format_of_extension(base).is_some()
}

/// The compression a file's name announces, confirmed by its first bytes.
pub fn compression_of(file: &Path) -> Result<Compression> {
    let name = file.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let named = name.rsplit_once('.').and_then(|(_, s)| compression_suffix(s)).unwrap_or(Compression::None);
    confirm(file, named)
}

/// Fails unless the file's first bytes agree with `named`: a compressed file read as plain
/// text would be garbage, and a plain file named .zst is a mistake worth hearing about.
pub fn confirm(file: &Path, named: Compression) -> Result<Compression> {
    let head = first_bytes(file, 4)?;
    let actual = if head.starts_with(GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    };
    if actual == named {
        return Ok(named);
    }
    let described = |c: Compression| match c {
        Compression::None => "not compressed".to_string(),
        c => format!("{}-compressed", c.name()),
    };
    Err(Error::Format(format!(
        "{}: the name or dataset type says {} but the content is {}",
        file.display(),
        described(named),
        described(actual)
    )))
}

fn sniff(file: &Path, compression: Compression) -> Result<(Format, Compression)> {
    let unknown = || {
        Error::invalid(format!(
            "{}: cannot tell the format from the name; pass dataset_type (one of {})",
            file.display(),
            FORMATS.iter().map(|(_, n)| text(n)).collect::<Vec<_>>().join(", ")
        ))
    };
    if compression != Compression::None {
        return Err(unknown());
    }
    let head = first_bytes(file, 8)?;
    if head.starts_with(b"PAR1") {
        return Ok((Format::Parquet, compression));
    }
    if head.starts_with(b"ARROW1") || head.starts_with(&[0xff, 0xff, 0xff, 0xff]) {
        return Ok((Format::Arrow, compression));
    }
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') | Some(b'{') => Ok((Format::Json, compression)),
        _ => Err(unknown()),
    }
}

pub(crate) fn first_bytes(file: &Path, n: usize) -> Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    let f = File::open(file).map_err(|e| super::source::io_error(file, e))?;
    f.take(n as u64).read_to_end(&mut head).map_err(|e| super::source::io_error(file, e))?;
    Ok(head)
}
