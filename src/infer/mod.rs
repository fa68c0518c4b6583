//! Running a loaded model for the page: a [`Session`] holds a model on one [`Backend`] and
//! decodes and encodes slices of numbers, with every input checked and every error a sentence.
//!
//! Wasm-safe and also built natively (the unit tests run it on the CPU). Imports `bundle` and
//! `model`; never `train` or `web`.

mod backend;
mod classifier;
mod cpu_dense;
pub mod device;
mod error;
#[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
mod gpu;
pub mod input;
mod session;

pub use backend::{Backend, Kernels};
pub use classifier::ClassifierSession;
pub use error::InferError;
pub use session::{Encoding, Session};
