//! The library's one error type. Parse errors carry the path, the record number and the line,
//! so a user sees `R1.fastq.gz: record 1234 (line 4935): quality length 149 != sequence length 150`.

use std::path::{Path, PathBuf};

/// Result with genoa's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system error on a named file (said in the user's words by
    /// [`describe_io`]).
    #[error("{}: {}", path.display(), describe_io(source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A malformed record in an input file (`line` for text formats).
    #[error("{}: record {record}{}: {message}", path.display(), line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    Record {
        path: PathBuf,
        record: u64,
        line: Option<u64>,
        message: String,
    },
    /// An input file that is wrong as a whole (empty, missing a contig, …).
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    /// A backend that cannot run (no GPU adapter, a device error, …).
    #[error("backend {backend}: {message}")]
    Backend { backend: String, message: String },
    /// Settings that contradict each other or are out of range.
    #[error("{0}")]
    Config(String),
    /// A batch handed to a kernel that breaks its contract (lengths, band, codes): a bug in
    /// the caller, never the user's input.
    #[error("kernel contract: {0}")]
    Contract(String),
    /// An index (BAM/CSI/CRAI, tabix, the reference's minimizer index) that cannot be built.
    #[error("{}: index: {message}", path.display())]
    Index { path: PathBuf, message: String },
    /// A broken internal invariant (a worker that panicked, a damaged scratch file genoa wrote
    /// itself, …): a bug or a failing machine, never the user's input.
    #[error("internal error: {0}")]
    Internal(String),
}

/// An I/O error as a user should read it: what the library's text ("failed to fill whole
/// buffer", "invalid BGZF header", libdeflate's internals) means for their file.
pub fn describe_io(e: &std::io::Error) -> String {
    let text = e.to_string();
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        "the file ends early: it is truncated (an interrupted copy, download or write?)".into()
    } else if text.contains("invalid BGZF header") {
        "data that is not a BGZF block where one should start: the file is damaged or not \
         BGZF-compressed, or its index belongs to another file or an older version of it \
         (rebuild the index)"
            .into()
    } else if text.contains("libdeflater") || text.contains("deflate stream") {
        "a compressed block that does not decompress: the file is damaged".into()
    } else if text.contains("checksum") {
        "damaged: a compressed block's checksum does not match its data".into()
    } else if text == "I/O error" || text == "invalid data" {
        "damaged or truncated data (not what the format requires here)".into()
    } else {
        text
    }
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
    /// A whole-file input error on `path`.
    pub fn input(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Input {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }
    /// An index error on `path`.
    pub fn index(path: impl AsRef<Path>, message: impl std::fmt::Display) -> Self {
        Error::Index {
            path: path.as_ref().to_path_buf(),
            message: message.to_string(),
        }
    }
    /// A backend error.
    pub fn backend(backend: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Backend {
            backend: backend.into(),
            message: message.into(),
        }
    }
}
