//! The hyperparameters of a training run, in one struct. It lives here, in wasm-safe code,
//! because the manifest the page parses records them; the native CLI takes the same struct as
//! its flags (clap is a native-only dependency, hence the `cfg_attr`s).

use serde::{Deserialize, Serialize};

/// How a model was (or is to be) trained: the `vae train` flags, what a checkpoint must share
/// with the run that resumes it (all but `epochs`), and the manifest's `training` section.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::Args))]
pub struct TrainConfig {
    /// Passes over the training images.
    #[cfg_attr(not(target_arch = "wasm32"), arg(long, default_value_t = 40))]
    pub epochs: usize,
    /// Images per optimisation step.
    #[cfg_attr(not(target_arch = "wasm32"), arg(long, default_value_t = 128))]
    pub batch_size: usize,
    /// Adam learning rate.
    #[cfg_attr(
        not(target_arch = "wasm32"),
        arg(long = "lr", value_name = "LR", default_value_t = 1e-3)
    )]
    pub learning_rate: f64,
    /// Learning-rate schedule: constant, or cosine decay to 1 % of --lr by the last epoch.
    #[serde(default)]
    #[cfg_attr(
        not(target_arch = "wasm32"),
        arg(long, value_enum, default_value_t = LrSchedule::Cosine)
    )]
    pub lr_schedule: LrSchedule,
    /// KL weight β: loss = reconstruction + β·KL (1 = the plain VAE).
    #[serde(default = "one")]
    #[cfg_attr(not(target_arch = "wasm32"), arg(long, default_value_t = 1.0))]
    pub beta: f64,
    /// Raise β linearly from 0 over this many epochs (KL warm-up); 0 = none.
    #[serde(default)]
    #[cfg_attr(not(target_arch = "wasm32"), arg(long, default_value_t = 0))]
    pub warmup_epochs: usize,
    /// Seed for initialisation, shuffling and ε.
    #[cfg_attr(not(target_arch = "wasm32"), arg(long, default_value_t = 42))]
    pub seed: u64,
}

/// Manifests written before β and warm-up existed trained the plain VAE.
fn one() -> f64 {
    1.0
}

/// How the learning rate moves during training (the rate itself is `train`'s business).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
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
}

/// The manifest's `training` section: the hyperparameters and what the run that used them did.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Training {
    /// Flattened: the JSON keeps the flat layout of bundles written before this struct existed.
    #[serde(flatten)]
    pub config: TrainConfig,
    pub train_images: usize,
    pub seconds: f64,
    pub command: String,
}
