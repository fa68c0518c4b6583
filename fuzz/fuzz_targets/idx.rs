//! The IDX reader on arbitrary bytes (see `vae_explorer::fuzzing::idx`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vae_explorer::fuzzing::idx(data);
});
