//! Outputs are written under a temporary name in the destination directory and renamed when
//! complete, so a file that exists under its final name is whole. A temporary that is never
//! committed (an error, a panic) is removed when dropped.
//!
//! Temporaries are `.<name>.<16 random letters and digits>.genoa-tmp` beside the destination, created
//! with `O_CREAT|O_EXCL` (`create_new`: a symlink or any file planted at the name is never
//! opened, let alone followed — the name is drawn again), mode 0666 less the umask, or 0600 for
//! secrets and decrypted plaintext ([`Pending::private`]). Each temporary holds an exclusive
//! `flock` while its writer lives, so the first temporary created in a directory by a later
//! process removes the temporaries of killed processes there (unlocked `*.genoa-tmp` regular
//! files) and leaves those of live ones alone.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Suffix of every temporary genoa writes beside an output.
pub const TMP_SUFFIX: &str = ".genoa-tmp";

/// A file being written under a temporary name.
#[derive(Debug)]
pub struct Pending {
    tmp: tempfile::NamedTempFile,
    dest: PathBuf,
}

impl Pending {
    /// Creates the temporary of `dest` (mode 0666 less the umask).
    pub fn new(dest: impl AsRef<Path>) -> Result<Self> {
        Self::with_mode(dest.as_ref(), 0o666)
    }

    /// Creates the temporary of `dest` readable by its owner only (0600): secret keys and
    /// decrypted plaintext. The final file keeps that mode.
    pub fn private(dest: impl AsRef<Path>) -> Result<Self> {
        Self::with_mode(dest.as_ref(), 0o600)
    }

    fn with_mode(dest: &Path, mode: u32) -> Result<Self> {
        let dest = dest.to_path_buf();
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::input(&dest, "output path names no file"))?;
        let dir = parent_dir(&dest);
        clean_stale_once(dir);
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(TMP_SUFFIX).rand_bytes(16);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(mode));
        }
        #[cfg(not(unix))]
        let _ = mode;
        let tmp = builder.tempfile_in(dir).map_err(|e| Error::io(&dest, e))?;
        // Held until commit or drop (all handles share the open file description).
        let _ = tmp.as_file().try_lock();
        Ok(Pending { tmp, dest })
    }

    /// A handle on the temporary file (empty when created), for writing.
    pub fn create(&self) -> Result<File> {
        self.tmp
            .as_file()
            .try_clone()
            .map_err(|e| Error::io(&self.dest, e))
    }
    /// Path of the temporary file.
    pub fn tmp_path(&self) -> &Path {
        self.tmp.path()
    }
    /// Final path.
    pub fn path(&self) -> &Path {
        &self.dest
    }
    /// Moves the temporary to its final name (a symlink there is replaced, never followed).
    pub fn commit(self) -> Result<()> {
        let Pending { tmp, dest } = self;
        tmp.persist(&dest).map_err(|e| Error::io(&dest, e.error))?;
        Ok(())
    }
    /// Moves the temporary to its final name only if nothing (not even a dangling symlink)
    /// is there: for outputs that are never overwritten (keys, encrypted and decrypted files).
    pub fn commit_new(self) -> Result<()> {
        let Pending { tmp, dest } = self;
        tmp.persist_noclobber(&dest).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::input(&dest, "exists already (not overwritten)")
            } else {
                Error::io(&dest, e.error)
            }
        })?;
        Ok(())
    }
}

/// Whether anything is at `path` (a dangling symlink included).
pub fn occupied(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

fn parent_dir(dest: &Path) -> &Path {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Removes, once per directory and process, the temporaries killed processes left in `dir`.
fn clean_stale_once(dir: &Path) {
    static CLEANED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    {
        let mut cleaned = CLEANED.lock().unwrap_or_else(|e| e.into_inner());
        if !cleaned.get_or_insert_with(HashSet::new).insert(key) {
            return;
        }
    }
    let removed = clean_stale(dir);
    if removed > 0 {
        tracing::info!(
            "{}: removed {removed} temporary file(s) left by an interrupted genoa",
            dir.display()
        );
    }
}

/// Removes the temporaries (`.*.genoa-tmp` regular files) in `dir` that no live process holds
/// locked; returns how many. Symlinks and other non-regular files are left alone.
pub fn clean_stale(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with('.') && name.ends_with(TMP_SUFFIX)) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.file_type().is_file() {
            continue;
        }
        let Ok(f) = File::open(&path) else { continue };
        if f.try_lock().is_ok() && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Writes `bytes` to `path` through a temporary name: the file appears whole or not at all.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let pending = Pending::new(path)?;
    let mut f = pending.create()?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    drop(f);
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

/// Index files that may sit beside a data file (and that genoa reads or writes with it).
const COMPANIONS: [&str; 7] = [
    ".bai",
    ".csi",
    ".crai",
    ".tbi",
    ".fai",
    ".gzi",
    ".genoa.digests",
];

/// Refuses outputs that are (or resolve to, through a symlink or a hard link) one of the
/// inputs or an index beside one; each output's own index names (`.bai`, `.csi`, `.crai`,
/// `.tbi`) are checked with it. Outputs that do not exist yet cannot be inputs.
pub fn refuse_inputs(outputs: &[&Path], inputs: &[&Path]) -> Result<()> {
    let mut input_ids = Vec::new();
    for input in inputs {
        let mut names = vec![input.to_path_buf()];
        names.extend(COMPANIONS.iter().map(|c| crate::io::with_suffix(input, c)));
        for name in names {
            if let Some(id) = file_id(&name) {
                input_ids.push((id, name));
            }
        }
    }
    for output in outputs {
        let mut names = vec![output.to_path_buf()];
        names.extend(
            COMPANIONS[..4]
                .iter()
                .map(|c| crate::io::with_suffix(output, c)),
        );
        for name in names {
            let Some(id) = file_id(&name) else { continue };
            if let Some((_, input)) = input_ids.iter().find(|(i, _)| *i == id) {
                let how = if name == *input {
                    String::new()
                } else {
                    format!(" (the same file as {})", input.display())
                };
                return Err(Error::input(
                    &name,
                    format!(
                        "is an input of this command{how}; genoa never writes over an input: choose another output name"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Identity of the file a path resolves to (device and inode on Unix), if it exists.
pub fn file_id(path: &Path) -> Option<(u64, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        let c = std::fs::canonicalize(path).ok()?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&c, &mut h);
        Some((0, std::hash::Hasher::finish(&h)))
    }
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
            let p = Pending::new(&dest).unwrap();
            p.create().unwrap().write_all(b"partial").unwrap();
            assert!(p.tmp_path().exists());
        }
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let p = Pending::new(&dest).unwrap();
        p.create().unwrap().write_all(b"whole").unwrap();
        p.commit().unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"whole");
    }

    #[cfg(unix)]
    #[test]
    fn temporaries_never_follow_a_planted_symlink_and_are_unpredictable() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let dest = dir.path().join("out.key");
        // The old fixed name, planted.
        std::os::unix::fs::symlink(&victim, dir.path().join(".out.key.genoa-tmp")).unwrap();
        let a = Pending::private(&dest).unwrap();
        let b = Pending::new(dir.path().join("out.key2")).unwrap();
        assert_ne!(
            a.tmp_path().file_name().unwrap().len(),
            ".out.key.genoa-tmp".len()
        );
        assert_ne!(a.tmp_path(), b.tmp_path());
        a.create().unwrap().write_all(b"secret").unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(a.tmp_path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        a.commit().unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert_eq!(std::fs::read(&dest).unwrap(), b"secret");
        // A symlink at the destination is replaced, not written through.
        let link = dir.path().join("link.out");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write(&link, b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
    }

    #[test]
    fn stale_temporaries_are_removed_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".x.bam.0123456789abcdef.genoa-tmp");
        std::fs::write(&stale, b"left by a killed run").unwrap();
        // The first temporary this process makes in the directory removes it.
        let live = Pending::new(dir.path().join("y.bam")).unwrap();
        assert!(!stale.exists());
        std::fs::write(&stale, b"left by another killed run").unwrap();
        assert_eq!(clean_stale(dir.path()), 1);
        assert!(!stale.exists());
        assert!(
            live.tmp_path().exists(),
            "a live writer's temporary is kept"
        );
        #[cfg(unix)]
        {
            let target = dir.path().join("t");
            std::fs::write(&target, b"t").unwrap();
            std::os::unix::fs::symlink(&target, dir.path().join(".z.genoa-tmp")).unwrap();
            assert_eq!(clean_stale(dir.path()), 0, "symlinks are left alone");
            assert!(target.exists());
        }
    }

    #[test]
    fn outputs_naming_inputs_are_refused_through_links() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.bam");
        std::fs::write(&input, b"bam").unwrap();
        std::fs::write(dir.path().join("in.bam.bai"), b"bai").unwrap();
        let other = dir.path().join("other.bam");
        refuse_inputs(&[&other], &[&input]).unwrap();
        assert!(refuse_inputs(&[&input], &[&input]).is_err());
        let hard = dir.path().join("hard.bam");
        std::fs::hard_link(&input, &hard).unwrap();
        let err = refuse_inputs(&[&hard], &[&input]).unwrap_err().to_string();
        assert!(err.contains("never writes over an input"), "{err}");
        #[cfg(unix)]
        {
            let soft = dir.path().join("soft.g.vcf.gz");
            std::os::unix::fs::symlink(&input, &soft).unwrap();
            assert!(refuse_inputs(&[&soft], &[&input]).is_err());
        }
        // The output's index would replace the input's.
        let bai = dir.path().join("in.bam.bai");
        assert!(refuse_inputs(&[&bai], &[&input]).is_err());
    }
}
