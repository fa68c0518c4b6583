//! The WebGPU fast path for fully connected models (the `webgpu` feature, wasm only).

mod kernel;
mod launch;

pub use launch::{decode, encode};
