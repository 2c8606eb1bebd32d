//! What a run tells its operator while it works: a progress bar with rate and ETA on a
//! terminal; plain lines every [`LINE_EVERY`] otherwise (batch logs); and with
//! `--log-format json` both the progress and the final summary as JSON events on stderr
//! (target `genoa::status`, always enabled), for batch systems to parse.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Interval of the plain progress lines when stderr is not a terminal.
pub const LINE_EVERY: Duration = Duration::from_secs(30);

static JSON: AtomicBool = AtomicBool::new(false);

/// Sets whether status goes out as JSON events (`--log-format json`).
pub fn set_json(on: bool) {
    JSON.store(on, Ordering::Relaxed);
}

fn json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// Progress of one stage over a known amount of input (bytes of the input files), counting
/// items (read pairs) as it goes.
pub struct Progress {
    stage: String,
    unit: String,
    bar: Option<ProgressBar>,
    start: Instant,
    last_line: Instant,
    total_bytes: u64,
}

impl Progress {
    pub fn new(stage: &str, unit: &str, total_bytes: u64) -> Self {
        let bar = (std::io::stderr().is_terminal() && !json()).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(total_bytes.max(1)),
                ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = ProgressStyle::with_template(
                "{prefix} [{bar:30}] {percent:>3}% {msg} elapsed {elapsed}, ETA {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(stage.to_string());
            bar
        });
        Progress {
            stage: stage.to_string(),
            unit: unit.to_string(),
            bar,
            start: Instant::now(),
            last_line: Instant::now(),
            total_bytes,
        }
    }

    /// `items` done so far, `bytes` of the input consumed.
    pub fn set(&mut self, items: u64, bytes: u64) {
        let secs = self.start.elapsed().as_secs_f64().max(1e-9);
        let rate = items as f64 / secs;
        if let Some(bar) = &self.bar {
            bar.set_position(bytes);
            bar.set_message(format!("{items} {} ({rate:.0}/s)", self.unit));
            return;
        }
        if self.last_line.elapsed() < LINE_EVERY {
            return;
        }
        self.last_line = Instant::now();
        let fraction = bytes as f64 / self.total_bytes.max(1) as f64;
        let eta = if fraction > 0.0 {
            secs * (1.0 - fraction) / fraction
        } else {
            f64::NAN
        };
        if json() {
            tracing::info!(
                target: "genoa::status",
                stage = %self.stage,
                done = items,
                unit = %self.unit,
                per_second = rate.round(),
                fraction = (fraction * 1000.0).round() / 1000.0,
                eta_seconds = eta.round(),
                "progress"
            );
        } else {
            eprintln!(
                "genoa: {}: {items} {} ({rate:.0}/s), {:.1}% of the input, ETA {:.0} s",
                self.stage,
                self.unit,
                100.0 * fraction,
                eta
            );
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Peak resident memory of this process in bytes (Linux: `VmHWM`), if known.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The final line of a run: `message` as text, or a JSON event with `fields` (name, value).
pub fn summary(message: &str, fields: &[(&str, String)]) {
    if json() {
        let obj: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(k, v)| {
                let value = v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .and_then(serde_json::Number::from_f64)
                    .map_or_else(|| serde_json::Value::String(v.clone()), Into::into);
                (k.to_string(), value)
            })
            .collect();
        tracing::info!(
            target: "genoa::status",
            summary = %serde_json::Value::Object(obj),
            "{message}"
        );
    } else {
        eprintln!("genoa: {message}");
    }
}
