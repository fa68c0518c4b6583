//! vae-explorer: a variational autoencoder in burn, trained natively and explored in the browser.
//!
//! The data path, in order: [`data`] (IDX files) → [`model`] (the VAE) → `train` (native CLI) →
//! [`bundle`] (weights + manifest) → `web` (the wasm API the page calls).

pub mod bundle;
pub mod cpu_dense;
pub mod model;

#[cfg(not(target_arch = "wasm32"))]
pub mod checkpoint;
#[cfg(not(target_arch = "wasm32"))]
pub mod data;
#[cfg(not(target_arch = "wasm32"))]
pub mod fsio;
#[cfg(not(target_arch = "wasm32"))]
pub mod history;
#[cfg(not(target_arch = "wasm32"))]
pub mod latent_map;
#[cfg(not(target_arch = "wasm32"))]
pub mod train;

#[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
mod gpu_dense;
#[cfg(target_arch = "wasm32")]
mod web;
