//! Outputs are written under a temporary name in the destination directory and renamed when
//! complete, so a file that exists under its final name is whole. A temporary that is never
//! committed (an error, a panic) is removed when dropped.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A file being written under a temporary name.
#[derive(Debug)]
pub struct Pending {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl Pending {
    /// Reserves `dest`; the data goes to `.<name>.genoa-tmp` beside it.
    pub fn new(dest: impl AsRef<Path>) -> Self {
        let dest = dest.as_ref().to_path_buf();
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dest.with_file_name(format!(".{name}.genoa-tmp"));
        Pending {
            tmp,
            dest,
            committed: false,
        }
    }
    /// Creates (truncates) the temporary file.
    pub fn create(&self) -> Result<File> {
        File::create(&self.tmp).map_err(|e| Error::io(&self.dest, e))
    }
    /// Path of the temporary file.
    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }
    /// Final path.
    pub fn path(&self) -> &Path {
        &self.dest
    }
    /// Moves the temporary to its final name.
    pub fn commit(mut self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| Error::io(&self.dest, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `path` through a temporary name: the file appears whole or not at all.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let pending = Pending::new(path);
    std::fs::write(pending.tmp_path(), bytes).map_err(|e| Error::io(path, e))?;
    pending.commit()
}

/// Commits several pending files in order (data files before their indexes, so an index is
/// never older than its data).
pub fn commit_all(files: Vec<Pending>) -> Result<()> {
    for f in files {
        f.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn uncommitted_temporaries_vanish() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x.txt");
        {
            let p = Pending::new(&dest);
            p.create().unwrap().write_all(b"partial").unwrap();
            assert!(p.tmp_path().exists());
        }
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let p = Pending::new(&dest);
        p.create().unwrap().write_all(b"whole").unwrap();
        p.commit().unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"whole");
    }
}
