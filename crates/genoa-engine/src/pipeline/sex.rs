//! Deciding the ploidy a sample is called with: the contig roles, the PARs, the karyotype
//! estimate from coverage bins and the declared sex (`--sex`), and what the QC report says
//! about them ([`KaryotypeReport`]).

use std::path::PathBuf;

use crate::call::ploidy::{
    self, CoverageBins, GenomePloidy, Karyotype, KaryotypeEstimate, ParTable, SexArg,
};
use crate::error::Result;
use crate::io::reference::Reference;
use crate::model::contigs::ContigRole;
use crate::report::qc::KaryotypeReport;

/// The sex settings of `run`, `gather` and `call`.
#[derive(Clone, Debug, Default)]
pub struct SexConfig {
    pub sex: SexArg,
    /// PARs for a reference genoa has no built-in table for.
    pub par_bed: Option<PathBuf>,
}

/// What [`decide`] settles.
pub struct PloidyDecision {
    pub ploidy: GenomePloidy,
    /// `None` for a reference without X (nothing to report).
    pub report: Option<KaryotypeReport>,
}

/// The roles and PARs of `reference` (the PARs from `--par-bed`, else the built-in table of
/// its build).
pub fn roles_and_pars(
    reference: &Reference,
    cfg: &SexConfig,
) -> Result<(Vec<ContigRole>, Option<ParTable>)> {
    let roles = crate::io::alt::roles(reference)?;
    let pars = match &cfg.par_bed {
        Some(bed) => Some(ploidy::read_par_bed(bed, reference, &roles)?),
        None => ploidy::builtin_pars(reference, &roles),
    };
    Ok((roles, pars))
}

/// The ploidy plan of a sample from its coverage `bins` (when counted) and `cfg`.
pub fn decide(
    reference: &Reference,
    cfg: &SexConfig,
    bins: Option<&CoverageBins>,
) -> Result<PloidyDecision> {
    let (roles, pars) = roles_and_pars(reference, cfg)?;
    Ok(decide_with(reference, cfg, &roles, pars, bins))
}

/// [`decide`] with the roles and PARs already read.
fn decide_with(
    reference: &Reference,
    cfg: &SexConfig,
    roles: &[ContigRole],
    pars: Option<ParTable>,
    bins: Option<&CoverageBins>,
) -> PloidyDecision {
    if !ploidy::has_sex_chromosomes(roles) {
        return PloidyDecision {
            ploidy: ploidy::plan(reference, roles, None, None),
            report: None,
        };
    }
    match &pars {
        Some(p) => ploidy::warn_unmasked_y_pars(reference, p, roles),
        None => tracing::warn!(
            "no PAR table for this reference (its X/Y lengths are not GRCh38's, GRCh37's or T2T-CHM13's) and no --par-bed: chrX and chrY are called without PARs"
        ),
    }
    let estimate = bins.map(|b| ploidy::estimate(reference, roles, pars.as_ref(), b));
    let declared = match cfg.sex {
        SexArg::Auto => None,
        SexArg::Declared(k) => Some(k),
    };
    let estimated = estimate.as_ref().and_then(|e| e.karyotype);
    let used = declared.or(estimated);
    if let (Some(d), Some(e)) = (declared, estimated)
        && d != e
    {
        tracing::warn!(
            "declared sex {} but the X/Y depth says {}: calling as {} (the default QC policy fails this sample)",
            d.name(),
            e.name(),
            d.name()
        );
    }
    if let Some(e) = estimate.as_ref() {
        tracing::info!(
            "karyotype estimate {} (X/autosome depth {}, Y/autosome {}; {} autosomal, {} X, {} Y bins){}",
            e.karyotype.map_or("unknown".into(), Karyotype::name),
            e.x_ratio.map_or("n/a".into(), |v| format!("{v:.3}")),
            e.y_ratio.map_or("n/a".into(), |v| format!("{v:.3}")),
            e.bins_autosomal,
            e.bins_x,
            e.bins_y,
            e.flag.as_ref().map_or(String::new(), |f| format!("; {f}"))
        );
    }
    if used.is_none() {
        tracing::warn!(
            "the karyotype could not be estimated (no autosomal or X coverage) and no --sex was given: chrX and chrY are called diploid"
        );
    }
    let plan = ploidy::plan(reference, roles, used, pars.as_ref());
    let report = KaryotypeReport {
        estimated: estimated.map(Karyotype::name),
        declared: declared.map(Karyotype::name),
        sex_agrees: declared.zip(estimated).map(|(d, e)| d == e),
        used_for_calling: used.map(Karyotype::name),
        par_source: pars.map(|p| p.source),
        estimate: estimate.unwrap_or(KaryotypeEstimate {
            x_ratio: None,
            y_ratio: None,
            bins_autosomal: 0,
            bins_x: 0,
            bins_y: 0,
            karyotype: None,
            flag: None,
        }),
    };
    PloidyDecision {
        ploidy: plan,
        report: Some(report),
    }
}

/// `header` (a gVCF header's text) with a `##genoaPloidy` line before `#CHROM` when the ploidy
/// follows a karyotype: the karyotype, the PAR source and the haploid intervals (1-based),
/// the contigs left out, so that a reader knows which bases are haploid and why.
pub fn with_ploidy_line(header: String, reference: &Reference, ploidy: &GenomePloidy) -> String {
    let Some(k) = ploidy.karyotype else {
        return header;
    };
    let mut haploid = Vec::new();
    let mut not_called = Vec::new();
    for (c, p) in ploidy.contigs.iter().enumerate() {
        let name = &reference.contigs[c].name;
        if !ploidy.called.get(c).copied().unwrap_or(true) {
            not_called.push(name.clone());
            continue;
        }
        for &(s, e, n) in &p.spans {
            match n {
                1 => haploid.push(format!("{name}:{}-{e}", s + 1)),
                0 => not_called.push(format!("{name}:{}-{e}", s + 1)),
                _ => {}
            }
        }
    }
    let line = format!(
        "##genoaPloidy=<Karyotype={},PAR={},Haploid=\"{}\",NotCalled=\"{}\">\n",
        k.name(),
        ploidy.par_source.as_deref().unwrap_or("none"),
        haploid.join(","),
        not_called.join(",")
    );
    match header.rfind("#CHROM") {
        Some(at) => {
            let mut h = header;
            h.insert_str(at, &line);
            h
        }
        None => header + &line,
    }
}

/// [`decide`] for `genoa call`: the coverage bins counted from `source` (an indexed BAM or
/// CRAM) when the reference has an X, on the current thread pool.
pub fn decide_from_source(
    reference: &Reference,
    cfg: &SexConfig,
    source: &dyn crate::pipeline::source::ReadSource,
) -> Result<PloidyDecision> {
    let (roles, pars) = roles_and_pars(reference, cfg)?;
    let bins = if ploidy::has_sex_chromosomes(&roles) {
        Some(ploidy::count_bins(reference, &roles, &|c, s, e, reads| {
            source.fetch(c, s, e, reads)
        })?)
    } else {
        None
    };
    Ok(decide_with(reference, cfg, &roles, pars, bins.as_ref()))
}
