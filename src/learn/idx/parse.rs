//! IDX bytes to a dataset and back: every header checked against the real length before
//! anything is allocated.

use super::{Contents, DataError, IdxDataset, IdxKind, TYPE_U8};

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

/// The header of an IDX file of `kind` with these dimension sizes.
pub(super) fn header(kind: IdxKind, sizes: &[usize]) -> Vec<u8> {
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
