//! `genoa validate` and `genoa refid`: a corpus of hand-made broken gVCFs, each flagged with
//! its violation class and nothing else unrelated; genoa's own gVCF, a GATK-style (diploid and
//! haploid) and a DeepVariant-style gVCF pass; reference digests against published vectors and
//! samtools.

use std::path::{Path, PathBuf};

use genoa::io::reference::Reference;
use genoa::validate::{Class, Options, Report, validate, validate_reader};

use super::common::{Rng, demo_dir, demo_run, genoa, tool_lines};

/// A tiny reference: c1 (40 bp), c2 (20 bp) and c3 (100 kb, for the block-length rule).
struct Fixture {
    dir: tempfile::TempDir,
    fasta: PathBuf,
    reference: Reference,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let fasta = dir.path().join("ref.fa");
        let mut rng = Rng::with_seed(8);
        let c3: String = genoa::genome::random_bases(&mut rng, 100_000)
            .iter()
            .map(|&b| b"ACGT"[usize::from(b)] as char)
            .collect();
        std::fs::write(
            &fasta,
            format!(
                ">c1\nACGTTGCAACGTAGCTAGCTTACGGATCCATGCAAGTCCA\n>c2 second\nGGATCCTTAGCAAGCTTACG\n>c3\n{c3}\n"
            ),
        )
        .unwrap();
        let reference = Reference::load(&fasta).unwrap();
        Fixture {
            dir,
            fasta,
            reference,
        }
    }

    /// The reference base at 1-based `pos` of `contig`.
    fn base(&self, contig: &str, pos: u64) -> char {
        let c = &self.reference.contigs[self.reference.contig_index(contig).unwrap()];
        genoa::genome::base_ascii(c.codes[(pos - 1) as usize]) as char
    }

    fn md5(&self, contig: &str) -> &str {
        &self.reference.contigs[self.reference.contig_index(contig).unwrap()].md5
    }

    fn check(&self, text: &str, options: Options) -> Report {
        validate_reader(text.as_bytes(), &self.reference, options).unwrap()
    }

    /// A gVCF shaped like GATK 4 HaplotypeCaller `-ERC GVCF` output: a SNP, a one-base
    /// block, a deletion followed by a block starting on the deleted base, and a split c3.
    fn gatk(&self) -> String {
        let b = |c: &str, p: u64| self.base(c, p);
        let mut t = String::from("##fileformat=VCFv4.2\n");
        t.push_str("##ALT=<ID=NON_REF,Description=\"Represents any possible alternative allele not already represented at this location by REF and ALT\">\n");
        t.push_str("##FILTER=<ID=LowQual,Description=\"Low quality\">\n");
        t.push_str("##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"Allelic depths for the ref and alt alleles in the order listed\">\n");
        t.push_str("##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Approximate read depth (reads with MQ=255 or with bad mates are filtered)\">\n");
        t.push_str("##FORMAT=<ID=GQ,Number=1,Type=Integer,Description=\"Genotype Quality\">\n");
        t.push_str("##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n");
        t.push_str("##FORMAT=<ID=MIN_DP,Number=1,Type=Integer,Description=\"Minimum DP observed within the GVCF block\">\n");
        t.push_str("##FORMAT=<ID=PL,Number=G,Type=Integer,Description=\"Normalized, Phred-scaled likelihoods for genotypes as defined in the VCF specification\">\n");
        t.push_str("##FORMAT=<ID=SB,Number=4,Type=Integer,Description=\"Per-sample component statistics which comprise the Fisher's Exact Test to detect strand bias.\">\n");
        t.push_str("##GATKCommandLine=<ID=HaplotypeCaller,CommandLine=\"HaplotypeCaller --emit-ref-confidence GVCF --output s.g.vcf.gz --input s.bam --reference ref.fa\",Version=\"4.5.0.0\",Date=\"May 1, 2024 10:00:00 AM UTC\">\n");
        t.push_str("##GVCFBlock0-20=minGQ=0(inclusive),maxGQ=20(exclusive)\n");
        t.push_str("##GVCFBlock20-99=minGQ=20(inclusive),maxGQ=99(exclusive)\n");
        t.push_str("##INFO=<ID=BaseQRankSum,Number=1,Type=Float,Description=\"Z-score from Wilcoxon rank sum test of Alt Vs. Ref base qualities\">\n");
        t.push_str("##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Approximate read depth; some reads may have been filtered\">\n");
        t.push_str(
            "##INFO=<ID=END,Number=1,Type=Integer,Description=\"Stop position of the interval\">\n",
        );
        t.push_str("##INFO=<ID=ExcessHet,Number=1,Type=Float,Description=\"Phred-scaled p-value for exact test of excess heterozygosity\">\n");
        t.push_str("##INFO=<ID=MLEAC,Number=A,Type=Integer,Description=\"Maximum likelihood expectation (MLE) for the allele counts, for each ALT allele, in the same order as listed\">\n");
        t.push_str("##INFO=<ID=MLEAF,Number=A,Type=Float,Description=\"Maximum likelihood expectation (MLE) for the allele frequency, for each ALT allele, in the same order as listed\">\n");
        t.push_str("##INFO=<ID=MQRankSum,Number=1,Type=Float,Description=\"Z-score From Wilcoxon rank sum test of Alt vs. Ref read mapping qualities\">\n");
        t.push_str("##INFO=<ID=RAW_MQandDP,Number=2,Type=Integer,Description=\"Raw data (sum of squared MQ and total depth) for improved RMS Mapping Quality calculation. Incompatible with deprecated RAW_MQ formulation.\">\n");
        t.push_str("##INFO=<ID=ReadPosRankSum,Number=1,Type=Float,Description=\"Z-score from Wilcoxon rank sum test of Alt vs. Ref read position bias\">\n");
        t.push_str(&format!(
            "##contig=<ID=c1,length=40,M5={},assembly=test>\n",
            self.md5("c1").to_ascii_uppercase()
        ));
        t.push_str("##contig=<ID=c2,length=20,assembly=test>\n");
        t.push_str("##contig=<ID=c3,length=100000,assembly=test>\n");
        t.push_str("##source=HaplotypeCaller\n");
        t.push_str("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNA12878\n");
        let alt = if b("c1", 11) == 'A' { 'C' } else { 'A' };
        let block = "GT:DP:GQ:MIN_DP:PL";
        let call = "GT:AD:DP:GQ:PL:SB";
        for line in [
            format!(
                "c1\t1\t.\t{}\t<NON_REF>\t.\t.\tEND=10\t{block}\t0/0:12:33:11:0,33,495",
                b("c1", 1)
            ),
            format!(
                "c1\t11\t.\t{}\t{alt},<NON_REF>\t245.64\t.\tDP=8;ExcessHet=0.0000;MLEAC=2,0;MLEAF=1.00,0.00;RAW_MQandDP=28800,8\t{call}\t1/1:0,8,0:8:24:259,24,0,259,24,259:0,0,5,3",
                b("c1", 11)
            ),
            format!(
                "c1\t12\t.\t{}\t<NON_REF>\t.\t.\tEND=12\t{block}\t0/0:9:21:9:0,21,315",
                b("c1", 12)
            ),
            format!(
                "c1\t13\t.\t{}{}\t{},<NON_REF>\t102.60\t.\tBaseQRankSum=0.431;DP=9;ExcessHet=0.0000;MLEAC=1,0;MLEAF=0.500,0.00;MQRankSum=0.000;RAW_MQandDP=32400,9;ReadPosRankSum=-0.253\t{call}\t0/1:4,5,0:9:99:140,0,110,152,125,277:2,2,3,2",
                b("c1", 13),
                b("c1", 14),
                b("c1", 13)
            ),
            format!(
                "c1\t14\t.\t{}\t<NON_REF>\t.\t.\tEND=40\t{block}\t0/0:10:30:8:0,30,450",
                b("c1", 14)
            ),
            format!(
                "c2\t1\t.\t{}\t<NON_REF>\t.\t.\tEND=20\t{block}\t0/0:7:20:6:0,60,900",
                b("c2", 1)
            ),
            format!(
                "c3\t1\t.\t{}\t<NON_REF>\t.\t.\tEND=60000\t{block}\t0/0:0:0:0:0,0,0",
                b("c3", 1)
            ),
            format!(
                "c3\t60001\t.\t{}\t<NON_REF>\t.\t.\tEND=100000\t{block}\t0/0:0:0:0:0,0,0",
                b("c3", 60001)
            ),
        ] {
            t.push_str(&line);
            t.push('\n');
        }
        t
    }

    /// A gVCF shaped like DeepVariant 1.x `--output_gvcf`: `<*>`, `./.` over uncovered bases,
    /// VAF and MED_DP fields, PASS/RefCall filters.
    fn deepvariant(&self) -> String {
        let b = |c: &str, p: u64| self.base(c, p);
        let mut t = String::from("##fileformat=VCFv4.2\n");
        t.push_str("##FILTER=<ID=PASS,Description=\"All filters passed\">\n");
        t.push_str("##FILTER=<ID=RefCall,Description=\"Genotyping model thinks this site is reference.\">\n");
        t.push_str("##FILTER=<ID=LowQual,Description=\"Confidence in this variant being real is below calling threshold.\">\n");
        t.push_str("##INFO=<ID=END,Number=1,Type=Integer,Description=\"End position (for use with symbolic alleles)\">\n");
        t.push_str("##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n");
        t.push_str(
            "##FORMAT=<ID=GQ,Number=1,Type=Integer,Description=\"Conditional genotype quality\">\n",
        );
        t.push_str("##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Read depth\">\n");
        t.push_str("##FORMAT=<ID=MIN_DP,Number=1,Type=Integer,Description=\"Minimum DP observed within the GVCF block.\">\n");
        t.push_str(
            "##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"Read depth for each allele\">\n",
        );
        t.push_str(
            "##FORMAT=<ID=VAF,Number=A,Type=Float,Description=\"Variant allele fractions.\">\n",
        );
        t.push_str("##FORMAT=<ID=PL,Number=G,Type=Integer,Description=\"Phred-scaled genotype likelihoods rounded to the closest integer\">\n");
        t.push_str("##FORMAT=<ID=MED_DP,Number=1,Type=Integer,Description=\"Median DP observed within the GVCF block rounded to the nearest integer.\">\n");
        t.push_str("##DeepVariant_version=1.6.1\n");
        for c in &self.reference.contigs {
            t.push_str(&format!("##contig=<ID={},length={}>\n", c.name, c.len()));
        }
        t.push_str("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tHG002\n");
        let alt = if b("c1", 20) == 'G' { 'T' } else { 'G' };
        let block = "GT:GQ:MIN_DP:PL";
        for line in [
            format!(
                "c1\t1\t.\t{}\t<*>\t0\t.\tEND=5\t{block}\t./.:0:0:0,0,0",
                b("c1", 1)
            ),
            format!(
                "c1\t6\t.\t{}\t<*>\t0\t.\tEND=19\t{block}\t0/0:50:20:0,63,629",
                b("c1", 6)
            ),
            format!(
                "c1\t20\t.\t{}\t{alt},<*>\t38.1\tPASS\t.\tGT:GQ:DP:AD:VAF:PL\t0/1:38:25:12,13,0:0.52,0:38,0,41,990,990,990",
                b("c1", 20)
            ),
            format!(
                "c1\t21\t.\t{}\t<*>\t0\t.\tEND=40\t{block}\t0/0:48:21:0,51,509",
                b("c1", 21)
            ),
            format!(
                "c2\t1\t.\t{}\t<*>\t0\t.\tEND=20\t{block}\t0/0:30:9:0,30,300",
                b("c2", 1)
            ),
            format!(
                "c3\t1\t.\t{}\t<*>\t0\t.\tEND=50000\t{block}\t./.:0:0:0,0,0",
                b("c3", 1)
            ),
            format!(
                "c3\t50001\t.\t{}\t<*>\t0\t.\tEND=100000\t{block}\t./.:0:0:0,0,0",
                b("c3", 50001)
            ),
        ] {
            t.push_str(&line);
            t.push('\n');
        }
        t
    }

    /// [`Fixture::gatk`] called haploid (HaplotypeCaller `-ploidy 1`, as a male's chrX outside
    /// the PARs): blocks `GT 0` with two PLs, variants one GT allele and one PL per allele.
    fn gatk_haploid(&self) -> String {
        let mut t = String::new();
        for line in self.gatk().lines() {
            let mut cols: Vec<String> = line.split('\t').map(String::from).collect();
            if cols.len() == 10 && !line.starts_with('#') {
                let mut v: Vec<String> = cols[9].split(':').map(String::from).collect();
                let pl: Vec<u32> = v[4].split(',').map(|p| p.parse().unwrap()).collect();
                let pl: Vec<u32> = if cols[4] == "<NON_REF>" {
                    // Block: GT 0, PL of 0 and 1 (GATK's 0/0 and 0/1 entries).
                    v[0] = "0".into();
                    vec![pl[0], pl[1]]
                } else {
                    // Variant: GT of its ALT allele; PL of the hom genotypes 0/0 1/1 2/2, less
                    // the called one's (HaplotypeCaller normalises the best PL to 0).
                    v[0] = v[0].split('/').nth(1).unwrap().to_string();
                    let best = pl[genoa::model::genotype::diploid_index(1, 1)];
                    [pl[0], pl[2], pl[5]]
                        .iter()
                        .map(|p| p.abs_diff(best))
                        .collect()
                };
                v[4] = pl.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
                cols[9] = v.join(":");
            }
            t.push_str(&cols.join("\t"));
            t.push('\n');
        }
        t
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// `text` with `from` replaced by `to` on the first line starting with `prefix` (which must
/// exist and contain `from`).
fn edit(text: &str, prefix: &str, from: &str, to: &str) -> String {
    let mut done = false;
    let mut out = String::new();
    for line in text.lines() {
        if !done && line.starts_with(prefix) {
            assert!(line.contains(from), "{from:?} not in {line:?}");
            out.push_str(&line.replacen(from, to, 1));
            done = true;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    assert!(done, "no line starts with {prefix:?}");
    out
}

/// `text` without the lines starting with `prefix`.
fn drop_lines(text: &str, prefix: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with(prefix))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn names(classes: &[Class]) -> Vec<&'static str> {
    classes.iter().map(|c| c.name()).collect()
}

#[test]
fn gatk_and_deepvariant_style_gvcfs_pass() {
    let f = Fixture::new();
    let gatk = f.check(&f.gatk(), Options::default());
    assert!(gatk.is_clean(), "{:?}", gatk.violations);
    assert_eq!(gatk.records, 8);
    let star = Options {
        allow_star: true,
        ..Options::default()
    };
    assert!(f.check(&f.gatk(), star).is_clean());
    let dv = f.check(&f.deepvariant(), star);
    assert!(dv.is_clean(), "{:?}", dv.violations);
    let haploid = f.gatk_haploid();
    assert!(haploid.contains("\t0:12:33:11:0,33\n"), "{haploid}");
    let r = f.check(&haploid, Options::default());
    assert!(r.is_clean(), "{:?}", r.violations);
    // Without --allow-star, every DeepVariant record lacks <NON_REF>.
    let strict = f.check(&f.deepvariant(), Options::default());
    assert_eq!(names(&strict.classes()), ["missing_non_ref"]);
    assert_eq!(strict.count(Class::MissingNonRef), 7);
    let e = &strict.violations[&Class::MissingNonRef].examples;
    assert_eq!(e.len(), 3);
    assert!(e[0].message.contains("--allow-star"), "{e:?}");
}

/// The broken-gVCF corpus: (name, broken text, the classes the report must hold exactly).
#[test]
fn broken_corpus_is_flagged_by_class() {
    use Class::*;
    let f = Fixture::new();
    let g = f.gatk();
    let c1 = |pos: u64| format!("c1\t{pos}\t");
    let lines: Vec<&str> = g.lines().collect();
    let data = lines.iter().position(|l| l.starts_with("c1\t")).unwrap();
    let c2_first = {
        let mut v = lines.clone();
        let c2 = v.iter().position(|l| l.starts_with("c2\t")).unwrap();
        let line = v.remove(c2);
        v.insert(data, line);
        v.join("\n") + "\n"
    };
    let swapped = {
        let mut v = lines.clone();
        v.swap(data + 2, data + 3);
        v.join("\n") + "\n"
    };
    let no_sample: String = lines
        .iter()
        .map(|l| {
            if l.starts_with("##") {
                format!("{l}\n")
            } else {
                l.split('\t').take(8).collect::<Vec<_>>().join("\t") + "\n"
            }
        })
        .collect();
    let snp_alt = if f.base("c1", 11) == 'A' { 'C' } else { 'A' };
    let wrong_base = match f.base("c2", 1) {
        'A' => "C",
        _ => "A",
    };
    let c3_one_block = edit(
        &drop_lines(&g, "c3\t60001\t"),
        "c3\t1\t",
        "END=60000",
        "END=100000",
    );
    let corpus: Vec<(&str, String, Vec<Class>)> = vec![
        (
            "block ALT without <NON_REF>",
            edit(&g, "c2\t", "<NON_REF>", "."),
            vec![MissingNonRef],
        ),
        (
            "<NON_REF> before the SNP allele",
            edit(
                &g,
                &c1(11),
                &format!("\t{snp_alt},<NON_REF>"),
                &format!("\t<NON_REF>,{snp_alt}"),
            ),
            vec![NonRefNotLast],
        ),
        ("c2 before c1", c2_first, vec![Unsorted]),
        ("two records swapped", swapped, vec![Unsorted, Gap]),
        (
            "block runs into the SNP",
            edit(&g, &c1(1), "END=10\t", "END=11\t"),
            vec![Overlap],
        ),
        (
            "block stops one base short",
            edit(&g, &c1(1), "END=10\t", "END=9\t"),
            vec![Gap],
        ),
        (
            "a contig without records",
            drop_lines(&g, "c2\t"),
            vec![Gap],
        ),
        ("a 100 kb block", c3_one_block, vec![BlockTooLong]),
        (
            "##contig for a contig the reference lacks",
            edit(
                &g,
                "##source",
                "##source",
                "##contig=<ID=chrUn,length=5>\n##source",
            ),
            vec![ContigNotInReference],
        ),
        (
            "records on a renamed contig",
            g.replace("\nc2\t", "\nchr2\t"),
            vec![ContigNotInReference, Gap],
        ),
        (
            "##contig length differs",
            edit(&g, "##contig=<ID=c2", "length=20", "length=21"),
            vec![ContigLengthMismatch],
        ),
        (
            "##contig md5 differs",
            edit(
                &g,
                "##contig=<ID=c2",
                "length=20",
                "length=20,md5=0123456789abcdef0123456789abcdef",
            ),
            vec![ContigMd5Mismatch],
        ),
        (
            "no ##contig line for c3",
            drop_lines(&g, "##contig=<ID=c3"),
            vec![ContigHeaderMissing],
        ),
        (
            "sites-only: no FORMAT or sample column",
            no_sample,
            vec![SampleMissing],
        ),
        (
            "##fileformat line missing",
            drop_lines(&g, "##fileformat"),
            vec![HeaderMissing],
        ),
        (
            "##FORMAT GQ line missing",
            drop_lines(&g, "##FORMAT=<ID=GQ,"),
            vec![HeaderMissing, FormatFieldUndeclared],
        ),
        (
            "FORMAT key without a header line",
            edit(
                &g,
                "c2\t",
                "MIN_DP:PL\t0/0:7:20:6:0,60,900",
                "MIN_DP:PL:XX\t0/0:7:20:6:0,60,900:1",
            ),
            vec![FormatFieldUndeclared],
        ),
        (
            "INFO key without a header line",
            edit(&g, &c1(11), "DP=8;", "DP=8;FOO=1;"),
            vec![InfoFieldUndeclared],
        ),
        (
            "PL one short",
            edit(&g, &c1(11), "259,24,0,259,24,259", "259,24,0,259,24"),
            vec![PlArity],
        ),
        (
            "haploid GT with diploid PLs",
            edit(&g, &c1(11), "\t1/1:", "\t1:"),
            vec![PlArity],
        ),
        (
            "haploid block with diploid PLs",
            edit(&g, "c2\t", "0/0:7:20:6:0,60,900", "0:7:20:6:0,60,900"),
            vec![PlArity],
        ),
        (
            "diploid block with haploid PLs",
            edit(
                &f.gatk_haploid(),
                "c2\t",
                "\t0:7:20:6:0,60",
                "\t0/0:7:20:6:0,60",
            ),
            vec![PlArity],
        ),
        (
            "GT of ploidy 3",
            edit(&g, &c1(13), "0/1:4,5,0", "0/1/1:4,5,0"),
            vec![UnsupportedPloidy],
        ),
        (
            "AF without a value for <NON_REF> (Number=A counts every ALT)",
            edit(
                &edit(
                    &g,
                    "##FORMAT=<ID=AD,",
                    "##FORMAT",
                    "##FORMAT=<ID=AF,Number=A,Type=Float,Description=\"Allele fraction\">\n##FORMAT",
                ),
                &c1(11),
                ":SB\t1/1:0,8,0:8:24:259,24,0,259,24,259:0,0,5,3",
                ":SB:AF\t1/1:0,8,0:8:24:259,24,0,259,24,259:0,0,5,3:1.0",
            ),
            vec![AfArity],
        ),
        (
            "AD one short",
            edit(&g, &c1(11), ":0,8,0:", ":0,8:"),
            vec![AdArity],
        ),
        (
            "GT 1/1 where PL favours 0/1",
            edit(&g, &c1(13), "0/1:4,5,0", "1/1:4,5,0"),
            vec![GtPlInconsistent],
        ),
        (
            "REF differs from the reference",
            edit(
                &g,
                "c2\t",
                &format!("\t{}\t<NON_REF>", f.base("c2", 1)),
                &format!("\t{wrong_base}\t<NON_REF>"),
            ),
            vec![RefMismatch],
        ),
        (
            "PL not integers",
            edit(&g, "c2\t", "0,60,900", "0,x,900"),
            vec![BadRecord],
        ),
        (
            "POS not a number",
            edit(&g, "c2\t", "c2\t1\t", "c2\tone\t"),
            vec![BadRecord, Gap],
        ),
        (
            "END before POS",
            edit(&g, &c1(12), "END=12\t", "END=11\t"),
            vec![EndBeforePos],
        ),
        (
            "block past the contig's end",
            edit(&g, &c1(14), "END=40\t", "END=41\t"),
            vec![BeyondContigEnd],
        ),
        (
            "a FORMAT Integer that is not one (found by fuzzing: noodles and htslib refuse it)",
            edit(&g, "c2\t", "0/0:7:20:6:0,60,900", "0/0:1e308:20:6:0,60,900"),
            vec![BadRecord],
        ),
        (
            "a FORMAT Number=1 value given three values",
            edit(&g, "c2\t", "0/0:7:20:6:0,60,900", "0/0:7:20:0,60,900"),
            vec![BadRecord],
        ),
        (
            "a FORMAT Integer beyond 32 bits",
            edit(
                &g,
                "c2\t",
                "0/0:7:20:6:0,60,900",
                "0/0:4294967296:20:6:0,60,900",
            ),
            vec![BadRecord],
        ),
        (
            "QUAL that is not a number (found by fuzzing)",
            edit(&g, &c1(11), "\t245.64\t", "\t24#5.64\t"),
            vec![BadRecord],
        ),
        (
            "an ID with empty identifiers (found by fuzzing)",
            edit(&g, &c1(11), "\t.\t", "\t.;;\t"),
            vec![BadRecord],
        ),
        (
            "an ID twice in one record",
            edit(&g, &c1(11), "\t.\t", "\trs1;rs1\t"),
            vec![BadRecord],
        ),
        (
            "an empty FILTER column (found by fuzzing)",
            edit(&g, &c1(11), "\t245.64\t.\t", "\t245.64\t\t"),
            vec![BadRecord],
        ),
        (
            "a filter twice in one record",
            edit(&g, &c1(11), "\t245.64\t.\t", "\t245.64\tLowQual;LowQual\t"),
            vec![BadRecord],
        ),
        (
            "a tab inside a sample column (found by fuzzing)",
            edit(&g, "c2\t", "0/0:7:20:6:0,60,900", "0/0:7\t20:6:0,60,900"),
            // The record is not read further, so its bases are a gap too.
            vec![BadRecord, Gap],
        ),
        (
            "a ##FORMAT line whose Type is not a VCF type (found by fuzzing)",
            g.replacen(
                "Type=Integer,Description=\"Minimum DP",
                "Type=Inte er,Description=\"Minimum DP",
                1,
            ),
            vec![BadRecord],
        ),
        (
            "a blank line between records",
            g.replacen("\nc2\t", "\n\nc2\t", 1),
            vec![BlankLine],
        ),
        (
            "a tab in the sample name: two sample columns",
            {
                let at = g.find("#CHROM").unwrap();
                let end = at + g[at..].find('\n').unwrap();
                format!("{}\tB{}", &g[..end], &g[end..])
            },
            // ... and every record then lacks the second sample's column (and is not read
            // further, so the contigs are gaps too).
            vec![MultipleSamples, BadRecord, Gap],
        ),
    ];
    let mut flagged = std::collections::BTreeSet::new();
    for (name, text, want) in &corpus {
        let r = f.check(text, Options::default());
        let mut want = want.clone();
        want.sort();
        assert_eq!(
            names(&r.classes()),
            names(&want),
            "{name}: {:#?}",
            r.violations
        );
        flagged.extend(want);
    }
    assert!(corpus.len() >= 15);
    // The consumer profiles: GATK's HaplotypeCaller gVCF passes `gatk` and `glnexus` but not
    // `hail` (no QUALapprox, VarDP: those are ReblockGVCF's); without RAW_MQandDP it fails
    // `gatk`; an allele-specific field of the wrong length fails whatever the profile.
    let profile = |p: genoa::validate::Profile| Options {
        profile: p,
        ..Options::default()
    };
    use genoa::validate::Profile;
    for p in [Profile::Gatk, Profile::Glnexus] {
        let r = f.check(&g, profile(p));
        assert!(r.is_clean(), "{p:?}: {:#?}", r.violations);
    }
    let r = f.check(&g, profile(Profile::Hail));
    assert_eq!(names(&r.classes()), names(&[AnnotationMissing]), "{r:#?}");
    let no_raw_mq = g.replace(";RAW_MQandDP=28800,8", "");
    let r = f.check(&no_raw_mq, profile(Profile::Gatk));
    assert_eq!(names(&r.classes()), names(&[AnnotationMissing]), "{r:#?}");
    assert_eq!(r.total(), 1);
    let as_line = "##INFO=<ID=AS_SB_TABLE,Number=1,Type=String,Description=\"x\">\n";
    let short_as = g
        .replacen("##INFO=<ID=DP,", &format!("{as_line}##INFO=<ID=DP,"), 1)
        .replace(
            "RAW_MQandDP=28800,8",
            "RAW_MQandDP=28800,8;AS_SB_TABLE=0,0|5,3",
        );
    let r = f.check(&short_as, Options::default());
    assert_eq!(names(&r.classes()), names(&[AnnotationArity]), "{r:#?}");
    flagged.extend([AnnotationMissing, AnnotationArity]);
    // Every class is exercised.
    assert_eq!(flagged.len(), Class::ALL.len(), "{flagged:?}");
}

#[test]
fn bytes_that_are_not_utf8_are_a_violation_with_their_line() {
    let f = Fixture::new();
    let g = f.gatk();
    let at = g.find("##source").unwrap() + 5;
    let mut bytes = g.as_bytes().to_vec();
    bytes[at] = 0xff;
    let line = g[..at].matches('\n').count() as u64 + 1;
    let r = validate_reader(bytes.as_slice(), &f.reference, Options::default()).unwrap();
    assert_eq!(names(&r.classes()), names(&[Class::BadRecord]), "{r:#?}");
    let v = &r.violations[&Class::BadRecord].examples[0];
    assert_eq!(v.line, line, "{v:?}");
    assert!(v.message.contains("not UTF-8"), "{v:?}");
}

#[test]
fn report_lists_counts_and_first_examples() {
    let f = Fixture::new();
    // No block has <NON_REF>: 6 violations, 3 examples.
    let text = f
        .gatk()
        .replace("\t<NON_REF>\t.\t.\tEND=", "\t.\t.\t.\tEND=");
    let r = f.check(&text, Options::default());
    assert_eq!(r.classes(), [Class::MissingNonRef]);
    assert_eq!(r.count(Class::MissingNonRef), 6);
    let mut out = Vec::new();
    r.write("x.g.vcf", &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("FAIL\tx.g.vcf\t8 records\t6 violations in 1 classes"),
        "{out}"
    );
    assert_eq!(lines[1], "missing_non_ref\t6");
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[2].starts_with("  line "), "{out}");
}

#[test]
fn an_empty_file_fails() {
    let f = Fixture::new();
    let r = f.check("", Options::default());
    for c in [Class::HeaderMissing, Class::SampleMissing, Class::Gap] {
        assert!(r.count(c) > 0, "{c}: {:?}", r.violations);
    }
}

#[test]
fn gzip_input_is_read() {
    use std::io::Write;
    let f = Fixture::new();
    let path = f.dir.path().join("g.g.vcf.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(f.gatk().as_bytes()).unwrap();
    gz.finish().unwrap();
    let r = validate(&path, &f.reference, Options::default()).unwrap();
    assert!(r.is_clean(), "{:?}", r.violations);
    assert_eq!(r.records, 8);
}

#[test]
fn cli_passes_and_fails() {
    let f = Fixture::new();
    let fa = f.fasta.to_str().unwrap();
    let good = f.write("good.g.vcf", &f.gatk());
    let o = genoa(&["validate", good.to_str().unwrap(), "-r", fa]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.starts_with("PASS\t"), "{stdout}");

    let dv = f.write("dv.g.vcf", &f.deepvariant());
    let o = genoa(&["validate", dv.to_str().unwrap(), "-r", fa, "--allow-star"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));

    let bad = f.write("bad.g.vcf", &edit(&f.gatk(), "c2\t", "0,60,900", "0,900"));
    let o = genoa(&["validate", bad.to_str().unwrap(), "-r", fa]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.starts_with("FAIL\t"), "{stdout}");
    assert!(stdout.contains("\npl_arity\t1\n"), "{stdout}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("genoa: error: ") && stderr.contains("pl_arity"),
        "{stderr}"
    );

    // A haploid call with a diploid PL: the example names the line and the ploidy.
    let haploid = f.gatk_haploid();
    let line = haploid
        .lines()
        .position(|l| l.starts_with("c1\t11\t"))
        .unwrap()
        + 1;
    let bad = f.write(
        "haploid.g.vcf",
        &edit(&haploid, "c1\t11\t", ":259,0,259:", ":259,24,0,259,24,259:"),
    );
    let o = genoa(&["validate", bad.to_str().unwrap(), "-r", fa]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.starts_with("FAIL\t"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "\npl_arity\t1\n  line {line}: c1:11: PL 259,24,0,259,24,259 has 6 values; a haploid GT (1) over 3 alleles has 3 genotypes\n"
        )),
        "{stdout}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("haploid.g.vcf") && stderr.contains("pl_arity"),
        "{stderr}"
    );
}

#[test]
fn genoa_own_gvcf_passes() {
    let out = demo_run("formats", &[]);
    let gvcf = out.join("SAMPLE.g.vcf.gz");
    let fa = demo_dir().join("ref.fa");
    let reference = Reference::load(&fa).unwrap();
    let r = validate(&gvcf, &reference, Options::default()).unwrap();
    assert!(r.records > 1000, "{}", r.records);
    assert!(r.is_clean(), "{:#?}", r.violations);
    let o = genoa(&[
        "validate",
        gvcf.to_str().unwrap(),
        "-r",
        fa.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{stdout}");
    assert!(stdout.starts_with("PASS"), "{stdout}");
    // …and fails against another reference.
    let f = Fixture::new();
    let r = validate(&gvcf, &f.reference, Options::default()).unwrap();
    assert!(r.count(Class::ContigNotInReference) > 0);
    assert!(r.count(Class::ContigHeaderMissing) > 0);
}

#[test]
fn refid_prints_published_digests() {
    let dir = tempfile::tempdir().unwrap();
    // The seqcol specification's base.fa.
    let fa = dir.path().join("base.fa");
    std::fs::write(&fa, ">chrX\nTTGGGGAA\n>chr1\nGGAA\n>chr2\nGCGC\n").unwrap();
    let o = genoa(&["refid", fa.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "#name\tlength\tmd5\trefget");
    assert_eq!(
        lines[2],
        format!(
            "chr1\t4\t{}\tSQ.YBbVX0dLKG1ieEDCiMmkrTZFt_Z5Vdaj",
            md5_hex(b"GGAA")
        )
    );
    assert_eq!(lines[4], "#seqcol_level0\tXZlrcEGi6mlopZ2uD8ObHkQB1d0oDwKk");

    let acgt = dir.path().join("acgt.fa");
    std::fs::write(&acgt, ">s\nacgt\n").unwrap();
    let o = genoa(&["refid", "--json", acgt.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["sequences"][0]["refget"],
        "SQ.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2"
    );
    assert_eq!(v["sequences"][0]["length"], 4);
    assert!(v["seqcol"]["level0"].as_str().unwrap().len() == 32);
    assert!(v["seqcol"]["level1"]["lengths"].is_string());
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// refid's MD5s are samtools dict's `M5`s (and genoa's `##contig` md5s).
#[test]
fn refid_md5_matches_samtools_dict() {
    let fa = demo_dir().join("ref.fa");
    let ours = genoa::io::refget::digests(&fa).unwrap();
    let dict = tool_lines("samtools", &["dict", fa.to_str().unwrap()]);
    let sq: Vec<&String> = dict.iter().filter(|l| l.starts_with("@SQ")).collect();
    assert_eq!(sq.len(), ours.len());
    for (line, c) in sq.iter().zip(&ours) {
        assert!(line.contains(&format!("SN:{}\t", c.name)), "{line}");
        assert!(line.contains(&format!("LN:{}\t", c.length)), "{line}");
        assert!(line.contains(&format!("M5:{}", c.md5)), "{line}");
    }
    let reference = Reference::load(Path::new(&fa)).unwrap();
    assert_eq!(reference.contigs[0].md5, ours[0].md5);
}
