//! Fuzzing under `cargo test` (stable Rust, no instrumentation): every parser a user's file
//! reaches gets seeded mutants of real inputs (`fuzz/mutate.rs`) for a time box, in process,
//! through the library's own entry points. A panic is a failure, and so is an execution longer
//! than 20 s (a hang; the process aborts naming the input). Where an oracle is cheap a wrong
//! success is a failure too: a Crypt4GH mutant that decrypts must give the original plaintext
//! (or a prefix of it cut at a segment boundary, the format's known limit), a gVCF that
//! `validate` passes must be readable by noodles' VCF reader.
//!
//! `GENOA_FUZZ_SECONDS` (default 1) is the time per target; `GENOA_FUZZ_SEED` varies the run;
//! `GENOA_FUZZ_MESSAGES=1` prints one refusal message of each class (what a user reads).
//! Every input that ever panicked or hung is kept in `tests/fuzz-corpus/TARGET/` (gzipped with
//! `gzip -9n` when large) and replayed by `replay_corpus` on every `cargo test`. CI runs
//! `GENOA_FUZZ_SECONDS=10 cargo test --test fuzz -- --nocapture` and prints the counts.

mod fuzz {
    pub mod mutate;
    pub mod targets;
}

use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use fuzz::targets::{Target, target};

/// How a target reports a wrong result it knows of and does not fail on (counted and printed:
/// a damaged BAM or CRAM index that makes a region's reads vanish, which genoa does not detect).
pub const SILENT: &str = "SILENT: ";

/// An execution longer than this is a hang.
const HANG: Duration = Duration::from_secs(20);

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-corpus")
        .join(target)
}

/// FNV-1a: a stable short name for an input.
fn name_of(input: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in input {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

thread_local! {
    static PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Panics inside targets are recorded, not printed (other panics print as usual).
fn quiet_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_target = PANIC.with(|p| p.borrow().is_some());
            if in_target {
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let msg = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{at}")));
            } else {
                default(info);
            }
        }));
    });
}

/// What one execution did.
enum Exec {
    Ok,
    Err(String),
    Panic(String),
}

fn exec(target: &Target, input: &[u8]) -> Exec {
    PANIC.with(|p| *p.borrow_mut() = Some(String::new()));
    let r = std::panic::catch_unwind(AssertUnwindSafe(|| (target.run)(input)));
    let msg = PANIC.with(|p| p.borrow_mut().take()).unwrap_or_default();
    match r {
        Ok(Ok(())) => Exec::Ok,
        Ok(Err(e)) => Exec::Err(e),
        Err(_) => Exec::Panic(msg),
    }
}

/// Watches the running execution; aborts the process (naming and saving the input) when one
/// runs past [`HANG`].
/// The execution running now: when it started and its input.
type Running = Arc<Mutex<Option<(Instant, Vec<u8>)>>>;

struct Watchdog {
    current: Running,
}

impl Watchdog {
    fn new(target: &'static str) -> Watchdog {
        let current: Running = Arc::new(Mutex::new(None));
        let watched = Arc::downgrade(&current);
        std::thread::spawn(move || {
            while let Some(current) = watched.upgrade() {
                if let Some((t0, input)) = current.lock().unwrap().as_ref()
                    && t0.elapsed() > HANG
                {
                    let path = save(target, input);
                    let _ = writeln!(
                        std::io::stderr(),
                        "fuzz {target}: HANG: an execution ran {:?}; input saved as {}",
                        t0.elapsed(),
                        path.display()
                    );
                    std::process::abort();
                }
                drop(current);
                std::thread::sleep(Duration::from_millis(250));
            }
        });
        Watchdog { current }
    }
    fn run(&self, target: &Target, input: &[u8]) -> Exec {
        *self.current.lock().unwrap() = Some((Instant::now(), input.to_vec()));
        let r = exec(target, input);
        *self.current.lock().unwrap() = None;
        r
    }
}

fn save(target: &str, input: &[u8]) -> PathBuf {
    let dir = corpus_dir(target);
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(name_of(input));
    let _ = std::fs::write(&path, input);
    path
}

fn budget() -> Duration {
    let secs: f64 = std::env::var("GENOA_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    Duration::from_secs_f64(secs)
}

/// Fuzzes `name` for the time budget; fails on any panic (each saved to the corpus).
fn fuzz_target(name: &'static str) {
    quiet_panics();
    let target = target(name).expect("a target of that name");
    let seed: u64 = std::env::var("GENOA_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut rng = fastrand::Rng::with_seed(
        seed ^ u64::from_str_radix(&name_of(name.as_bytes()), 16).unwrap(),
    );
    let dog = Watchdog::new(name);
    let (mut execs, mut errors, mut slowest) = (0u64, 0u64, Duration::ZERO);
    let (mut silent, mut silent_example) = (0u64, None);
    // Message class → one full message of that class.
    let mut messages = std::collections::BTreeMap::new();
    let mut panics = Vec::new();
    // The seeds themselves must be accepted.
    for s in &target.seeds {
        match dog.run(&target, s) {
            Exec::Ok => {}
            Exec::Err(e) => panic!("fuzz {name}: a seed is refused: {e}"),
            Exec::Panic(m) => panic!("fuzz {name}: a seed panics: {m}"),
        }
    }
    let t0 = Instant::now();
    let limit = budget();
    while t0.elapsed() < limit {
        let input = fuzz::mutate::mutate(&mut rng, &target.seeds);
        let t = Instant::now();
        match dog.run(&target, &input) {
            Exec::Ok => {}
            Exec::Err(e) if e.starts_with(SILENT) => {
                silent += 1;
                silent_example.get_or_insert(e);
            }
            Exec::Err(e) => {
                errors += 1;
                if messages.len() < 10_000 {
                    // Message classes: the text without numbers and paths.
                    let class: String = e
                        .chars()
                        .filter(|c| !c.is_ascii_digit())
                        .collect::<String>()
                        .rsplit(": ")
                        .next()
                        .unwrap_or("")
                        .chars()
                        .take(60)
                        .collect();
                    messages.entry(class).or_insert(e);
                }
            }
            Exec::Panic(m) => {
                let path = save(name, &input);
                panics.push(format!("{m} (input: {})", path.display()));
            }
        }
        if t.elapsed() > slowest {
            slowest = t.elapsed();
            if slowest > Duration::from_secs(1) {
                // Not a hang, but worth a look: kept outside the repository.
                let _ = std::fs::write(
                    std::env::temp_dir().join(format!("genoa-fuzz-slowest-{name}")),
                    &input,
                );
            }
        }
        execs += 1;
    }
    println!(
        "fuzz {name}: {execs} executions in {:.1} s, {errors} refused ({} distinct messages, numbers aside, at most 10,000 counted), {} accepted, {silent} accepted with a known wrong result, {} panics, slowest {:.0} ms",
        t0.elapsed().as_secs_f64(),
        messages.len(),
        execs - errors - silent - panics.len() as u64,
        panics.len(),
        slowest.as_secs_f64() * 1e3
    );
    if let Some(e) = silent_example {
        println!("fuzz {name}: e.g. {e}");
    }
    if std::env::var_os("GENOA_FUZZ_MESSAGES").is_some() {
        // One example of each message class: what a user reads for each kind of damage.
        for m in messages.values() {
            println!("fuzz {name}: message: {}", m.replace('\n', "\\n"));
        }
    }
    assert!(
        panics.is_empty(),
        "fuzz {name}: {} panics:\n{}",
        panics.len(),
        panics.join("\n")
    );
}

macro_rules! fuzz_tests {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            fuzz_target(stringify!($name));
        }
    )*};
}

fuzz_tests!(
    fastq,
    fastq_pair,
    fasta,
    bam_records,
    bam_indexed,
    gvcf_validate,
    gvcf_aggregate,
    gvcf_aggregate_bgzf,
    crypt4gh_decrypt,
    crypt4gh_keys,
    crypt4gh_key_blob,
    qc_policy,
    qc_json,
    bed_regions,
    region_text,
    sample_sheet,
    alt_names,
    read_group,
    cram_indexed,
    cram_crai,
    bam_bai,
    gvcf_tbi,
    fasta_fai,
    gvcf_aggregate_pair,
);

/// Every input kept in `tests/fuzz-corpus/` runs through its target without a panic.
#[test]
fn replay_corpus() {
    quiet_panics();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    let mut failures = Vec::new();
    let mut n = 0;
    for dir in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        let name = dir.file_name().to_string_lossy().into_owned();
        let target =
            target(&name).unwrap_or_else(|| panic!("tests/fuzz-corpus/{name}: no such target"));
        for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
            // Kept gzipped when large (`gzip -9n`): the input is what decompresses.
            let mut input = std::fs::read(file.path()).unwrap();
            if file.path().extension().is_some_and(|e| e == "gz") {
                let mut plain = Vec::new();
                std::io::Read::read_to_end(
                    &mut flate2::read::GzDecoder::new(&input[..]),
                    &mut plain,
                )
                .unwrap();
                input = plain;
            }
            n += 1;
            let t = Instant::now();
            if let Exec::Panic(m) = exec(&target, &input) {
                failures.push(format!("{}: {m}", file.path().display()));
            }
            assert!(t.elapsed() < HANG, "{}: hangs", file.path().display());
        }
    }
    println!("fuzz corpus: {n} inputs replayed");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
