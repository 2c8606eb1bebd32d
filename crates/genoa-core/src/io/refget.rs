//! Reference identity digests: per-contig MD5 (SAM `M5`) and GA4GH refget `SQ.` digests
//! (sha512t24u: SHA-512 of the upper-cased sequence, first 24 bytes, base64url without
//! padding), and the GA4GH Sequence Collections (seqcol) level-1 and level-0 digests of the
//! whole reference.
//!
//! seqcol: each attribute array (`lengths`, `names`, `sequences` — the last holding
//! `SQ.`-prefixed refget digests) is written as RFC 8785 canonical JSON and digested with
//! sha512t24u (level 1). The level-0 digest covers the schema's *inherent* attributes only,
//! `names` and `sequences` (lengths follow from the sequences): their level-1 object,
//! canonicalised the same way (keys sorted, no whitespace), digested once more. The published
//! vector (`base.fa` → `XZlrcEGi6mlopZ2uD8ObHkQB1d0oDwKk`) is reproduced only this way.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use md5::Md5;
use noodles::fasta;
use serde::Serialize;
use sha2::{Digest, Sha512};

use crate::error::{Error, Result};

/// The identity of one contig.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContigDigest {
    pub name: String,
    pub length: u64,
    /// Lower-case hexadecimal MD5 of the upper-cased sequence (SAM `M5`, VCF `##contig` md5).
    pub md5: String,
    /// refget sequence digest, `SQ.` + sha512t24u of the upper-cased sequence.
    pub refget: String,
}

/// The seqcol level-1 digests (one per inherent attribute).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeqcolLevel1 {
    pub lengths: String,
    pub names: String,
    pub sequences: String,
}

/// GA4GH sha512t24u: SHA-512, truncated to 24 bytes, base64url without padding (32 characters).
pub fn sha512t24u(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(&Sha512::digest(data)[..24])
}

/// MD5 and refget digest of one sequence (upper-cased here, as both specifications ask).
pub fn contig_digest(name: &str, sequence: &[u8]) -> ContigDigest {
    let mut md5 = Md5::new();
    let mut sha = Sha512::new();
    let mut upper = [0u8; 8192];
    for chunk in sequence.chunks(upper.len()) {
        let up = &mut upper[..chunk.len()];
        for (u, b) in up.iter_mut().zip(chunk) {
            *u = b.to_ascii_uppercase();
        }
        md5.update(&*up);
        sha.update(&*up);
    }
    ContigDigest {
        name: name.to_string(),
        length: sequence.len() as u64,
        md5: md5.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        refget: format!("SQ.{}", URL_SAFE_NO_PAD.encode(&sha.finalize()[..24])),
    }
}

/// Digests of every contig of the FASTA at `fasta`, in file order.
pub fn digests(fasta: &Path) -> Result<Vec<ContigDigest>> {
    let file = File::open(fasta).map_err(|e| Error::io(fasta, e))?;
    let mut reader = fasta::io::Reader::new(BufReader::new(file));
    let mut out = Vec::new();
    for (n, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| Error::input(fasta, format!("sequence {}: {e}", n + 1)))?;
        let name = String::from_utf8_lossy(rec.name()).into_owned();
        out.push(contig_digest(&name, rec.sequence().as_ref()));
    }
    if out.is_empty() {
        return Err(Error::input(
            fasta,
            "no sequences: not a FASTA file, or empty",
        ));
    }
    Ok(out)
}

/// RFC 8785 canonical JSON of an array of strings or integers: compact, and strings escaped
/// as ECMAScript's `JSON.stringify` does (which serde_json's compact writer matches).
fn canonical<T: Serialize>(value: &T) -> String {
    // Serialising strings and integers cannot fail.
    serde_json::to_string(value).expect("JSON of strings and integers")
}

/// The seqcol level-1 digests of `contigs` (in their order).
pub fn seqcol_level1(contigs: &[ContigDigest]) -> SeqcolLevel1 {
    let lengths: Vec<u64> = contigs.iter().map(|c| c.length).collect();
    let names: Vec<&str> = contigs.iter().map(|c| c.name.as_str()).collect();
    let sequences: Vec<&str> = contigs.iter().map(|c| c.refget.as_str()).collect();
    SeqcolLevel1 {
        lengths: sha512t24u(canonical(&lengths).as_bytes()),
        names: sha512t24u(canonical(&names).as_bytes()),
        sequences: sha512t24u(canonical(&sequences).as_bytes()),
    }
}

/// The seqcol level-0 digest of `contigs`: the digest of the canonical level-1 object of the
/// inherent attributes (`names`, `sequences`).
pub fn seqcol_level0(contigs: &[ContigDigest]) -> String {
    let l1 = seqcol_level1(contigs);
    // Keys in code-point order, as RFC 8785 sorts them; the digests need no escaping.
    let object = format!(
        "{{\"names\":{},\"sequences\":{}}}",
        canonical(&l1.names),
        canonical(&l1.sequences)
    );
    sha512t24u(object.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::reference::Reference;

    #[test]
    fn refget_published_vector() {
        // The refget specification's example.
        assert_eq!(sha512t24u(b"ACGT"), "aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2");
        assert_eq!(
            contig_digest("x", b"acgt").refget,
            "SQ.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2"
        );
        // sha512t24u of the empty string, also published with the specification.
        assert_eq!(sha512t24u(b""), "z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXc");
    }

    /// The seqcol specification's `base.fa` (refget's test_fasta), with its published digests.
    #[test]
    fn seqcol_published_vector() {
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("base.fa");
        std::fs::write(&fa, ">chrX\nTTGGGGAA\n>chr1\nGGAA\n>chr2\nGCGC\n").unwrap();
        let d = digests(&fa).unwrap();
        let refget: Vec<&str> = d.iter().map(|c| c.refget.as_str()).collect();
        assert_eq!(
            refget,
            [
                "SQ.iYtREV555dUFKg2_agSJW6suquUyPpMw",
                "SQ.YBbVX0dLKG1ieEDCiMmkrTZFt_Z5Vdaj",
                "SQ.AcLxtBuKEPk_7PGE_H4dGElwZHCujwH6"
            ]
        );
        let l1 = seqcol_level1(&d);
        assert_eq!(l1.names, "Fw1r9eRxfOZD98KKrhlYQNEdSRHoVxAG");
        assert_eq!(l1.sequences, "0uDQVLuHaOZi1u76LjV__yrVUIz9Bwhr");
        assert_eq!(l1.lengths, "cGRMZIb3AVgkcAfNv39RN7hnT5Chk7RX");
        assert_eq!(seqcol_level0(&d), "XZlrcEGi6mlopZ2uD8ObHkQB1d0oDwKk");
        // refget's different_names.fa: the same sequences named X, 1, 2.
        let renamed: Vec<ContigDigest> = d
            .iter()
            .zip(["X", "1", "2"])
            .map(|(c, n)| ContigDigest {
                name: n.to_string(),
                ..c.clone()
            })
            .collect();
        assert_eq!(
            seqcol_level1(&renamed).names,
            "lrCv6NNXom7AC9tKFWqhcLLZsrcgJIqq"
        );
        assert_eq!(seqcol_level0(&renamed), "QvT5tAQ0B8Vkxd-qFftlzEk2QyfPtgOv");
    }

    #[test]
    fn md5_equals_the_reference_loader() {
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("r.fa");
        std::fs::write(&fa, ">c1 desc\nACGTacgtNN\nAC\n>c2\nRYAwsk\n").unwrap();
        let d = digests(&fa).unwrap();
        let r = Reference::load(&fa).unwrap();
        assert_eq!(d.len(), r.contigs.len());
        for (a, b) in d.iter().zip(&r.contigs) {
            assert_eq!(a.name, b.name);
            assert_eq!(a.length, b.len());
            assert_eq!(a.md5, b.md5);
        }
        // IUPAC letters stay themselves in the digest (they become N only in base codes).
        assert_eq!(d[1].refget, format!("SQ.{}", sha512t24u(b"RYAWSK")));
    }
}
