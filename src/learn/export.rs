//! A trained model's manifest: its description, test figures, slider ranges and latent map.
//! `vae train` and the page's training worker both write bundles through here.

use super::eval::{Evaluation, evaluate, metrics};
use super::idx::IdxDataset;
use super::latent_map::{MAP_POINTS, Plane, latent_map};
use crate::bundle::{self, Architecture, ImageSize, Manifest, TrainConfig, Training};
use crate::model::{Vae, VaeConfig};

/// What a manifest says about a model besides what is measured on the test images.
pub struct About<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub dataset: &'a str,
    pub model: &'a VaeConfig,
    pub config: &'a TrainConfig,
    pub train_images: usize,
    /// Wall time of the training, seconds.
    pub seconds: f64,
    /// How it was trained, in words (the command line, or "trained in the browser").
    pub command: &'a str,
}

/// The manifest of `vae` (on any device), measured on `test`; `evaluation` if the caller has
/// one of `vae` on `test` already.
pub fn manifest(
    about: &About,
    vae: &Vae,
    test: &IdxDataset,
    evaluation: Option<Evaluation>,
) -> Result<Manifest, String> {
    let evaluation = match evaluation {
        Some(evaluation) => evaluation,
        None => evaluate(vae, test, about.config.seed)?,
    };
    if !evaluation.loss().is_finite() {
        return Err(format!(
            "training diverged (test loss {}); try a smaller learning rate",
            evaluation.loss()
        ));
    }
    Ok(Manifest {
        format_version: bundle::FORMAT_VERSION,
        name: about.name.to_string(),
        title: about.title.to_string(),
        dataset: about.dataset.to_string(),
        image: ImageSize {
            width: about.model.image_width,
            height: about.model.image_height,
        },
        latent_dim: about.model.latent_dim,
        architecture: Architecture::of(about.model),
        training: Training {
            config: about.config.clone(),
            train_images: about.train_images,
            seconds: (about.seconds * 10.0).round() / 10.0,
            command: about.command.to_string(),
        },
        metrics: metrics(&evaluation),
        weights: bundle::WEIGHTS_FILE.to_string(),
        latent: evaluation.latent.clone(),
        map: Some(latent_map(vae, test, Plane::Auto, MAP_POINTS)?),
        classifier: None,
        neighbours: None,
        likelihood: None,
    })
}
