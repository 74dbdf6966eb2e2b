//! Cutting CSV bytes into records and fields, by csv_core's rules (what arrow-csv and the
//! `csv` crate use): a quote is special only at the start of a field, `""` inside quotes is
//! one quote, text after a closing quote belongs to the field, `\r`, `\n` and `\r\n` end a
//! record, empty lines are skipped, and a quote still open at the end of the input closes
//! there. memchr jumps over a field's contents where a byte-at-a-time machine steps.

use memchr::{memchr, memchr3};

/// How a field's bytes become its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// The bytes as they are.
    Plain,
    /// Between an opening quote and a closing quote that ends the field, with no `""`.
    Quoted,
    /// Anything else that starts with a quote: see [`unquote`].
    Escaped,
}

/// One field of a record: `input[start..end]` holds it, quotes included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

impl Span {
    /// Appends the field's value to `out`.
    pub fn copy_to(&self, input: &[u8], out: &mut Vec<u8>) {
        match self.kind {
            Kind::Plain => out.extend_from_slice(&input[self.start..self.end]),
            Kind::Quoted => out.extend_from_slice(&input[self.start + 1..self.end - 1]),
            Kind::Escaped => unquote(&input[self.start..self.end], out),
        }
    }
}

/// The value of a field that starts with a quote: quoted text with `""` for a quote, up to the
/// closing quote (or the end), then any text after it as it is.
fn unquote(field: &[u8], out: &mut Vec<u8>) {
    let mut rest = &field[1..];
    while let Some(at) = memchr(b'"', rest) {
        out.extend_from_slice(&rest[..at]);
        if rest.get(at + 1) == Some(&b'"') {
            out.push(b'"');
            rest = &rest[at + 2..];
        } else {
            out.extend_from_slice(&rest[at + 1..]);
            return;
        }
    }
    out.extend_from_slice(rest);
}

/// The fields of the record at `input[at..]` into `spans` (cleared first), and where the next
/// record starts; `None` when the input ends before the record does and more input follows
/// (`last` false), or when no record is left.
pub(super) fn record(input: &[u8], mut at: usize, last: bool, spans: &mut Vec<Span>) -> Option<usize> {
    spans.clear();
    while at < input.len() && matches!(input[at], b'\n' | b'\r') {
        at += 1;
    }
    if at == input.len() {
        return None;
    }
    loop {
        let span = field(input, at, last)?;
        spans.push(span);
        if span.end == input.len() {
            // Unless this is the last input, more of the field or the record may follow.
            return last.then_some(span.end);
        }
        match input[span.end] {
            b',' => at = span.end + 1,
            // A `\n` after this `\r` starts an empty line, which the next call skips.
            _ => return Some(span.end + 1),
        }
        if at == input.len() {
            if !last {
                return None;
            }
            spans.push(Span { start: at, end: at, kind: Kind::Plain });
            return Some(at);
        }
    }
}

/// The field starting at `input[at]` (`at` < the length): it ends before a delimiter or a
/// line end, or at the end of the input when that is the last input.
fn field(input: &[u8], at: usize, last: bool) -> Option<Span> {
    if input[at] != b'"' {
        let end = until_separator(input, at, last)?;
        return Some(Span { start: at, end, kind: Kind::Plain });
    }
    let mut kind = Kind::Quoted;
    let mut from = at + 1;
    let close = loop {
        match memchr(b'"', &input[from..]) {
            None if last => return Some(Span { start: at, end: input.len(), kind: Kind::Escaped }),
            None => return None,
            // Whether this quote is doubled depends on the next byte.
            Some(i) if from + i + 1 == input.len() && !last => return None,
            Some(i) if input.get(from + i + 1) == Some(&b'"') => {
                kind = Kind::Escaped;
                from += i + 2;
            }
            Some(i) => break from + i,
        }
    };
    let after = close + 1;
    if after == input.len() || matches!(input[after], b',' | b'\n' | b'\r') {
        return Some(Span { start: at, end: after, kind });
    }
    let end = until_separator(input, after, last)?;
    Some(Span { start: at, end, kind: Kind::Escaped })
}

/// Where the unquoted text from `at` ends: at the next delimiter or line end, else at the end
/// of the last input.
fn until_separator(input: &[u8], at: usize, last: bool) -> Option<usize> {
    match memchr3(b',', b'\n', b'\r', &input[at..]) {
        Some(i) => Some(at + i),
        None if last => Some(input.len()),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records of `input` from `at` as their values, and where reading stopped.
    fn values(input: &[u8], mut at: usize, last: bool) -> (Vec<Vec<String>>, usize) {
        let (mut spans, mut rows) = (Vec::new(), Vec::new());
        while let Some(next) = record(input, at, last, &mut spans) {
            let row = spans
                .iter()
                .map(|s| {
                    let mut out = Vec::new();
                    s.copy_to(input, &mut out);
                    String::from_utf8(out).unwrap()
                })
                .collect();
            rows.push(row);
            at = next;
        }
        (rows, at)
    }

    fn by_csv_core(input: &[u8]) -> Vec<Vec<String>> {
        let mut reader = csv_core::Reader::new();
        let (mut out, mut ends) = (vec![0u8; 1 << 16], vec![0usize; 256]);
        let (mut rest, mut rows) = (input, Vec::new());
        // A record may take several calls: its output and field ends accumulate.
        let (mut written, mut fields) = (0, 0);
        loop {
            let (result, read, n, m) = reader.read_record(rest, &mut out[written..], &mut ends[fields..]);
            (rest, written, fields) = (&rest[read..], written + n, fields + m);
            match result {
                csv_core::ReadRecordResult::Record => {
                    let mut start = 0;
                    let row = ends[..fields]
                        .iter()
                        .map(|&end| {
                            let value = String::from_utf8(out[start..end].to_vec()).unwrap();
                            start = end;
                            value
                        })
                        .collect();
                    rows.push(row);
                    (written, fields) = (0, 0);
                }
                csv_core::ReadRecordResult::End => return rows,
                csv_core::ReadRecordResult::InputEmpty => {}
                other => panic!("{other:?}"),
            }
        }
    }

    const CASES: &[&str] = &[
        "a,b\n1,2\n",
        "a,b\r\n1,2\r\n",
        "a,b\r1,2",
        "a\n\n\r\n\nb\n",
        "\"x,y\",\"multi\nline\"\n",
        "\"he said \"\"hi\"\"\",z\n",
        "\"ab\"cd,e\n",
        "5'2\",x\n",
        "a,\n,b\n,\n",
        "a,b,",
        "\"open quote to the end\nstill",
        "\"\",\"\"\"\"\n",
        "\"a\"\"\",b\r\n\"c\"\r\n",
        "x\"y\"z,\"\"q\n",
        "é,日本\n",
    ];

    #[test]
    fn same_records_as_csv_core() {
        for case in CASES {
            assert_eq!(values(case.as_bytes(), 0, true).0, by_csv_core(case.as_bytes()), "{case:?}");
        }
    }

    #[test]
    fn a_record_cut_by_the_input_waits_for_more() {
        for case in CASES {
            let bytes = case.as_bytes();
            for cut in 0..=bytes.len() {
                // The records read from a first part, then the rest from where that stopped.
                let (mut rows, at) = values(&bytes[..cut], 0, false);
                rows.extend(values(bytes, at, true).0);
                assert_eq!(rows, by_csv_core(bytes), "{case:?} cut at {cut}");
            }
        }
    }
}
