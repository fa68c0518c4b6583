//! Native training and evaluation: IDX data in, a model bundle out (not compiled into the wasm).
//!
//! Imports `model`, `bundle` and the leaf `fsio`; never `infer` or `web`. Inside, data flows
//! [`idx`] → `batch` → `run`/`epoch` (with `schedule`) → [`eval`], [`latent_map`] →
//! [`checkpoint`], [`history`].

mod batch;
pub mod checkpoint;
mod epoch;
pub mod eval;
pub mod history;
pub mod idx;
pub mod latent_map;
mod run;
mod schedule;

pub use crate::bundle::{LrSchedule, TrainConfig};
pub use eval::{Evaluation, evaluate, importance_sampled_nll, metrics};
pub use latent_map::{MAP_POINTS, Plane, latent_map};
pub use run::{TrainJob, train};
