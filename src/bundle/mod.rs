//! The model bundle: burnpack weights plus a small JSON manifest that says what they are and
//! what the page needs (slider ranges, per-dimension KL). The page fetches both at run time.
//!
//! Everything but `files` is wasm-safe: the page parses manifests and loads weights with it.
//! Imports `model` (and the leaf `fsio` for native writes); never `infer` or `train`.

mod architecture;
mod encode;
#[cfg(not(target_arch = "wasm32"))]
mod files;
mod load;
mod manifest;
mod training;
#[cfg(not(target_arch = "wasm32"))]
mod zipped;

pub use architecture::Architecture;
pub use encode::{manifest_json, weights_bytes};
#[cfg(not(target_arch = "wasm32"))]
pub use files::{read_bundle, read_classifier, write_bundle, write_files, write_manifest};
pub use load::{load_classifier, load_model};
pub use manifest::{
    ClassMean, ClassifierInfo, ImageSize, LatentMap, LatentStats, LikelihoodStats, Manifest,
    Metrics, NeighbourImages,
};
pub use training::{LrSchedule, TrainConfig, Training};

/// The manifest version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// File names inside a bundle folder.
pub const MANIFEST_FILE: &str = "manifest.json";
pub const WEIGHTS_FILE: &str = "weights.bpk";

/// A bundle failed to load; the message says why in words.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleError(pub String);

impl std::fmt::Display for BundleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BundleError {}

pub(crate) fn error(message: impl Into<String>) -> BundleError {
    BundleError(message.into())
}
