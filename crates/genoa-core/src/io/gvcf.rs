//! gVCF output: VCF 4.2 text in BGZF with a tabix index (`.csi` when a contig is longer than
//! 2^29 bp), shaped like GATK HaplotypeCaller `-ERC GVCF` output.

use std::io::Write;
use std::path::{Path, PathBuf};

use noodles::bgzf;

use crate::error::{Error, Result};
use crate::genome::base_ascii;
use crate::io::atomic::Pending;
use crate::io::reference::Reference;
use crate::model::genotype::diploid_index;
use crate::model::gvcf::OutputMode;
use crate::model::gvcf::{Annotations, Genotyped, RankSum, Record, Variant};

/// The header text (every line, `#CHROM` included); a plain VCF's (`mode` `Variants`) has no
/// `<NON_REF>`, block or `MIN_DP` lines.
pub fn header(
    reference: &Reference,
    sample: &str,
    gq_bands: &[u32],
    mode: OutputMode,
    command_line: &str,
) -> String {
    let gvcf = mode == OutputMode::Gvcf;
    let mut h = String::new();
    h.push_str("##fileformat=VCFv4.2\n");
    if gvcf {
        h.push_str("##ALT=<ID=NON_REF,Description=\"Represents any possible alternative allele not already represented at this location by REF and ALT\">\n");
    }
    h.push_str("##FILTER=<ID=PASS,Description=\"All filters passed\">\n");
    if gvcf {
        h.push_str("##FILTER=<ID=LowQual,Description=\"A candidate allele whose QUAL is below the caller's emit threshold (written for joint genotyping, not a call)\">\n");
        h.push_str("##FILTER=<ID=RefCall,Description=\"A candidate allele genotyped as absent (GT without ALT; written for joint genotyping)\">\n");
    } else {
        h.push_str("##FILTER=<ID=LowQual,Description=\"Low quality\">\n");
    }
    h.push_str(if gvcf {
        "##FORMAT=<ID=AF,Number=A,Type=Float,Description=\"Allele fraction of each ALT among the reads (mitochondrial heteroplasmy level; <NON_REF>: reads with none of the alleles)\">\n"
    } else {
        "##FORMAT=<ID=AF,Number=A,Type=Float,Description=\"Allele fraction of each ALT among the reads (mitochondrial heteroplasmy level)\">\n"
    });
    h.push_str("##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"Allelic depths for the ref and alt alleles in the order listed\">\n");
    h.push_str("##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Approximate read depth (reads with MQ below the minimum or failing filters are not counted)\">\n");
    h.push_str("##FORMAT=<ID=GQ,Number=1,Type=Integer,Description=\"Genotype Quality\">\n");
    h.push_str("##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n");
    if gvcf {
        h.push_str("##FORMAT=<ID=MIN_DP,Number=1,Type=Integer,Description=\"Minimum DP observed within the GVCF block\">\n");
    }
    h.push_str("##FORMAT=<ID=PL,Number=G,Type=Integer,Description=\"Normalized, Phred-scaled likelihoods for genotypes as defined in the VCF specification\">\n");
    h.push_str("##FORMAT=<ID=PGT,Number=1,Type=String,Description=\"Physical phasing haplotype information, describing how the alternate alleles are phased in relation to one another\">\n");
    h.push_str("##FORMAT=<ID=PID,Number=1,Type=String,Description=\"Physical phasing ID information, where each unique ID within a given sample (but not across samples) connects records within a phasing group\">\n");
    h.push_str("##FORMAT=<ID=PS,Number=1,Type=Integer,Description=\"Phasing set (typically the position of the first variant in the set)\">\n");
    h.push_str("##FORMAT=<ID=SB,Number=4,Type=Integer,Description=\"Per-sample component statistics which comprise the Fisher's Exact Test to detect strand bias.\">\n");
    if gvcf {
        let mut lo = 0;
        for &hi in gq_bands {
            h.push_str(&format!(
                "##GVCFBlock{lo}-{hi}=minGQ={lo}(inclusive),maxGQ={hi}(exclusive)\n"
            ));
            lo = hi;
        }
        h.push_str(&format!(
            "##GVCFBlock{lo}-100=minGQ={lo}(inclusive),maxGQ=100(exclusive)\n"
        ));
    }
    if gvcf {
        h.push_str("##INFO=<ID=AS_QUALapprox,Number=1,Type=String,Description=\"Allele-specific QUAL approximations\">\n");
        h.push_str("##INFO=<ID=AS_RAW_BaseQRankSum,Number=1,Type=String,Description=\"raw data for allele specific rank sum test of base qualities\">\n");
        h.push_str("##INFO=<ID=AS_RAW_MQ,Number=1,Type=String,Description=\"Allele-specfic raw data for RMS Mapping Quality\">\n");
        h.push_str("##INFO=<ID=AS_RAW_MQRankSum,Number=1,Type=String,Description=\"Allele-specfic raw data for Mapping Quality Rank Sum\">\n");
        h.push_str("##INFO=<ID=AS_RAW_ReadPosRankSum,Number=1,Type=String,Description=\"allele specific raw data for rank sum test of read position bias\">\n");
        h.push_str("##INFO=<ID=AS_VarDP,Number=1,Type=String,Description=\"Allele-specific (informative) depth over variant genotypes -- including ref, RAW format\">\n");
        h.push_str("##INFO=<ID=AS_SB_TABLE,Number=1,Type=String,Description=\"Allele-specific forward/reverse read counts for strand bias tests. Includes the reference and alleles separated by |.\">\n");
    }
    h.push_str("##INFO=<ID=BaseQRankSum,Number=1,Type=Float,Description=\"Z-score from Wilcoxon rank sum test of Alt Vs. Ref base qualities\">\n");
    h.push_str("##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Approximate read depth; some reads may have been filtered\">\n");
    h.push_str("##INFO=<ID=MQ,Number=1,Type=Float,Description=\"RMS Mapping Quality\">\n");
    h.push_str("##INFO=<ID=MQRankSum,Number=1,Type=Float,Description=\"Z-score From Wilcoxon rank sum test of Alt vs. Ref read mapping qualities\">\n");
    h.push_str(
        "##INFO=<ID=QD,Number=1,Type=Float,Description=\"Variant Confidence/Quality by Depth\">\n",
    );
    if gvcf {
        h.push_str("##INFO=<ID=QUALapprox,Number=1,Type=Integer,Description=\"Sum of PL[0] values; used to approximate the QUAL score\">\n");
        h.push_str("##INFO=<ID=RAW_GT_COUNT,Number=3,Type=Integer,Description=\"Counts of genotypes w.r.t. the reference allele in the following order: 0/0, 0/1, 1/1.\">\n");
    }
    h.push_str("##INFO=<ID=RAW_MQandDP,Number=2,Type=Integer,Description=\"Raw data (sum of squared MQ and total depth) for improved RMS Mapping Quality calculation\">\n");
    h.push_str("##INFO=<ID=ReadPosRankSum,Number=1,Type=Float,Description=\"Z-score from Wilcoxon rank sum test of Alt vs. Ref read position bias\">\n");
    if gvcf {
        h.push_str("##INFO=<ID=VarDP,Number=1,Type=Integer,Description=\"(informative) depth over variant genotypes\">\n");
    }
    if gvcf {
        h.push_str(
            "##INFO=<ID=END,Number=1,Type=Integer,Description=\"Stop position of the interval\">\n",
        );
    }
    h.push_str(&provenance(reference, command_line));
    h.push_str(&format!(
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{sample}\n"
    ));
    h
}

/// The header lines naming the reference (contigs with MD5 and refget digests, the seqcol
/// digest, its path) and genoa's version and command line.
pub fn provenance(reference: &Reference, command_line: &str) -> String {
    let mut h = String::new();
    for c in &reference.contigs {
        h.push_str(&format!(
            "##contig=<ID={},length={},md5={},refget={}>\n",
            c.name,
            c.len(),
            c.md5,
            c.refget
        ));
    }
    // GA4GH Sequence Collections level-0 digest of the reference (names + sequences).
    h.push_str(&format!("##seqcol={}\n", reference.seqcol_level0()));
    let abs = std::fs::canonicalize(&reference.path).unwrap_or_else(|_| reference.path.clone());
    h.push_str(&format!("##reference=file://{}\n", abs.display()));
    h.push_str(&format!("##source=genoa {}\n", env!("CARGO_PKG_VERSION")));
    h.push_str(&format!(
        "##genoaCommandLine=<ID=genoa,Version={},CommandLine=\"{}\">\n",
        env!("CARGO_PKG_VERSION"),
        vcf_quoted(command_line)
    ));
    h
}

/// `text` as the inside of a quoted VCF header value: `\\` and `"` escaped (VCF 4.3 §1.4),
/// tabs and line breaks (which no header line may hold) as spaces.
fn vcf_quoted(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

fn join<T: std::fmt::Display>(v: &[T]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn alleles(codes: &[u8]) -> String {
    codes.iter().map(|&b| base_ascii(b) as char).collect()
}

/// Formats one record (with its newline) into `line`, reusing its allocation. In `Variants`
/// mode a variant loses `<NON_REF>`, its AD entry and the PL entries of the genotypes that
/// hold it, and a reference block gives an empty line.
pub fn format_record(
    chrom: &str,
    contig: &[u8],
    record: &Record,
    mode: OutputMode,
    line: &mut String,
) {
    use std::fmt::Write as _;
    line.clear();
    // Writing into a String cannot fail.
    let _ = match record {
        Record::Block(b) if mode == OutputMode::Gvcf => writeln!(
            line,
            "{chrom}\t{}\t.\t{}\t<NON_REF>\t.\t.\tEND={}\tGT:DP:GQ:MIN_DP:PL\t{}:{}:{}:{}:{}",
            b.start + 1,
            base_ascii(contig[b.start as usize]) as char,
            b.end + 1,
            if b.ploidy == 1 { "0" } else { "0/0" },
            b.median_dp,
            b.gq,
            b.min_dp,
            join(b.pl())
        ),
        Record::Block(_) => Ok(()),
        Record::Variant(Variant {
            pos,
            reference,
            alts,
            filter_pass,
            candidate,
            mq,
            genotyped: g,
            af,
            annotations,
            phase,
        }) => {
            let qd = if g.dp > 0 {
                g.qual / f64::from(g.dp)
            } else {
                0.0
            };
            // In a plain VCF, <NON_REF> goes with its AD entry and the genotypes that hold it
            // (the last ones in VCF order).
            let n = alts.len() + 1;
            let (non_ref, ad, pl) = match mode {
                OutputMode::Gvcf => (",<NON_REF>", &g.ad[..], &g.pl[..]),
                OutputMode::Variants => ("", &g.ad[..n], &g.pl[..g.pl_len(n)]),
            };
            let alt_text = alts
                .iter()
                .map(|a| alleles(a))
                .collect::<Vec<_>>()
                .join(",");
            writeln!(
                line,
                "{chrom}\t{}\t.\t{}\t{}{non_ref}\t{:.2}\t{}\t{}\tGT:AD:DP:GQ:PL{}{}{}\t{}:{}:{}:{}:{}{}{}{}",
                pos + 1,
                alleles(reference),
                alt_text,
                g.qual,
                // A gVCF leaves filtering to joint genotyping, as HaplotypeCaller -ERC GVCF
                // does, and marks the candidates that are not calls; a plain VCF flags calls
                // below the pass threshold.
                match mode {
                    OutputMode::Gvcf if *candidate && g.gt == [0, 0] => "RefCall",
                    OutputMode::Gvcf if *candidate => "LowQual",
                    OutputMode::Gvcf => ".",
                    OutputMode::Variants if *filter_pass => ".",
                    OutputMode::Variants => "LowQual",
                },
                info(g, *mq, qd, annotations.as_deref(), mode),
                if af.is_empty() { "" } else { ":AF" },
                if annotations.is_some() { ":SB" } else { "" },
                if phase.is_some() { ":PGT:PID:PS" } else { "" },
                g.alleles()
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("/"),
                join(ad),
                g.dp,
                g.gq,
                join(pl),
                if af.is_empty() {
                    String::new()
                } else {
                    // Number=A: one value per ALT, so <NON_REF> gets the fraction of the
                    // reads that carry none of the alleles.
                    let other = (mode == OutputMode::Gvcf).then(|| {
                        f64::from(g.ad.last().copied().unwrap_or(0)) / f64::from(g.dp.max(1))
                    });
                    format!(
                        ":{}",
                        af.iter()
                            .chain(other.iter())
                            .map(|f| format!("{f:.4}"))
                            .collect::<Vec<_>>()
                            .join(",")
                    )
                },
                annotations
                    .as_ref()
                    .map(|a| format!(":{}", join(&a.sb())))
                    .unwrap_or_default(),
                phase
                    .as_ref()
                    .map(|p| format!(":{}|{}:{}:{}", p.gt[0], p.gt[1], p.id, p.set))
                    .unwrap_or_default()
            )
        }
    };
}

/// A variant record's INFO column: `DP`, `MQ`, `QD` and, with `annotations`, GATK's raw
/// annotations in its (alphabetical) order — the allele-specific ones, which hold a
/// `<NON_REF>` entry, and ReblockGVCF's site-quality carriers (`QUALapprox`, `VarDP`,
/// `AS_QUALapprox`, `AS_VarDP`, `RAW_GT_COUNT`: what Hail's VDS and joint calling use in place
/// of the QUAL column) only in a gVCF.
fn info(
    g: &Genotyped,
    mq: f64,
    qd: f64,
    annotations: Option<&Annotations>,
    mode: OutputMode,
) -> String {
    use std::fmt::Write as _;
    let dp = g.dp;
    let Some(a) = annotations else {
        return format!("DP={dp};MQ={mq:.2};QD={qd:.2}");
    };
    let gvcf = mode == OutputMode::Gvcf;
    let mut s = String::new();
    let site = |r: &RankSum| r.site.map(|z| format!("{z:.3}"));
    let raw = |r: &RankSum| -> String {
        let alts = a.strand.len().saturating_sub(1);
        match &r.per_alt {
            None => "|".repeat(alts),
            Some(zs) => zs
                .iter()
                .map(|z| match z {
                    Some(z) => format!("|{}", histogram_entry(*z)),
                    None => "|NaN".to_string(),
                })
                .collect(),
        }
    };
    // Writing into a String cannot fail.
    if gvcf {
        let _ = write!(
            s,
            "AS_QUALapprox={};AS_RAW_BaseQRankSum={};AS_RAW_MQ={};AS_RAW_MQRankSum={};AS_RAW_ReadPosRankSum={};AS_SB_TABLE={};AS_VarDP={};",
            as_qual_approx(g, a.strand.len()),
            raw(&a.base_q_rank),
            a.allele_mq
                .iter()
                .map(|m| format!("{m}.00"))
                .collect::<Vec<_>>()
                .join("|"),
            raw(&a.mq_rank),
            raw(&a.read_pos_rank),
            a.strand
                .iter()
                .map(|t| format!("{},{}", t[0], t[1]))
                .collect::<Vec<_>>()
                .join("|"),
            g.ad.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("|"),
        );
    }
    if let Some(z) = site(&a.base_q_rank) {
        let _ = write!(s, "BaseQRankSum={z};");
    }
    let _ = write!(s, "DP={dp};MQ={mq:.2};");
    if let Some(z) = site(&a.mq_rank) {
        let _ = write!(s, "MQRankSum={z};");
    }
    let _ = write!(s, "QD={qd:.2};");
    if gvcf {
        let _ = write!(s, "QUALapprox={};", g.pl.first().copied().unwrap_or(0));
        // Genotype counts (hom-ref, het, hom-alt) for ExcessHet: a called REF allele makes
        // the sample het, none hom-alt.
        let alleles = g.alleles();
        let count = if alleles.iter().all(|&x| x == 0) {
            "1,0,0"
        } else if alleles.contains(&0) {
            "0,1,0"
        } else {
            "0,0,1"
        };
        let _ = write!(s, "RAW_GT_COUNT={count};");
    }
    let _ = write!(s, "RAW_MQandDP={},{}", a.raw_mq, a.raw_dp);
    if let Some(z) = site(&a.read_pos_rank) {
        let _ = write!(s, ";ReadPosRankSum={z}");
    }
    if gvcf {
        let _ = write!(s, ";VarDP={dp}");
    }
    s
}

/// `AS_QUALapprox` of a record of `n` alleles (`<NON_REF>` the last): per ALT (`<NON_REF>` 0),
/// the PL of hom-ref among the genotypes of REF and that ALT alone (ReblockGVCF's subsetting),
/// after an empty REF entry.
fn as_qual_approx(g: &Genotyped, n: usize) -> String {
    let mut out = String::new();
    for k in 1..n {
        let q = if k + 1 == n {
            0
        } else if g.ploidy == 1 {
            g.pl[0].saturating_sub(g.pl[0].min(g.pl[k]))
        } else {
            let (het, hom) = (diploid_index(0, k), diploid_index(k, k));
            let m = g.pl[0].min(g.pl[het]).min(g.pl[hom]);
            g.pl[0] - m
        };
        out.push('|');
        out.push_str(&q.to_string());
    }
    out
}

/// A rank-sum z as the `AS_RAW_` histograms write it: GATK's 0.1-wide bin (floor, with a small
/// epsilon so a value on a boundary stays in its bin) and a count of one.
pub fn histogram_entry(z: f64) -> String {
    let bin = ((z + 0.01 * 0.1) / 0.1).floor();
    // -0.0 prints as 0.0.
    format!("{:.1},1", bin * 0.1 + 0.0)
}

/// Path of the index beside `gvcf`.
pub fn index_path(gvcf: &Path, max_contig_len: u64) -> PathBuf {
    let long = max_contig_len > crate::io::bam::BAI_MAX_LEN;
    crate::io::with_suffix(gvcf, if long { ".csi" } else { ".tbi" })
}

/// A gVCF being written: records are added contig by contig, in order; the file and its
/// index appear under their final names only when `finish` succeeds.
pub struct Writer {
    data: Pending,
    w: bgzf::io::Writer<std::fs::File>,
    line: String,
    mode: OutputMode,
}

impl Writer {
    /// Starts `path` with `header_text`.
    pub fn create(path: &Path, header_text: &str, mode: OutputMode) -> Result<Writer> {
        let data = Pending::new(path)?;
        let mut w = bgzf::io::Writer::new(data.create()?);
        w.write_all(header_text.as_bytes())
            .map_err(|e| Error::io(path, e))?;
        Ok(Writer {
            data,
            w,
            line: String::new(),
            mode,
        })
    }

    /// Appends records of the contig named `chrom` (bases `contig`).
    pub fn push(&mut self, chrom: &str, contig: &[u8], records: &[Record]) -> Result<()> {
        for r in records {
            format_record(chrom, contig, r, self.mode, &mut self.line);
            self.w
                .write_all(self.line.as_bytes())
                .map_err(|e| Error::io(self.data.path(), e))?;
        }
        Ok(())
    }

    /// Appends text that is already whole VCF lines.
    pub fn push_text(&mut self, text: &str) -> Result<()> {
        self.w
            .write_all(text.as_bytes())
            .map_err(|e| Error::io(self.data.path(), e))
    }

    /// Completes the file, indexes it and moves both to their final names.
    pub fn finish(self, reference: &Reference) -> Result<()> {
        let Writer { data, mut w, .. } = self;
        let path = data.path().to_path_buf();
        w.try_finish().map_err(|e| Error::io(&path, e))?;
        drop(w);
        let index = Pending::new(index_path(&path, reference.max_len()))?;
        let index_err = |e| Error::io(index.path(), e);
        let file = index.create()?;
        match noodles::vcf::fs::index(data.tmp_path()).map_err(index_err)? {
            noodles::vcf::Index::Tabix(t) => {
                let mut w = noodles::tabix::io::Writer::new(file);
                w.write_index(&t).map_err(index_err)?;
                w.get_mut().try_finish().map_err(index_err)?
            }
            noodles::vcf::Index::Csi(c) => {
                let mut w = noodles::csi::io::Writer::new(file);
                w.write_index(&c).map_err(index_err)?;
                w.get_mut().try_finish().map_err(index_err)?
            }
        }
        crate::io::atomic::commit_all(vec![data, index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gvcf::Genotyped;

    #[test]
    fn a_multi_allelic_record_in_both_modes() {
        // REF ACG, ALTs A (deletion) and ATG (SNP), genotype 1/2.
        let contig = [0u8, 1, 2, 3];
        let v = Record::Variant(Variant {
            af: Vec::new(),
            annotations: None,
            phase: None,
            pos: 0,
            reference: vec![0, 1, 2],
            alts: vec![vec![0], vec![0, 3, 2]],
            filter_pass: true,
            candidate: false,
            mq: 60.0,
            genotyped: Genotyped {
                ploidy: 2,
                gt: [1, 2],
                qual: 300.0,
                gq: 50,
                pl: (0..10).map(|k| 10 * k).collect(),
                ad: vec![1, 8, 9, 0],
                dp: 18,
            },
        });
        let mut line = String::new();
        format_record("c", &contig, &v, OutputMode::Gvcf, &mut line);
        assert_eq!(
            line,
            "c\t1\t.\tACG\tA,ATG,<NON_REF>\t300.00\t.\tDP=18;MQ=60.00;QD=16.67\tGT:AD:DP:GQ:PL\t1/2:1,8,9,0:18:50:0,10,20,30,40,50,60,70,80,90\n"
        );
        format_record("c", &contig, &v, OutputMode::Variants, &mut line);
        assert_eq!(
            line,
            "c\t1\t.\tACG\tA,ATG\t300.00\t.\tDP=18;MQ=60.00;QD=16.67\tGT:AD:DP:GQ:PL\t1/2:1,8,9:18:50:0,10,20,30,40,50\n"
        );
    }

    #[test]
    fn low_quality_is_flagged_only_in_a_plain_vcf() {
        let contig = [0u8, 1];
        let v = Record::Variant(Variant {
            af: Vec::new(),
            annotations: None,
            phase: None,
            pos: 1,
            reference: vec![1],
            alts: vec![vec![2]],
            filter_pass: false,
            candidate: false,
            mq: 60.0,
            genotyped: Genotyped {
                ploidy: 2,
                gt: [0, 1],
                qual: 15.0,
                gq: 15,
                pl: vec![15, 0, 40, 20, 45, 90],
                ad: vec![3, 2, 0],
                dp: 5,
            },
        });
        let filter = |mode| {
            let mut line = String::new();
            format_record("c", &contig, &v, mode, &mut line);
            line.split('\t').nth(6).unwrap().to_string()
        };
        assert_eq!(filter(OutputMode::Gvcf), ".");
        assert_eq!(filter(OutputMode::Variants), "LowQual");
    }
}
