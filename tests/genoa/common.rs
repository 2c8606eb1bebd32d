//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use genoa::backend::Backend;

/// The one seeded generator of the tests, benches and examples (`Rng::with_seed`).
pub use fastrand::Rng;

/// The GPU backend, or `None` with a printed reason; with `GENOA_REQUIRE_GPU=1` a missing GPU
/// fails the test instead of skipping it (in builds with the `gpu` feature).
pub fn gpu() -> Option<Arc<dyn Backend>> {
    match genoa::backend::gpu::Gpu::new(true) {
        Ok(g) => Some(Arc::new(g)),
        Err(e) => {
            // A build without the `gpu` feature has no GPU backend to require.
            if cfg!(feature = "gpu") && std::env::var("GENOA_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("GENOA_REQUIRE_GPU=1 but no GPU backend: {e}");
            }
            eprintln!(
                "SKIPPED (no GPU adapter: {e}); set GENOA_REQUIRE_GPU=1 to make this an error"
            );
            None
        }
    }
}

/// A backend a generated test runs on (see [`backend_tests`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    Scalar,
    Sse41,
    Avx2,
    Avx512,
    /// `auto` routing between the GPU and the CPU, thresholds low enough that some batches of
    /// every test go to each side.
    Auto,
    Gpu,
}

impl Device {
    /// The backend, or `None` with a printed reason where this machine has none (a GPU that
    /// `GENOA_REQUIRE_GPU=1` requires fails instead: see [`gpu`]).
    pub fn backend(self) -> Option<Arc<dyn Backend>> {
        let simd = |isa: &str| -> Option<Arc<dyn Backend>> {
            let found = genoa::backend::simd::Simd::available()
                .into_iter()
                .find(|s| s.name() == format!("simd-{isa}"));
            if found.is_none() {
                eprintln!("SKIPPED (this CPU has no {isa})");
            }
            found.map(|s| Arc::new(s) as Arc<dyn Backend>)
        };
        match self {
            Device::Scalar => Some(Arc::new(genoa::backend::scalar::Scalar)),
            Device::Sse41 => simd("sse4.1"),
            Device::Avx2 => simd("avx2"),
            Device::Avx512 => simd("avx512bw"),
            Device::Auto => gpu().map(|g| {
                Arc::new(genoa::backend::Auto::new(
                    Some(g),
                    Arc::new(genoa::backend::scalar::Scalar),
                    [20_000, 20_000],
                    String::new(),
                )) as Arc<dyn Backend>
            }),
            Device::Gpu => gpu(),
        }
    }

    /// Runs `test` on this device's backend, if the machine has it.
    pub fn run(self, test: impl FnOnce(&dyn Backend)) {
        if let Some(b) = self.backend() {
            test(b.as_ref());
        }
    }
}

/// One test per backend for each named function `fn(&dyn Backend)`: a module of the function's
/// name with a test for every [`Device`] (`NAME::scalar`, `NAME::avx2`, `NAME::gpu`, …), each
/// skipped with a printed reason where the machine lacks that backend — as candle's
/// `test_device!`, so a failure names its backend and one backend's failure hides no other's.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::super::common::Device;
            #[test]
            fn scalar() {
                Device::Scalar.run(super::$name)
            }
            #[test]
            fn sse41() {
                Device::Sse41.run(super::$name)
            }
            #[test]
            fn avx2() {
                Device::Avx2.run(super::$name)
            }
            #[test]
            fn avx512() {
                Device::Avx512.run(super::$name)
            }
            #[test]
            fn auto() {
                Device::Auto.run(super::$name)
            }
            #[test]
            fn gpu() {
                Device::Gpu.run(super::$name)
            }
        }
    )*};
}
pub(crate) use backend_tests;

/// The demo data shipped in test-data/.
pub fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test-data/demo")
}

/// Runs the genoa binary.
pub fn genoa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_genoa"))
        .args(args)
        .output()
        .expect("the genoa binary runs")
}

/// Runs the genoa binary and fails the test, with its arguments and stderr, unless it succeeds.
pub fn genoa_ok(args: &[&str]) -> Output {
    let o = genoa(args);
    assert!(
        o.status.success(),
        "genoa {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Names of the files in `dir` (sorted), temporaries included.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Output directory of one `genoa run` on the demo data with `args` appended (cached per
/// argument list for the whole test binary).
pub fn demo_run(tag: &str, extra: &[&str]) -> PathBuf {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Runs = Mutex<HashMap<String, Arc<OnceLock<PathBuf>>>>;
    static RUNS: OnceLock<Runs> = OnceLock::new();
    let key = format!("{tag}:{}", extra.join(" "));
    let cell = RUNS
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(key)
        .or_default()
        .clone();
    cell.get_or_init(|| run_demo(tag, extra)).clone()
}

fn run_demo(tag: &str, extra: &[&str]) -> PathBuf {
    let out = std::env::temp_dir().join(format!("genoa-test-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let d = demo_dir();
    let (r, r1, r2) = (
        d.join("ref.fa"),
        d.join("R1.fastq.gz"),
        d.join("R2.fastq.gz"),
    );
    let mut args = vec![
        "run",
        "-r",
        r.to_str().unwrap(),
        "-1",
        r1.to_str().unwrap(),
        "-2",
        r2.to_str().unwrap(),
        "-s",
        "SAMPLE",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    genoa_ok(&args);
    out
}

/// Picard's command (`PicardCommandLine`, Debian's `picard-tools`), or `None` with a printed
/// reason; with `GENOA_REQUIRE_PICARD=1` (CI) a missing Picard fails the test instead.
pub fn picard() -> Option<String> {
    let found = Command::new("PicardCommandLine")
        .arg("SamFormatConverter")
        .arg("--version")
        .output()
        .is_ok();
    if found {
        return Some("PicardCommandLine".into());
    }
    if std::env::var("GENOA_REQUIRE_PICARD").is_ok_and(|v| v == "1") {
        panic!(
            "GENOA_REQUIRE_PICARD=1 but PicardCommandLine is not installed (apt-get install picard-tools)"
        );
    }
    eprintln!("SKIPPED (no PicardCommandLine; apt-get install picard-tools)");
    None
}

/// Runs an external tool, failing the test with a clear message if it is not installed.
pub fn tool(name: &str, args: &[&str]) -> Output {
    Command::new(name).args(args).output().unwrap_or_else(|e| {
        panic!("{name} is needed by this test (scripts/test.sh installs it): {e}")
    })
}

/// `samtools ARGS` output lines (e.g. `view file.bam`), failing the test if samtools fails.
pub fn samtools_lines(args: &[&str]) -> Vec<String> {
    tool_lines("samtools", args)
}

/// Output lines of `name ARGS`, failing the test if the tool fails.
pub fn tool_lines(name: &str, args: &[&str]) -> Vec<String> {
    let o = tool(name, args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}
