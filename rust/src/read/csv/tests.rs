//! The reader against arrow-csv's own reader (what it replaced) on the same files, and its
//! errors. Cuts at every byte are tested in `split`; the Python tests compare with pyarrow.

use std::io::Write;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_select::concat::concat_batches;

use super::*;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path).unwrap().write_all(bytes).unwrap();
    path
}

fn ours(path: &Path, batch_size: usize, columns: Option<Vec<String>>) -> Result<Vec<RecordBatch>> {
    let options = ReadOptions { batch_size, columns, ..Default::default() };
    open(path, Compression::None, None, &options)?.batches.collect()
}

/// arrow-csv's reader with the schema it infers, as the reader was before.
fn arrow_csv(path: &Path) -> RecordBatch {
    let format = CsvFormat::default().with_header(true);
    let (schema, _) = format.infer_schema(std::fs::File::open(path).unwrap(), Some(INFER_LINES)).unwrap();
    let schema = Arc::new(schema);
    let reader = arrow_csv::ReaderBuilder::new(schema.clone())
        .with_format(format)
        .build(std::fs::File::open(path).unwrap())
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    concat_batches(&schema, &batches).unwrap()
}

const FILES: &[&str] = &[
    "i,f,b,s,d,t,n\n1,1.5,true,x,2020-01-02,2020-01-02T03:04:05,\n-2,1e3,False,\"q,\"\"r\"\"\",2021-12-31,2021-12-31 23:59:59.123,\n,,,,,,\n",
    "a,b\r\n1,\"two\r\nlines\"\r\n\r\n\r\n3,x\r4,\"\"\r\n",
    "a,b\n\"ab\"cd,5'2\"\n\"\",\"\"\"\"\n",
    "a,b,c\n1,,\n2,x,\n3,y,z",
    "a,b\n1,\"open quote to the end\nstill open",
    "h\u{e9},\u{65e5}\n\u{e9}t\u{e9},\u{672c}\n",
];

#[test]
fn same_batches_as_arrow_csv() {
    let dir = tempfile::tempdir().unwrap();
    for (i, body) in FILES.iter().enumerate() {
        let path = write(dir.path(), &format!("{i}.csv"), body.as_bytes());
        let expected = arrow_csv(&path);
        for batch_size in [1, 2, 1000] {
            let got = ours(&path, batch_size, None).unwrap();
            assert!(got.iter().all(|b| b.num_rows() <= batch_size));
            assert_eq!(concat_batches(&expected.schema(), &got).unwrap(), expected, "{body:?} at {batch_size}");
        }
        let last = expected.schema().fields().last().unwrap().name().clone();
        let got = ours(&path, 2, Some(vec![last.clone()])).unwrap();
        let wanted = expected.project(&[expected.num_columns() - 1]).unwrap();
        assert_eq!(concat_batches(&wanted.schema(), &got).unwrap(), wanted, "{body:?}, column {last}");
    }
}

fn error(body: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "e.csv", body.as_bytes());
    ours(&path, 1000, None).unwrap_err().message().to_string()
}

#[test]
fn errors_name_the_line() {
    let late = "n\n".to_string() + &"1\n".repeat(INFER_LINES + 5) + "x\n";
    let message = error(&late);
    assert!(message.contains("value 'x'") && message.contains(&format!("line {}", INFER_LINES + 6)), "{message}");
    let message = error(&("a,b\n".to_string() + &"1,2\n".repeat(INFER_LINES + 1) + "3\n"));
    assert!(message.contains(&format!("line {}, expected 2 got 1", INFER_LINES + 2)), "{message}");
    let message = error(&("a,b\n".to_string() + &"1,\n".repeat(INFER_LINES + 1) + "2,lost\n"));
    assert!(message.contains("value 'lost'") && message.contains("only empty values"), "{message}");
    // Past the records arrow-csv infers from, which must be text.
    let mut bad_text = ("a,b\n".to_string() + &"1,ok\n".repeat(INFER_LINES + 5) + "2,").into_bytes();
    bad_text.extend_from_slice(b"\xff\n");
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "u.csv", &bad_text);
    let message = ours(&path, 1000, None).unwrap_err().message().to_string();
    assert!(message.contains(&format!("invalid UTF-8 in column 1 at line {}", INFER_LINES + 6)), "{message}");
}

#[test]
fn a_shard_with_other_names_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(dir.path(), "a.csv", b"x,y\n1,2\n");
    let other = write(dir.path(), "b.csv", b"x,z\n1,2\n");
    let options = ReadOptions { batch_size: 10, ..Default::default() };
    let schema = open(&first, Compression::None, None, &options).unwrap().source_schema;
    let message = open(&other, Compression::None, Some(&schema), &options).err().unwrap().message().to_string();
    assert!(message.contains("the header [\"x\", \"z\"]"), "{message}");
}
