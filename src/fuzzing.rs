//! The fuzz targets' bodies, in one place: `fuzz/fuzz_targets/*.rs` call them under libFuzzer
//! and `tests/fuzz_regressions.rs` replays the seeds and past findings through them. Each
//! returns whether the input was accepted; a panic is the bug being looked for.

use std::sync::LazyLock;

use burn::tensor::Device;

use crate::bundle::{Manifest, load_model};
use crate::learn::idx::{parse_images, parse_labels, parse_pair};

/// The IDX reader on arbitrary bytes: an images file, a labels file, and a pair split where the
/// input says (its first two bytes, big-endian, are the images file's length).
pub fn idx(data: &[u8]) -> bool {
    let images = parse_images(data, "images").is_ok();
    let labels = parse_labels(data, "labels").is_ok();
    let pair = if let [a, b, rest @ ..] = data {
        let cut = usize::from(u16::from_be_bytes([*a, *b])).min(rest.len());
        let (i, l) = rest.split_at(cut);
        parse_pair(i, "images", l, "labels", Some((28, 28))).is_ok()
    } else {
        false
    };
    images || labels || pair
}

/// The manifest parser (JSON and validation) on arbitrary text.
pub fn manifest(data: &[u8]) -> bool {
    std::str::from_utf8(data).is_ok_and(|text| Manifest::parse(text).is_ok())
}

/// The small convolutional fixture's manifest, which [`weights`] loads bytes against.
static FIXTURE: LazyLock<Manifest> = LazyLock::new(|| {
    Manifest::parse(include_str!("../tests/fixtures/conv-tiny/manifest.json"))
        .expect("the fixture manifest is valid")
});

/// The bundle loader on arbitrary weight bytes: the burnpack reader, the f16 cast and the
/// shape checks.
pub fn weights(data: &[u8]) -> bool {
    load_model(&FIXTURE, data.to_vec(), &Device::flex()).is_ok()
}
