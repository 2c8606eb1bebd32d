//! The ALT contigs of a reference, as bwa reads them: `REF.alt` beside the FASTA (bwa-kit's
//! `hs38DH.fa.alt`: SAM-like lines, `@SQ`/`@`-header lines skipped, the first field of every
//! other line an ALT contig's name), or a plain list of names, one per line (`#` comments and
//! blank lines skipped). Names the reference does not hold are an error: a `.alt` file of
//! another build would silently change nothing otherwise.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::io::reference::Reference;
use crate::model::contigs::ContigRole;

/// The `.alt` file bwa would load for `reference`: `REF.alt` (e.g. `hs38DH.fa.alt`).
pub fn beside(reference: &Path) -> PathBuf {
    crate::io::with_suffix(reference, ".alt")
}

/// The contig names an ALT file lists, in file order without repeats.
pub fn read_names(path: &Path) -> Result<Vec<String>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut seen = BTreeSet::new();
    let mut names = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        let t = line.trim_end_matches('\r');
        if t.trim().is_empty() || t.starts_with('@') || t.starts_with('#') {
            continue;
        }
        let name = t.split(['\t', ' ']).next().unwrap_or("");
        if name.is_empty() {
            return Err(Error::input(
                path,
                format!("line {}: no contig name in the first field", i + 1),
            ));
        }
        if seen.insert(name.to_string()) {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

/// Per contig of `reference` (reference order), whether `path` lists it as an ALT contig.
pub fn flags(reference: &Reference, path: &Path) -> Result<Vec<bool>> {
    let mut out = vec![false; reference.contigs.len()];
    for name in read_names(path)? {
        match reference.contigs.iter().position(|c| c.name == name) {
            Some(i) => out[i] = true,
            None => {
                return Err(Error::input(
                    path,
                    format!(
                        "ALT contig {name:?} is not in the reference {}",
                        reference.path.display()
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// The roles of `reference`'s contigs: by name ([`ContigRole::of`]), with the ALT contigs its
/// `.alt` file beside it lists ([`flags_beside`]).
pub fn roles(reference: &Reference) -> Result<Vec<ContigRole>> {
    Ok(reference
        .contigs
        .iter()
        .zip(flags_beside(reference)?)
        .map(|(c, listed)| ContigRole::of(&c.name, listed))
        .collect())
}

/// The ALT flags of `reference`'s contigs from its `.alt` file beside it ([`beside`]) when
/// there is one, else none (all `false`; names like `*_alt` are recognised by
/// [`ContigRole::of`]).
pub fn flags_beside(reference: &Reference) -> Result<Vec<bool>> {
    let path = beside(&reference.path);
    if path.exists() {
        flags(reference, &path)
    } else {
        Ok(vec![false; reference.contigs.len()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bwa_kit_alt_lines_and_plain_lists() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ref.fa.alt");
        std::fs::write(
            &p,
            "@SQ\tSN:chr1\tLN:100\nchr1_alt1\t0\tchr1\t11\t60\t20M\t*\t0\t0\tACGT\t*\tNM:i:0\n\n# note\nHLA-A*01:01\nchr1_alt1\n",
        )
        .unwrap();
        assert_eq!(read_names(&p).unwrap(), ["chr1_alt1", "HLA-A*01:01"]);
        assert_eq!(
            beside(Path::new("/x/ref.fa")),
            PathBuf::from("/x/ref.fa.alt")
        );
    }
}
