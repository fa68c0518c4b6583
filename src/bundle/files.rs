//! A bundle folder on disk (native only; the page fetches the two files itself).

use std::path::Path;

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{DType, Device, Tensor};

use super::{BundleError, MANIFEST_FILE, Manifest, error, load_model};
use crate::fsio;
use crate::model::Vae;

/// Reads a bundle folder from disk (native only; the page fetches the two files itself).
pub fn read_bundle(dir: &Path, device: &Device) -> Result<(Manifest, Vae), BundleError> {
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
    // f16 halves the page's download; the decoded images differ by < 1e-3 (tested).
    let weights = vae
        .map(&mut CastFloats(DType::F16))
        .into_record()
        .into_bytes()
        .map_err(|e| error(format!("cannot serialise the weights: {e}")))?;
    let json = manifest_json(manifest)?;
    let mut files = vec![
        (manifest.weights.as_str(), &weights[..]),
        (MANIFEST_FILE, json.as_bytes()),
    ];
    files.extend_from_slice(extra);
    fsio::replace_dir(dir, &files, true).map_err(error)
}

/// Writes (or replaces) a bundle's manifest, atomically. Pretty JSON, except the map's points:
/// one line for all of them instead of five lines each.
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), BundleError> {
    let json = manifest_json(manifest)?;
    fsio::write_atomic(&dir.join(MANIFEST_FILE), json.as_bytes()).map_err(error)
}

fn manifest_json(manifest: &Manifest) -> Result<String, BundleError> {
    let fail = |e: serde_json::Error| error(format!("cannot serialise the manifest: {e}"));
    let mut without_points = manifest.clone();
    let points = without_points
        .map
        .as_mut()
        .map(|map| std::mem::take(&mut map.points));
    let mut json = serde_json::to_string_pretty(&without_points).map_err(fail)?;
    if let Some(points) = points {
        let points = serde_json::to_string(&points).map_err(fail)?;
        json = json.replacen("\"points\": []", &format!("\"points\": {points}"), 1);
    }
    Ok(format!("{json}\n"))
}

/// Casts every float parameter, e.g. to f16 for storage.
struct CastFloats(DType);

impl ModuleMapper for CastFloats {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let dtype = self.0;
        param.map(|t| t.cast(dtype))
    }
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
