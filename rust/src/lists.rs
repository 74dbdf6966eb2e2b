//! Token lists in Arrow's layout: row `i` is `values[offsets[i]..offsets[i + 1]]`.
//!
//! The kernels read token columns where they already live (numpy arrays, Arrow
//! `List`/`LargeList` buffers, a sliced array whose first offset is not 0) without copying.
//! Values may be uint8 (also bytes of strings) or int8/16/32/64 and offsets int32/int64, as
//! Arrow and `datasets` store them.

use crate::error::{Error, Result};

/// A token type the kernels accept; every one widens to `i64` without loss.
pub trait Token: Copy + Send + Sync {
    fn to_i64(self) -> i64;
}

/// An offset type: Arrow `List` uses int32, `LargeList` int64.
pub trait Offset: Copy + Send + Sync {
    /// Only called after `Lists::new` checked the offset is non-negative.
    fn to_usize(self) -> usize;
    fn to_i64(self) -> i64;
}

macro_rules! impl_token {
    ($($t:ty),*) => {$(
        impl Token for $t {
            #[inline(always)]
            fn to_i64(self) -> i64 { self as i64 }
        }
    )*};
}
impl_token!(u8, i8, i16, i32, i64);

macro_rules! impl_offset {
    ($($t:ty),*) => {$(
        impl Offset for $t {
            #[inline(always)]
            fn to_usize(self) -> usize { self as usize }
            #[inline(always)]
            fn to_i64(self) -> i64 { self as i64 }
        }
    )*};
}
impl_offset!(i32, i64);

#[derive(Clone, Copy, Debug)]
pub enum Values<'a> {
    /// Bytes: UTF-8 strings and binary rows (Arrow `String`/`Binary` layout), or uint8 tokens.
    U8(&'a [u8]),
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
}

impl Values<'_> {
    pub fn len(&self) -> usize {
        match self {
            Values::U8(v) => v.len(),
            Values::I8(v) => v.len(),
            Values::I16(v) => v.len(),
            Values::I32(v) => v.len(),
            Values::I64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Offsets<'a> {
    I32(&'a [i32]),
    I64(&'a [i64]),
}

impl Offsets<'_> {
    pub fn len(&self) -> usize {
        match self {
            Offsets::I32(o) => o.len(),
            Offsets::I64(o) => o.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Validated token lists: offsets are non-negative, never decrease and stay inside `values`,
/// so kernels may index without further checks.
#[derive(Clone, Copy, Debug)]
pub struct Lists<'a> {
    values: Values<'a>,
    offsets: Offsets<'a>,
}

/// Runs `$body` with `$v: &[T: Token]` and `$o: &[O: Offset]` bound to the concrete slices of
/// `$lists`, so each kernel is compiled once per type pair with no dispatch in its loops.
#[macro_export]
macro_rules! with_lists {
    ($lists:expr, |$v:ident, $o:ident| $body:expr) => {{
        use $crate::lists::{Offsets, Values};
        match ($lists.values(), $lists.offsets()) {
            (Values::U8($v), Offsets::I32($o)) => $body,
            (Values::U8($v), Offsets::I64($o)) => $body,
            (Values::I8($v), Offsets::I32($o)) => $body,
            (Values::I8($v), Offsets::I64($o)) => $body,
            (Values::I16($v), Offsets::I32($o)) => $body,
            (Values::I16($v), Offsets::I64($o)) => $body,
            (Values::I32($v), Offsets::I32($o)) => $body,
            (Values::I32($v), Offsets::I64($o)) => $body,
            (Values::I64($v), Offsets::I32($o)) => $body,
            (Values::I64($v), Offsets::I64($o)) => $body,
        }
    }};
}

impl<'a> Lists<'a> {
    /// Checks the offsets against the values; `offsets` holds one entry more than there are rows.
    pub fn new(values: Values<'a>, offsets: Offsets<'a>) -> Result<Self> {
        match offsets {
            Offsets::I32(o) => check_offsets(o, values.len())?,
            Offsets::I64(o) => check_offsets(o, values.len())?,
        }
        Ok(Lists { values, offsets })
    }

    pub fn values(&self) -> Values<'a> {
        self.values
    }

    pub fn offsets(&self) -> Offsets<'a> {
        self.offsets
    }

    pub fn num_rows(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Length of row `i`.
    pub fn row_len(&self, i: usize) -> usize {
        match self.offsets {
            Offsets::I32(o) => o[i + 1].to_usize() - o[i].to_usize(),
            Offsets::I64(o) => o[i + 1].to_usize() - o[i].to_usize(),
        }
    }

    /// Tokens in all rows together.
    pub fn total_len(&self) -> usize {
        match self.offsets {
            Offsets::I32(o) => o[o.len() - 1].to_usize() - o[0].to_usize(),
            Offsets::I64(o) => o[o.len() - 1].to_usize() - o[0].to_usize(),
        }
    }

    /// Fails unless `other` has as many rows as `self`, each of the same length (parallel
    /// streams such as input_ids and labels); the names go into the message.
    pub fn check_same_shape(&self, other: &Lists, name: &str, other_name: &str) -> Result<()> {
        if self.num_rows() != other.num_rows() {
            return Err(Error::invalid(format!(
                "{name} has {} sequences but {other_name} has {}",
                self.num_rows(),
                other.num_rows()
            )));
        }
        match (0..self.num_rows()).find(|&i| self.row_len(i) != other.row_len(i)) {
            Some(i) => Err(Error::invalid(format!(
                "sequence {i}: {name} has {} tokens but {other_name} has {}",
                self.row_len(i),
                other.row_len(i)
            ))),
            None => Ok(()),
        }
    }

    /// Length of the longest row (0 when there are no rows).
    pub fn max_len(&self) -> usize {
        fn longest<O: Offset>(o: &[O]) -> usize {
            o.windows(2).map(|w| w[1].to_usize() - w[0].to_usize()).max().unwrap_or(0)
        }
        match self.offsets {
            Offsets::I32(o) => longest(o),
            Offsets::I64(o) => longest(o),
        }
    }
}

fn check_offsets<O: Offset>(offsets: &[O], num_values: usize) -> Result<()> {
    let Some(first) = offsets.first() else {
        return Err(Error::invalid("offsets must hold num_rows + 1 entries (at least one)"));
    };
    if first.to_i64() < 0 {
        return Err(Error::invalid(format!("offsets[0] is {}: offsets must not be negative", first.to_i64())));
    }
    for (i, w) in offsets.windows(2).enumerate() {
        if w[1].to_i64() < w[0].to_i64() {
            return Err(Error::invalid(format!(
                "offsets are not monotonic: offsets[{}] = {} is less than offsets[{}] = {}",
                i + 1,
                w[1].to_i64(),
                i,
                w[0].to_i64()
            )));
        }
    }
    let last = offsets[offsets.len() - 1].to_i64();
    if last as u64 > num_values as u64 {
        return Err(Error::invalid(format!(
            "offsets point past the values: the last offset is {last} but there are {num_values} values"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_sliced_layout() {
        let values = [9i32, 1, 2, 3, 4, 9];
        let offsets = [1i64, 3, 3, 5];
        let lists = Lists::new(Values::I32(&values), Offsets::I64(&offsets)).unwrap();
        assert_eq!(lists.num_rows(), 3);
        assert_eq!(lists.max_len(), 2);
    }

    #[test]
    fn rejects_bad_offsets() {
        let values = [1i64, 2, 3];
        let cases: [&[i32]; 4] = [&[], &[-1, 2], &[0, 2, 1], &[0, 4]];
        for offsets in cases {
            let err = Lists::new(Values::I64(&values), Offsets::I32(offsets)).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{offsets:?}: {err}");
        }
    }

    #[test]
    fn no_rows() {
        let lists = Lists::new(Values::I8(&[]), Offsets::I32(&[0])).unwrap();
        assert_eq!(lists.num_rows(), 0);
        assert_eq!(lists.max_len(), 0);
    }
}
