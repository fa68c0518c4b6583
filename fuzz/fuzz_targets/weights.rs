//! The bundle loader on arbitrary weight bytes (see `vae_explorer::fuzzing::weights`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vae_explorer::fuzzing::weights(data);
});
