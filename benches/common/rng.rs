//! The benches' seeded generator and read mutation.

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

/// `src` with `per_mille` substitutions and indels (a tenth each of the latter).
pub fn mutate(rng: &mut Rng, src: &[u8], per_mille: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len() + 8);
    for &b in src {
        match rng.below(1000) {
            r if r < per_mille / 10 => {} // deletion
            r if r < per_mille / 5 => out.extend([b, rng.below(4) as u8]), // insertion
            r if r < per_mille => out.push((b + 1 + rng.below(3) as u8) % 4), // substitution
            _ => out.push(b),
        }
    }
    out
}
