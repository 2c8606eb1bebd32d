//! `genoa aggregate -r ref.fa -o PREFIX [--samples SHEET] [--min-count K] GVCF...`: joint
//! genotypes at every variant site (`PREFIX.vcf.gz`) and the allele-frequency VCF
//! (`PREFIX.af.vcf.gz`), each with its tabix index; `--region`/`--regions` shard a cohort.

use std::path::PathBuf;

use clap::Args;

use crate::aggregate::{self, Options, SampleSheet};
use crate::call::regions;
use crate::error::{Error, Result};
use crate::io::reference::Reference;

#[derive(Args, Debug)]
pub struct AggregateArgs {
    /// Single-sample gVCFs (BGZF with a .tbi or .csi index).
    pub gvcfs: Vec<PathBuf>,
    /// A file listing gVCFs, one path per line (for cohorts too large for a command line).
    #[arg(long, value_name = "FILE")]
    pub gvcf_list: Option<PathBuf>,
    /// Reference FASTA the gVCFs were called against.
    #[arg(short = 'r', long = "reference")]
    pub reference: PathBuf,
    /// Output prefix: PREFIX.vcf.gz (cohort) and PREFIX.af.vcf.gz (allele frequencies).
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Sample sheet (TSV): a `sample` column, then grouping columns (country, sex, …).
    #[arg(long, value_name = "TSV")]
    pub samples: Option<PathBuf>,
    /// Privacy floor: allele counts below it are not published, nor groups smaller than it.
    #[arg(long, default_value_t = 5)]
    pub min_count: u32,
    /// Genotype filter: a genotype counts in AC/AN only with at least this GQ (gnomAD's "adj":
    /// 20; 0 counts every genotype).
    #[arg(long, default_value_t = 20)]
    pub min_gq: u32,
    /// Genotype filter: a genotype counts in AC/AN only with at least this DP (a reference
    /// block's MIN_DP; gnomAD's "adj": 10; 0 counts every genotype).
    #[arg(long, default_value_t = 10)]
    pub min_dp: u32,
    /// A sample whose own earlier record (a deletion) covers a site: `missing` there, as Hail's
    /// densified VDS counts it (AC/AN equal Hail's), or `star`: its ALT haplotypes are the `*`
    /// allele and its REF ones REF, as GATK GenotypeGVCFs writes them.
    #[arg(long, value_enum, default_value_t = SpanningArg::Missing)]
    pub spanning_deletions: SpanningArg,
    /// Only sites in this region: CHR, CHR:BEG or CHR:BEG-END (1-based, inclusive; repeatable).
    #[arg(long = "region", conflicts_with = "regions")]
    pub region: Vec<String>,
    /// Only sites in the intervals of this BED file.
    #[arg(long)]
    pub regions: Option<PathBuf>,
    #[command(flatten)]
    pub threads: crate::cli::ThreadsArg,
    /// Bases per window (memory ≈ samples × records per window).
    #[arg(long, default_value_t = aggregate::WINDOW, hide = true)]
    pub window: u64,
}

pub fn run(a: AggregateArgs, command_line: &str) -> Result<()> {
    let mut inputs = a.gvcfs.clone();
    if let Some(list) = &a.gvcf_list {
        let text = std::fs::read_to_string(list).map_err(|e| Error::io(list, e))?;
        inputs.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(PathBuf::from),
        );
    }
    if inputs.is_empty() {
        return Err(Error::Config(
            "genoa aggregate: no gVCFs (give paths or --gvcf-list)".into(),
        ));
    }
    let reference = Reference::load(&a.reference)?;
    let sheet = a.samples.as_deref().map(SampleSheet::load).transpose()?;
    let regions = if let Some(bed) = &a.regions {
        regions::read_bed(bed, &reference)?
    } else {
        a.region
            .iter()
            .map(|r| regions::parse_region(r, &reference))
            .collect::<Result<_>>()?
    };
    let opts = Options {
        min_count: a.min_count,
        min_gq: a.min_gq,
        min_dp: a.min_dp,
        spanning: match a.spanning_deletions {
            SpanningArg::Missing => aggregate::Spanning::Missing,
            SpanningArg::Star => aggregate::Spanning::Star,
        },
        regions,
        window: a.window,
        command_line: command_line.to_string(),
    };
    let prefix = a.output.to_string_lossy().into_owned();
    let prefix = prefix
        .strip_suffix(".vcf.gz")
        .unwrap_or(&prefix)
        .to_string();
    let cohort = PathBuf::from(format!("{prefix}.vcf.gz"));
    let af = PathBuf::from(format!("{prefix}.af.vcf.gz"));
    {
        let mut read: Vec<&std::path::Path> = inputs.iter().map(PathBuf::as_path).collect();
        read.push(&a.reference);
        read.extend(a.gvcf_list.as_deref());
        read.extend(a.samples.as_deref());
        read.extend(a.regions.as_deref());
        crate::io::atomic::refuse_inputs(&[&cohort, &af], &read)?;
    }
    if let Some(dir) = cohort.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let pool = crate::pipeline::thread_pool(a.threads.threads)?;
    let t0 = std::time::Instant::now();
    let s = pool.install(|| {
        aggregate::aggregate(&inputs, &reference, sheet.as_ref(), &opts, &cohort, &af)
    })?;
    tracing::info!(
        "{} samples, {} sites ({} published at min count {}) in {:.1} s",
        s.samples,
        s.sites,
        s.published_sites,
        a.min_count,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `--spanning-deletions`.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum SpanningArg {
    Missing,
    Star,
}
