//! What a contig of a human reference is: an autosome, a sex chromosome, the mitochondrion, an
//! ALT haplotype, a decoy (or virus), or other primary sequence (unplaced and unlocalised
//! scaffolds) — from its name, as GRCh38, GRCh37 (`1`, `X`, `MT`, `GL…`, `hs37d5`) and
//! T2T-CHM13 name them, and from the ALT contigs a `.alt` file lists (see
//! [`crate::io::alt`]).
//!
//! Which contigs are called, and with which ploidy, follows from the role: ALT, decoy and HLA
//! contigs are left out of calling by default (reads placed there are ALT-aware-aligned away
//! from the primary assembly, and their calls are not counted by a cohort).

/// The role of one contig.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContigRole {
    /// chr1..chr22 (or 1..22).
    Autosome,
    /// chrX (or X).
    X,
    /// chrY (or Y).
    Y,
    /// chrM, chrMT or MT.
    Mito,
    /// An ALT haplotype: listed in the `.alt` file, named `*_alt`, or an HLA allele contig.
    Alt,
    /// A decoy or a virus: `*_decoy`, `chrEBV`, `hs37d5`, `hs38d1*`.
    Decoy,
    /// Other primary sequence: `*_random`, `chrUn_*`, `GL…`/`KI…` scaffolds.
    Other,
}

impl ContigRole {
    /// The role of contig `name`; `listed_alt` when a `.alt` file names it.
    pub fn of(name: &str, listed_alt: bool) -> ContigRole {
        if listed_alt {
            return ContigRole::Alt;
        }
        let lc = name.to_ascii_lowercase();
        let bare = lc.strip_prefix("chr").unwrap_or(&lc);
        match bare {
            "x" => return ContigRole::X,
            "y" => return ContigRole::Y,
            "m" | "mt" => return ContigRole::Mito,
            _ => {}
        }
        if !bare.is_empty()
            && bare.len() <= 2
            && !bare.starts_with('0')
            && bare.bytes().all(|b| b.is_ascii_digit())
            && (1..=22).contains(&bare.parse::<u8>().unwrap_or(0))
        {
            return ContigRole::Autosome;
        }
        if lc.ends_with("_alt") || lc.starts_with("hla-") {
            ContigRole::Alt
        } else if lc.ends_with("_decoy")
            || lc == "chrebv"
            || lc == "hs37d5"
            || lc.starts_with("hs38d1")
        {
            ContigRole::Decoy
        } else {
            ContigRole::Other
        }
    }

    /// Whether the contig is called by default: the primary assembly (autosomes, X, Y, the
    /// mitochondrion and other primary scaffolds), not ALT haplotypes or decoys.
    pub fn called_by_default(self) -> bool {
        !matches!(self, ContigRole::Alt | ContigRole::Decoy)
    }

    /// The name the QC report and the logs use.
    pub fn name(self) -> &'static str {
        match self {
            ContigRole::Autosome => "autosome",
            ContigRole::X => "X",
            ContigRole::Y => "Y",
            ContigRole::Mito => "mitochondrion",
            ContigRole::Alt => "ALT",
            ContigRole::Decoy => "decoy",
            ContigRole::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_of_grch38_grch37_and_t2t_names() {
        use ContigRole::*;
        for (name, role) in [
            ("chr1", Autosome),
            ("22", Autosome),
            ("chr23", Other),
            ("chr01", Other),
            ("chrX", X),
            ("Y", Y),
            ("chrM", Mito),
            ("MT", Mito),
            ("chr6_GL000251v2_alt", Alt),
            ("HLA-A*01:01:01:01", Alt),
            ("chrEBV", Decoy),
            ("chrUn_JTFH01000001v1_decoy", Decoy),
            ("hs37d5", Decoy),
            ("chr1_KI270706v1_random", Other),
            ("chrUn_GL000195v1", Other),
            ("GL000192.1", Other),
        ] {
            assert_eq!(ContigRole::of(name, false), role, "{name}");
        }
        assert_eq!(ContigRole::of("chr1", true), Alt);
        assert!(!Alt.called_by_default() && !Decoy.called_by_default());
        assert!(Other.called_by_default() && Mito.called_by_default());
    }
}
