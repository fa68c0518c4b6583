//! The IDX reader on good files, every kind of bad one, and the messages it gives.

use std::error::Error;
use std::fmt;
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::error::group;
use super::parse::header;
use super::*;

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
