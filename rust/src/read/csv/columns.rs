//! The decoding side: a chunk's fields copied out column by column, and the Arrow arrays made
//! of them: the types arrow-csv infers, parsed as arrow-csv parses them. An empty field is a
//! null in every column; a value that does not parse is an error naming its column and line.

use std::path::Path;
use std::sync::Arc;

use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Float64Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{ArrayRef, BooleanArray, NullArray, PrimitiveArray, RecordBatch, RecordBatchOptions, StringArray};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_cast::parse::{string_to_datetime, Parser};
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use chrono::Utc;

use super::records::Chunk;
use crate::error::Error;

/// The chunk's records as a batch of `schema`, the wanted columns; `wanted[i]` is where column
/// `i` is in the file.
pub(super) fn decode(
    chunk: &Chunk,
    schema: &SchemaRef,
    wanted: &[usize],
    path: &Path,
) -> crate::error::Result<RecordBatch> {
    let error = |message: String| Error::Format(format!("{}: {message}", path.display()));
    let arrays = (0..wanted.len())
        .map(|i| {
            let place =
                Place { column: wanted[i], first_line: chunk.first_line, data_type: schema.field(i).data_type() };
            into_array(gather(chunk, i, wanted.len()), &place).map_err(error)
        })
        .collect::<crate::error::Result<Vec<_>>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(chunk.rows));
    RecordBatch::try_new_with_options(schema.clone(), arrays, &options).map_err(|e| error(e.to_string()))
}

/// Column `i` of the chunk's `width` wanted ones.
fn gather(chunk: &Chunk, i: usize, width: usize) -> Column {
    let fields = chunk.fields.iter().skip(i).step_by(width);
    let bytes = fields.clone().map(|(_, span)| span.end - span.start).sum();
    let mut column = Column::with_capacity(chunk.rows, bytes);
    for (window, span) in fields {
        span.copy_to(&chunk.windows[*window as usize], &mut column.values);
        column.end_value();
    }
    column
}

/// The values of one column in one batch, end to end, and where each ends.
struct Column {
    values: Vec<u8>,
    /// Starts with 0; one more than the rows.
    offsets: Vec<i32>,
}

impl Column {
    fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Column { values: Vec::with_capacity(bytes), offsets }
    }

    /// Ends the value just appended to `values`.
    fn end_value(&mut self) {
        // Wraps past 2 GiB, which `into_array` refuses before the offsets are used.
        self.offsets.push(self.values.len() as i32);
    }

    fn rows(&self) -> usize {
        self.offsets.len() - 1
    }

    fn value(&self, row: usize) -> &[u8] {
        &self.values[self.offsets[row] as usize..self.offsets[row + 1] as usize]
    }

    fn nulls(&self) -> Option<NullBuffer> {
        let valid = BooleanBuffer::collect_bool(self.rows(), |row| self.offsets[row] != self.offsets[row + 1]);
        Some(NullBuffer::new(valid)).filter(|nulls| nulls.null_count() > 0)
    }
}

/// Where a column's values come from, for error messages.
struct Place<'a> {
    column: usize,
    /// The line (records after the header, from 1) of the batch's first row.
    first_line: usize,
    data_type: &'a DataType,
}

impl Place<'_> {
    fn bad_value(&self, row: usize, value: &[u8]) -> String {
        format!(
            "Error while parsing value '{}' as type '{}' for column {} at line {}",
            String::from_utf8_lossy(value),
            self.data_type,
            self.column,
            self.first_line + row
        )
    }
}

/// The column as an array of `place.data_type`.
fn into_array(column: Column, place: &Place) -> Result<ArrayRef, String> {
    if i32::try_from(column.values.len()).is_err() {
        return Err(format!("column {} holds over 2 GiB of text in one batch: use a smaller batch size", place.column));
    }
    Ok(match place.data_type {
        DataType::Utf8 => Arc::new(strings(column, place)?),
        DataType::Null => Arc::new(nulls(&column, place)?),
        DataType::Boolean => Arc::new(booleans(&column, place)?),
        DataType::Int64 => Arc::new(primitives::<Int64Type>(&column, place, Int64Type::parse)?),
        DataType::Float64 => Arc::new(primitives::<Float64Type>(&column, place, Float64Type::parse)?),
        DataType::Date32 => Arc::new(primitives::<Date32Type>(&column, place, Date32Type::parse)?),
        DataType::Timestamp(unit, None) => timestamps(&column, place, *unit)?,
        other => return Err(format!("column {}: CSV columns of type {other} are not supported", place.column)),
    })
}

fn strings(column: Column, place: &Place) -> Result<StringArray, String> {
    let nulls = column.nulls();
    // Both are shared, not copied: kept to find the bad row if the check fails.
    let offsets = OffsetBuffer::new(ScalarBuffer::from(column.offsets));
    let values = Buffer::from_vec(column.values);
    StringArray::try_new(offsets.clone(), values.clone(), nulls).map_err(|_| {
        let row = offsets
            .windows(2)
            .position(|w| std::str::from_utf8(&values[w[0] as usize..w[1] as usize]).is_err())
            .unwrap_or(0);
        format!("invalid UTF-8 in column {} at line {}", place.column, place.first_line + row)
    })
}

/// A column arrow-csv saw only empty values in: a later value would be lost, so it is an error.
fn nulls(column: &Column, place: &Place) -> Result<NullArray, String> {
    match (0..column.rows()).find(|&row| !column.value(row).is_empty()) {
        None => Ok(NullArray::new(column.rows())),
        Some(row) => Err(format!(
            "{} (the first records had only empty values in this column)",
            place.bad_value(row, column.value(row))
        )),
    }
}

fn booleans(column: &Column, place: &Place) -> Result<BooleanArray, String> {
    let mut values = Vec::with_capacity(column.rows());
    for row in 0..column.rows() {
        let value = column.value(row);
        let parsed = match value {
            b"" => false,
            v if v.eq_ignore_ascii_case(b"true") => true,
            v if v.eq_ignore_ascii_case(b"false") => false,
            v => return Err(place.bad_value(row, v)),
        };
        values.push(parsed);
    }
    Ok(BooleanArray::new(BooleanBuffer::from(values), column.nulls()))
}

fn primitives<T: ArrowPrimitiveType>(
    column: &Column,
    place: &Place,
    parse: impl Fn(&str) -> Option<T::Native>,
) -> Result<PrimitiveArray<T>, String> {
    let mut values = Vec::with_capacity(column.rows());
    for row in 0..column.rows() {
        let value = column.value(row);
        if value.is_empty() {
            values.push(T::Native::default());
            continue;
        }
        let parsed = std::str::from_utf8(value).ok().and_then(&parse);
        values.push(parsed.ok_or_else(|| place.bad_value(row, value))?);
    }
    Ok(PrimitiveArray::new(ScalarBuffer::from(values), column.nulls()))
}

fn timestamps(column: &Column, place: &Place, unit: TimeUnit) -> Result<ArrayRef, String> {
    let instant = |text: &str| {
        let date = string_to_datetime(&Utc, text).ok()?;
        match unit {
            TimeUnit::Second => Some(date.timestamp()),
            TimeUnit::Millisecond => Some(date.timestamp_millis()),
            TimeUnit::Microsecond => Some(date.timestamp_micros()),
            TimeUnit::Nanosecond => date.timestamp_nanos_opt(),
        }
    };
    Ok(match unit {
        TimeUnit::Second => Arc::new(primitives::<TimestampSecondType>(column, place, instant)?),
        TimeUnit::Millisecond => Arc::new(primitives::<TimestampMillisecondType>(column, place, instant)?),
        TimeUnit::Microsecond => Arc::new(primitives::<TimestampMicrosecondType>(column, place, instant)?),
        TimeUnit::Nanosecond => Arc::new(primitives::<TimestampNanosecondType>(column, place, instant)?),
    })
}
