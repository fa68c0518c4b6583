//! The model bundle: burnpack weights plus a small JSON manifest that says what they are and
//! what the page needs (slider ranges, per-dimension KL). The page fetches both at run time.

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};

use crate::model::{Vae, VaeConfig};

/// The manifest version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// File names inside a bundle folder.
pub const MANIFEST_FILE: &str = "manifest.json";
pub const WEIGHTS_FILE: &str = "weights.bpk";
/// Manifests are a few kB; anything far larger is not one.
const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// The largest weights file accepted (the MLPs here are a few MB).
const MAX_WEIGHTS_BYTES: usize = 512 << 20;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Manifest {
    pub format_version: u32,
    pub name: String,
    pub title: String,
    pub dataset: String,
    pub image: ImageSize,
    pub latent_dim: usize,
    pub architecture: Architecture,
    pub training: TrainingSettings,
    pub metrics: Metrics,
    pub weights: String,
    /// One entry per latent dimension.
    pub latent: Vec<LatentStats>,
    /// A plane through the latent space with the test set's encodings on it (`vae map`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<LatentMap>,
}

/// A 2-D view of the latent space for the page's map: a point (x, y) of the plane is
/// z = origin + x·axes[0] + y·axes[1] (the axes are orthonormal).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct LatentMap {
    /// "latent" (a 2-D model: the plane is z itself), "pca" (the two directions along which
    /// the test-set μ varies most) or "dims" (two chosen latent dimensions).
    pub projection: String,
    pub origin: Vec<f32>,
    pub axes: [Vec<f32>; 2],
    /// Fraction of the variance of the test-set μ along each axis.
    pub explained: [f64; 2],
    /// Test images' μ on the plane: `[x, y, label]`.
    pub points: Vec<(f32, f32, u8)>,
    /// Mean μ of each class's test images: where "towards a 7" points.
    pub classes: Vec<ClassMean>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ClassMean {
    pub label: u8,
    pub count: usize,
    pub mean: Vec<f32>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct ImageSize {
    pub width: usize,
    pub height: usize,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Architecture {
    /// Fully connected encoder and mirrored decoder with ReLU between layers.
    Mlp { hidden: Vec<usize> },
    /// Stride-2 convolutions (4×4 kernels) with these output channels, then fully connected
    /// layers to z; the decoder mirrors it with transposed convolutions.
    Conv {
        channels: Vec<usize>,
        hidden: Vec<usize>,
    },
}

impl Architecture {
    /// `(channels, hidden)`: convolution channels (empty for an MLP) and fully connected widths.
    pub fn layers(&self) -> (&[usize], &[usize]) {
        match self {
            Architecture::Mlp { hidden } => (&[], hidden),
            Architecture::Conv { channels, hidden } => (channels, hidden),
        }
    }

    /// The architecture for a model config.
    pub fn of(config: &VaeConfig) -> Architecture {
        if config.channels.is_empty() {
            Architecture::Mlp {
                hidden: config.hidden.clone(),
            }
        } else {
            Architecture::Conv {
                channels: config.channels.clone(),
                hidden: config.hidden.clone(),
            }
        }
    }

    /// One line in words, e.g. "MLP 784 → 256 → 16" or "conv 1 → 32 → 64 channels, 3136 → 16".
    pub fn describe(&self, image: &ImageSize, latent_dim: usize) -> String {
        let arrows = |v: &[usize]| {
            v.iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join(" → ")
        };
        let pixels = image.width * image.height;
        match self {
            Architecture::Mlp { hidden } => {
                let mut widths = vec![pixels];
                widths.extend(hidden);
                widths.push(latent_dim);
                format!("MLP {}", arrows(&widths))
            }
            Architecture::Conv { channels, hidden } => {
                let mut chans = vec![1];
                chans.extend(channels);
                let scale = 1 << channels.len();
                let flat = channels.last().copied().unwrap_or(1) * pixels / (scale * scale);
                let mut widths = vec![flat];
                widths.extend(hidden);
                widths.push(latent_dim);
                format!(
                    "conv {} channels (4×4, stride 2), then {}",
                    arrows(&chans),
                    arrows(&widths)
                )
            }
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TrainingSettings {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    #[serde(default)]
    pub lr_schedule: LrSchedule,
    /// KL weight β (1 = the plain VAE).
    #[serde(default = "one")]
    pub beta: f64,
    /// Epochs over which β rose linearly from 0 (KL warm-up); 0 = none.
    #[serde(default)]
    pub warmup_epochs: usize,
    pub seed: u64,
    pub train_images: usize,
    pub seconds: f64,
    pub command: String,
}

/// How the learning rate moves during training.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedule {
    /// The same rate throughout.
    #[default]
    Constant,
    /// Cosine decay from the rate to 1 % of it over all epochs, step by step.
    Cosine,
}

impl LrSchedule {
    /// In words, as the CLI takes it.
    pub fn name(self) -> &'static str {
        match self {
            LrSchedule::Constant => "constant",
            LrSchedule::Cosine => "cosine",
        }
    }

    /// The rate at `step` of `total` steps, for a base rate `lr`.
    pub fn rate(self, lr: f64, step: usize, total: usize) -> f64 {
        match self {
            LrSchedule::Constant => lr,
            LrSchedule::Cosine => {
                let done = step as f64 / total.max(1) as f64;
                let floor = lr * 0.01;
                floor + 0.5 * (lr - floor) * (1.0 + (std::f64::consts::PI * done.min(1.0)).cos())
            }
        }
    }
}

fn one() -> f64 {
    1.0
}

/// Test-set figures, nats per image.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Metrics {
    pub test_loss_nats: f64,
    pub recon_nats: f64,
    pub kl_nats: f64,
    pub images: usize,
}

impl LatentMap {
    fn validate(&self, latent_dim: usize) -> Result<(), String> {
        let vectors = [&self.origin, &self.axes[0], &self.axes[1]]
            .into_iter()
            .chain(self.classes.iter().map(|c| &c.mean));
        for v in vectors {
            if v.len() != latent_dim {
                return Err(format!("a vector has {} values, not {latent_dim}", v.len()));
            }
            if !v.iter().all(|x| x.is_finite()) {
                return Err("a vector holds a value that is not a finite number".into());
            }
        }
        if !self
            .points
            .iter()
            .all(|p| p.0.is_finite() && p.1.is_finite())
        {
            return Err("a point is not a finite number".into());
        }
        Ok(())
    }
}

/// What the page needs to know about one latent dimension, from the test-set encodings.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct LatentStats {
    pub mu_mean: f64,
    pub mu_std: f64,
    pub slider_min: f64,
    pub slider_max: f64,
    /// Average KL of this dimension, nats per image.
    pub kl_nats: f64,
    /// False when the dimension collapsed to the prior (KL ≈ 0) and the decoder ignores it.
    pub active: bool,
}

/// A bundle failed to load; the message says why in words.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleError(pub String);

impl std::fmt::Display for BundleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BundleError {}

fn error(message: impl Into<String>) -> BundleError {
    BundleError(message.into())
}

impl Manifest {
    /// Parses and validates a manifest.
    pub fn parse(text: &str) -> Result<Self, BundleError> {
        if text.len() > MAX_MANIFEST_BYTES {
            return Err(error(format!(
                "the model manifest is {} bytes, far larger than a manifest can be",
                text.len()
            )));
        }
        let manifest: Manifest = serde_json::from_str(text)
            .map_err(|e| error(format!("the model manifest is not valid: {e}")))?;
        manifest.validate()?;
        Ok(manifest)
    }

    fn validate(&self) -> Result<(), BundleError> {
        if self.format_version != FORMAT_VERSION {
            return Err(error(format!(
                "the model bundle has format version {}, but this explorer reads version {FORMAT_VERSION}",
                self.format_version
            )));
        }
        if self.latent.len() != self.latent_dim {
            return Err(error(format!(
                "the manifest says the latent space has {} dimensions but describes {}",
                self.latent_dim,
                self.latent.len()
            )));
        }
        for (i, stats) in self.latent.iter().enumerate() {
            let finite = [stats.slider_min, stats.slider_max, stats.kl_nats]
                .iter()
                .all(|v| v.is_finite());
            if !finite || stats.slider_min >= stats.slider_max {
                return Err(error(format!(
                    "the manifest's range for latent dimension {} is invalid",
                    i + 1
                )));
            }
        }
        if let Some(map) = &self.map {
            map.validate(self.latent_dim)
                .map_err(|e| error(format!("the manifest's latent map is invalid: {e}")))?;
        }
        self.config()
            .validate()
            .map_err(|e| error(format!("the manifest's architecture is invalid: {e}")))
    }

    /// The model config this manifest describes.
    pub fn config(&self) -> VaeConfig {
        let (channels, hidden) = self.architecture.layers();
        VaeConfig::new(self.latent_dim, hidden.to_vec())
            .with_channels(channels.to_vec())
            .with_image_height(self.image.height)
            .with_image_width(self.image.width)
    }
}

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

/// Reads a bundle folder from disk (native only; the page fetches the two files itself).
#[cfg(not(target_arch = "wasm32"))]
pub fn read_bundle(dir: &std::path::Path, device: &Device) -> Result<(Manifest, Vae), BundleError> {
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
#[cfg(not(target_arch = "wasm32"))]
pub fn write_bundle(
    dir: &std::path::Path,
    manifest: &Manifest,
    vae: Vae,
    extra: &[(&str, &[u8])],
) -> Result<(), BundleError> {
    // f16 halves the page's download; the decoded images differ by < 1e-3 (tested).
    let weights = vae
        .map(&mut CastFloats(burn::tensor::DType::F16))
        .into_record()
        .into_bytes()
        .map_err(|e| error(format!("cannot serialise the weights: {e}")))?;
    let json = manifest_json(manifest)?;
    let mut files = vec![
        (manifest.weights.as_str(), &weights[..]),
        (MANIFEST_FILE, json.as_bytes()),
    ];
    files.extend_from_slice(extra);
    crate::fsio::replace_dir(dir, &files, true).map_err(error)
}

/// Writes (or replaces) a bundle's manifest, atomically. Pretty JSON, except the map's points:
/// one line for all of them instead of five lines each.
#[cfg(not(target_arch = "wasm32"))]
pub fn write_manifest(dir: &std::path::Path, manifest: &Manifest) -> Result<(), BundleError> {
    let json = manifest_json(manifest)?;
    crate::fsio::write_atomic(&dir.join(MANIFEST_FILE), json.as_bytes()).map_err(error)
}

#[cfg(not(target_arch = "wasm32"))]
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
#[cfg(not(target_arch = "wasm32"))]
struct CastFloats(burn::tensor::DType);

#[cfg(not(target_arch = "wasm32"))]
impl burn::module::ModuleMapper for CastFloats {
    fn map_float<const D: usize>(
        &mut self,
        param: burn::module::Param<burn::tensor::Tensor<D>>,
    ) -> burn::module::Param<burn::tensor::Tensor<D>> {
        let dtype = self.0;
        param.map(|t| t.cast(dtype))
    }
}

#[cfg(test)]
mod tests {
    use super::LrSchedule;

    #[test]
    fn cosine_schedule_starts_at_the_rate_and_ends_at_one_percent() {
        let rate = |step| LrSchedule::Cosine.rate(1e-3, step, 100);
        assert!((rate(0) - 1e-3).abs() < 1e-12);
        assert!((rate(50) - 0.505e-3).abs() < 1e-9);
        assert!((rate(100) - 1e-5).abs() < 1e-12);
        assert!((1..=100).all(|s| rate(s) < rate(s - 1)), "decreasing");
        assert_eq!(LrSchedule::Constant.rate(1e-3, 70, 100), 1e-3);
    }
}
