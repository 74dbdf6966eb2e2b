//! Unit tests of the readers on small files written here (the Python tests compare every
//! format with pyarrow's readers on generated data).

use std::io::Write;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::RecordBatch;

use super::*;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
    path
}

fn read_all(path: &Path, options: &ReadOptions) -> Result<Vec<RecordBatch>> {
    open(path, options)?.collect()
}

fn opts(batch_size: usize) -> ReadOptions {
    ReadOptions { batch_size, ..Default::default() }
}

fn ints(batches: &[RecordBatch], column: &str) -> Vec<Option<i64>> {
    batches
        .iter()
        .flat_map(|b| b.column_by_name(column).unwrap().as_primitive::<Int64Type>().iter().collect::<Vec<_>>())
        .collect()
}

#[test]
fn jsonl_keeps_key_order_big_ints_and_missing_keys() {
    let dir = tempfile::tempdir().unwrap();
    let big = (1i64 << 62) + 1;
    let body = format!("{{\"b\": 1, \"a\": \"x\"}}\n\n{{\"a\": \"y\"}}\n{{\"b\": {big}, \"a\": null}}\n");
    let path = write(dir.path(), "d.jsonl", body.as_bytes());
    let batches = read_all(&path, &opts(2)).unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).collect::<Vec<_>>(), vec![2, 1]);
    let names: Vec<_> = batches[0].schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, vec!["b", "a"]);
    assert_eq!(ints(&batches, "b"), vec![Some(1), None, Some(big)]);
}

#[test]
fn jsonl_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str); 2] = [("{\"a\": 1}\n{\"a\": 2\n", "line 2"), ("{\"a\": 1}\n[1, 2]\n", "line 2")];
    for (body, want) in cases {
        let path = write(dir.path(), "bad.jsonl", body.as_bytes());
        let err = read_all(&path, &opts(100)).unwrap_err();
        assert!(err.message().contains(want), "{body:?}: {err}");
    }
    // Beyond the inference prefix, a value of another type is an error, never a cast.
    for late in ["0.5", "\"7\"", "true", "9223372036854775808", "2, \"b\": 3"] {
        let mut body = "{\"a\": 1}\n".repeat(json::INFER_LINES + 5);
        body.push_str(&format!("{{\"a\": {late}}}\n"));
        let path = write(dir.path(), "late.jsonl", body.as_bytes());
        let err = read_all(&path, &opts(64)).unwrap_err();
        assert!(err.message().contains(&format!("line {}", json::INFER_LINES + 6)), "{late}: {err}");
    }
    // The prefix also ends at INFER_BYTES, after the line that reaches it: two lines here.
    let long = format!("{{\"a\": 1, \"s\": \"{}\"}}\n", "x".repeat(json::INFER_BYTES / 2));
    for (late, why) in [("\"b\": 2", "b"), ("\"a\": 0.5", "integer")] {
        let body = format!("{long}{long}{{\"s\": \"y\", {late}}}\n");
        let path = write(dir.path(), "long.jsonl", body.as_bytes());
        let err = read_all(&path, &opts(64)).unwrap_err();
        let message = err.message();
        assert!(
            message.contains("line 3") && message.contains(why) && message.contains("the first 2 lines"),
            "{message}"
        );
    }
    // Within it, ints and floats widen to float64 (as pyarrow does).
    let path = write(dir.path(), "mixed.jsonl", b"{\"a\": 1}\n{\"a\": 1.5}\n");
    let batch = &read_all(&path, &opts(8)).unwrap()[0];
    assert_eq!(batch.schema().field(0).data_type(), &arrow_schema::DataType::Float64);
}

#[test]
fn json_array_is_read_like_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "d.json", b"[\n {\"a\": 1,\n  \"s\": \"x,]\\\"\"},\n {\"a\": 2, \"s\": \"y\"}\n]\n");
    let batches = read_all(&path, &opts(10)).unwrap();
    assert_eq!(ints(&batches, "a"), vec![Some(1), Some(2)]);
    let s = batches[0].column_by_name("s").unwrap().as_string::<i32>();
    assert_eq!(s.value(0), "x,]\"");
}

#[test]
fn compression_must_match_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "d.jsonl.zst", b"{\"a\": 1}\n");
    assert!(read_all(&plain, &opts(10)).unwrap_err().message().contains("not compressed"));
    let packed = zstd::encode_all(&b"{\"a\": 1}\n{\"a\": 2}\n"[..], 3).unwrap();
    let named_plain = write(dir.path(), "e.jsonl", &packed);
    assert!(read_all(&named_plain, &opts(10)).unwrap_err().message().contains("zstd"));
    let good = write(dir.path(), "f.jsonl.zst", &packed);
    assert_eq!(ints(&read_all(&good, &opts(10)).unwrap(), "a"), vec![Some(1), Some(2)]);
    let cut = write(dir.path(), "g.jsonl.zst", &packed[..packed.len() - 3]);
    assert!(read_all(&cut, &opts(10)).is_err());
}

#[test]
fn truncated_gzip_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all("{\"a\": 1}\n".repeat(1000).as_bytes()).unwrap();
    let packed = encoder.finish().unwrap();
    let good = write(dir.path(), "a.jsonl.gz", &packed);
    assert_eq!(read_all(&good, &opts(100)).unwrap().iter().map(|b| b.num_rows()).sum::<usize>(), 1000);
    let cut = write(dir.path(), "b.jsonl.gz", &packed[..packed.len() / 2]);
    assert!(read_all(&cut, &opts(100)).is_err());
}

#[test]
fn text_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let text = write(dir.path(), "t.txt", b"one\r\n\ntwo");
    let batches = read_all(&text, &opts(10)).unwrap();
    let column = batches[0].column(0).as_string::<i32>();
    assert_eq!(column.iter().collect::<Vec<_>>(), vec![Some("one"), Some(""), Some("two")]);
    let bad = write(dir.path(), "u.txt", b"ok\n\xff\n");
    assert!(read_all(&bad, &opts(10)).unwrap_err().message().contains("line 2"));
    let csv = write(dir.path(), "c.csv", b"n,s\n1,\"a,\nb\"\n2,c\n");
    let batches = read_all(&csv, &opts(1)).unwrap();
    assert_eq!(ints(&batches, "n"), vec![Some(1), Some(2)]);
    assert_eq!(batches[0].column(1).as_string::<i32>().value(0), "a,\nb");
    let mut body = "n\n".to_string() + &"1\n".repeat(json::INFER_LINES + 5);
    body.push_str("x\n");
    let late = write(dir.path(), "d.csv", body.as_bytes());
    assert!(read_all(&late, &opts(10)).is_err());
}

#[test]
fn bad_paths_and_options() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(open(&dir.path().join("missing.jsonl"), &opts(1)).err(), Some(Error::NotFound(_))));
    assert!(matches!(open(dir.path(), &opts(1)).err(), Some(Error::NotFound(_))));
    let empty = write(dir.path(), "e.parquet", b"");
    assert!(open(&empty, &opts(1)).err().unwrap().message().contains("empty"));
    let path = write(dir.path(), "x.jsonl", b"{\"a\": 1}\n");
    assert!(matches!(open(&path, &opts(0)).err(), Some(Error::InvalidArgument(_))));
    let wrong = ReadOptions { format: Some("yaml".into()), ..opts(1) };
    assert!(matches!(open(&path, &wrong).err(), Some(Error::InvalidArgument(_))));
    let missing_column = ReadOptions { columns: Some(vec!["z".into()]), ..opts(1) };
    assert!(open(&path, &missing_column).err().unwrap().message().contains("\"z\""));
}

#[test]
fn exact_batches_across_shards() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..3 {
        let body: String = (0..7).map(|j| format!("{{\"a\": {}}}\n", i * 7 + j)).collect();
        write(dir.path(), &format!("part-{i}.jsonl"), body.as_bytes());
    }
    let batches = read_all(dir.path(), &opts(5)).unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).collect::<Vec<_>>(), vec![5, 5, 5, 5, 1]);
    assert_eq!(ints(&batches, "a"), (0..21).map(Some).collect::<Vec<_>>());
    let pattern = dir.path().join("part-[02].jsonl");
    assert_eq!(ints(&read_all(&pattern, &opts(100)).unwrap(), "a").len(), 14);
}
