//! The bundle's manifest parser on arbitrary text (see `vae_explorer::fuzzing::manifest`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vae_explorer::fuzzing::manifest(data);
});
