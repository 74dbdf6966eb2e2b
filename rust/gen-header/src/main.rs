//! Writes `include/fastaxo.h` from the crate's sources with cbindgen, or, with `--check`,
//! fails when the committed header differs from what cbindgen generates now.
//! Usage (from rust/): cargo run -p fastaxo-gen-header [-- --check]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let header_path = crate_dir.join("../include/fastaxo.h");
    let check = std::env::args().any(|a| a == "--check");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("read cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen failed to generate the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);

    if check {
        compare(&header_path, &generated)
    } else {
        std::fs::write(&header_path, &generated).expect("write include/fastaxo.h");
        eprintln!("wrote {}", header_path.display());
        ExitCode::SUCCESS
    }
}

fn compare(path: &Path, generated: &[u8]) -> ExitCode {
    let committed = std::fs::read(path).unwrap_or_default();
    if committed == generated {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "{} is out of date with rust/src: run `cargo run -p fastaxo-gen-header` in rust/ and commit it",
            path.display()
        );
        ExitCode::FAILURE
    }
}
