//! `genoa validate FILE.g.vcf.gz -r ref.fa`: checks a gVCF against the rules joint callers
//! apply; prints the report (`PASS`, or each violation class with its count and first
//! examples) on stdout and fails (exit 1) on any violation.

use std::path::PathBuf;

use clap::Args;

use crate::error::{Error, Result};
use crate::io::reference::Reference;
use crate::validate::{self, Options};

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// gVCF to check (plain text, gzip or BGZF).
    pub gvcf: PathBuf,
    /// Reference FASTA the gVCF was called against.
    #[arg(short = 'r', long = "reference")]
    pub reference: PathBuf,
    /// Accept DeepVariant's `<*>` as the non-reference allele, as well as `<NON_REF>`.
    #[arg(long)]
    pub allow_star: bool,
    /// Also check what one joint-calling consumer computes with: `gatk` (GenotypeGVCFs: MQ
    /// from RAW_MQandDP, FS/SOR from SB), `hail` (the VDS combiner: QUALapprox, VarDP) or
    /// `glnexus` (AD, DP, GQ, PL; blocks' GQ and MIN_DP).
    #[arg(long, value_enum)]
    pub profile: Option<ProfileArg>,
}

/// `--profile`.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum ProfileArg {
    Gatk,
    Hail,
    Glnexus,
}

pub fn run(a: ValidateArgs) -> Result<()> {
    let reference = Reference::load(&a.reference)?;
    let options = Options {
        allow_star: a.allow_star,
        profile: match a.profile {
            None => validate::Profile::Format,
            Some(ProfileArg::Gatk) => validate::Profile::Gatk,
            Some(ProfileArg::Hail) => validate::Profile::Hail,
            Some(ProfileArg::Glnexus) => validate::Profile::Glnexus,
        },
    };
    let report = validate::validate(&a.gvcf, &reference, options)?;
    let mut stdout = std::io::stdout().lock();
    report
        .write(&a.gvcf.display().to_string(), &mut stdout)
        .map_err(|e| Error::io("stdout", e))?;
    if report.is_clean() {
        return Ok(());
    }
    let classes: Vec<&str> = report.classes().iter().map(|c| c.name()).collect();
    Err(Error::input(
        &a.gvcf,
        format!(
            "{} violations in {} classes ({})",
            report.total(),
            classes.len(),
            classes.join(", ")
        ),
    ))
}
