//! The manifest: what a bundle's weights are, how they were made and what the page shows.

use serde::{Deserialize, Serialize};

use super::{Architecture, BundleError, FORMAT_VERSION, Training, error};
use crate::model::{ClassifierConfig, VaeConfig};

/// Manifests are a few kB; anything far larger is not one.
const MAX_MANIFEST_BYTES: usize = 4 << 20;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Manifest {
    pub format_version: u32,
    pub name: String,
    pub title: String,
    pub dataset: String,
    pub image: ImageSize,
    pub latent_dim: usize,
    pub architecture: Architecture,
    pub training: Training,
    pub metrics: Metrics,
    pub weights: String,
    /// One entry per latent dimension.
    pub latent: Vec<LatentStats>,
    /// A plane through the latent space with the test set's encodings on it (`vae map`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<LatentMap>,
    /// A digit classifier for the page's readout (`vae classifier`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classifier: Option<ClassifierInfo>,
    /// Test images the page searches for the nearest neighbours of z (`vae map`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neighbours: Option<NeighbourImages>,
    /// Where a drawing's −log p(x) falls among the test set's (`vae map`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub likelihood: Option<LikelihoodStats>,
}

/// A classifier stored beside the VAE: its own burnpack file and what it was measured at.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ClassifierInfo {
    /// Its burnpack file in the bundle.
    pub weights: String,
    pub hidden: Vec<usize>,
    /// Class names, in the order of the outputs.
    pub classes: Vec<String>,
    /// Accuracy on the test images, with the stored weights.
    pub test_accuracy: f64,
    /// Accuracy on the VAE's reconstructions of the test images at z = μ.
    pub recon_accuracy: f64,
    /// Test images both accuracies were measured on.
    pub images: usize,
}

/// Test images as an IDX pair in the bundle (unsigned bytes, the dataset's own format).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct NeighbourImages {
    pub images: String,
    pub labels: String,
    pub count: usize,
}

/// The test set's importance-sampled −log p(x), nats: `quantiles[i]` is the i-th of
/// `quantiles.len() − 1` equal steps from the lowest to the highest (percentiles for 101 values).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct LikelihoodStats {
    /// Samples of q(z|x) per image.
    pub samples: usize,
    pub images: usize,
    pub quantiles: Vec<f64>,
}

/// A file named in a manifest: a plain name inside the bundle, never a path out of it.
fn check_file_name(name: &str) -> Result<(), String> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', ':'])
        && name.len() <= 100;
    if plain {
        Ok(())
    } else {
        Err(format!("{name:?} is not a plain file name in the bundle"))
    }
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

/// Test-set figures, nats per image.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Metrics {
    pub test_loss_nats: f64,
    pub recon_nats: f64,
    pub kl_nats: f64,
    pub images: usize,
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
        if let Some(classifier) = &self.classifier {
            check_file_name(&classifier.weights)
                .and_then(|()| self.classifier_config().validate())
                .map_err(|e| error(format!("the manifest's classifier is invalid: {e}")))?;
        }
        if let Some(set) = &self.neighbours {
            check_file_name(&set.images)
                .and_then(|()| check_file_name(&set.labels))
                .map_err(|e| error(format!("the manifest's neighbour images are invalid: {e}")))?;
        }
        if let Some(stats) = &self.likelihood {
            let q = &stats.quantiles;
            let sorted = q.windows(2).all(|w| w[0] <= w[1]);
            if q.len() < 2 || q.len() > 1001 || !q.iter().all(|v| v.is_finite()) || !sorted {
                return Err(error(
                    "the manifest's likelihood quantiles are not 2 to 1,001 ascending numbers",
                ));
            }
        }
        self.config()
            .validate()
            .map_err(|e| error(format!("the manifest's architecture is invalid: {e}")))
    }

    /// The classifier's shape (meaningful only when the manifest has one).
    pub fn classifier_config(&self) -> ClassifierConfig {
        let info = self.classifier.as_ref();
        ClassifierConfig {
            inputs: self.image.width * self.image.height,
            hidden: info.map(|c| c.hidden.clone()).unwrap_or_default(),
            classes: info.map_or(0, |c| c.classes.len()),
        }
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
