//! A bundle's two files as bytes (wasm-safe): the CLI writes them to a folder, the page's
//! training worker hands them to the page.

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{DType, Tensor};

use super::{BundleError, Manifest, error};

/// A weights file (the VAE's, or the classifier's): burnpack, stored as f16 (half the page's
/// download; the decoded images differ by < 1e-3, tested).
pub fn weights_bytes<M: Module>(module: M) -> Result<Vec<u8>, BundleError> {
    module
        .map(&mut CastFloats(DType::F16))
        .into_record()
        .into_bytes()
        .map(|bytes| bytes.to_vec())
        .map_err(|e| error(format!("cannot serialise the weights: {e}")))
}

/// The manifest file. Pretty JSON, except the map's points: one line for all of them instead
/// of five lines each.
pub fn manifest_json(manifest: &Manifest) -> Result<String, BundleError> {
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
