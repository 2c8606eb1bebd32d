//! The lock on a run's work directory: one run of a sample into one output directory at a time.
//!
//! `genoa run` takes an exclusive advisory `flock` on `WORKDIR/genoa.lock` before it reads or
//! clears any checkpoint, and holds it until its outputs are committed and the checkpoints
//! removed. A second run of the same sample into the same directory (a scheduler's retry that
//! overlaps the first job) stops at once with a message naming the process that holds it. The
//! kernel drops the lock when its holder dies, so a killed run never leaves a stale lock.
//!
//! The work directory is created mode 0700; an existing one must be a real directory (not a
//! symlink), owned by this user and not writable by group or others, so no one else can plant
//! or read checkpoints (the sample's reads) in it.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Name of the lock file inside a work directory.
pub const LOCK_FILE: &str = "genoa.lock";

/// A held lock on a work directory (released when dropped).
#[derive(Debug)]
pub struct WorkLock {
    _file: File,
    dir: PathBuf,
}

impl WorkLock {
    /// Creates `dir` if needed (its parent must exist), checks it is this user's own, and
    /// locks it; fails at once if another process holds the lock.
    pub fn acquire(dir: &Path) -> Result<WorkLock> {
        // The directory can be removed by the holder between our open and our lock (it
        // removes its checkpoints when it ends): lock, then check the lock file is still the
        // one at the path, else try again.
        for _ in 0..8 {
            make_private_dir(dir)?;
            let path = dir.join(LOCK_FILE);
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = holder.trim();
                    return Err(Error::input(
                        dir,
                        format!(
                            "in use by another genoa run ({}); two runs of one sample into one output directory cannot share it: wait for that run to end or stop it",
                            if holder.is_empty() {
                                "process unknown".to_string()
                            } else {
                                holder.replace('\n', " ")
                            }
                        ),
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::io(&path, e));
                }
            }
            if !same_file(&file, &path) {
                continue;
            }
            let me = format!(
                "pid {} on host {}, started {} s after the Unix epoch",
                std::process::id(),
                hostname(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0)
            );
            let _ = file.set_len(0);
            let _ = file.rewind();
            let _ = file.write_all(me.as_bytes());
            return Ok(WorkLock {
                _file: file,
                dir: dir.to_path_buf(),
            });
        }
        Err(Error::input(
            dir,
            "the work directory kept changing while genoa tried to lock it",
        ))
    }

    /// Fails when a live process holds the lock of the existing directory `dir` (a shard still
    /// being aligned); creates and checks nothing else (shards may come from other machines).
    pub fn ensure_idle(dir: &Path) -> Result<()> {
        let path = dir.join(LOCK_FILE);
        let Ok(mut file) = File::open(&path) else {
            return Ok(());
        };
        if let Err(std::fs::TryLockError::WouldBlock) = file.try_lock() {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(Error::input(
                dir,
                format!(
                    "is still being written by a genoa run ({}); gather it when that run has ended",
                    holder.trim().replace('\n', " ")
                ),
            ));
        }
        Ok(())
    }

    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// Removes everything in the work directory `dir` but its lock file (held by this run).
pub fn clear_dir(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if entry.file_name() == LOCK_FILE {
            continue;
        }
        let p = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        }
        .map_err(|e| Error::io(&p, e))?;
    }
    Ok(())
}

/// Creates `dir` (mode 0700) or checks that the existing one is a private directory of this
/// user's.
pub fn make_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    match builder.create(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io(dir, e)),
    }
    let meta = std::fs::symlink_metadata(dir).map_err(|e| Error::io(dir, e))?;
    if meta.file_type().is_symlink() {
        return Err(Error::input(
            dir,
            "work directory is a symlink; genoa does not write checkpoints through one (remove it)",
        ));
    }
    if !meta.is_dir() {
        return Err(Error::input(
            dir,
            "exists and is not a directory (genoa keeps its work directory there)",
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.uid() != rustix::process::geteuid().as_raw() {
            return Err(Error::input(
                dir,
                format!(
                    "work directory is owned by another user (uid {}); remove it or choose another output or --tmp-dir",
                    meta.uid()
                ),
            ));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(Error::input(
                dir,
                format!(
                    "work directory is writable by group or others (mode {:o}); genoa keeps the sample's reads there: remove it, or chmod go-w it",
                    meta.mode() & 0o7777
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_fails_naming_the_holder_and_a_dropped_one_frees() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join(".genoa-work.S");
        let first = WorkLock::acquire(&work).unwrap();
        let err = WorkLock::acquire(&work).unwrap_err().to_string();
        assert!(err.contains("in use by another genoa run"), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        let again = WorkLock::acquire(&work).unwrap();
        // The holder removes the directory; a new lock starts from a new directory.
        std::fs::remove_dir_all(&work).unwrap();
        drop(again);
        WorkLock::acquire(&work).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_or_shared_work_directories_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let link = dir.path().join(".genoa-work.S");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        let err = WorkLock::acquire(&link).unwrap_err().to_string();
        assert!(err.contains("symlink"), "{err}");
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = WorkLock::acquire(&open).unwrap_err().to_string();
        assert!(err.contains("writable by group or others"), "{err}");
    }
}
