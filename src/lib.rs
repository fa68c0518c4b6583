//! vae-explorer: a variational autoencoder in burn, trained natively and explored in the browser.
//!
//! The modules, and the one direction they import in (checked by `tests/module_graph.rs`):
//!
//! ```text
//! model ──► bundle ──► infer ──► web        (wasm: the page's API)
//!              │
//!              └─────► learn ──► train ──► cli   (native: the `vae` binary, src/cli.rs)
//!                        │
//!                        └─────► web_train  (wasm, `train` feature: the training worker's API)
//! ```
//!
//! - [`model`]: the VAE (config, encoder, decoder, loss) and the one description of a fully
//!   connected stack that the fast paths run. Imports nothing else from the crate.
//! - [`bundle`]: weights + manifest; parsing and validation, loading onto a device (wasm-safe),
//!   reading and writing bundle folders (native).
//! - [`infer`]: a [`infer::Session`] runs a loaded model on the CPU or WebGPU backend: input
//!   checks, the packed CPU layers and fused WebGPU kernels, errors in words.
//! - [`learn`] (native, and wasm with the `train` feature): IDX data, the training step and its
//!   order, evaluation, the latent map, the manifest of a trained model.
//! - `train` (native): the CLI's training loop, checkpoints, the training report.
//! - `web` (wasm): the `#[wasm_bindgen]` shell over `infer`.
//! - `web_train` (wasm, `train` feature): the `#[wasm_bindgen]` shell over `learn`.
//! - `fsio` (native): crash-safe writes; a leaf both `bundle` and `train` use.

pub mod bundle;
pub mod infer;
pub mod model;

#[cfg(not(target_arch = "wasm32"))]
pub mod fsio;
#[doc(hidden)]
#[cfg(not(target_arch = "wasm32"))]
pub mod fuzzing;
#[cfg(any(not(target_arch = "wasm32"), feature = "train"))]
pub mod learn;
#[cfg(not(target_arch = "wasm32"))]
pub mod train;

#[cfg(target_arch = "wasm32")]
mod web;
#[cfg(all(target_arch = "wasm32", feature = "train"))]
mod web_train;
