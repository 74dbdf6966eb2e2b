//! The set of row digests already seen: exact dedupe keeps a row only if its digest is new.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// A SHA-256 digest.
pub type Digest = [u8; 32];

/// Digests are already uniformly random: hashing them again (SipHash) would only cost time,
/// so the set's hasher takes their first 8 bytes as the hash.
#[derive(Default)]
pub struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // A `[u8; 32]` hashes as its length (one usize write) then its bytes; keep the bytes.
        if bytes.len() >= 8 {
            self.0 = u64::from_le_bytes(bytes[..8].try_into().unwrap());
        }
    }
}

#[derive(Default)]
pub struct SeenSet {
    digests: HashSet<Digest, BuildHasherDefault<DigestHasher>>,
}

impl SeenSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.digests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    pub fn contains(&self, digest: &Digest) -> bool {
        self.digests.contains(digest)
    }

    /// Adds `digests` in order and returns the positions of those that were new: the first
    /// occurrence of each row, minus rows seen in an earlier call.
    pub fn insert_new(&mut self, digests: &[Digest]) -> Vec<usize> {
        self.digests.reserve(digests.len());
        (0..digests.len()).filter(|&i| self.digests.insert(digests[i])).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_first_occurrences_across_calls() {
        let d = |b: u8| [b; 32];
        let mut seen = SeenSet::new();
        assert_eq!(seen.insert_new(&[d(1), d(2), d(1), d(3)]), vec![0, 1, 3]);
        assert_eq!(seen.insert_new(&[d(3), d(4), d(4)]), vec![1]);
        assert_eq!(seen.len(), 4);
        assert!(seen.contains(&d(2)) && !seen.contains(&d(5)));
    }
}
