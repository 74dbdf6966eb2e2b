//! A set of small integers with a fast "next member at or after": the non-empty rooms of
//! best fit's buckets.

/// A set of integers `0..size` as a bitset plus summary levels (a bit per non-zero word of
/// the level below), so finding the next member reads one word per level.
pub(super) struct BitLevels {
    levels: Vec<Vec<u64>>,
}

impl BitLevels {
    pub(super) fn new(size: usize) -> Self {
        let mut levels = Vec::new();
        let mut words = size.div_ceil(64).max(1);
        loop {
            levels.push(vec![0u64; words]);
            if words == 1 {
                break;
            }
            words = words.div_ceil(64);
        }
        BitLevels { levels }
    }

    pub(super) fn insert(&mut self, x: usize) {
        let mut x = x;
        for level in &mut self.levels {
            level[x / 64] |= 1 << (x % 64);
            x /= 64;
        }
    }

    pub(super) fn remove(&mut self, x: usize) {
        let mut x = x;
        for level in &mut self.levels {
            level[x / 64] &= !(1 << (x % 64));
            if level[x / 64] != 0 {
                break;
            }
            x /= 64;
        }
    }

    /// The smallest member >= `x`, if any.
    pub(super) fn next_at_or_after(&self, x: usize) -> Option<usize> {
        let mut x = x;
        let mut level = 0;
        // Climb until a word has a member at or after x, then take the lowest bit downwards.
        loop {
            let words = &self.levels[level];
            let w = x / 64;
            if w >= words.len() {
                return None;
            }
            let bits = words[w] & (!0u64 << (x % 64));
            if bits != 0 {
                x = w * 64 + bits.trailing_zeros() as usize;
                break;
            }
            if level + 1 == self.levels.len() {
                return None;
            }
            level += 1;
            x = w + 1;
        }
        while level > 0 {
            level -= 1;
            x = x * 64 + self.levels[level][x].trailing_zeros() as usize;
        }
        Some(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_levels_find_next() {
        let mut set = BitLevels::new(300_000);
        let members = [0usize, 63, 64, 4095, 4096, 70_000, 299_999];
        for &m in &members {
            set.insert(m);
        }
        assert_eq!(set.next_at_or_after(1), Some(63));
        assert_eq!(set.next_at_or_after(65), Some(4095));
        assert_eq!(set.next_at_or_after(4097), Some(70_000));
        assert_eq!(set.next_at_or_after(300_000), None);
        set.remove(70_000);
        assert_eq!(set.next_at_or_after(4097), Some(299_999));
        set.remove(299_999);
        assert_eq!(set.next_at_or_after(4097), None);
        assert_eq!(set.next_at_or_after(0), Some(0));
    }
}
