//! The benches' seeded generator (fastrand) and read mutation.

/// The one seeded generator of the tests, benches and examples.
pub use fastrand::Rng;

/// `src` with `per_mille` substitutions and indels (a tenth each of the latter).
pub fn mutate(rng: &mut Rng, src: &[u8], per_mille: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len() + 8);
    for &b in src {
        match rng.u64(..1000) {
            r if r < per_mille / 10 => {} // deletion
            r if r < per_mille / 5 => out.extend([b, rng.u64(..4) as u8]), // insertion
            r if r < per_mille => out.push((b + 1 + rng.u64(..3) as u8) % 4), // substitution
            _ => out.push(b),
        }
    }
    out
}
