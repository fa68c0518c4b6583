//! Native training runs: the `vae train` loop around [`crate::learn::Learner`] with a progress
//! bar, Ctrl-C, checkpoints and the training report (not compiled into the wasm).
//!
//! Imports `model`, `bundle`, `learn` and the leaf `fsio`; never `infer` or `web`. Inside:
//! `run` → `epoch` → [`checkpoint`], [`history`].

pub mod checkpoint;
mod epoch;
pub mod history;
mod run;

pub use crate::bundle::{LrSchedule, TrainConfig};
pub use run::{TrainJob, train};
