//! `SAMPLE.report.html`: one self-contained page drawn from a finished [`Qc`]: the metrics as
//! tables and five charts as inline `<svg>` (coverage distribution, insert sizes, mean base
//! quality by cycle for R1 and R2, indel lengths, GQ). No JavaScript, no external fonts, styles
//! or images, no URLs: the page opens offline and prints the same everywhere.
//!
//! Every chart is an `<svg data-chart="NAME">` (names in [`CHARTS`]) with a title, both axes
//! with tick labels, and its marks (`rect.bar` or `polyline.series`); a chart without data keeps
//! its frame and axes and says "no data". Every string taken from input (sample name, paths,
//! contig names, the command line) is HTML-escaped. Output is a pure function of the `Qc`.

use std::fmt::Write;

use crate::report::qc::{Histograms, Qc};

/// The `data-chart` names of the five charts, in page order.
pub const CHARTS: [&str; 5] = [
    "coverage",
    "insert-size",
    "base-quality",
    "indel-length",
    "gq",
];

/// The whole page.
pub fn render(qc: &Qc) -> String {
    let sample = escape(&qc.biosample.id);
    let mut h = String::with_capacity(64 * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(h, "<title>genoa QC report: {sample}</title>");
    h.push_str(STYLE);
    h.push_str("</head>\n<body>\n");
    let _ = writeln!(h, "<h1>QC report: {sample}</h1>");
    let scope = if qc.scope.autosomes_present {
        "Coverage and variant metrics cover the autosomes (chr1&ndash;22)."
    } else {
        "The reference has no autosomes (chr1&ndash;22): coverage and variant metrics cover \
         all contigs."
    };
    let _ = writeln!(
        h,
        "<p class=\"note\">genoa {} &middot; metric IDs: {} &middot; {scope} \
         &ldquo;n/a&rdquo;: no data (zero denominator).</p>",
        escape(&qc.run.genoa_version),
        escape(&qc.metrics_standard),
    );

    h.push_str("<h2>GA4GH WGS QC metrics</h2>\n");
    table(&mut h, &ga4gh_rows(qc));
    h.push_str("<h2>Other metrics</h2>\n");
    table(&mut h, &other_rows(qc));
    sex_section(&mut h, qc);

    h.push_str("<h2>Charts</h2>\n<div class=\"charts\">\n");
    for chart in charts(&qc.histograms) {
        h.push_str(&chart.draw());
    }
    h.push_str("</div>\n");

    run_section(&mut h, qc);
    h.push_str("</body>\n</html>\n");
    h
}

const STYLE: &str = "<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; max-width: 1400px; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: 0.9em; }
.note { color: #555; font-size: 0.9em; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
svg { background: #fff; border: 1px solid #ddd; }
svg text { font-family: sans-serif; font-size: 12px; fill: #222; }
svg .title { font-size: 14px; font-weight: bold; }
svg .sub { font-size: 11px; fill: #555; }
svg .empty { font-size: 16px; fill: #888; }
svg .axis { stroke: #222; stroke-width: 1; }
svg .grid { stroke: #eee; stroke-width: 1; }
svg .frame { fill: #fafafa; stroke: none; }
svg .bar { fill: #4c78a8; }
svg .series { fill: none; stroke-width: 1.5; }
</style>
";

/// HTML-escapes `s` for text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// One table row: label, JSON key, value.
type Row = (&'static str, &'static str, String);

fn opt_f(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| "n/a".to_string(), |x| format!("{x}{unit}"))
}

fn opt_u(v: Option<u64>, unit: &str) -> String {
    v.map_or_else(|| "n/a".to_string(), |x| format!("{x}{unit}"))
}

fn ga4gh_rows(qc: &Qc) -> Vec<Row> {
    let m = &qc.wgs_qc_metrics;
    let n = &m.pct_autosomes_n_fold_coverage;
    vec![
        ("Bases &ge; Q30", "yield_bp_q30", m.yield_bp_q30.to_string()),
        (
            "Mean autosome coverage",
            "mean_autosome_coverage",
            opt_f(m.mean_autosome_coverage, "&times;"),
        ),
        (
            "Autosome bases &ge; 15&times;",
            "pct_autosomes_15x",
            opt_f(m.pct_autosomes_15x, "%"),
        ),
        (
            "Autosome bases &ge; 5&times; / 10&times; / 15&times;",
            "pct_autosomes_n_fold_coverage",
            format!(
                "{} / {} / {}",
                opt_f(n.pct_5x, "%"),
                opt_f(n.pct_10x, "%"),
                opt_f(n.pct_15x, "%")
            ),
        ),
        (
            "Coverage MAD",
            "mad_autosome_coverage",
            opt_u(m.mad_autosome_coverage, "&times;"),
        ),
        (
            "Reads mapped",
            "pct_reads_mapped",
            opt_f(m.pct_reads_mapped, "%"),
        ),
        (
            "Reads properly paired",
            "pct_reads_properly_paired",
            opt_f(m.pct_reads_properly_paired, "%"),
        ),
        (
            "Mean insert size",
            "mean_insert_size",
            opt_f(m.mean_insert_size, " bp"),
        ),
        (
            "Insert size SD",
            "insert_size_std_deviation",
            opt_f(m.insert_size_std_deviation, " bp"),
        ),
        ("SNVs", "count_snvs", m.count_snvs.to_string()),
        (
            "Insertions",
            "count_insertions",
            m.count_insertions.to_string(),
        ),
        (
            "Deletions",
            "count_deletions",
            m.count_deletions.to_string(),
        ),
        (
            "Insertions / deletions",
            "ratio_insertion_deletion",
            opt_f(m.ratio_insertion_deletion, ""),
        ),
        (
            "Het / hom-alt (SNVs)",
            "ratio_heterozygous_homzygous_snv",
            opt_f(m.ratio_heterozygous_homzygous_snv, ""),
        ),
        (
            "Het / hom-alt (indels)",
            "ratio_heterozygous_homzygous_indel",
            opt_f(m.ratio_heterozygous_homzygous_indel, ""),
        ),
        (
            "Ti / Tv (SNVs)",
            "ratio_transitions_transversions_snv",
            opt_f(m.ratio_transitions_transversions_snv, ""),
        ),
    ]
}

fn other_rows(qc: &Qc) -> Vec<Row> {
    let o = &qc.other_metrics;
    vec![
        ("Reads (primary)", "total_reads", o.total_reads.to_string()),
        ("Mapped reads", "mapped_reads", o.mapped_reads.to_string()),
        (
            "Properly paired reads",
            "properly_paired_reads",
            o.properly_paired_reads.to_string(),
        ),
        (
            "Duplicate reads",
            "duplicate_reads",
            o.duplicate_reads.to_string(),
        ),
        (
            "Reads duplicated",
            "pct_reads_duplicated",
            opt_f(o.pct_reads_duplicated, "%"),
        ),
        ("Bases", "total_bases", o.total_bases.to_string()),
        (
            "Bases &ge; Q30",
            "pct_bases_q30",
            opt_f(o.pct_bases_q30, "%"),
        ),
        (
            "Pairs with an insert size",
            "insert_size_pairs",
            o.insert_size_pairs.to_string(),
        ),
        (
            "Median insert size",
            "insert_size_median",
            opt_u(o.insert_size_median, " bp"),
        ),
        (
            "Bases in coverage metrics",
            "coverage_bases",
            o.coverage_bases.to_string(),
        ),
        (
            "Median coverage",
            "median_autosome_coverage",
            opt_u(o.median_autosome_coverage, "&times;"),
        ),
        (
            "Mean coverage, all contigs",
            "mean_coverage_all_contigs",
            opt_f(o.mean_coverage_all_contigs, "&times;"),
        ),
        (
            "Variant records",
            "variant_records",
            o.variant_records.to_string(),
        ),
        (
            "Variant records below PASS",
            "variant_records_filtered",
            o.variant_records_filtered.to_string(),
        ),
        (
            "SNVs, all contigs",
            "count_snvs_all_contigs",
            o.count_snvs_all_contigs.to_string(),
        ),
        (
            "Indel records, all contigs",
            "count_indels_all_contigs",
            o.count_indels_all_contigs.to_string(),
        ),
        (
            "MNP / complex records, all contigs",
            "count_other_variants_all_contigs",
            o.count_other_variants_all_contigs.to_string(),
        ),
        ("Het SNVs", "count_snvs_het", o.count_snvs_het.to_string()),
        (
            "Hom-alt SNVs",
            "count_snvs_hom_alt",
            o.count_snvs_hom_alt.to_string(),
        ),
        (
            "Het indels",
            "count_indels_het",
            o.count_indels_het.to_string(),
        ),
        (
            "Hom-alt indels",
            "count_indels_hom_alt",
            o.count_indels_hom_alt.to_string(),
        ),
        (
            "Transitions",
            "count_transitions",
            o.count_transitions.to_string(),
        ),
        (
            "Transversions",
            "count_transversions",
            o.count_transversions.to_string(),
        ),
    ]
}

fn table(h: &mut String, rows: &[Row]) {
    h.push_str("<table>\n<tr><th>Metric</th><th>ID</th><th>Value</th></tr>\n");
    for (label, key, value) in rows {
        let _ = writeln!(
            h,
            "<tr><td>{label}</td><td><code>{key}</code></td><td class=\"num\">{value}</td></tr>"
        );
    }
    h.push_str("</table>\n");
}

/// Karyotype (estimated, declared, the depth ratios) and the mean depth of each contig.
fn sex_section(h: &mut String, qc: &Qc) {
    if let Some(k) = &qc.karyotype {
        h.push_str("<h2>Sex chromosomes</h2>\n");
        let text = |v: &Option<String>| v.as_deref().map_or("n/a".to_string(), escape);
        let ratio = |v: Option<f64>| v.map_or("n/a".to_string(), |x| format!("{x:.3}"));
        let e = &k.estimate;
        let rows: Vec<Row> = vec![
            (
                "Karyotype estimated",
                "karyotype.estimated",
                text(&k.estimated),
            ),
            (
                "Sex declared (--sex)",
                "karyotype.declared",
                text(&k.declared),
            ),
            (
                "Declared sex agrees",
                "karyotype.sex_agrees",
                k.sex_agrees.map_or("n/a".into(), |b| {
                    if b { "yes" } else { "<b>NO</b>" }.to_string()
                }),
            ),
            (
                "Called as",
                "karyotype.used_for_calling",
                text(&k.used_for_calling),
            ),
            ("X / autosome depth", "karyotype.x_ratio", ratio(e.x_ratio)),
            ("Y / autosome depth", "karyotype.y_ratio", ratio(e.y_ratio)),
            (
                "Callable bins (autosomal, X, Y)",
                "karyotype.bins_*",
                format!("{}, {}, {}", e.bins_autosomal, e.bins_x, e.bins_y),
            ),
            ("Flag", "karyotype.flag", text(&e.flag)),
            ("PARs from", "karyotype.par_source", text(&k.par_source)),
        ];
        table(h, &rows);
    }
    if !qc.contig_coverage.is_empty() {
        h.push_str("<h2>Coverage by contig</h2>\n<table>\n<tr><th>Contig</th><th>Role</th><th>Bases called</th><th>Mean depth</th></tr>\n");
        for c in &qc.contig_coverage {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2}</td></tr>",
                escape(&c.contig),
                escape(&c.role),
                c.bases_called,
                c.mean_depth
            );
        }
        h.push_str("</table>\n");
    }
}

fn run_section(h: &mut String, qc: &Qc) {
    let r = &qc.run;
    h.push_str("<h2>Run</h2>\n<table>\n");
    let command = r.command_line.join(" ");
    let rows = [
        ("genoa version", escape(&r.genoa_version)),
        ("Command line", format!("<code>{}</code>", escape(&command))),
        (
            "Reference",
            format!("<code>{}</code>", escape(&r.reference.path)),
        ),
        ("Contigs", r.reference.contigs.len().to_string()),
        ("Wall time", format!("{:.2} s", r.wall_seconds)),
    ];
    for (k, v) in rows {
        let _ = writeln!(h, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    for b in &r.backends {
        let _ = writeln!(
            h,
            "<tr><th>Backend: {}</th><td>{}</td></tr>",
            escape(&b.stage),
            escape(&b.backend)
        );
    }
    h.push_str("</table>\n");
    if !r.reference.contigs.is_empty() {
        h.push_str(
            "<details><summary>Reference contigs</summary>\n<table>\n\
             <tr><th>Name</th><th>Length</th><th>MD5</th></tr>\n",
        );
        for c in &r.reference.contigs {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
                escape(&c.name),
                c.length,
                escape(&c.md5)
            );
        }
        h.push_str("</table>\n</details>\n");
    }
}

// ---- charts ----

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 340.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 52.0;
const BOTTOM: f64 = 52.0;

/// A bar over `[x0, x1)` of height `y` (data units).
struct Bar {
    x0: f64,
    x1: f64,
    y: f64,
}

/// A named polyline.
struct Line {
    label: &'static str,
    color: &'static str,
    points: Vec<(f64, f64)>,
}

enum Marks {
    Bars(Vec<Bar>),
    Lines(Vec<Line>),
}

struct Chart {
    name: &'static str,
    title: &'static str,
    x_label: &'static str,
    y_label: &'static str,
    /// A line under the title (what is cut off, what the end buckets mean).
    note: String,
    marks: Marks,
    /// Minimum y range upper end (e.g. 41 for qualities).
    y_min_top: f64,
}

impl Chart {
    fn is_empty(&self) -> bool {
        match &self.marks {
            Marks::Bars(b) => b.iter().all(|b| b.y <= 0.0),
            Marks::Lines(l) => l.iter().all(|l| l.points.is_empty()),
        }
    }

    /// Data ranges `(x0, x1, y1)`; y starts at 0.
    fn ranges(&self) -> (f64, f64, f64) {
        let (mut x0, mut x1, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0f64);
        match &self.marks {
            Marks::Bars(bars) => {
                for b in bars {
                    x0 = x0.min(b.x0);
                    x1 = x1.max(b.x1);
                    y1 = y1.max(b.y);
                }
            }
            Marks::Lines(lines) => {
                for &(x, y) in lines.iter().flat_map(|l| &l.points) {
                    x0 = x0.min(x);
                    x1 = x1.max(x);
                    y1 = y1.max(y);
                }
            }
        }
        if !x0.is_finite() || !x1.is_finite() {
            (x0, x1) = (0.0, 1.0);
        }
        if x1 <= x0 {
            x1 = x0 + 1.0;
        }
        let y1 = y1.max(self.y_min_top);
        (x0, x1, if y1 > 0.0 { y1 * 1.05 } else { 1.0 })
    }

    fn draw(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "<svg data-chart=\"{}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" \
             height=\"{HEIGHT}\" role=\"img\" aria-label=\"{}\">",
            self.name, self.title
        );
        let _ = writeln!(s, "<title>{}</title>", self.title);
        let _ = writeln!(
            s,
            "<text class=\"title\" x=\"{}\" y=\"20\" text-anchor=\"middle\">{}</text>",
            WIDTH / 2.0,
            self.title
        );
        if !self.note.is_empty() {
            let _ = writeln!(
                s,
                "<text class=\"sub\" x=\"{}\" y=\"37\" text-anchor=\"middle\">{}</text>",
                WIDTH / 2.0,
                self.note
            );
        }
        let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
        let _ = writeln!(
            s,
            "<rect class=\"frame\" x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_w}\" height=\"{plot_h}\"/>"
        );
        let empty = self.is_empty();
        let (x0, x1, y1) = if empty {
            (0.0, 1.0, 1.0)
        } else {
            self.ranges()
        };
        let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * plot_w;
        let py = |y: f64| TOP + plot_h - y / y1 * plot_h;
        let (bottom, right) = (TOP + plot_h, LEFT + plot_w);

        // Grid and tick labels.
        let y_step = nice_step(y1, 5.0);
        for (i, t) in ticks(0.0, y1, y_step).into_iter().enumerate() {
            let y = py(t);
            if i > 0 {
                let _ = writeln!(
                    s,
                    "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{right}\" y2=\"{y:.1}\"/>"
                );
            }
            let _ = writeln!(
                s,
                "<line class=\"axis\" x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{LEFT}\" y2=\"{y:.1}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                LEFT - 4.0,
                LEFT - 6.0,
                y + 4.0,
                tick_label(t, y_step)
            );
        }
        let x_step = nice_step(x1 - x0, 8.0);
        for t in ticks(x0, x1, x_step) {
            let x = px(t);
            let _ = writeln!(
                s,
                "<line class=\"axis\" x1=\"{x:.1}\" y1=\"{bottom}\" x2=\"{x:.1}\" y2=\"{:.1}\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                bottom + 4.0,
                bottom + 17.0,
                tick_label(t, x_step)
            );
        }

        // Marks.
        if empty {
            let _ = writeln!(
                s,
                "<text class=\"empty\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">no data</text>",
                LEFT + plot_w / 2.0,
                TOP + plot_h / 2.0
            );
        } else {
            match &self.marks {
                Marks::Bars(bars) => {
                    for b in bars.iter().filter(|b| b.y > 0.0) {
                        let (bx0, bx1) = (px(b.x0), px(b.x1));
                        let top = py(b.y);
                        // At least half a pixel wide and tall, so every count shows.
                        let w = (bx1 - bx0).max(0.5);
                        let hgt = (bottom - top).max(0.5);
                        let _ = writeln!(
                            s,
                            "<rect class=\"bar\" x=\"{bx0:.2}\" y=\"{:.2}\" width=\"{w:.2}\" \
                             height=\"{hgt:.2}\"/>",
                            bottom - hgt
                        );
                    }
                }
                Marks::Lines(lines) => {
                    let mut legend_y = TOP + 14.0;
                    for l in lines.iter().filter(|l| !l.points.is_empty()) {
                        let mut pts = String::new();
                        for &(x, y) in &l.points {
                            let _ = write!(pts, "{:.1},{:.1} ", px(x), py(y));
                        }
                        let _ = writeln!(
                            s,
                            "<polyline class=\"series\" stroke=\"{}\" points=\"{}\"/>",
                            l.color,
                            pts.trim_end()
                        );
                        if l.points.len() == 1 {
                            let (x, y) = l.points[0];
                            let _ = writeln!(
                                s,
                                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"/>",
                                px(x),
                                py(y),
                                l.color
                            );
                        }
                        let lx = right - 70.0;
                        let _ = writeln!(
                            s,
                            "<line x1=\"{lx}\" y1=\"{legend_y}\" x2=\"{}\" y2=\"{legend_y}\" \
                             stroke=\"{}\" stroke-width=\"3\"/><text x=\"{}\" y=\"{}\">{}</text>",
                            lx + 20.0,
                            l.color,
                            lx + 25.0,
                            legend_y + 4.0,
                            l.label
                        );
                        legend_y += 16.0;
                    }
                }
            }
        }

        // Axes and their labels.
        let _ = writeln!(
            s,
            "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{bottom}\" x2=\"{right}\" y2=\"{bottom}\"/>\n\
             <line class=\"axis\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{bottom}\"/>"
        );
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            LEFT + plot_w / 2.0,
            HEIGHT - 10.0,
            self.x_label
        );
        let (ly_x, ly_y) = (16.0, TOP + plot_h / 2.0);
        let _ = writeln!(
            s,
            "<text x=\"{ly_x}\" y=\"{ly_y:.1}\" text-anchor=\"middle\" \
             transform=\"rotate(-90 {ly_x} {ly_y:.1})\">{}</text>",
            self.y_label
        );
        s.push_str("</svg>\n");
        s
    }
}

/// A 1, 2 or 5 × 10^k step giving about `target` ticks over `range`.
fn nice_step(range: f64, target: f64) -> f64 {
    let raw = (range / target).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Multiples of `step` within `[lo, hi]`, computed from integers so they do not drift.
fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// A tick label: integers with k/M/G beyond 10,000, fractions with the step's decimals.
fn tick_label(v: f64, step: f64) -> String {
    if step < 1.0 {
        let decimals = (-step.log10()).ceil().max(0.0) as usize;
        return format!("{v:.decimals$}");
    }
    let a = v.abs();
    let (x, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        return format!("{}", v.round() as i64);
    };
    let t = format!("{x:.1}");
    format!("{}{suffix}", t.strip_suffix(".0").unwrap_or(&t))
}

/// The smallest value whose cumulative count reaches `q` of the total (ascending pairs).
fn quantile(hist: &[(f64, u64)], q: f64) -> f64 {
    let total: u64 = hist.iter().map(|h| h.1).sum();
    let want = (q * total as f64).ceil().max(1.0) as u64;
    let mut seen = 0;
    for &(v, n) in hist {
        seen += n;
        if seen >= want {
            return v;
        }
    }
    hist.last().map_or(0.0, |h| h.0)
}

fn pct(n: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * n as f64 / total as f64
    }
}

fn charts(hist: &Histograms) -> [Chart; 5] {
    [
        coverage_chart(hist),
        insert_size_chart(hist),
        quality_chart(hist),
        indel_chart(hist),
        gq_chart(hist),
    ]
}

fn coverage_chart(hist: &Histograms) -> Chart {
    let counts = &hist.coverage;
    let total: u64 = counts.iter().sum();
    let pairs: Vec<(f64, u64)> = counts
        .iter()
        .enumerate()
        .map(|(d, &n)| (d as f64, n))
        .collect();
    let shown = if total == 0 {
        0
    } else {
        quantile(&pairs, 0.999) as usize
    };
    let cut: u64 = counts.iter().skip(shown + 1).sum();
    let cap = hist.coverage_cap as usize;
    let mut note = String::new();
    if cut > 0 {
        note = format!(
            "depths above {shown}&times; not shown ({:.2}% of bases)",
            pct(cut, total)
        );
    } else if counts.len() > cap && counts[cap] > 0 {
        note = format!("last bar: depth &ge; {cap}&times;");
    }
    Chart {
        name: "coverage",
        title: "Coverage distribution",
        x_label: "depth (&times;)",
        y_label: "% of bases",
        note,
        marks: Marks::Bars(
            counts
                .iter()
                .take(shown + 1)
                .enumerate()
                .map(|(d, &n)| Bar {
                    x0: d as f64 - 0.45,
                    x1: d as f64 + 0.45,
                    y: pct(n, total),
                })
                .collect(),
        ),
        y_min_top: 0.0,
    }
}

fn insert_size_chart(hist: &Histograms) -> Chart {
    let pairs: Vec<(f64, u64)> = hist
        .insert_size
        .iter()
        .map(|&[s, n]| (s as f64, n))
        .collect();
    let total: u64 = pairs.iter().map(|p| p.1).sum();
    let mut bars = Vec::new();
    let mut note = String::new();
    if total > 0 {
        let lo = quantile(&pairs, 0.001) as u64;
        let hi = quantile(&pairs, 0.999) as u64;
        let bin = (hi - lo + 1).div_ceil(150).max(1);
        let nbins = ((hi - lo) / bin + 1) as usize;
        let mut binned = vec![0u64; nbins];
        let mut cut = 0u64;
        for &[s, n] in &hist.insert_size {
            if s < lo || s > hi {
                cut += n;
            } else {
                binned[((s - lo) / bin) as usize] += n;
            }
        }
        for (i, &n) in binned.iter().enumerate() {
            let x0 = (lo + i as u64 * bin) as f64;
            bars.push(Bar {
                x0: x0 - 0.5,
                x1: x0 + bin as f64 - 0.5,
                y: pct(n, total),
            });
        }
        let mut parts = Vec::new();
        if bin > 1 {
            parts.push(format!("bins of {bin} bp"));
        }
        if cut > 0 {
            parts.push(format!(
                "outside {lo}&ndash;{hi} bp not shown ({:.2}% of pairs)",
                pct(cut, total)
            ));
        }
        note = parts.join("; ");
    }
    Chart {
        name: "insert-size",
        title: "Insert size distribution (properly paired)",
        x_label: "insert size (bp)",
        y_label: "% of pairs",
        note,
        marks: Marks::Bars(bars),
        y_min_top: 0.0,
    }
}

fn quality_chart(hist: &Histograms) -> Chart {
    let line = |label, color, means: &[f64]| Line {
        label,
        color,
        points: means
            .iter()
            .enumerate()
            .map(|(c, &q)| ((c + 1) as f64, q))
            .collect(),
    };
    let q = &hist.base_quality_by_cycle;
    Chart {
        name: "base-quality",
        title: "Mean base quality by cycle",
        x_label: "cycle",
        y_label: "mean base quality (Phred)",
        note: String::new(),
        marks: Marks::Lines(vec![
            line("R1", "#1f77b4", &q.r1),
            line("R2", "#d62728", &q.r2),
        ]),
        y_min_top: 41.0,
    }
}

fn indel_chart(hist: &Histograms) -> Chart {
    let cap = hist.indel_length_cap;
    let reach = hist
        .indel_length
        .iter()
        .map(|&(l, _)| l.abs())
        .max()
        .unwrap_or(0)
        .max(5);
    let mut bars: Vec<Bar> = hist
        .indel_length
        .iter()
        .map(|&(l, n)| Bar {
            x0: l as f64 - 0.4,
            x1: l as f64 + 0.4,
            y: n as f64,
        })
        .collect();
    if !bars.is_empty() {
        // Invisible bounds keep the axis symmetric around 0.
        bars.push(Bar {
            x0: -(reach as f64) - 1.0,
            x1: -(reach as f64) - 1.0,
            y: 0.0,
        });
        bars.push(Bar {
            x0: reach as f64 + 1.0,
            x1: reach as f64 + 1.0,
            y: 0.0,
        });
    }
    let note = if reach >= cap {
        format!("end bars: &plusmn;{cap} bp or longer")
    } else {
        String::new()
    };
    Chart {
        name: "indel-length",
        title: "Indel length distribution (ALT &minus; REF)",
        x_label: "length (bp; &lt; 0 deletion, &gt; 0 insertion)",
        y_label: "called alleles",
        note,
        marks: Marks::Bars(bars),
        y_min_top: 0.0,
    }
}

fn gq_chart(hist: &Histograms) -> Chart {
    Chart {
        name: "gq",
        title: "GQ distribution (passing variant records)",
        x_label: "GQ",
        y_label: "variant records",
        note: String::new(),
        marks: Marks::Bars(
            hist.gq
                .iter()
                .enumerate()
                .map(|(g, &n)| Bar {
                    x0: g as f64 - 0.45,
                    x1: g as f64 + 0.45,
                    y: n as f64,
                })
                .collect(),
        ),
        y_min_top: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::{Cigar, CigarOp};
    use crate::model::alignment::AlignedRead;
    use crate::model::alignment::Flags;
    use crate::model::gvcf::Genotyped;
    use crate::model::gvcf::{Record, Variant};
    use crate::report::qc::{QcCounts, RunInfo};

    fn read(flags: Flags, tlen: i64, len: usize) -> AlignedRead {
        AlignedRead {
            name: "r".into(),
            flags,
            contig: Some(0),
            pos: 0,
            mapq: 60,
            cigar: Cigar(vec![(CigarOp::Match, len as u32)]),
            mate_contig: Some(0),
            mate_pos: 0,
            tlen,
            seq: vec![b'A'; len],
            qual: (0..len).map(|i| 40 - (i % 20) as u8).collect(),
            nm: 0,
            md: String::new(),
            mate_cigar: None,
            sa: None,
            xa: None,
        }
    }

    fn full_qc(sample: &str) -> Qc {
        let mut c = QcCounts::default();
        for i in 0..200i64 {
            let s = 300 + (i * 37) % 120;
            c.add_pair(&[
                read(
                    Flags::SEGMENTED
                        | Flags::PROPERLY_SEGMENTED
                        | Flags::FIRST_SEGMENT
                        | Flags::MATE_REVERSE_COMPLEMENTED,
                    s,
                    100,
                ),
                read(
                    Flags::SEGMENTED
                        | Flags::PROPERLY_SEGMENTED
                        | Flags::LAST_SEGMENT
                        | Flags::REVERSE_COMPLEMENTED,
                    -s,
                    100,
                ),
            ]);
        }
        for p in 0..5000u32 {
            c.add_depth(20 + p % 17, true);
        }
        let v = |reference: Vec<u8>, alt: Vec<u8>, gt, gq| {
            Record::Variant(Variant {
                af: Vec::new(),
                annotations: None,
                phase: None,
                pos: 0,
                reference,
                alts: vec![alt],
                filter_pass: true,
                candidate: false,
                mq: 60.0,
                genotyped: Genotyped {
                    ploidy: 2,
                    gt,
                    qual: 50.0,
                    gq,
                    pl: vec![0; 6],
                    ad: vec![3, 3, 0],
                    dp: 6,
                },
            })
        };
        c.add_records(
            &[
                v(vec![0], vec![2], [0, 1], 40),
                v(vec![0], vec![1], [1, 1], 99),
                v(vec![0], vec![0, 1, 2], [0, 1], 30),
                v(vec![0, 1, 2, 3], vec![0], [0, 1], 25),
            ],
            true,
        );
        let info = RunInfo {
            command_line: vec![
                "genoa".into(),
                "run".into(),
                "--sample".into(),
                sample.into(),
            ],
            ..RunInfo::default()
        };
        c.finish(sample, &info)
    }

    #[test]
    fn every_chart_is_drawn_with_marks() {
        let html = render(&full_qc("S1"));
        for name in CHARTS {
            let start = html
                .find(&format!("<svg data-chart=\"{name}\""))
                .expect(name);
            let end = start + html[start..].find("</svg>").unwrap();
            let svg = &html[start..end];
            assert!(svg.contains("<title>"), "{name}");
            assert!(
                svg.contains("class=\"bar\"") || svg.contains("class=\"series\""),
                "{name} has no marks"
            );
            assert!(!svg.contains("no data"), "{name}");
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{name}");
        }
        assert_eq!(html.matches("<svg ").count(), 5);
        assert!(html.contains("mean_autosome_coverage"));
    }

    #[test]
    fn self_contained() {
        let html = render(&full_qc("S1"));
        let lower = html.to_ascii_lowercase();
        for bad in [
            "<script", "http:", "https:", "<link", "<img", "url(", "@import", "src=",
        ] {
            assert!(!lower.contains(bad), "{bad}");
        }
        assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    }

    #[test]
    fn input_strings_are_escaped() {
        let evil = "<script>alert(\"x\")</script>&'";
        let html = render(&full_qc(evil));
        assert!(!html.contains(evil));
        assert!(!html.to_ascii_lowercase().contains("<script"));
        assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"));
    }

    #[test]
    fn empty_data_renders_no_data_charts() {
        let qc = QcCounts::default().finish("empty", &RunInfo::default());
        let html = render(&qc);
        assert_eq!(html.matches("<svg ").count(), 5);
        assert_eq!(html.matches(">no data</text>").count(), 5);
        assert!(html.contains("n/a"));
        assert!(!html.contains("NaN") && !html.contains("inf<"));
    }

    #[test]
    fn deterministic() {
        assert_eq!(render(&full_qc("S")), render(&full_qc("S")));
    }

    #[test]
    fn ticks_and_labels() {
        assert_eq!(nice_step(100.0, 5.0), 20.0);
        assert_eq!(nice_step(0.9, 5.0), 0.2);
        assert_eq!(
            ticks(0.0, 100.0, 20.0),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(ticks(-6.0, 6.0, 2.0).len(), 7);
        assert_eq!(tick_label(20000.0, 5000.0), "20k");
        assert_eq!(tick_label(1_500_000.0, 500_000.0), "1.5M");
        assert_eq!(tick_label(0.4, 0.2), "0.4");
        assert_eq!(tick_label(-10.0, 5.0), "-10");
    }
}
