//! The bundle loader on arbitrary weight bytes, against the small conv fixture's manifest:
//! the burnpack reader, the f16 cast and the shape checks.
#![no_main]

use std::sync::LazyLock;

use burn::tensor::Device;
use libfuzzer_sys::fuzz_target;
use vae_explorer::bundle::{Manifest, load_model};

static MANIFEST: LazyLock<Manifest> = LazyLock::new(|| {
    Manifest::parse(include_str!("../../tests/fixtures/conv-tiny/manifest.json"))
        .expect("the fixture manifest is valid")
});

fuzz_target!(|data: &[u8]| {
    let _ = load_model(&MANIFEST, data.to_vec(), &Device::flex());
});
