//! Helpers shared by the unit tests.

/// Xorshift64: deterministic pseudo-random numbers without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Rows in Arrow's layout: (values, offsets).
pub fn layout<T: Copy>(rows: &[Vec<T>]) -> (Vec<T>, Vec<i64>) {
    let mut offsets = vec![0i64];
    let mut values = Vec::new();
    for r in rows {
        values.extend_from_slice(r);
        offsets.push(values.len() as i64);
    }
    (values, offsets)
}
