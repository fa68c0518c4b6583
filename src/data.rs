//! Reader (and small writer) for the IDX file format used by MNIST, Fashion-MNIST and
//! similar grey-level image datasets. Only `std` is used.
//!
//! IDX is big-endian: two zero bytes, a type byte (only `0x08`, unsigned byte, is
//! supported), a byte with the number of dimensions (3 for images: count, rows, cols;
//! 1 for labels: count), the dimension sizes as `u32`, then the data.
//!
//! API choices:
//! - [`load_split`], [`load_pair`] and [`parse_pair`] take `expect: Option<(usize, usize)>`,
//!   the image size `(rows, cols)` the caller needs (e.g. `Some((28, 28))`); `None` accepts
//!   any size.
//! - [`parse_pair`] builds a dataset from bytes already in memory (e.g. fetched in a
//!   browser, where there is no file system); the file functions call it.
//! - [`parse_images`] / [`parse_labels`] validate one file each. The header is checked
//!   against the real byte length (with checked arithmetic) before anything is
//!   allocated, so a corrupt header cannot trigger a huge allocation.
//! - Gzip-compressed files are detected and reported, not decompressed.
//! - Every [`DataError`] message names the file and the problem.

use std::error::Error;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The IDX type code for unsigned bytes, the only one supported.
const TYPE_U8: u8 = 0x08;

/// Grey-level images with their class labels, as read from an IDX pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxDataset {
    /// `count * rows * cols` pixels, image after image, row-major.
    pub images: Vec<u8>,
    /// One label per image.
    pub labels: Vec<u8>,
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
}

impl IdxDataset {
    /// The `rows * cols` pixels of image `i`.
    ///
    /// # Panics
    /// If `i >= self.count`.
    pub fn image(&self, i: usize) -> &[u8] {
        assert!(
            i < self.count,
            "image index {i} out of range ({} images)",
            self.count
        );
        let n = self.pixels();
        &self.images[i * n..(i + 1) * n]
    }

    /// The label of image `i`.
    ///
    /// # Panics
    /// If `i >= self.count`.
    pub fn label(&self, i: usize) -> u8 {
        assert!(
            i < self.count,
            "label index {i} out of range ({} images)",
            self.count
        );
        self.labels[i]
    }

    /// Pixels per image: `rows * cols`.
    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// Images scaled to [0,1] as f32, `indices` picks which (batch assembly for training).
    /// The result holds `indices.len() * self.pixels()` values, image after image, in the
    /// order of `indices`.
    ///
    /// # Panics
    /// If an index is `>= self.count`.
    pub fn batch_f32(&self, indices: &[usize]) -> Vec<f32> {
        let mut out = Vec::with_capacity(indices.len() * self.pixels());
        for &i in indices {
            out.extend(self.image(i).iter().map(|&p| f32::from(p) / 255.0));
        }
        out
    }
}

/// Where a dataset directory keeps its files: `train-*` for [`Split::Train`],
/// `t10k-*` for [`Split::Test`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

impl Split {
    /// The file-name prefix of this split (`"train"` or `"t10k"`).
    pub fn prefix(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "t10k",
        }
    }

    /// The file names tried for this split's images or labels, in order.
    pub fn file_names(self, kind: IdxKind) -> [String; 2] {
        let p = self.prefix();
        let (what, ext) = match kind {
            IdxKind::Images => ("images", "idx3-ubyte"),
            IdxKind::Labels => ("labels", "idx1-ubyte"),
        };
        [format!("{p}-{what}-{ext}"), format!("{p}-{what}.{ext}")]
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Split::Train => "training",
            Split::Test => "test",
        })
    }
}

/// Which of the two IDX files of a pair a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdxKind {
    /// 3 dimensions: count, rows, cols. Magic `0x00000803`.
    Images,
    /// 1 dimension: count. Magic `0x00000801`.
    Labels,
}

impl IdxKind {
    /// Number of dimensions in the header.
    pub fn dims(self) -> u8 {
        match self {
            IdxKind::Images => 3,
            IdxKind::Labels => 1,
        }
    }

    /// The full magic number, as a big-endian `u32`.
    pub fn magic(self) -> u32 {
        0x0000_0800 | u32::from(self.dims())
    }

    /// Header length in bytes (magic plus one `u32` per dimension).
    pub fn header_len(self) -> usize {
        4 + 4 * usize::from(self.dims())
    }

    fn noun(self) -> &'static str {
        match self {
            IdxKind::Images => "images",
            IdxKind::Labels => "labels",
        }
    }
}

impl fmt::Display for IdxKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noun())
    }
}

/// What an IDX header says a file holds (the raw header numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contents {
    Images { count: u32, rows: u32, cols: u32 },
    Labels { count: u32 },
}

impl Contents {
    fn data_noun(self) -> &'static str {
        match self {
            Contents::Images { .. } => "pixels",
            Contents::Labels { .. } => "labels",
        }
    }
}

impl fmt::Display for Contents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Contents::Images { count, rows, cols } => {
                write!(f, "{count} images of {rows}×{cols}")
            }
            Contents::Labels { count } => write!(f, "{count} labels"),
        }
    }
}

/// Why a dataset could not be loaded. Every message names the file (or directory).
#[derive(Debug)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be read.
    Io { path: PathBuf, source: io::Error },
    /// None of the standard file names exist in the directory.
    Missing {
        dir: PathBuf,
        split: Split,
        kind: IdxKind,
        tried: Vec<String>,
        /// A `.gz` version of one of the names that does exist.
        gzipped: Option<String>,
    },
    /// The file does not start with the IDX magic for its kind (maybe gzip).
    BadMagic {
        file: String,
        found: [u8; 4],
        expected: IdxKind,
    },
    /// An IDX file, but not of unsigned bytes.
    UnsupportedType { file: String, code: u8 },
    /// The wrong number of dimensions (e.g. a labels file given as images).
    WrongDimensions {
        file: String,
        found: u8,
        expected: IdxKind,
    },
    /// The file ends inside its header.
    TruncatedHeader {
        file: String,
        len: usize,
        kind: IdxKind,
    },
    /// The header's sizes multiply beyond what this machine can address.
    TooLarge { file: String, contents: Contents },
    /// The file has fewer data bytes than its header says.
    Truncated {
        file: String,
        contents: Contents,
        expected: usize,
        actual: usize,
    },
    /// The file has more data bytes than its header says.
    TrailingBytes {
        file: String,
        contents: Contents,
        expected: usize,
        actual: usize,
    },
    /// The header says there are zero images (or labels).
    Empty { file: String, kind: IdxKind },
    /// The header says images have zero rows or columns.
    ZeroImageSize { file: String, rows: u32, cols: u32 },
    /// Images and labels files hold different numbers of items.
    CountMismatch {
        images_file: String,
        images: usize,
        labels_file: String,
        labels: usize,
    },
    /// The images are not the size the caller expected.
    WrongImageSize {
        file: String,
        found: (usize, usize),
        expected: (usize, usize),
    },
}

impl DataError {
    /// Whether the file looked gzip-compressed (magic bytes `1f 8b`).
    pub fn is_gzip(&self) -> bool {
        match self {
            DataError::BadMagic { found, .. } => found[..2] == [0x1f, 0x8b],
            DataError::Missing { gzipped, .. } => gzipped.is_some(),
            _ => false,
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Io { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            DataError::Missing {
                dir,
                split,
                kind,
                tried,
                gzipped,
            } => {
                write!(
                    f,
                    "no {split} {kind} file in {}: tried {}",
                    dir.display(),
                    tried.join(", ")
                )?;
                if let Some(gz) = gzipped {
                    write!(
                        f,
                        " (found {gz}, which is gzip-compressed — unpack it with gunzip)"
                    )?;
                }
                Ok(())
            }
            DataError::BadMagic {
                file,
                found,
                expected,
            } => {
                write!(
                    f,
                    "{file}: not an IDX file (magic bytes 0x{:02x}{:02x}{:02x}{:02x}; \
                     expected 0x{:08x} for {expected})",
                    found[0],
                    found[1],
                    found[2],
                    found[3],
                    expected.magic()
                )?;
                if self.is_gzip() {
                    write!(f, " — is it still gzip-compressed? Unpack it with gunzip.")?;
                }
                Ok(())
            }
            DataError::UnsupportedType { file, code } => write!(
                f,
                "{file}: unsupported data type 0x{code:02X} ({}); \
                 only unsigned bytes (0x08) are supported",
                type_name(*code)
            ),
            DataError::WrongDimensions {
                file,
                found,
                expected,
            } => {
                let plural = if *found == 1 { "" } else { "s" };
                write!(
                    f,
                    "{file}: header has {found} dimension{plural} but an IDX {expected} \
                     file has {}",
                    expected.dims()
                )?;
                match (expected, found) {
                    (IdxKind::Images, 1) => write!(f, " — is this a labels file?"),
                    (IdxKind::Labels, 3) => write!(f, " — is this an images file?"),
                    _ => Ok(()),
                }
            }
            DataError::TruncatedHeader { file, len, kind } => write!(
                f,
                "{file}: truncated: the file is only {} bytes long, shorter than \
                 the {}-byte IDX {kind} header",
                group(*len),
                kind.header_len()
            ),
            DataError::TooLarge { file, contents } => write!(
                f,
                "{file}: header says {contents}, more data than this machine can \
                 address — the file is corrupt or not an IDX file"
            ),
            DataError::Truncated {
                file,
                contents,
                expected,
                actual,
            } => write!(
                f,
                "{file}: truncated: header says {contents} ({} bytes of {}) but the \
                 file has only {} bytes after the header",
                group(*expected),
                contents.data_noun(),
                group(*actual)
            ),
            DataError::TrailingBytes {
                file,
                contents,
                expected,
                actual,
            } => {
                let extra = actual.saturating_sub(*expected);
                let plural = if extra == 1 { "" } else { "s" };
                write!(
                    f,
                    "{file}: {} extra byte{plural} at the end: header says {contents} \
                     ({} bytes of {}) but the file has {} bytes after the header — \
                     wrong header or a corrupted file?",
                    group(extra),
                    group(*expected),
                    contents.data_noun(),
                    group(*actual)
                )
            }
            DataError::Empty { file, kind } => {
                write!(f, "{file}: header says 0 {kind}; the file holds no data")
            }
            DataError::ZeroImageSize { file, rows, cols } => write!(
                f,
                "{file}: header says images of {rows}×{cols} pixels; rows and \
                 columns must both be at least 1"
            ),
            DataError::CountMismatch {
                images_file,
                images,
                labels_file,
                labels,
            } => write!(
                f,
                "{images_file} holds {images} images but {labels_file} holds \
                 {labels} labels; the two files do not belong together"
            ),
            DataError::WrongImageSize {
                file,
                found,
                expected,
            } => write!(
                f,
                "{file}: images are {}×{} pixels but {}×{} were expected",
                found.0, found.1, expected.0, expected.1
            ),
        }
    }
}

impl Error for DataError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            DataError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Name of an IDX data-type code, for messages.
fn type_name(code: u8) -> &'static str {
    match code {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "short",
        0x0C => "int",
        0x0D => "float",
        0x0E => "double",
        _ => "unknown type",
    }
}

/// `1234567` → `"1,234,567"`.
fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Checks magic, type and dimension count; returns the dimension sizes and the data.
fn parse_header<'a>(
    bytes: &'a [u8],
    file: &str,
    kind: IdxKind,
) -> Result<(Vec<u32>, &'a [u8]), DataError> {
    let truncated = || DataError::TruncatedHeader {
        file: file.to_owned(),
        len: bytes.len(),
        kind,
    };
    let Some(&[z0, z1, code, dims]) = bytes.get(..4) else {
        // Too short even for the magic; still recognise the start of a gzip stream.
        if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut found = [0; 4];
            found[..bytes.len()].copy_from_slice(bytes);
            return Err(DataError::BadMagic {
                file: file.to_owned(),
                found,
                expected: kind,
            });
        }
        return Err(truncated());
    };
    if z0 != 0 || z1 != 0 {
        return Err(DataError::BadMagic {
            file: file.to_owned(),
            found: [z0, z1, code, dims],
            expected: kind,
        });
    }
    if code != TYPE_U8 {
        return Err(DataError::UnsupportedType {
            file: file.to_owned(),
            code,
        });
    }
    if dims != kind.dims() {
        return Err(DataError::WrongDimensions {
            file: file.to_owned(),
            found: dims,
            expected: kind,
        });
    }
    let header_len = kind.header_len();
    let Some(header) = bytes.get(4..header_len) else {
        return Err(truncated());
    };
    let sizes = header
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok((sizes, &bytes[header_len..]))
}

/// Checks that `data` holds exactly `contents`' product of sizes; returns that length.
fn check_len(
    data: &[u8],
    file: &str,
    contents: Contents,
    sizes: &[u32],
) -> Result<usize, DataError> {
    let expected = sizes.iter().try_fold(1usize, |acc, &s| {
        usize::try_from(s).ok().and_then(|s| acc.checked_mul(s))
    });
    let Some(expected) = expected else {
        return Err(DataError::TooLarge {
            file: file.to_owned(),
            contents,
        });
    };
    let actual = data.len();
    if actual < expected {
        return Err(DataError::Truncated {
            file: file.to_owned(),
            contents,
            expected,
            actual,
        });
    }
    if actual > expected {
        return Err(DataError::TrailingBytes {
            file: file.to_owned(),
            contents,
            expected,
            actual,
        });
    }
    Ok(expected)
}

/// Parse an IDX images file (type `0x08`, 3 dimensions) from bytes.
/// Returns `(count, rows, cols, pixels)`; `file` names the source in error messages.
///
/// # Errors
/// If the bytes are not a valid, non-empty IDX images file of unsigned bytes whose
/// length matches its header exactly.
pub fn parse_images(bytes: &[u8], file: &str) -> Result<(usize, usize, usize, Vec<u8>), DataError> {
    let (sizes, data) = parse_header(bytes, file, IdxKind::Images)?;
    let &[count, rows, cols] = sizes.as_slice() else {
        unreachable!("parse_header returns one size per dimension");
    };
    if count == 0 {
        return Err(DataError::Empty {
            file: file.to_owned(),
            kind: IdxKind::Images,
        });
    }
    if rows == 0 || cols == 0 {
        return Err(DataError::ZeroImageSize {
            file: file.to_owned(),
            rows,
            cols,
        });
    }
    let contents = Contents::Images { count, rows, cols };
    check_len(data, file, contents, &sizes)?;
    // The length check proved count * rows * cols == data.len() fits in usize,
    // so each factor does too.
    let usz = |v: u32| usize::try_from(v).unwrap_or(usize::MAX);
    Ok((usz(count), usz(rows), usz(cols), data.to_vec()))
}

/// Parse an IDX labels file (type `0x08`, 1 dimension) from bytes.
/// `file` names the source in error messages.
///
/// # Errors
/// If the bytes are not a valid, non-empty IDX labels file of unsigned bytes whose
/// length matches its header exactly.
pub fn parse_labels(bytes: &[u8], file: &str) -> Result<Vec<u8>, DataError> {
    let (sizes, data) = parse_header(bytes, file, IdxKind::Labels)?;
    let &[count] = sizes.as_slice() else {
        unreachable!("parse_header returns one size per dimension");
    };
    if count == 0 {
        return Err(DataError::Empty {
            file: file.to_owned(),
            kind: IdxKind::Labels,
        });
    }
    check_len(data, file, Contents::Labels { count }, &sizes)?;
    Ok(data.to_vec())
}

/// Build a dataset from the bytes of an images file and a labels file.
/// `expect` is the required `(rows, cols)`, or `None` for any size.
///
/// # Errors
/// As [`parse_images`] and [`parse_labels`]; also if the images are not `expect`ed size
/// or the two files hold different numbers of items.
pub fn parse_pair(
    images: &[u8],
    images_file: &str,
    labels: &[u8],
    labels_file: &str,
    expect: Option<(usize, usize)>,
) -> Result<IdxDataset, DataError> {
    let (count, rows, cols, pixels) = parse_images(images, images_file)?;
    if let Some(expected) = expect
        && expected != (rows, cols)
    {
        return Err(DataError::WrongImageSize {
            file: images_file.to_owned(),
            found: (rows, cols),
            expected,
        });
    }
    let labels = parse_labels(labels, labels_file)?;
    if labels.len() != count {
        return Err(DataError::CountMismatch {
            images_file: images_file.to_owned(),
            images: count,
            labels_file: labels_file.to_owned(),
            labels: labels.len(),
        });
    }
    Ok(IdxDataset {
        images: pixels,
        labels,
        count,
        rows,
        cols,
    })
}

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

fn header(kind: IdxKind, sizes: &[usize]) -> Vec<u8> {
    let mut out = vec![0, 0, TYPE_U8, kind.dims()];
    for &s in sizes {
        let s = u32::try_from(s).expect("IDX dimension sizes must fit in a u32");
        out.extend_from_slice(&s.to_be_bytes());
    }
    out
}

/// Encode an IDX images file: `(count, rows, cols)` and `count * rows * cols` pixels.
///
/// # Panics
/// If `pixels.len()` is not `count * rows * cols`, or a size does not fit in a `u32`.
pub fn encode_images(count_rows_cols: (usize, usize, usize), pixels: &[u8]) -> Vec<u8> {
    let (count, rows, cols) = count_rows_cols;
    let expected = count
        .checked_mul(rows)
        .and_then(|n| n.checked_mul(cols))
        .expect("count * rows * cols overflows usize");
    assert_eq!(
        pixels.len(),
        expected,
        "encode_images: {count} images of {rows}×{cols} need {expected} pixels"
    );
    let mut out = header(IdxKind::Images, &[count, rows, cols]);
    out.extend_from_slice(pixels);
    out
}

/// Encode an IDX labels file.
///
/// # Panics
/// If there are more than `u32::MAX` labels.
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = header(IdxKind::Labels, &[labels.len()]);
    out.extend_from_slice(labels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A unique temporary directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            static N: AtomicUsize = AtomicUsize::new(0);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let dir = std::env::temp_dir().join(format!(
                "vae-explorer-data-{tag}-{}-{nanos}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            fs::create_dir_all(&dir).expect("create temp dir");
            TempDir(dir)
        }

        fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
            let path = self.0.join(name);
            fs::write(&path, bytes).expect("write temp file");
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// 3 images of 2×2 with distinct pixels, labels 7, 8, 9.
    fn tiny() -> (Vec<u8>, Vec<u8>) {
        let pixels: Vec<u8> = vec![0, 255, 1, 2, 10, 20, 30, 40, 100, 110, 120, 130];
        (encode_images((3, 2, 2), &pixels), encode_labels(&[7, 8, 9]))
    }

    fn err_msg<T: fmt::Debug>(r: Result<T, DataError>) -> String {
        r.expect_err("expected an error").to_string()
    }

    fn assert_mentions(msg: &str, parts: &[&str]) {
        for p in parts {
            assert!(msg.contains(p), "message {msg:?} should mention {p:?}");
        }
    }

    #[test]
    fn group_inserts_thousands_separators() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1234), "1,234");
        assert_eq!(group(47_040_000), "47,040,000");
        assert_eq!(group(123_456_789), "123,456,789");
    }

    #[test]
    fn images_round_trip() {
        let pixels: Vec<u8> = (0..2 * 3 * 4).map(|i| i as u8 * 10).collect();
        let bytes = encode_images((2, 3, 4), &pixels);
        assert_eq!(&bytes[..4], &[0, 0, 0x08, 3]);
        assert_eq!(&bytes[4..16], &[0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
        assert_eq!(bytes.len(), 16 + 24);
        let (count, rows, cols, back) = parse_images(&bytes, "x").expect("parse");
        assert_eq!((count, rows, cols), (2, 3, 4));
        assert_eq!(back, pixels);
    }

    #[test]
    fn labels_round_trip() {
        let labels = [0u8, 9, 3, 255, 42];
        let bytes = encode_labels(&labels);
        assert_eq!(&bytes[..8], &[0, 0, 0x08, 1, 0, 0, 0, 5]);
        assert_eq!(parse_labels(&bytes, "x").expect("parse"), labels);
    }

    #[test]
    fn big_endian_sizes_are_read() {
        // 1 image of 1×300 pixels: 300 = 0x012C needs both bytes in the right order.
        let pixels = vec![5u8; 300];
        let bytes = encode_images((1, 1, 300), &pixels);
        assert_eq!(&bytes[12..16], &[0, 0, 0x01, 0x2C]);
        let (_, rows, cols, _) = parse_images(&bytes, "x").expect("parse");
        assert_eq!((rows, cols), (1, 300));
    }

    #[test]
    fn gzip_magic_is_reported() {
        let mut bytes = vec![0x1f, 0x8b, 0x08, 0x08, 0xde, 0xad, 0xbe, 0xef];
        bytes.extend_from_slice(&[0; 40]);
        let err = parse_images(&bytes, "data/train-images-idx3-ubyte").expect_err("gzip");
        assert!(err.is_gzip());
        assert_eq!(
            err.to_string(),
            "data/train-images-idx3-ubyte: not an IDX file (magic bytes 0x1f8b0808; \
             expected 0x00000803 for images) — is it still gzip-compressed? \
             Unpack it with gunzip."
        );
        let msg = err_msg(parse_labels(&bytes, "lab.gz"));
        assert_mentions(&msg, &["lab.gz", "0x00000801 for labels", "gunzip"]);
        // Even a gzip stub shorter than the magic is recognised.
        let msg = err_msg(parse_labels(&[0x1f, 0x8b], "stub"));
        assert_mentions(&msg, &["stub", "0x1f8b0000", "gunzip"]);
    }

    #[test]
    fn other_bad_magic_has_no_gzip_hint() {
        let bytes = b"P5\n28 28\n255\n................".to_vec();
        let err = parse_images(&bytes, "img.pgm").expect_err("bad magic");
        assert!(!err.is_gzip());
        let msg = err.to_string();
        assert_mentions(&msg, &["img.pgm", "not an IDX file", "0x50350a32"]);
        assert!(!msg.contains("gzip"), "{msg}");
    }

    #[test]
    fn unsupported_type_is_named() {
        let mut bytes = encode_images((1, 1, 1), &[0]);
        bytes[2] = 0x0D;
        assert_eq!(
            err_msg(parse_images(&bytes, "f.idx")),
            "f.idx: unsupported data type 0x0D (float); only unsigned bytes (0x08) \
             are supported"
        );
        bytes[2] = 0x42;
        let msg = err_msg(parse_images(&bytes, "f.idx"));
        assert_mentions(&msg, &["f.idx", "0x42", "unknown type"]);
    }

    #[test]
    fn labels_given_as_images_and_back() {
        let (images, labels) = tiny();
        let msg = err_msg(parse_images(&labels, "train-labels-idx1-ubyte"));
        assert_mentions(
            &msg,
            &[
                "train-labels-idx1-ubyte",
                "1 dimension but",
                "has 3",
                "labels file?",
            ],
        );
        let msg = err_msg(parse_labels(&images, "train-images-idx3-ubyte"));
        assert_mentions(
            &msg,
            &["train-images-idx3-ubyte", "3 dimensions", "images file?"],
        );
        // Some other dimension count gets no guess.
        let mut odd = images.clone();
        odd[3] = 2;
        let msg = err_msg(parse_images(&odd, "odd"));
        assert_mentions(&msg, &["odd", "2 dimensions"]);
        assert!(!msg.contains('?'), "{msg}");
    }

    #[test]
    fn truncated_header() {
        let msg = err_msg(parse_images(&[], "empty"));
        assert_mentions(&msg, &["empty", "truncated", "only 0 bytes", "16-byte"]);
        let msg = err_msg(parse_images(&[0, 0, 8, 3, 0, 0, 0, 1, 0, 0], "short"));
        assert_mentions(&msg, &["short", "only 10 bytes", "16-byte IDX images"]);
        let msg = err_msg(parse_labels(&[0, 0, 8, 1, 0], "lab"));
        assert_mentions(&msg, &["lab", "only 5 bytes", "8-byte IDX labels"]);
    }

    #[test]
    fn truncated_images_give_sizes_in_words() {
        let mut bytes = header(IdxKind::Images, &[60000, 28, 28]);
        bytes.extend_from_slice(&[0; 1234]);
        assert_eq!(
            err_msg(parse_images(&bytes, "data/train-images-idx3-ubyte")),
            "data/train-images-idx3-ubyte: truncated: header says 60000 images of \
             28×28 (47,040,000 bytes of pixels) but the file has only 1,234 bytes \
             after the header"
        );
    }

    #[test]
    fn truncated_labels() {
        let mut bytes = encode_labels(&[1; 10]);
        bytes.truncate(bytes.len() - 3);
        let msg = err_msg(parse_labels(&bytes, "l.idx"));
        assert_mentions(
            &msg,
            &[
                "l.idx",
                "truncated",
                "10 labels",
                "10 bytes of labels",
                "only 7",
            ],
        );
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let (mut images, mut labels) = tiny();
        images.extend_from_slice(&[0; 5]);
        let msg = err_msg(parse_images(&images, "img"));
        assert_mentions(
            &msg,
            &[
                "img",
                "5 extra bytes",
                "3 images of 2×2",
                "12 bytes",
                "17 bytes",
            ],
        );
        labels.push(1);
        let msg = err_msg(parse_labels(&labels, "lab"));
        assert_mentions(&msg, &["lab", "1 extra byte at the end", "3 labels"]);
    }

    #[test]
    fn four_billion_images_fail_fast_without_allocating() {
        // 16 bytes: a header only, claiming u32::MAX images of 28×28.
        let bytes = header(IdxKind::Images, &[u32::MAX as usize, 28, 28]);
        assert_eq!(bytes.len(), 16);
        let msg = err_msg(parse_images(&bytes, "huge"));
        assert_mentions(&msg, &["huge", "4294967295 images of 28×28"]);
        // Either truncated (64-bit) or too large (32-bit); never an allocation.
        assert!(
            msg.contains("truncated") || msg.contains("more data than"),
            "{msg}"
        );
        // Every size at the maximum overflows even a 64-bit usize.
        let bytes = header(IdxKind::Images, &[u32::MAX as usize; 3]);
        let err = parse_images(&bytes, "huge").expect_err("too large");
        assert!(matches!(err, DataError::TooLarge { .. }), "{err:?}");
        assert_mentions(&err.to_string(), &["huge", "more data than this machine"]);
        // Labels too.
        let bytes = header(IdxKind::Labels, &[u32::MAX as usize]);
        let msg = err_msg(parse_labels(&bytes, "lab"));
        assert_mentions(&msg, &["lab", "4294967295 labels", "truncated"]);
    }

    #[test]
    fn zero_images_labels_rows_cols() {
        let msg = err_msg(parse_images(&encode_images((0, 28, 28), &[]), "z"));
        assert_mentions(&msg, &["z:", "0 images"]);
        let msg = err_msg(parse_labels(&encode_labels(&[]), "zl"));
        assert_mentions(&msg, &["zl:", "0 labels"]);
        let msg = err_msg(parse_images(&encode_images((5, 0, 28), &[]), "r"));
        assert_mentions(&msg, &["r:", "0×28", "at least 1"]);
        let msg = err_msg(parse_images(&encode_images((5, 28, 0), &[]), "c"));
        assert_mentions(&msg, &["c:", "28×0", "at least 1"]);
    }

    #[test]
    fn count_mismatch_names_both_files() {
        let (images, _) = tiny();
        let labels = encode_labels(&[1, 2]);
        let err = parse_pair(&images, "a-images", &labels, "b-labels", None).expect_err("mismatch");
        assert!(matches!(
            err,
            DataError::CountMismatch {
                images: 3,
                labels: 2,
                ..
            }
        ));
        assert_mentions(
            &err.to_string(),
            &["a-images holds 3 images", "b-labels holds 2 labels"],
        );
    }

    #[test]
    fn wrong_image_size_names_both_sizes() {
        let images = encode_images((1, 32, 32), &[0; 32 * 32]);
        let labels = encode_labels(&[0]);
        let msg = err_msg(parse_pair(&images, "cifar", &labels, "l", Some((28, 28))));
        assert_mentions(&msg, &["cifar", "32×32", "28×28 were expected"]);
        // Matching or absent expectations pass.
        assert!(parse_pair(&images, "i", &labels, "l", Some((32, 32))).is_ok());
        assert!(parse_pair(&images, "i", &labels, "l", None).is_ok());
    }

    #[test]
    fn dataset_accessors() {
        let (images, labels) = tiny();
        let ds = parse_pair(&images, "i", &labels, "l", Some((2, 2))).expect("parse");
        assert_eq!((ds.count, ds.rows, ds.cols, ds.pixels()), (3, 2, 2, 4));
        assert_eq!(ds.image(0), &[0, 255, 1, 2]);
        assert_eq!(ds.image(2), &[100, 110, 120, 130]);
        assert_eq!(ds.label(1), 8);
        assert_eq!(ds.labels, vec![7, 8, 9]);
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn image_index_out_of_range_panics() {
        let (images, labels) = tiny();
        let ds = parse_pair(&images, "i", &labels, "l", None).expect("parse");
        let _ = ds.image(3);
    }

    #[test]
    fn batch_f32_scales_and_keeps_order() {
        let (images, labels) = tiny();
        let ds = parse_pair(&images, "i", &labels, "l", None).expect("parse");
        let batch = ds.batch_f32(&[2, 0, 0]);
        assert_eq!(batch.len(), 3 * 4);
        let expected: Vec<f32> = [100u8, 110, 120, 130, 0, 255, 1, 2, 0, 255, 1, 2]
            .iter()
            .map(|&p| f32::from(p) / 255.0)
            .collect();
        assert_eq!(batch, expected);
        assert_eq!(batch[4], 0.0);
        assert_eq!(batch[5], 1.0);
        assert!(batch.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(ds.batch_f32(&[]).is_empty());
    }

    #[test]
    fn load_split_standard_names() {
        let dir = TempDir::new("std");
        let (images, labels) = tiny();
        dir.write("train-images-idx3-ubyte", &images);
        dir.write("train-labels-idx1-ubyte", &labels);
        let test_images = encode_images((1, 2, 2), &[1, 2, 3, 4]);
        dir.write("t10k-images-idx3-ubyte", &test_images);
        dir.write("t10k-labels-idx1-ubyte", &encode_labels(&[5]));

        let train = load_split(&dir.0, Split::Train, Some((2, 2))).expect("train");
        assert_eq!(train.count, 3);
        assert_eq!(train.labels, vec![7, 8, 9]);
        let test = load_split(&dir.0, Split::Test, None).expect("test");
        assert_eq!(test.count, 1);
        assert_eq!(test.image(0), &[1, 2, 3, 4]);
        assert_eq!(test.labels, vec![5]);
    }

    #[test]
    fn load_split_dotted_names() {
        let dir = TempDir::new("dot");
        let (images, labels) = tiny();
        dir.write("train-images.idx3-ubyte", &images);
        dir.write("train-labels.idx1-ubyte", &labels);
        dir.write("t10k-images.idx3-ubyte", &images);
        dir.write("t10k-labels.idx1-ubyte", &labels);
        let train = load_split(&dir.0, Split::Train, None).expect("train");
        assert_eq!(train.image(1), &[10, 20, 30, 40]);
        let test = load_split(&dir.0, Split::Test, None).expect("test");
        assert_eq!(test.labels, vec![7, 8, 9]);
    }

    #[test]
    fn load_split_missing_lists_names_and_dir() {
        let dir = TempDir::new("missing");
        let err = load_split(&dir.0, Split::Test, None).expect_err("missing");
        let msg = err.to_string();
        assert_mentions(
            &msg,
            &[
                "no test images file",
                &dir.0.display().to_string(),
                "t10k-images-idx3-ubyte",
                "t10k-images.idx3-ubyte",
            ],
        );
        assert!(!msg.contains("gunzip"), "{msg}");

        // Images present, labels missing: the labels names are listed.
        let (images, _) = tiny();
        dir.write("train-images-idx3-ubyte", &images);
        dir.write("train-labels-idx1-ubyte.gz", &[0x1f, 0x8b, 8, 8]);
        let err = load_split(&dir.0, Split::Train, None).expect_err("missing");
        assert!(err.is_gzip());
        assert_mentions(
            &err.to_string(),
            &[
                "no training labels file",
                "train-labels-idx1-ubyte, train-labels.idx1-ubyte",
                "found train-labels-idx1-ubyte.gz",
                "gunzip",
            ],
        );
    }

    #[test]
    fn load_split_reports_bad_file_with_its_path() {
        let dir = TempDir::new("gz");
        let path = dir.write("train-images-idx3-ubyte", &[0x1f, 0x8b, 8, 8, 0, 0, 0, 0]);
        let (_, labels) = tiny();
        dir.write("train-labels-idx1-ubyte", &labels);
        let msg = err_msg(load_split(&dir.0, Split::Train, None));
        assert_mentions(&msg, &[&path.display().to_string(), "gunzip"]);
    }

    #[test]
    fn load_pair_reads_files_and_reports_io_errors() {
        let dir = TempDir::new("pair");
        let (images, labels) = tiny();
        let ip = dir.write("imgs", &images);
        let lp = dir.write("labs", &labels);
        let ds = load_pair(&ip, &lp, Some((2, 2))).expect("load");
        assert_eq!(ds.count, 3);

        let missing = dir.0.join("nope");
        let err = load_pair(&ip, &missing, None).expect_err("missing");
        assert!(err.source().is_some());
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("cannot read {}: ", missing.display())),
            "{msg}"
        );

        // A directory cannot be read as a file either.
        let msg = err_msg(load_pair(&dir.0, &lp, None));
        assert!(msg.starts_with("cannot read "), "{msg}");

        // Parse errors name the path given.
        let msg = err_msg(load_pair(&lp, &ip, None));
        assert_mentions(&msg, &[&lp.display().to_string(), "labels file?"]);
    }

    #[test]
    #[should_panic(expected = "need 8 pixels")]
    fn encode_images_checks_pixel_count() {
        let _ = encode_images((2, 2, 2), &[0; 7]);
    }
}
