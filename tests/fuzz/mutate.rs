//! A seeded mutational engine in the manner of AFL's havoc stage: each mutant is a seed (or two
//! seeds spliced) with 1–8 stacked edits: bit flips, bytes set to boundary values or to the
//! characters that delimit genomics formats, ranges deleted, duplicated or inserted, the input
//! cut short, and decimal numbers replaced by extreme ones.

/// Bytes that separate fields and records in the formats genoa reads.
const INTERESTING: &[u8] = &[
    0, 0xff, 0x7f, 0x80, b'\n', b'\r', b'\t', b' ', b':', b';', b',', b'=', b'@', b'+', b'>', b'#',
    b'.', b'-', b'<', b'*', b'/', b'|', b'"', b'[', b']',
];

/// Decimal numbers that break arithmetic.
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "18446744073709551616",
    "-9223372036854775808",
    "1e308",
    "NaN",
    "inf",
    "",
];

/// A mutant of `seeds[k]` for a random `k`.
pub fn mutate(rng: &mut fastrand::Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.usize(..seeds.len())].clone();
    for _ in 0..1 + rng.usize(..8) {
        edit(rng, &mut data, seeds);
    }
    data
}

fn edit(rng: &mut fastrand::Rng, data: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    if data.is_empty() {
        data.push(INTERESTING[rng.usize(..INTERESTING.len())]);
        return;
    }
    let n = data.len();
    match rng.u8(..11) {
        0 => {
            let i = rng.usize(..n);
            data[i] ^= 1 << rng.u8(..8);
        }
        1 => {
            let i = rng.usize(..n);
            data[i] = INTERESTING[rng.usize(..INTERESTING.len())];
        }
        2 => {
            let i = rng.usize(..n);
            data[i] = rng.u8(..);
        }
        3 => {
            // Delete a range (mostly short).
            let i = rng.usize(..n);
            let len = short_len(rng, n - i);
            data.drain(i..i + len);
        }
        4 => {
            // Duplicate a range in place.
            let i = rng.usize(..n);
            let len = short_len(rng, n - i);
            let chunk = data[i..i + len].to_vec();
            let at = rng.usize(..=data.len());
            data.splice(at..at, chunk);
        }
        5 => {
            // Insert a run of one interesting byte.
            let at = rng.usize(..=n);
            let b = INTERESTING[rng.usize(..INTERESTING.len())];
            let len = 1 + rng.usize(..16);
            data.splice(at..at, std::iter::repeat_n(b, len));
        }
        6 => {
            // Cut short.
            data.truncate(rng.usize(..n));
        }
        7 => {
            // Splice with another seed: a prefix of this one, a suffix of that one.
            let other = &seeds[rng.usize(..seeds.len())];
            if !other.is_empty() {
                let a = rng.usize(..=n);
                let b = rng.usize(..other.len());
                data.truncate(a);
                data.extend_from_slice(&other[b..]);
            }
        }
        8 | 9 => {
            // Replace a decimal number (text formats) with an extreme one.
            let digits: Vec<usize> = (0..n).filter(|&i| data[i].is_ascii_digit()).collect();
            if digits.is_empty() {
                return;
            }
            let mut start = digits[rng.usize(..digits.len())];
            while start > 0 && data[start - 1].is_ascii_digit() {
                start -= 1;
            }
            let mut end = start;
            while end < n && data[end].is_ascii_digit() {
                end += 1;
            }
            let with = NUMBERS[rng.usize(..NUMBERS.len())].as_bytes();
            data.splice(start..end, with.iter().copied());
        }
        _ => {
            // Swap two lines (text formats): records out of order.
            let nl: Vec<usize> = (0..n).filter(|&i| data[i] == b'\n').collect();
            if nl.len() < 3 {
                return;
            }
            let k = rng.usize(..nl.len() - 2);
            let (a, b, c) = (nl[k] + 1, nl[k + 1] + 1, nl[k + 2] + 1);
            let mut swapped = data[b..c].to_vec();
            swapped.extend_from_slice(&data[a..b]);
            data.splice(a..c, swapped);
        }
    }
}

fn short_len(rng: &mut fastrand::Rng, max: usize) -> usize {
    if max == 0 {
        return 0;
    }
    match rng.u8(..4) {
        0 => rng.usize(1..=max),
        _ => rng.usize(1..=max.min(8)),
    }
}

#[test]
fn mutants_are_deterministic_and_vary() {
    let seeds = vec![b"@r1\nACGT\n+\nIIII\n".to_vec(), b"chr1\t10\t20\n".to_vec()];
    let a: Vec<Vec<u8>> = {
        let mut rng = fastrand::Rng::with_seed(7);
        (0..50).map(|_| mutate(&mut rng, &seeds)).collect()
    };
    let b: Vec<Vec<u8>> = {
        let mut rng = fastrand::Rng::with_seed(7);
        (0..50).map(|_| mutate(&mut rng, &seeds)).collect()
    };
    assert_eq!(a, b);
    let distinct: std::collections::HashSet<&Vec<u8>> = a.iter().collect();
    assert!(distinct.len() > 40, "{}", distinct.len());
}
