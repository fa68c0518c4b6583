//! A bundle folder on disk (native only; the page fetches the two files itself).

use std::path::Path;

use burn::tensor::Device;

use super::zipped::read_zip;
use super::{
    BundleError, MANIFEST_FILE, Manifest, error, load_classifier, load_model, manifest_json,
    weights_bytes,
};
use crate::fsio;
use crate::model::{Classifier, Vae};

/// Reads a bundle from disk: a folder, or a zip of one (the page's "Download model").
pub fn read_bundle(dir: &Path, device: &Device) -> Result<(Manifest, Vae), BundleError> {
    if dir.is_file() {
        let (text, weights) = read_zip(dir)?;
        let shown = dir.display();
        let manifest = Manifest::parse(&text).map_err(|e| error(format!("{shown}: {e}")))?;
        let vae =
            load_model(&manifest, weights, device).map_err(|e| error(format!("{shown}: {e}")))?;
        return Ok((manifest, vae));
    }
    let manifest_path = dir.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| error(format!("cannot read {}: {e}", manifest_path.display())))?;
    let manifest =
        Manifest::parse(&text).map_err(|e| error(format!("{}: {e}", manifest_path.display())))?;
    let weights_path = dir.join(&manifest.weights);
    let weights = std::fs::read(&weights_path)
        .map_err(|e| error(format!("cannot read {}: {e}", weights_path.display())))?;
    let vae = load_model(&manifest, weights, device)
        .map_err(|e| error(format!("{}: {e}", weights_path.display())))?;
    Ok((manifest, vae))
}

/// Writes a bundle folder (weights, manifest and any `extra` files such as the training report)
/// as one unit: a run killed at any moment leaves the previous bundle whole, or the new one.
/// Other files a user keeps in the folder stay.
pub fn write_bundle(
    dir: &Path,
    manifest: &Manifest,
    vae: Vae,
    extra: &[(&str, &[u8])],
) -> Result<(), BundleError> {
    let weights = weights_bytes(vae)?;
    let json = manifest_json(manifest)?;
    let mut files = vec![
        (manifest.weights.as_str(), &weights[..]),
        (MANIFEST_FILE, json.as_bytes()),
    ];
    files.extend_from_slice(extra);
    fsio::replace_dir(dir, &files, true).map_err(error)
}

/// A bundle folder's classifier, if its manifest names one.
pub fn read_classifier(
    dir: &Path,
    manifest: &Manifest,
    device: &Device,
) -> Result<Option<Classifier>, BundleError> {
    let Some(info) = &manifest.classifier else {
        return Ok(None);
    };
    if dir.is_file() {
        // A zip holds the manifest and the VAE's weights only.
        return Ok(None);
    }
    let path = dir.join(&info.weights);
    let weights =
        std::fs::read(&path).map_err(|e| error(format!("cannot read {}: {e}", path.display())))?;
    load_classifier(manifest, weights, device)
        .map(Some)
        .map_err(|e| error(format!("{}: {e}", path.display())))
}

/// Adds (or replaces) files in a bundle folder together with its new manifest, as one unit.
pub fn write_files(
    dir: &Path,
    manifest: &Manifest,
    files: &[(&str, &[u8])],
) -> Result<(), BundleError> {
    let json = manifest_json(manifest)?;
    let mut all = files.to_vec();
    all.push((MANIFEST_FILE, json.as_bytes()));
    fsio::replace_dir(dir, &all, true).map_err(error)
}

/// Writes (or replaces) a bundle's manifest, atomically. Pretty JSON, except the map's points:
/// one line for all of them instead of five lines each.
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), BundleError> {
    let json = manifest_json(manifest)?;
    fsio::write_atomic(&dir.join(MANIFEST_FILE), json.as_bytes()).map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The manifests in the repository were written by this code: reading and writing one gives
    /// back its bytes, so the format (field names, order, layout) has not moved.
    #[test]
    fn shipped_manifests_round_trip_byte_for_byte() {
        for dir in [
            "models/mnist-mlp-2",
            "models/mnist-mlp-32",
            "tests/fixtures/conv-tiny",
        ] {
            let text = std::fs::read_to_string(Path::new(dir).join(MANIFEST_FILE)).unwrap();
            let manifest = Manifest::parse(&text).unwrap();
            assert!(manifest_json(&manifest).unwrap() == text, "{dir}");
        }
    }
}
