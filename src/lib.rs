//! vae-explorer: a variational autoencoder in burn, trained natively and explored in the browser.
//!
//! The modules, and the one direction they import in (checked by `tests/module_graph.rs`):
//!
//! ```text
//! model ──► bundle ──► infer ──► web      (wasm: the page's API)
//!              │
//!              └─────► train ──► cli      (native: the `vae` binary, src/cli.rs)
//! ```
//!
//! - [`model`]: the VAE (config, encoder, decoder, loss) and the one description of a fully
//!   connected stack that the fast paths run. Imports nothing else from the crate.
//! - [`bundle`]: weights + manifest; parsing and validation, loading onto a device (wasm-safe),
//!   reading and writing bundle folders (native).
//! - [`infer`]: a [`infer::Session`] runs a loaded model on the CPU or WebGPU backend: input
//!   checks, the packed CPU layers and fused WebGPU kernels, errors in words.
//! - `train` (native): IDX data, the training loop, evaluation, the latent map, checkpoints.
//! - `web` (wasm): the `#[wasm_bindgen]` shell over `infer`.
//! - `fsio` (native): crash-safe writes; a leaf both `bundle` and `train` use.

pub mod bundle;
pub mod infer;
pub mod model;

#[cfg(not(target_arch = "wasm32"))]
pub mod fsio;
#[doc(hidden)]
#[cfg(not(target_arch = "wasm32"))]
pub mod fuzzing;
#[cfg(not(target_arch = "wasm32"))]
pub mod train;

#[cfg(target_arch = "wasm32")]
mod web;
