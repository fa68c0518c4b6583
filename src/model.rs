//! The textbook variational autoencoder (Kingma & Welling, 2014).
//!
//! encoder: x → (μ, log σ²) of q(z|x) = N(μ, diag σ²)
//! reparameterisation: z = μ + σ ⊙ ε, ε ~ N(0, I)
//! decoder: z → Bernoulli means p(x|z) (a sigmoid over logits)
//! loss (negative ELBO, nats per image) = BCE reconstruction + KL(q(z|x) ‖ N(0, I))

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Distribution, Tensor};

/// Fixes the shape of a model: image size, convolution channels, hidden layer sizes and latent
/// size. With no `channels` it is the MLP of the classic papers; with channels, a convolutional
/// encoder (4×4 kernels, stride 2: each layer halves the image) and a mirrored decoder of
/// transposed convolutions.
#[derive(Config, Debug, PartialEq)]
pub struct VaeConfig {
    /// Number of latent dimensions (the length of z).
    pub latent_dim: usize,
    /// Fully connected hidden widths of the encoder, input side first; the decoder mirrors them.
    /// For a convolutional model these sit between the flattened features and z (may be empty).
    pub hidden: Vec<usize>,
    /// Output channels of the encoder's convolutions, input side first (empty: an MLP).
    #[config(default = "Vec::new()")]
    pub channels: Vec<usize>,
    /// Image height in pixels.
    #[config(default = 28)]
    pub image_height: usize,
    /// Image width in pixels.
    #[config(default = 28)]
    pub image_width: usize,
}

const KERNEL: usize = 4;
/// 64 M parameters: 256 MB as f32, well past any model this page is for.
const MAX_PARAMETERS: usize = 64 << 20;

impl VaeConfig {
    /// Pixels per image: the encoder's input width and the decoder's output width.
    pub fn pixels(&self) -> usize {
        self.image_height * self.image_width
    }

    /// Checks sizes before any layer is allocated, so a bad config is an error, not a panic.
    pub fn validate(&self) -> Result<(), String> {
        if self.latent_dim == 0 || self.latent_dim > 1024 {
            return Err(format!(
                "latent size must be between 1 and 1024, got {}",
                self.latent_dim
            ));
        }
        let pixels = self.image_height.saturating_mul(self.image_width);
        if self.image_height == 0 || self.image_width == 0 || pixels > 1 << 20 {
            return Err(format!(
                "image size {}×{} is not supported",
                self.image_height, self.image_width
            ));
        }
        let min_hidden = usize::from(self.channels.is_empty());
        if self.hidden.len() < min_hidden || self.hidden.len() > 8 {
            return Err(format!(
                "expected {min_hidden} to 8 hidden layers, got {}",
                self.hidden.len()
            ));
        }
        if let Some(w) = self.hidden.iter().find(|&&w| w == 0 || w > 8192) {
            return Err(format!("hidden layer width {w} is out of range 1..=8192"));
        }
        if self.channels.len() > 4 {
            return Err(format!(
                "expected at most 4 convolution layers, got {}",
                self.channels.len()
            ));
        }
        if let Some(c) = self.channels.iter().find(|&&c| c == 0 || c > 512) {
            return Err(format!("convolution channels {c} are out of range 1..=512"));
        }
        let scale = 1 << self.channels.len();
        if !self.image_height.is_multiple_of(scale) || !self.image_width.is_multiple_of(scale) {
            return Err(format!(
                "{} stride-2 convolutions need an image size divisible by {scale}, got {}×{}",
                self.channels.len(),
                self.image_height,
                self.image_width
            ));
        }
        // A manifest from the network must not make the page allocate gigabytes.
        let params = self.parameter_count();
        if params > MAX_PARAMETERS {
            return Err(format!(
                "{params} parameters is more than the {MAX_PARAMETERS} this explorer can hold"
            ));
        }
        Ok(())
    }

    /// The number of parameters `init` allocates (saturating: a bound, for untrusted configs).
    pub fn parameter_count(&self) -> usize {
        let linear = |i: usize, o: usize| i.saturating_mul(o).saturating_add(o);
        let conv = |i: usize, o: usize| linear(i.saturating_mul(KERNEL * KERNEL), o);
        let scale = 1usize << self.channels.len().min(16);
        let flat = self
            .channels
            .last()
            .copied()
            .unwrap_or(1)
            .saturating_mul(self.image_height / scale)
            .saturating_mul(self.image_width / scale);
        let mut widths = vec![flat];
        widths.extend(&self.hidden);
        let mut channels = vec![1];
        channels.extend(&self.channels);
        let last = *widths.last().unwrap_or(&flat);
        // Encoder and decoder mirror each other: each pair of sizes is a layer both ways (the
        // decoder's biases have the other size).
        let both_ways = |sizes: &[usize], layer: &dyn Fn(usize, usize) -> usize| {
            sizes
                .windows(2)
                .map(|p| layer(p[0], p[1]).saturating_add(layer(p[1], p[0])))
                .fold(0, usize::saturating_add)
        };
        [
            both_ways(&widths, &linear),
            both_ways(&channels, &conv),
            linear(last, self.latent_dim).saturating_mul(2),
            linear(self.latent_dim, last),
        ]
        .into_iter()
        .fold(0, usize::saturating_add)
    }

    /// Shape `[channels, height, width]` of the last convolution's output (the input image for
    /// an MLP).
    fn features(&self) -> [usize; 3] {
        let scale = 1 << self.channels.len();
        [
            self.channels.last().copied().unwrap_or(1),
            self.image_height / scale,
            self.image_width / scale,
        ]
    }

    /// Builds a freshly initialised model. Call [`VaeConfig::validate`] first for untrusted configs.
    pub fn init(&self, device: &Device) -> Vae {
        let features = self.features();
        let flat = features.iter().product::<usize>();
        let mut in_channels = vec![1];
        in_channels.extend(&self.channels);
        let convs = in_channels
            .windows(2)
            .map(|c| {
                Conv2dConfig::new([c[0], c[1]], [KERNEL, KERNEL])
                    .with_stride([2, 2])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(device)
            })
            .collect();

        let mut widths = vec![flat];
        widths.extend(&self.hidden);
        let last = *widths.last().expect("widths starts with the feature count");
        let encoder = Encoder {
            convs,
            layers: linear_stack(&widths, device),
            mu: LinearConfig::new(last, self.latent_dim).init(device),
            log_var: LinearConfig::new(last, self.latent_dim).init(device),
            height: self.image_height,
            width: self.image_width,
        };

        let mut widths = vec![self.latent_dim];
        widths.extend(self.hidden.iter().rev());
        let last = *widths.last().expect("widths starts with the latent size");
        // Transposed convolutions mirror the encoder, ending in one channel of logits.
        let deconvs = in_channels
            .windows(2)
            .rev()
            .map(|c| {
                ConvTranspose2dConfig::new([c[1], c[0]], [KERNEL, KERNEL])
                    .with_stride([2, 2])
                    .with_padding([1, 1])
                    .init(device)
            })
            .collect();
        let decoder = Decoder {
            layers: linear_stack(&widths, device),
            output: LinearConfig::new(last, flat).init(device),
            deconvs,
            features,
        };
        Vae { encoder, decoder }
    }
}

fn linear_stack(widths: &[usize], device: &Device) -> Vec<Linear> {
    widths
        .windows(2)
        .map(|w| LinearConfig::new(w[0], w[1]).init(device))
        .collect()
}

/// Maps an image to the parameters of the approximate posterior q(z|x).
#[derive(Module, Debug)]
pub struct Encoder {
    /// Stride-2 convolutions, each followed by a ReLU (none for an MLP).
    convs: Vec<Conv2d>,
    layers: Vec<Linear>,
    mu: Linear,
    log_var: Linear,
    height: usize,
    width: usize,
}

impl Encoder {
    /// `images`: `[batch, pixels]` in [0, 1]. Returns `(mu, log_var)`, each `[batch, latent]`.
    pub fn forward(&self, images: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let h = if self.convs.is_empty() {
            images
        } else {
            let [batch, _] = images.dims();
            let maps = images.reshape([batch, 1, self.height, self.width]);
            let maps = self
                .convs
                .iter()
                .fold(maps, |h, conv| relu(conv.forward(h)));
            maps.flatten(1, 3)
        };
        let h = self
            .layers
            .iter()
            .fold(h, |h, layer| relu(layer.forward(h)));
        (self.mu.forward(h.clone()), self.log_var.forward(h))
    }

    /// For an encoder without convolutions: its hidden layers (each followed by a ReLU), then
    /// the μ and log σ² heads. The WebGPU encode runs them as fused kernels.
    pub fn mlp_layers(&self) -> Option<(&[Linear], &Linear, &Linear)> {
        self.convs
            .is_empty()
            .then_some((&self.layers[..], &self.mu, &self.log_var))
    }

    /// Latent size (the width of μ).
    pub fn latent_dim(&self) -> usize {
        self.mu.weight.val().dims()[1]
    }

    /// Input size in pixels.
    pub fn pixels(&self) -> usize {
        self.height * self.width
    }
}

/// Maps a latent code to per-pixel Bernoulli means p(x|z).
#[derive(Module, Debug)]
pub struct Decoder {
    layers: Vec<Linear>,
    /// To the pixels (MLP) or to the feature maps the transposed convolutions start from.
    output: Linear,
    deconvs: Vec<ConvTranspose2d>,
    /// `[channels, height, width]` of those feature maps.
    features: [usize; 3],
}

impl Decoder {
    /// Pre-sigmoid logits, `[batch, pixels]`: what the loss uses, for numerical stability.
    pub fn logits(&self, z: Tensor<2>) -> Tensor<2> {
        let h = self
            .layers
            .iter()
            .fold(z, |h, layer| relu(layer.forward(h)));
        let out = self.output.forward(h);
        if self.deconvs.is_empty() {
            return out;
        }
        let [batch, _] = out.dims();
        let [c, fh, fw] = self.features;
        let maps = relu(out).reshape([batch, c, fh, fw]);
        let last = self.deconvs.len() - 1;
        let maps = self
            .deconvs
            .iter()
            .enumerate()
            .fold(maps, |h, (i, deconv)| {
                let h = deconv.forward(h);
                if i < last { relu(h) } else { h }
            });
        maps.flatten(1, 3)
    }

    /// Bernoulli means in [0, 1], `[batch, pixels]`: the image the page shows.
    pub fn forward(&self, z: Tensor<2>) -> Tensor<2> {
        sigmoid(self.logits(z))
    }

    /// The layers of a fully connected decoder, input side first (ReLU between, sigmoid last);
    /// `None` for a convolutional decoder. The WebGPU decode runs them as fused kernels.
    pub fn mlp_layers(&self) -> Option<Vec<&Linear>> {
        self.deconvs
            .is_empty()
            .then(|| self.layers.iter().chain([&self.output]).collect())
    }

    /// The fully connected decoder as plain numbers, input side first: each layer computes
    /// `act(h · W + b)` with `W` row-major `[inputs, outputs]`, ReLU between layers and the
    /// sigmoid last. For other runtimes (the benchmark); `None` for a convolutional decoder.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn dense_layers(&self) -> Option<Vec<DenseLayer>> {
        if !self.deconvs.is_empty() {
            return None;
        }
        let last = self.layers.len();
        let layers = self.layers.iter().chain(std::iter::once(&self.output));
        let values = |t: Tensor<1>| t.into_data().try_into_vec_as::<f32>().ok();
        layers
            .enumerate()
            .map(|(i, layer)| {
                let [inputs, outputs] = layer.weight.val().dims();
                Some(DenseLayer {
                    inputs,
                    outputs,
                    activation: if i < last { "relu" } else { "sigmoid" },
                    weight: values(layer.weight.val().flatten(0, 1))?,
                    bias: values(layer.bias.as_ref()?.val())?,
                })
            })
            .collect()
    }
}

/// One fully connected layer of the decoder, exported by [`Decoder::dense_layers`].
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, serde::Serialize)]
pub struct DenseLayer {
    pub inputs: usize,
    pub outputs: usize,
    /// "relu" or "sigmoid".
    pub activation: &'static str,
    /// Row-major `[inputs, outputs]`.
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

/// The variational autoencoder: an encoder and a decoder.
#[derive(Module, Debug)]
pub struct Vae {
    pub encoder: Encoder,
    pub decoder: Decoder,
}

/// One forward pass through the whole model, with the per-image loss terms.
pub struct VaeOutput {
    pub mu: Tensor<2>,
    pub log_var: Tensor<2>,
    pub z: Tensor<2>,
    /// Reconstruction term −log p(x|z) in nats, `[batch]`.
    pub recon: Tensor<1>,
    /// KL(q(z|x) ‖ N(0, I)) in nats, `[batch]`.
    pub kl: Tensor<1>,
}

impl Vae {
    /// z = μ + σ ⊙ ε with σ = exp(½ log σ²), ε ~ N(0, I): sampling that gradients can flow through.
    pub fn reparameterize(mu: Tensor<2>, log_var: Tensor<2>) -> Tensor<2> {
        let eps = Tensor::random(mu.shape(), Distribution::Normal(0.0, 1.0), &mu.device());
        mu + (log_var * 0.5).exp() * eps
    }

    /// Encodes, samples z by reparameterisation, decodes, and scores the images.
    pub fn forward(&self, images: Tensor<2>) -> VaeOutput {
        let (mu, log_var) = self.encoder.forward(images.clone());
        let z = Self::reparameterize(mu.clone(), log_var.clone());
        let logits = self.decoder.logits(z.clone());
        VaeOutput {
            recon: bce_with_logits(logits, images),
            kl: kl_divergence(mu.clone(), log_var.clone()),
            mu,
            log_var,
            z,
        }
    }
}

/// Binary cross-entropy −Σ [x log p + (1−x) log(1−p)] with p = sigmoid(logits), summed over
/// pixels: nats per image, `[batch]`. Written as max(l,0) − x·l + log(1 + e^−|l|) so that it
/// never takes the log of 0. `log` rather than `log1p`: its argument is in [1, 2], where the two
/// agree to f32 precision, and the CPU backend's `log` is vectorised (6× faster in training).
pub fn bce_with_logits(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let per_pixel =
        relu(logits.clone()) - logits.clone() * targets + ((-logits.abs()).exp() + 1.0).log();
    per_pixel.sum_dim(1).squeeze_dim(1)
}

/// Closed-form KL(N(μ, σ²) ‖ N(0, 1)) summed over latent dimensions:
/// −½ Σ (1 + log σ² − μ² − σ²), nats per image, `[batch]`.
pub fn kl_divergence(mu: Tensor<2>, log_var: Tensor<2>) -> Tensor<1> {
    kl_per_dimension(mu, log_var).sum_dim(1).squeeze_dim(1)
}

/// The same KL term per latent dimension, `[batch, latent]`: which dimensions carry information.
pub fn kl_per_dimension(mu: Tensor<2>, log_var: Tensor<2>) -> Tensor<2> {
    (log_var.clone() + 1.0 - mu.powi_scalar(2) - log_var.exp()) * -0.5
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn device() -> Device {
        Device::flex()
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn shapes_follow_the_config() {
        let config = VaeConfig::new(8, vec![64, 32]);
        let vae = config.init(&device());
        let x = Tensor::<2>::random([5, 784], Distribution::Default, &device());
        let out = vae.forward(x);
        assert_eq!(out.mu.dims(), [5, 8]);
        assert_eq!(out.log_var.dims(), [5, 8]);
        assert_eq!(out.z.dims(), [5, 8]);
        assert_eq!(out.recon.dims(), [5]);
        assert_eq!(out.kl.dims(), [5]);
        let image = vae.decoder.forward(out.z);
        assert_eq!(image.dims(), [5, 784]);
        assert!(values(image).iter().all(|p| (0.0..=1.0).contains(p)));
    }

    #[test]
    fn exported_dense_layers_compute_the_decoder() {
        let vae = VaeConfig::new(3, vec![16, 8]).init(&device());
        let layers = vae.decoder.dense_layers().expect("an MLP decoder exports");
        let shapes: Vec<_> = layers
            .iter()
            .map(|l| (l.inputs, l.outputs, l.activation))
            .collect();
        assert_eq!(
            shapes,
            [(3, 8, "relu"), (8, 16, "relu"), (16, 784, "sigmoid")]
        );
        // The plain-number decoder gives what burn's forward pass gives.
        let z = [0.5f32, -1.25, 2.0];
        let mut h = z.to_vec();
        for l in &layers {
            h = (0..l.outputs)
                .map(|j| {
                    let s: f32 = l.bias[j]
                        + (0..l.inputs)
                            .map(|k| h[k] * l.weight[k * l.outputs + j])
                            .sum::<f32>();
                    if l.activation == "relu" {
                        s.max(0.0)
                    } else {
                        1.0 / (1.0 + (-s).exp())
                    }
                })
                .collect();
        }
        let z = Tensor::<2>::from_data(TensorData::new(z.to_vec(), [1, 3]), &device());
        let want = values(vae.decoder.forward(z));
        let err = h
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-5, "max abs error {err}");
        let conv = VaeConfig::new(3, vec![])
            .with_channels(vec![4])
            .init(&device());
        assert!(conv.decoder.dense_layers().is_none());
    }

    #[test]
    fn bad_configs_are_errors() {
        assert!(VaeConfig::new(0, vec![10]).validate().is_err());
        assert!(VaeConfig::new(4, vec![]).validate().is_err());
        assert!(VaeConfig::new(4, vec![0]).validate().is_err());
        assert!(
            VaeConfig::new(4, vec![10])
                .with_image_width(0)
                .validate()
                .is_err()
        );
        assert!(VaeConfig::new(4, vec![10]).validate().is_ok());
        // A convolutional model may go straight from its feature maps to z ...
        let conv = |channels: Vec<usize>| VaeConfig::new(4, vec![]).with_channels(channels);
        assert!(conv(vec![8, 16]).validate().is_ok());
        // ... but each stride-2 layer halves the image: 28 → 14 → 7 → 3.5 is refused.
        let err = conv(vec![8, 16, 32]).validate().unwrap_err();
        assert!(err.contains("divisible by 8"), "{err}");
        assert!(conv(vec![8, 0]).validate().is_err());
        assert!(conv(vec![8; 5]).validate().is_err());
    }

    #[test]
    fn convolutional_model_has_the_same_interface() {
        let config = VaeConfig::new(6, vec![32]).with_channels(vec![4, 8]);
        let vae = config.init(&device());
        let x = Tensor::<2>::random([3, 784], Distribution::Default, &device());
        let out = vae.forward(x.clone());
        assert_eq!(out.mu.dims(), [3, 6]);
        assert_eq!(out.recon.dims(), [3]);
        assert_eq!(vae.encoder.latent_dim(), 6);
        assert_eq!(vae.encoder.pixels(), 784);
        let image = vae.decoder.forward(out.z);
        assert_eq!(image.dims(), [3, 784]);
        assert!(values(image).iter().all(|p| (0.0..=1.0).contains(p)));
        // Non-square images keep their layout through the convolutions.
        let wide = VaeConfig::new(2, vec![])
            .with_channels(vec![4])
            .with_image_height(8)
            .with_image_width(12);
        let vae = wide.init(&device());
        let x = Tensor::<2>::random([2, 96], Distribution::Default, &device());
        assert_eq!(vae.forward(x).recon.dims(), [2]);
        assert_eq!(
            vae.decoder.forward(Tensor::zeros([2, 2], &device())).dims(),
            [2, 96]
        );
    }

    #[test]
    fn kl_closed_form_matches_monte_carlo() {
        // E_q[log q(z) − log p(z)] estimated with 200k samples of one 3-D Gaussian.
        let mu = [0.7f64, -1.2, 0.0];
        let log_var = [-0.5f64, 0.8, 0.0];
        let closed = values(kl_divergence(
            Tensor::from_data(
                TensorData::new(mu.map(|v| v as f32).to_vec(), [1, 3]),
                &device(),
            ),
            Tensor::from_data(
                TensorData::new(log_var.map(|v| v as f32).to_vec(), [1, 3]),
                &device(),
            ),
        ))[0] as f64;

        let n = 200_000;
        device().seed(7);
        let eps = values(Tensor::<2>::random(
            [n, 3],
            Distribution::Normal(0.0, 1.0),
            &device(),
        ));
        let mut sum = 0.0f64;
        for row in eps.chunks(3) {
            for d in 0..3 {
                let sigma = (0.5 * log_var[d]).exp();
                let z = mu[d] + sigma * row[d] as f64;
                let log_q = -0.5 * (row[d] as f64).powi(2) - sigma.ln();
                let log_p = -0.5 * z * z;
                sum += log_q - log_p;
            }
        }
        let monte_carlo = sum / n as f64;
        // Analytically: ½Σ(σ² + μ² − 1 − log σ²) = ½(0.5965 + 1.8655 + 0) = 1.2310; MC error ~0.004.
        assert!(
            (closed - monte_carlo).abs() < 0.02,
            "closed {closed} vs MC {monte_carlo}"
        );
        assert!((closed - 1.231_0).abs() < 1e-3, "closed form {closed}");
    }

    #[test]
    fn kl_is_zero_only_at_the_prior() {
        let zeros = Tensor::<2>::zeros([2, 4], &device());
        assert!(
            values(kl_divergence(zeros.clone(), zeros.clone()))
                .iter()
                .all(|&v| v.abs() < 1e-7)
        );
        let shifted = zeros.clone() + 1.0;
        let kl = values(kl_divergence(shifted, zeros));
        assert!(kl.iter().all(|&v| (v - 2.0).abs() < 1e-6), "{kl:?}"); // ½·μ²·4 dims
    }

    #[test]
    fn reparameterisation_has_the_posterior_statistics() {
        let n = 100_000;
        device().seed(11);
        let mu = Tensor::<2>::full([n, 2], 1.5, &device())
            + Tensor::from_data(TensorData::new(vec![0.0f32, -3.0], [1, 2]), &device());
        let log_var = Tensor::<2>::zeros([n, 2], &device())
            + Tensor::from_data(
                TensorData::new(vec![(0.25f32).ln(), (4.0f32).ln()], [1, 2]),
                &device(),
            );
        let z = values(Vae::reparameterize(mu, log_var));
        for (d, (want_mean, want_std)) in [(1.5f64, 0.5f64), (-1.5, 2.0)].into_iter().enumerate() {
            let col: Vec<f64> = z.iter().skip(d).step_by(2).map(|&v| v as f64).collect();
            let mean = col.iter().sum::<f64>() / n as f64;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
            assert!((mean - want_mean).abs() < 0.03, "dim {d}: mean {mean}");
            assert!(
                (var.sqrt() - want_std).abs() < 0.03,
                "dim {d}: std {}",
                var.sqrt()
            );
        }
    }

    #[test]
    fn perfect_reconstruction_of_a_binary_image_costs_almost_nothing() {
        // Logits of ±30 give p within 1e-13 of the binary targets.
        let targets = Tensor::<2>::from_data(
            TensorData::new(vec![0.0f32, 1.0, 1.0, 0.0, 1.0, 0.0], [1, 6]),
            &device(),
        );
        let logits = (targets.clone() * 2.0 - 1.0) * 30.0;
        let loss = values(bce_with_logits(logits, targets.clone()))[0];
        assert!((0.0..1e-6).contains(&loss), "loss {loss}");

        // A grey pixel can't be reconstructed for free: its floor is its own entropy.
        let grey = Tensor::<2>::full([1, 1], 0.5, &device());
        let loss = values(bce_with_logits(Tensor::zeros([1, 1], &device()), grey))[0];
        assert!((loss - std::f32::consts::LN_2).abs() < 1e-6, "loss {loss}");

        // And a wrong guess is expensive.
        let wrong = values(bce_with_logits(
            -(targets.clone() * 2.0 - 1.0) * 30.0,
            targets,
        ))[0];
        assert!(wrong > 170.0, "wrong {wrong}");
    }

    #[test]
    fn parameter_count_matches_the_model_and_bounds_untrusted_configs() {
        let mlp = VaeConfig::new(20, vec![400]);
        let conv = VaeConfig::new(4, vec![32]).with_channels(vec![8, 16]);
        for config in [mlp, conv] {
            assert_eq!(
                config.parameter_count(),
                config.init(&device()).num_params()
            );
        }
        // Each size in range, the product far too big: refused before anything is allocated.
        let huge = VaeConfig::new(1024, vec![8192; 8])
            .with_image_height(1024)
            .with_image_width(1024);
        assert!(huge.validate().unwrap_err().contains("parameters"));
        let overflow = VaeConfig::new(2, vec![8])
            .with_image_height(1 << 40)
            .with_image_width(1 << 40);
        assert!(overflow.validate().unwrap_err().contains("image size"));
    }
}
