//! The files a path stands for: itself, the shards of a directory, the matches of a glob, or the
//! `.arrow` files a `save_to_disk` directory lists in its `state.json`.

use std::path::{Path, PathBuf};

use super::detect::{detect, has_known_extension, Format};
use crate::error::{Error, Result};

pub struct Inputs {
    /// In reading order; never empty.
    pub files: Vec<PathBuf>,
    /// The format every file has, when the listing decided it (directory of shards, dataset).
    pub format: Option<Format>,
}

/// Lists what `path` stands for; `forced`: the format the caller named, if any.
pub fn list_inputs(path: &Path, forced: Option<Format>) -> Result<Inputs> {
    if path.is_file() {
        return Ok(Inputs { files: vec![path.to_path_buf()], format: None });
    }
    if path.is_dir() {
        if path.join("state.json").is_file() {
            return saved_dataset(path);
        }
        if path.join("dataset_dict.json").is_file() {
            return Err(dataset_dict(path));
        }
        return shards(path, list_dir(path)?, forced, "directory");
    }
    let text = path.to_string_lossy();
    if text.contains(['*', '?', '[']) {
        return shards(path, glob_files(&text)?, forced, "pattern");
    }
    Err(Error::NotFound(format!("{}: no such file or directory", path.display())))
}

/// The data files of a `save_to_disk` directory, in the order `state.json` gives.
fn saved_dataset(dir: &Path) -> Result<Inputs> {
    let state_path = dir.join("state.json");
    let text = std::fs::read_to_string(&state_path).map_err(|e| super::source::io_error(&state_path, e))?;
    let bad = |why: &str| Error::Format(format!("{}: {why}", state_path.display()));
    let state: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(&e.to_string()))?;
    let entries = state.get("_data_files").and_then(|v| v.as_array()).ok_or_else(|| bad("no _data_files list"))?;
    let mut files = Vec::with_capacity(entries.len());
    for entry in entries {
        let name =
            entry.get("filename").and_then(|v| v.as_str()).ok_or_else(|| bad("a _data_files entry has no filename"))?;
        let file = dir.join(name);
        if !file.is_file() {
            return Err(Error::NotFound(format!("{}: listed in state.json but missing", file.display())));
        }
        files.push(file);
    }
    if files.is_empty() {
        return Err(bad("_data_files is empty"));
    }
    Ok(Inputs { files, format: Some(Format::HfDataset) })
}

fn dataset_dict(dir: &Path) -> Error {
    let splits: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().join("state.json").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        })
        .unwrap_or_default();
    Error::invalid(format!(
        "{}: a DatasetDict directory; read one split's directory instead (splits: {})",
        dir.display(),
        splits.join(", ")
    ))
}

/// Regular files of a directory, by name; hidden and `_`-prefixed files (`_SUCCESS`,
/// `.DS_Store`) are not data, as for `datasets` and Spark.
fn list_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| super::source::io_error(dir, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| super::source::io_error(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.starts_with('_') || !entry.path().is_file() {
            continue;
        }
        files.push(entry.path());
    }
    files.sort();
    Ok(files)
}

fn glob_files(pattern: &str) -> Result<Vec<PathBuf>> {
    let paths = glob::glob(pattern).map_err(|e| Error::invalid(format!("{pattern}: bad pattern: {e}")))?;
    let mut files = Vec::new();
    for path in paths {
        let path = path.map_err(|e| Error::Io(e.to_string()))?;
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(Error::NotFound(format!("{pattern}: no file matches")));
    }
    Ok(files)
}

/// The readable files among `candidates`, which must all have one format.
fn shards(path: &Path, candidates: Vec<PathBuf>, forced: Option<Format>, what: &str) -> Result<Inputs> {
    let files: Vec<PathBuf> = match forced {
        Some(_) => candidates,
        None => candidates.into_iter().filter(|f| has_known_extension(f)).collect(),
    };
    let Some(first) = files.first() else {
        return Err(Error::NotFound(format!("{}: {what} holds no readable data file", path.display())));
    };
    let format = match forced {
        Some(format) => format,
        None => {
            let format = detect(first)?.0;
            for file in &files[1..] {
                let other = detect(file)?.0;
                if other != format {
                    return Err(Error::invalid(format!(
                        "{}: {what} mixes formats ({} is {}, {} is {}); pass a pattern that selects one",
                        path.display(),
                        first.display(),
                        format.name(),
                        file.display(),
                        other.name()
                    )));
                }
            }
            format
        }
    };
    Ok(Inputs { files, format: Some(format) })
}
