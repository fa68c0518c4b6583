//! Crash-safe writes (native only). A file is written under a temporary name and renamed into
//! place; a folder of files (a bundle, a checkpoint) is written whole into a staging folder
//! that is then swapped with the old one in one step. A process killed at any moment leaves
//! either the old files or the new ones, never a mixture.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    let result = write_synced(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The staging folder next to `dir`; a leftover one is what a killed write left behind.
pub fn staging_dir(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".writing");
    dir.with_file_name(name)
}

/// Replaces the folder `dir` with one holding `files`, atomically. With `keep_others`, files
/// already in `dir` that are not among `files` are kept (hard-linked, or copied, across).
pub fn replace_dir(dir: &Path, files: &[(&str, &[u8])], keep_others: bool) -> Result<(), String> {
    let staging = staging_dir(dir);
    let fail = |what: &str, path: &Path, e: std::io::Error| {
        format!("cannot {what} {}: {e}", path.display())
    };
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| fail("remove", &staging, e))?;
    }
    std::fs::create_dir_all(&staging).map_err(|e| fail("create", &staging, e))?;
    let result = (|| {
        for (name, bytes) in files {
            let path = staging.join(name);
            write_synced(&path, bytes).map_err(|e| fail("write", &path, e))?;
        }
        if keep_others && dir.is_dir() {
            let entries = std::fs::read_dir(dir).map_err(|e| fail("read", dir, e))?;
            for entry in entries.flatten() {
                let name = entry.file_name();
                let target = staging.join(&name);
                let is_file = entry.file_type().is_ok_and(|t| t.is_file());
                if !is_file || target.exists() || name.to_string_lossy().ends_with(".tmp") {
                    continue;
                }
                std::fs::hard_link(entry.path(), &target)
                    .or_else(|_| std::fs::copy(entry.path(), &target).map(|_| ()))
                    .map_err(|e| fail("keep", &entry.path(), e))?;
            }
        }
        sync_dir(&staging);
        swap_into_place(&staging, dir).map_err(|e| fail("replace", dir, e))?;
        if let Some(parent) = dir.parent() {
            sync_dir(parent);
        }
        Ok(())
    })();
    // After a swap the staging name holds the old folder; after a failure, the partial new one.
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// Makes a rename durable; best effort (not every filesystem can sync a folder).
fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// Puts `staging` at `dir`: one atomic exchange on Linux when `dir` exists.
fn swap_into_place(staging: &Path, dir: &Path) -> std::io::Result<()> {
    if !dir.exists() {
        return std::fs::rename(staging, dir);
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| {
            std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other)
        };
        let (from, to) = (c(staging)?, c(dir)?);
        // SAFETY: both are valid NUL-terminated paths; renameat2 only reads them.
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                from.as_ptr(),
                libc::AT_FDCWD,
                to.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        // Filesystems without the exchange fall through to the two-step swap below.
        if err.raw_os_error() != Some(libc::EINVAL) {
            return Err(err);
        }
    }
    // Elsewhere: a short window where `dir` is at `<dir>.old`; read_bundle's message names it.
    let mut old_name = dir.file_name().unwrap_or_default().to_os_string();
    old_name.push(".old");
    let old = dir.with_file_name(old_name);
    let _ = std::fs::remove_dir_all(&old);
    std::fs::rename(dir, &old)?;
    std::fs::rename(staging, dir)?;
    // Leave the old folder at the staging name so the caller removes it.
    std::fs::rename(&old, staging)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(dir: &Path, name: &str) -> String {
        std::fs::read_to_string(dir.join(name)).unwrap()
    }

    #[test]
    fn replace_dir_swaps_whole_folders_and_keeps_other_files() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("bundle");
        replace_dir(&dir, &[("a", b"old a"), ("b", b"old b")], true).unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        replace_dir(&dir, &[("a", b"new a"), ("b", b"new b")], true).unwrap();
        assert_eq!(
            (read(&dir, "a"), read(&dir, "b")),
            ("new a".into(), "new b".into())
        );
        assert_eq!(read(&dir, "notes.txt"), "mine");
        assert!(!staging_dir(&dir).exists(), "the staging folder is removed");
        replace_dir(&dir, &[("a", b"only a")], false).unwrap();
        assert!(!dir.join("notes.txt").exists() && !dir.join("b").exists());
    }

    #[test]
    fn a_write_killed_half_way_leaves_the_old_folder_and_is_cleaned_up_next_time() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("bundle");
        replace_dir(&dir, &[("a", b"old a"), ("b", b"old b")], false).unwrap();
        // What a kill after the first file of a new write leaves: a partial staging folder.
        let staging = staging_dir(&dir);
        std::fs::create_dir_all(&staging).unwrap();
        std::fs::write(staging.join("a"), "new a, half").unwrap();
        assert_eq!(
            (read(&dir, "a"), read(&dir, "b")),
            ("old a".into(), "old b".into())
        );
        replace_dir(&dir, &[("a", b"new a"), ("b", b"new b")], false).unwrap();
        assert_eq!(
            (read(&dir, "a"), read(&dir, "b")),
            ("new a".into(), "new b".into())
        );
        assert!(!staging.exists());
    }

    #[test]
    fn a_failed_write_reports_the_path_and_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("file");
        std::fs::write(&file, "x").unwrap();
        // A folder under a regular file cannot be created.
        let err = replace_dir(&file.join("bundle"), &[("a", b"a")], false).unwrap_err();
        assert!(
            err.contains("cannot create") && err.contains("file"),
            "{err}"
        );
        let err = write_atomic(&root.path().join("missing/dir/x"), b"x").unwrap_err();
        assert!(err.contains("cannot write"), "{err}");
    }
}
