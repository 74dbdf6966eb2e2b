//! JSON Lines (and JSON arrays, turned into lines as they stream by): chunks of lines read in
//! order and decoded in parallel by arrow-json, into a schema inferred from the first lines.
//!
//! Exact or an error, never a silent change: a key not seen while inferring, a float or a
//! string in an integer column, an integer beyond int64, a line that is not an object — each
//! stops the read with the line (or array element) number. Integers stay int64 (exact beyond
//! 2^53); a missing key is a null; columns keep the order the keys first appear in.

use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_json::reader::{ArrayDecoder, DecoderContext, DecoderFactory, Tape, TapeElement};
use arrow_json::ReaderBuilder;
use arrow_schema::{ArrowError, DataType, Field, FieldRef, Fields, Schema, SchemaRef};
use serde_json::{Map, Value};

use super::chunks::ParallelBatches;
use super::compression::Compression;
use super::detect::Format;
use super::source::{io_error, open_bytes};
use super::{project_indices, project_part, Part, ReadOptions};
use crate::error::{Error, Result};

/// Lines read to infer the columns and their types...
pub(crate) const INFER_LINES: usize = 1000;
/// ...and the bytes: inference stops after the line that reaches this size (so it always has
/// one), since 1000 long lines (documents, token lists) can be hundreds of MB held at once.
pub(crate) const INFER_BYTES: usize = 16 << 20;

pub(crate) fn open(
    path: &Path,
    compression: Compression,
    format: Format,
    schema: Option<&SchemaRef>,
    options: &ReadOptions,
) -> Result<Part> {
    let mut input = open_bytes(path, compression)?;
    let array = format == Format::Json && first_byte(&mut input, path)? == Some(b'[');
    let input: Box<dyn BufRead + Send> =
        if array { Box::new(io::BufReader::with_capacity(1 << 20, ArrayToLines::new(input))) } else { input };
    let unit = if array { "element" } else { "line" };
    let place = Place { path: path.to_path_buf(), unit, schema_from: "the first file".into() };
    let mut lines = Lines { input, place, line: 0 };
    let mut pending = None;
    let schema = match schema {
        Some(schema) => schema.clone(),
        None => {
            let head = lines.chunk(INFER_LINES, INFER_BYTES)?;
            let head = head.ok_or_else(|| Error::Format(format!("{}: holds no JSON object", path.display())))?;
            let schema = infer(&head, &lines.place)?;
            lines.place.schema_from = format!("the first {} {unit}s", head.len());
            pending = Some(head);
            schema
        }
    };
    let wanted = project_indices(&schema, options.columns.as_deref(), path)?;
    let (decoding, place) = (schema.clone(), lines.place.clone());
    let read = move |rows| lines.chunk(rows, usize::MAX);
    let decode = move |chunk: &Chunk| decode(chunk, &decoding, &place);
    let reader = ParallelBatches::new(read, decode, pending, options.batch_size, options.threads);
    project_part(schema, Box::new(reader), wanted)
}

/// The first byte that is not whitespace (without consuming anything else).
fn first_byte(input: &mut Box<dyn BufRead + Send>, path: &Path) -> Result<Option<u8>> {
    loop {
        let buf = input.fill_buf().map_err(|e| io_error(path, e))?;
        if buf.is_empty() {
            return Ok(None);
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => return Ok(Some(buf[i])),
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    }
}

/// Non-blank lines, numbered from 1.
struct Lines {
    input: Box<dyn BufRead + Send>,
    place: Place,
    line: u64,
}

/// What errors name: the file, whether its values are lines or array elements, and what the
/// schema was inferred from (a value that does not fit it is an error).
#[derive(Clone)]
struct Place {
    path: PathBuf,
    unit: &'static str,
    schema_from: String,
}

impl Place {
    fn error(&self, number: u64, message: impl std::fmt::Display) -> Error {
        Error::Format(format!("{}: {} {number}: {message}", self.path.display(), self.unit))
    }
}

/// Consecutive non-blank lines: their bytes, and where each starts and what its number is.
struct Chunk {
    bytes: Vec<u8>,
    starts: Vec<usize>,
    numbers: Vec<u64>,
}

impl Chunk {
    fn line(&self, i: usize) -> &[u8] {
        let end = self.starts.get(i + 1).copied().unwrap_or(self.bytes.len());
        &self.bytes[self.starts[i]..end]
    }

    fn len(&self) -> usize {
        self.starts.len()
    }
}

impl Lines {
    /// The next non-blank lines: `max_lines` of them, or fewer once they hold `max_bytes`.
    fn chunk(&mut self, max_lines: usize, max_bytes: usize) -> Result<Option<Chunk>> {
        let mut chunk = Chunk { bytes: Vec::new(), starts: Vec::new(), numbers: Vec::new() };
        while chunk.len() < max_lines && chunk.bytes.len() < max_bytes {
            let start = chunk.bytes.len();
            let n = self.input.read_until(b'\n', &mut chunk.bytes).map_err(|e| io_error(&self.place.path, e))?;
            if n == 0 {
                break;
            }
            self.line += 1;
            if chunk.bytes[start..].iter().all(|b| b.is_ascii_whitespace()) {
                chunk.bytes.truncate(start);
                continue;
            }
            if chunk.bytes.last() != Some(&b'\n') {
                chunk.bytes.push(b'\n');
            }
            chunk.starts.push(start);
            chunk.numbers.push(self.line);
        }
        Ok((chunk.len() > 0).then_some(chunk))
    }
}

/// The schema of the first lines, columns in the order their keys first appear.
fn infer(head: &Chunk, lines: &Place) -> Result<SchemaRef> {
    let mut values = Vec::with_capacity(head.len());
    for i in 0..head.len() {
        values.push(parse_object(head.line(i)).map_err(|m| lines.error(head.numbers[i], m))?);
    }
    let inferred = arrow_json::reader::infer_json_schema_from_iterator(values.iter().map(Ok::<_, ArrowError>))
        .map_err(|e| Error::Format(format!("{}: {e}", lines.path.display())))?;
    let objects: Vec<&Map<String, Value>> = values.iter().filter_map(Value::as_object).collect();
    Ok(Arc::new(Schema::new(ordered_fields(inferred.fields(), &objects))))
}

/// One line as a JSON object, or why it is not one.
fn parse_object(line: &[u8]) -> std::result::Result<Value, String> {
    let value: Value = serde_json::from_slice(line).map_err(|e| format!("malformed JSON: {e}"))?;
    if !value.is_object() {
        let kind = match value {
            Value::Array(_) => "an array",
            Value::String(_) => "a string",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            _ => "null",
        };
        return Err(format!("expected a JSON object, got {kind}"));
    }
    Ok(value)
}

/// `fields` (inferred, in no particular order) in the order their keys first appear in
/// `objects`, nested structs too.
fn ordered_fields(fields: &Fields, objects: &[&Map<String, Value>]) -> Vec<Field> {
    let mut order: Vec<&str> = Vec::new();
    for object in objects {
        for key in object.keys() {
            if !order.contains(&key.as_str()) {
                order.push(key);
            }
        }
    }
    order
        .into_iter()
        .filter_map(|name| fields.find(name).map(|(_, f)| f))
        .map(|field| {
            let values: Vec<&Value> = objects.iter().filter_map(|o| o.get(field.name())).collect();
            field.as_ref().clone().with_data_type(ordered_type(field.data_type(), &values))
        })
        .collect()
}

fn ordered_type(data_type: &DataType, values: &[&Value]) -> DataType {
    match data_type {
        DataType::Struct(fields) => {
            let objects: Vec<&Map<String, Value>> = values.iter().filter_map(|v| v.as_object()).collect();
            DataType::Struct(ordered_fields(fields, &objects).into())
        }
        DataType::List(item) => {
            let items: Vec<&Value> = values.iter().filter_map(|v| v.as_array()).flatten().collect();
            let item = item.as_ref().clone().with_data_type(ordered_type(item.data_type(), &items));
            DataType::List(Arc::new(item))
        }
        other => other.clone(),
    }
}

fn decoder(schema: &SchemaRef, rows: usize) -> Result<arrow_json::reader::Decoder> {
    ReaderBuilder::new(schema.clone())
        .with_batch_size(rows.max(1))
        .with_strict_mode(true)
        .with_decoder_factory(Arc::new(ExactNumbers))
        .build_decoder()
        .map_err(|e| Error::invalid(e.to_string()))
}

fn decode(chunk: &Chunk, schema: &SchemaRef, lines: &Place) -> Result<RecordBatch> {
    decode_bytes(&chunk.bytes, schema, chunk.len()).map_err(|e| {
        locate(chunk, schema, lines).unwrap_or_else(|| Error::Format(format!("{}: {e}", lines.path.display())))
    })
}

fn decode_bytes(bytes: &[u8], schema: &SchemaRef, rows: usize) -> std::result::Result<RecordBatch, String> {
    let mut decoder = decoder(schema, rows).map_err(|e| e.to_string())?;
    let mut offset = 0;
    while offset < bytes.len() {
        let n = decoder.decode(&bytes[offset..]).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the decoder stopped before the end of the chunk".into());
        }
        offset += n;
    }
    match decoder.flush().map_err(|e| e.to_string())? {
        Some(batch) => Ok(batch),
        None => Ok(RecordBatch::new_empty(schema.clone())),
    }
}

/// The first line of a chunk that fails on its own, as an error naming it.
fn locate(chunk: &Chunk, schema: &SchemaRef, lines: &Place) -> Option<Error> {
    (0..chunk.len()).find_map(|i| {
        let line = chunk.line(i);
        let why = match parse_object(line) {
            Err(why) => why,
            Ok(_) => decode_bytes(line, schema, 1).err()?,
        };
        Some(lines.error(chunk.numbers[i], format!("{why} (columns and types come from {})", lines.schema_from)))
    })
}

/// Decoders for the number columns inference makes (int64, float64) that refuse what the
/// built-in ones convert silently: a float truncated into an integer column, a string parsed
/// as a number.
#[derive(Debug)]
struct ExactNumbers;

impl DecoderFactory for ExactNumbers {
    fn make_default_decoder(
        &self,
        _ctx: &DecoderContext,
        field: &FieldRef,
        _nullable: bool,
    ) -> std::result::Result<Option<Box<dyn ArrayDecoder>>, ArrowError> {
        Ok(match field.data_type() {
            DataType::Int64 => Some(Box::new(ExactInt)),
            DataType::Float64 => Some(Box::new(ExactFloat)),
            _ => None,
        })
    }
}

struct ExactInt;

impl ArrayDecoder for ExactInt {
    fn decode(&mut self, tape: &Tape<'_>, pos: &[u32]) -> std::result::Result<ArrayRef, ArrowError> {
        let mut out = Int64Builder::with_capacity(pos.len());
        for &p in pos {
            match tape.get(p) {
                TapeElement::Null => out.append_null(),
                TapeElement::Number(idx) => out.append_value(parse_int(tape.get_string(idx))?),
                TapeElement::I32(v) => out.append_value(v as i64),
                TapeElement::I64(high) => match tape.get(p + 1) {
                    TapeElement::I32(low) => out.append_value(((high as i64) << 32) | (low as u32) as i64),
                    _ => return Err(tape.error(p, "an integer")),
                },
                TapeElement::String(idx) => {
                    return Err(json_error(format!("expected an integer, got the string {:?}", tape.get_string(idx))))
                }
                _ => return Err(tape.error(p, "an integer")),
            }
        }
        Ok(Arc::new(out.finish()))
    }
}

fn parse_int(text: &str) -> std::result::Result<i64, ArrowError> {
    lexical_core::parse::<i64>(text.as_bytes()).map_err(|_| {
        if text.contains(['.', 'e', 'E']) {
            json_error(format!("expected an integer, got {text} (a column whose first values are integers)"))
        } else {
            json_error(format!("the integer {text} does not fit in int64"))
        }
    })
}

struct ExactFloat;

impl ArrayDecoder for ExactFloat {
    fn decode(&mut self, tape: &Tape<'_>, pos: &[u32]) -> std::result::Result<ArrayRef, ArrowError> {
        let mut out = Float64Builder::with_capacity(pos.len());
        for &p in pos {
            match tape.get(p) {
                TapeElement::Null => out.append_null(),
                TapeElement::Number(idx) => {
                    let text = tape.get_string(idx);
                    let value = lexical_core::parse::<f64>(text.as_bytes())
                        .map_err(|_| json_error(format!("{text} is not a number")))?;
                    out.append_value(value);
                }
                TapeElement::I32(v) => out.append_value(v as f64),
                TapeElement::F32(v) => out.append_value(f32::from_bits(v) as f64),
                TapeElement::F64(high) => match tape.get(p + 1) {
                    TapeElement::F32(low) => out.append_value(f64::from_bits(((high as u64) << 32) | low as u64)),
                    _ => return Err(tape.error(p, "a number")),
                },
                TapeElement::String(idx) => {
                    return Err(json_error(format!("expected a number, got the string {:?}", tape.get_string(idx))))
                }
                _ => return Err(tape.error(p, "a number")),
            }
        }
        Ok(Arc::new(out.finish()))
    }
}

fn json_error(message: String) -> ArrowError {
    ArrowError::JsonError(message)
}

/// Turns one top-level JSON array of values into one value per line, as the bytes stream by:
/// the array's commas become newlines and newlines inside a value become spaces.
struct ArrayToLines {
    input: Box<dyn BufRead + Send>,
    state: ArrayState,
    depth: usize,
    in_string: bool,
    escaped: bool,
}

#[derive(PartialEq)]
enum ArrayState {
    Before,
    Inside,
    After,
}

impl ArrayToLines {
    fn new(input: Box<dyn BufRead + Send>) -> Self {
        ArrayToLines { input, state: ArrayState::Before, depth: 0, in_string: false, escaped: false }
    }

    /// The byte to emit for `b` (None: drop it), or an error.
    fn map(&mut self, b: u8) -> io::Result<Option<u8>> {
        let invalid = |m: &str| Err(io::Error::new(io::ErrorKind::InvalidData, m.to_string()));
        match self.state {
            ArrayState::Before if b.is_ascii_whitespace() => Ok(None),
            ArrayState::Before if b == b'[' => {
                self.state = ArrayState::Inside;
                self.depth = 1;
                Ok(None)
            }
            ArrayState::Before => invalid("a .json file must hold one array of objects or one object per line"),
            ArrayState::After if b.is_ascii_whitespace() => Ok(None),
            ArrayState::After => invalid("data after the end of the top-level JSON array"),
            ArrayState::Inside if self.in_string => {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                Ok(Some(b))
            }
            ArrayState::Inside => Ok(Some(match b {
                b'"' => {
                    self.in_string = true;
                    b
                }
                b'{' | b'[' => {
                    self.depth += 1;
                    b
                }
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        self.state = ArrayState::After;
                        b'\n'
                    } else {
                        b
                    }
                }
                b',' if self.depth == 1 => b'\n',
                b'\n' | b'\r' => b' ',
                other => other,
            })),
        }
    }
}

impl Read for ArrayToLines {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut written = 0;
        while written == 0 {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                if self.state == ArrayState::Inside {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the top-level JSON array is not closed"));
                }
                return Ok(0);
            }
            let buf = buf.to_vec();
            let mut used = 0;
            for &b in &buf {
                if written == out.len() {
                    break;
                }
                used += 1;
                if let Some(mapped) = self.map(b)? {
                    out[written] = mapped;
                    written += 1;
                }
            }
            self.input.consume(used);
        }
        Ok(written)
    }
}
