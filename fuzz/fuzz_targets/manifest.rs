//! The bundle's manifest parser (JSON + validation) on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vae_explorer::bundle::Manifest;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Manifest::parse(text);
    }
});
