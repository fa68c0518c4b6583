//! Why a dataset could not be loaded, in words that name the file and the problem.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::PathBuf;

use super::{IdxKind, Split};

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
pub(super) fn group(n: usize) -> String {
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
