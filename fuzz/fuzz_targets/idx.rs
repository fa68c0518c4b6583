//! The IDX reader on arbitrary bytes: an images file, a labels file, and a pair split where the
//! input says. Every outcome must be Ok or a DataError, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vae_explorer::data::{parse_images, parse_labels, parse_pair};

fuzz_target!(|data: &[u8]| {
    let _ = parse_images(data, "images");
    let _ = parse_labels(data, "labels");
    // A pair: the first two bytes say where the images file ends.
    if let [a, b, rest @ ..] = data {
        let cut = usize::from(u16::from_be_bytes([*a, *b])).min(rest.len());
        let (images, labels) = rest.split_at(cut);
        let _ = parse_pair(images, "images", labels, "labels", Some((28, 28)));
    }
});
