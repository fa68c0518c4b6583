//! A dataset from files: an explicit pair, or a split in a directory by its standard names.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{DataError, IdxDataset, IdxKind, Split, parse_pair};

fn read(path: &Path) -> Result<Vec<u8>, DataError> {
    fs::read(path).map_err(|source| DataError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Load an explicit pair of files. `expect` is the required `(rows, cols)`, or `None`.
///
/// # Errors
/// [`DataError::Io`] if a file cannot be read; otherwise as [`parse_pair`].
pub fn load_pair(
    images: &Path,
    labels: &Path,
    expect: Option<(usize, usize)>,
) -> Result<IdxDataset, DataError> {
    let image_bytes = read(images)?;
    let label_bytes = read(labels)?;
    parse_pair(
        &image_bytes,
        &images.display().to_string(),
        &label_bytes,
        &labels.display().to_string(),
        expect,
    )
}

/// Reads the first of the split's standard names that exists; returns its path and bytes.
fn read_first(dir: &Path, split: Split, kind: IdxKind) -> Result<(PathBuf, Vec<u8>), DataError> {
    let names = split.file_names(kind);
    for name in &names {
        let path = dir.join(name);
        match fs::read(&path) {
            Ok(bytes) => return Ok((path, bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(DataError::Io { path, source }),
        }
    }
    let gzipped = names
        .iter()
        .map(|n| format!("{n}.gz"))
        .find(|gz| dir.join(gz).is_file());
    Err(DataError::Missing {
        dir: dir.to_owned(),
        split,
        kind,
        tried: names.to_vec(),
        gzipped,
    })
}

/// Load a split from a directory holding the standard file names:
/// `train-images-idx3-ubyte` / `train-labels-idx1-ubyte` and
/// `t10k-images-idx3-ubyte` / `t10k-labels-idx1-ubyte`, or the same with a dot before
/// `idx` (`train-images.idx3-ubyte`), as some distributions name them.
/// Files must be uncompressed. `expect` is the required `(rows, cols)`, or `None`.
///
/// # Errors
/// [`DataError::Missing`] (listing the names tried, and any `.gz` found) if no file
/// name matches, [`DataError::Io`] if a file cannot be read, otherwise as [`parse_pair`].
pub fn load_split(
    dir: &Path,
    split: Split,
    expect: Option<(usize, usize)>,
) -> Result<IdxDataset, DataError> {
    let (images_path, image_bytes) = read_first(dir, split, IdxKind::Images)?;
    let (labels_path, label_bytes) = read_first(dir, split, IdxKind::Labels)?;
    parse_pair(
        &image_bytes,
        &images_path.display().to_string(),
        &label_bytes,
        &labels_path.display().to_string(),
        expect,
    )
}
