//! A size check for the binning indexes genoa reads (`.bai`, `.csi`, `.tbi`) before noodles
//! parses them: noodles reserves memory for as many reference sequences, bins, chunks and
//! intervals as the file declares, so one damaged count (2^31 reference sequences) made it ask
//! for tens of gigabytes and abort the process, and a bin number beyond the binning scheme's
//! made its query index past a bit vector and panic (both found by fuzzing). Here every count
//! must fit in the bytes that follow it, so what noodles allocates is bounded by the file's
//! size, and every bin number must be one of the scheme's (or its metadata pseudo-bin).
//!
//! Layouts (SAM specification §5.2, CSIv1, tabix), little-endian:
//! BAI `BAI\1 n_ref refs`; tabix (BGZF) `TBI\1 n_ref format col_seq col_beg col_end meta skip l_nm
//! names refs`; CSI (BGZF) `CSI\1 min_shift depth l_aux aux n_ref refs`. A ref is `n_bin bins
//! n_intv intervals` (CSI: no intervals), a bin `bin [loffset, CSI] n_chunk chunks`, a chunk 16
//! bytes, an interval 8.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Refuses an index at `path` (a `kind`: "BAM index", "tabix index") whose counts do not fit
/// in its bytes. Files that are not a BAI, CSI or tabix index, or do not decompress, pass:
/// noodles reports those itself.
pub fn check(path: &Path, kind: &str) -> Result<()> {
    let Ok(raw) = std::fs::read(path) else {
        return Ok(());
    };
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut plain = Vec::new();
        let decompressed = noodles::bgzf::io::Reader::new(&raw[..]).read_to_end(&mut plain);
        if decompressed.is_err() {
            return Ok(());
        }
        plain
    } else {
        raw
    };
    walk(&bytes).map_err(|m| {
        Error::input(
            path,
            format!(
                "not a readable {kind}: {m}: the file is truncated or damaged (rebuild the index)"
            ),
        )
    })
}

/// Reads an index's counts, each checked against the bytes left.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }
    fn skip(&mut self, n: usize, what: &str) -> Result<(), String> {
        if n > self.left() {
            return Err(format!(
                "{what} of {n} bytes at byte {} runs past the end ({} bytes left)",
                self.at,
                self.left()
            ));
        }
        self.at += n;
        Ok(())
    }
    fn u32(&mut self, what: &str) -> Result<usize, String> {
        let at = self.at;
        self.skip(4, what)?;
        Ok(u32::from_le_bytes(self.bytes[at..at + 4].try_into().unwrap()) as usize)
    }
    /// A count of items of at least `size` bytes each.
    fn count(&mut self, size: usize, what: &str) -> Result<usize, String> {
        let n = self.u32(what)?;
        if n.saturating_mul(size) > self.left() {
            return Err(format!(
                "{n} {what} declared at byte {} but only {} bytes follow",
                self.at - 4,
                self.left()
            ));
        }
        Ok(n)
    }
}

/// The number of bins of a binning scheme `depth` levels deep (37449 for BAI and tabix, depth
/// 5): bins are numbered from 0, and the metadata pseudo-bin is one past the next number
/// (37450). `None` for a depth no index uses.
fn bin_count(depth: usize) -> Option<usize> {
    (depth <= 10).then(|| (1 << (3 * (depth + 1))) / 7)
}

fn walk(bytes: &[u8]) -> Result<(), String> {
    let mut c = Cursor { bytes, at: 4 };
    let (csi, depth) = match bytes.get(..4) {
        Some(b"BAI\x01") => (false, 5),
        Some(b"CSI\x01") => {
            c.skip(4, "the header")?;
            let depth = c.u32("the header")?;
            let l_aux = c.u32("the auxiliary data's length")?;
            c.skip(l_aux, "the auxiliary data")?;
            (true, depth)
        }
        Some(b"TBI\x01") => {
            let n_ref = c.count(8, "reference sequences")?;
            c.skip(24, "the header")?;
            let l_nm = c.u32("the names' length")?;
            c.skip(l_nm, "the sequence names")?;
            return refs(&mut c, n_ref, false, bin_count(5));
        }
        _ => return Ok(()),
    };
    let n_ref = c.count(if csi { 4 } else { 8 }, "reference sequences")?;
    refs(&mut c, n_ref, csi, bin_count(depth))
}

fn refs(c: &mut Cursor, n_ref: usize, csi: bool, bins: Option<usize>) -> Result<(), String> {
    for _ in 0..n_ref {
        let n_bin = c.count(if csi { 16 } else { 8 }, "bins")?;
        for _ in 0..n_bin {
            let at = c.at;
            let bin = c.u32("a bin")?;
            if let Some(n) = bins
                && bin >= n
                && bin != n + 1
            {
                return Err(format!(
                    "bin {bin} at byte {at}: the binning scheme numbers its bins 0 to {} (and {} for metadata)",
                    n - 1,
                    n + 1
                ));
            }
            c.skip(if csi { 8 } else { 0 }, "a bin")?;
            let n_chunk = c.count(16, "chunks")?;
            c.skip(16 * n_chunk, "the chunks")?;
        }
        if !csi {
            let n_intv = c.count(8, "intervals")?;
            c.skip(8 * n_intv, "the intervals")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_that_do_not_fit_are_refused() {
        // One reference, one bin with one chunk, one interval.
        let mut bai = b"BAI\x01".to_vec();
        for v in [1u32, 1, 4681, 1] {
            bai.extend_from_slice(&v.to_le_bytes());
        }
        bai.extend_from_slice(&[0; 16]);
        bai.extend_from_slice(&1u32.to_le_bytes());
        bai.extend_from_slice(&[0; 8]);
        assert_eq!(walk(&bai), Ok(()));
        // 2^31 references (noodles reserved 73 GB for them), bins, chunks, intervals.
        for at in [4, 8, 16, 36] {
            let mut bad = bai.clone();
            bad[at..at + 4].copy_from_slice(&(1u32 << 31).to_le_bytes());
            let e = walk(&bad).unwrap_err();
            assert!(e.contains("declared"), "{e}");
        }
        assert!(walk(&bai[..bai.len() - 1]).is_err());
        // A bin beyond the scheme's (noodles' query indexed past its bit vector), and the last
        // bin and the metadata pseudo-bin.
        let mut bad = bai.clone();
        for bin in [37449u32, 37451, u32::MAX] {
            bad[12..16].copy_from_slice(&bin.to_le_bytes());
            assert!(walk(&bad).unwrap_err().contains("numbers its bins"));
        }
        for bin in [37448u32, 37450] {
            bad[12..16].copy_from_slice(&bin.to_le_bytes());
            assert_eq!(walk(&bad), Ok(()));
        }
        // Not an index this module knows: left to noodles.
        assert_eq!(walk(b"XYZ"), Ok(()));
    }
}
