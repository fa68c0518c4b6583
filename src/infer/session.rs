//! A loaded model on one backend, decoding and encoding plain slices of numbers. It picks the
//! kernels per call: the packed CPU layers or the fused WebGPU kernels for a fully connected
//! model, burn's own ops otherwise (a convolutional model, or a fast path that does not apply).

use std::cell::Cell;

use burn::tensor::{Device, Tensor, TensorData};
use serde::Serialize;

use super::cpu_dense::PackedModel;
use super::input::{PIXEL_RANGE, Z_RANGE, check_images, check_input};
use super::{Backend, InferError, Kernels, device};
use crate::bundle::{ImageSize, Manifest, load_model};
use crate::model::Vae;

/// A model ready to run, with what the page needs to know about it.
pub struct Session {
    vae: Vae,
    device: Device,
    backend: Backend,
    adapter: String,
    latent_dim: usize,
    image: ImageSize,
    kernels: Cell<Kernels>,
    /// On the CPU backend, a fully connected model's layers with their weights packed
    /// (`None` on WebGPU and for a convolutional model).
    packed: Option<PackedModel>,
}

/// The posterior q(z|x) of one image.
#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Encoding {
    pub mu: Vec<f32>,
    pub log_var: Vec<f32>,
}

impl Session {
    /// Parses the manifest, sets up `backend`'s device and loads the weights onto it.
    pub async fn create(
        manifest: &str,
        weights: Vec<u8>,
        backend: Backend,
    ) -> Result<Session, InferError> {
        let manifest = Manifest::parse(manifest)?;
        let (device, adapter) = device::device(backend).await?;
        let vae = load_model(&manifest, weights, &device)?;
        let packed = match backend {
            Backend::Cpu => PackedModel::new(&vae)?,
            Backend::WebGpu => None,
        };
        Ok(Session {
            vae,
            device,
            backend,
            adapter,
            latent_dim: manifest.latent_dim,
            image: manifest.image,
            kernels: Cell::new(Kernels::None),
            packed,
        })
    }

    /// One decode and one encode: compiles the pipelines and fills the memory pools now, so
    /// the page's first slider move is fast.
    pub async fn warm_up(&self) -> Result<(), InferError> {
        self.decode(&vec![0.0; self.latent_dim], 1).await?;
        self.encode(&vec![0.0; self.pixels()]).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The WebGPU adapter in words ("" on the CPU backend).
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    /// The kernels the last decode ran.
    pub fn kernels(&self) -> Kernels {
        self.kernels.get()
    }

    pub fn latent_dim(&self) -> usize {
        self.latent_dim
    }

    pub fn image(&self) -> ImageSize {
        self.image
    }

    /// Pixels per image: the encoder's input and the decoder's output width.
    pub fn pixels(&self) -> usize {
        self.image.width * self.image.height
    }

    /// Decodes `n` latent vectors laid end to end to `n` images of Bernoulli means, row-major.
    pub async fn decode(&self, zs: &[f32], n: usize) -> Result<Vec<f32>, InferError> {
        check_input("latent vector", zs, n, self.latent_dim, Z_RANGE)?;
        let images = match &self.packed {
            Some(packed) => {
                self.kernels.set(Kernels::Packed);
                packed.decoder.forward(zs, n)
            }
            None => read(self.decoder_forward(self.tensor(zs, n, self.latent_dim))).await?,
        };
        check_images(&images, self.backend)?;
        Ok(images)
    }

    /// Encodes one image (0 = background, 1 = ink) to the posterior's parameters.
    pub async fn encode(&self, pixels: &[f32]) -> Result<Encoding, InferError> {
        let (mu, log_var) = self.encode_batch(pixels, 1).await?;
        Ok(Encoding { mu, log_var })
    }

    /// Encodes `n` images laid end to end; returns `(μ, log σ²)`, `n` rows of the latent size
    /// each (the nearest-neighbour search encodes the test images this way).
    pub async fn encode_batch(
        &self,
        pixels: &[f32],
        n: usize,
    ) -> Result<(Vec<f32>, Vec<f32>), InferError> {
        check_input("image", pixels, n, self.pixels(), PIXEL_RANGE)?;
        if let Some(packed) = &self.packed {
            return Ok(packed.encoder.forward(pixels, n));
        }
        let (mu, log_var) = self.encoder_forward(self.tensor(pixels, n, self.pixels()));
        Ok((read(mu).await?, read(log_var).await?))
    }

    /// Uploads `values`, runs one trivial kernel (×1) and reads the result back: the fixed cost
    /// every call on this backend pays, which the benchmark subtracts from a decode.
    pub async fn round_trip(&self, values: &[f32]) -> Result<Vec<f32>, InferError> {
        let n = values.len();
        check_input("values", values, 1, n.max(1), (f32::MIN, f32::MAX))?;
        read(self.tensor(values, 1, n) * 1.0).await
    }

    fn tensor(&self, values: &[f32], rows: usize, width: usize) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(values.to_vec(), [rows, width]),
            &self.device,
        )
    }

    /// Bernoulli means for `z`: on WebGPU through the fused dense kernels (one dispatch per
    /// layer), otherwise, or for a convolutional decoder, through burn's ops.
    fn decoder_forward(&self, z: Tensor<2>) -> Tensor<2> {
        #[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
        if self.backend == Backend::WebGpu
            && let Some(images) = super::gpu::decode(&self.vae.decoder, &z)
        {
            self.kernels.set(Kernels::Fused);
            return images;
        }
        self.kernels.set(Kernels::Burn);
        self.vae.decoder.forward(z)
    }

    /// `(μ, log σ²)` for the images `x`, through the fused kernels where the decode uses them.
    fn encoder_forward(&self, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        #[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
        if self.backend == Backend::WebGpu
            && let Some(posterior) = super::gpu::encode(&self.vae.encoder, &x)
        {
            return posterior;
        }
        self.vae.encoder.forward(x)
    }
}

/// The one way tensors come back: an async read, never a blocking one (WebGPU in a page
/// cannot block).
async fn read(tensor: Tensor<2>) -> Result<Vec<f32>, InferError> {
    crate::model::read::floats(tensor).await.map_err(InferError)
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
