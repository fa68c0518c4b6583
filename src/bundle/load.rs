//! Weights into a model: the one way a bundle's burnpack bytes become a [`Vae`], on any device.

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};

use super::{BundleError, Manifest, error};
use crate::model::{Classifier, Vae};

/// The largest weights file accepted (the MLPs here are a few MB).
const MAX_WEIGHTS_BYTES: usize = 512 << 20;

/// Builds the architecture the manifest describes and loads the weights into it, checking
/// that every tensor is there with the right shape.
pub fn load_model(
    manifest: &Manifest,
    weights: Vec<u8>,
    device: &Device,
) -> Result<Vae, BundleError> {
    if weights.len() > MAX_WEIGHTS_BYTES {
        return Err(error(format!(
            "the weights file is {} MB, larger than the {} MB this explorer accepts",
            weights.len() >> 20,
            MAX_WEIGHTS_BYTES >> 20
        )));
    }
    let vae = manifest.config().init(device);
    // f16 weights take 2 bytes a parameter; f32 (4) plus a generous header is the most a
    // bundle of this architecture can need. Anything bigger is not this model's file.
    let needed = vae.num_params() * 2;
    if weights.len() > 2 * needed + (1 << 20) {
        return Err(error(format!(
            "the weights file is {}, far larger than the {} this architecture ({}) needs",
            megabytes(weights.len()),
            megabytes(needed),
            manifest
                .architecture
                .describe(&manifest.image, manifest.latent_dim),
        )));
    }
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights))
        .map_err(|e| {
            error(format!(
                "the weights file is damaged or not a burnpack file ({e})"
            ))
        })?
        // Stored as f16 (half the download); computed in f32.
        .cast_to_module_dtype();
    vae.try_load_record(record)
        .map_err(|e| {
            error(format!(
                "the weights do not fit the architecture in the manifest ({}, {} latent dimensions): {}",
                manifest
                    .architecture
                    .describe(&manifest.image, manifest.latent_dim),
                manifest.latent_dim,
                first_chars(&e.to_string(), 300)
            ))
        })
}

/// Builds the classifier the manifest describes and loads its weights (f16 on disk, f32 here).
pub fn load_classifier(
    manifest: &Manifest,
    weights: Vec<u8>,
    device: &Device,
) -> Result<Classifier, BundleError> {
    let config = manifest.classifier_config();
    if manifest.classifier.is_none() {
        return Err(error("the model has no classifier"));
    }
    config
        .validate()
        .map_err(|e| error(format!("the manifest's classifier is invalid: {e}")))?;
    let classifier = config.init(device);
    if weights.len() > 2 * classifier.num_params() * 2 + (1 << 20) {
        return Err(error(format!(
            "the classifier's weights file is {}, far larger than its layers need",
            megabytes(weights.len())
        )));
    }
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights))
        .map_err(|e| {
            error(format!(
                "the classifier's weights file is damaged or not a burnpack file ({e})"
            ))
        })?
        .cast_to_module_dtype();
    classifier.try_load_record(record).map_err(|e| {
        error(format!(
            "the classifier's weights do not fit the layers in the manifest: {}",
            first_chars(&e.to_string(), 300)
        ))
    })
}

fn megabytes(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// burn lists every mismatched tensor; the first few say enough.
fn first_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
