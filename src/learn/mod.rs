//! Learning, wherever it runs: the data (IDX), one training step and the order of the steps,
//! evaluation and the latent map. Native (under the CLI's loop in `train`) and in the browser's
//! training worker (the `train` feature, under `web_train`): one copy, so a step in the page
//! and a step of `vae train` compute the same numbers.
//!
//! Imports `model` and `bundle`; never `infer`, `train` or the wasm shells. Inside, data flows
//! [`idx`] → `batch` → [`Learner`] (with `schedule`) → [`eval`], [`latent_map`] → [`export`].

mod batch;
pub mod classifier;
pub mod eval;
pub mod export;
pub mod idx;
pub mod latent_map;
mod learner;
mod schedule;
pub mod weights;

pub use batch::{check_image_size, scalar, values};
pub use classifier::{ClassifierTraining, class_count, classifier_accuracy, train_classifier};
pub use eval::{
    Evaluation, evaluate, importance_sampled_nll, likelihood_stats, metrics, per_image_nll,
};
pub use latent_map::{MAP_POINTS, Plane, latent_map};
pub use learner::{Learner, Pending, StepOutput};
pub use schedule::{Step, epoch_seed};
