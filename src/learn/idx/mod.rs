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

mod error;
mod files;
mod parse;

use std::fmt;

pub use error::{Contents, DataError};
pub use files::{load_pair, load_split};
pub use parse::{encode_images, encode_labels, parse_images, parse_labels, parse_pair};

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

    /// The first `n` images (all of them if there are fewer).
    pub fn first(mut self, n: usize) -> IdxDataset {
        self.count = self.count.min(n);
        self.images.truncate(self.count * self.pixels());
        self.labels.truncate(self.count);
        self
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

#[cfg(test)]
mod tests;
