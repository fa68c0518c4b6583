//! The textbook variational autoencoder (Kingma & Welling, 2014).
//!
//! encoder: x → (μ, log σ²) of q(z|x) = N(μ, diag σ²)
//! reparameterisation: z = μ + σ ⊙ ε, ε ~ N(0, I)
//! decoder: z → Bernoulli means p(x|z) (a sigmoid over logits)
//! loss (negative ELBO, nats per image) = BCE reconstruction + KL(q(z|x) ‖ N(0, I))

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Distribution, Tensor};

/// Fixes the shape of a model: image size, hidden layer sizes and latent size.
#[derive(Config, Debug, PartialEq)]
pub struct VaeConfig {
    /// Number of latent dimensions (the length of z).
    pub latent_dim: usize,
    /// Hidden layer widths of the encoder, input side first; the decoder mirrors them.
    pub hidden: Vec<usize>,
    /// Image height in pixels.
    #[config(default = 28)]
    pub image_height: usize,
    /// Image width in pixels.
    #[config(default = 28)]
    pub image_width: usize,
}

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
        if self.image_height == 0 || self.image_width == 0 || self.pixels() > 1 << 20 {
            return Err(format!(
                "image size {}×{} is not supported",
                self.image_height, self.image_width
            ));
        }
        if self.hidden.is_empty() || self.hidden.len() > 8 {
            return Err(format!(
                "expected 1 to 8 hidden layers, got {}",
                self.hidden.len()
            ));
        }
        if let Some(w) = self.hidden.iter().find(|&&w| w == 0 || w > 8192) {
            return Err(format!("hidden layer width {w} is out of range 1..=8192"));
        }
        Ok(())
    }

    /// Builds a freshly initialised model. Call [`VaeConfig::validate`] first for untrusted configs.
    pub fn init(&self, device: &Device) -> Vae {
        let mut widths = vec![self.pixels()];
        widths.extend(&self.hidden);
        let encoder_layers = linear_stack(&widths, device);
        let last = *widths.last().expect("widths starts with the pixel count");
        let encoder = Encoder {
            layers: encoder_layers,
            mu: LinearConfig::new(last, self.latent_dim).init(device),
            log_var: LinearConfig::new(last, self.latent_dim).init(device),
        };

        let mut widths = vec![self.latent_dim];
        widths.extend(self.hidden.iter().rev());
        let decoder = Decoder {
            layers: linear_stack(&widths, device),
            output: LinearConfig::new(self.hidden[0], self.pixels()).init(device),
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
    layers: Vec<Linear>,
    mu: Linear,
    log_var: Linear,
}

impl Encoder {
    /// `images`: `[batch, pixels]` in [0, 1]. Returns `(mu, log_var)`, each `[batch, latent]`.
    pub fn forward(&self, images: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let h = self
            .layers
            .iter()
            .fold(images, |h, layer| relu(layer.forward(h)));
        (self.mu.forward(h.clone()), self.log_var.forward(h))
    }

    /// Latent size (the width of μ).
    pub fn latent_dim(&self) -> usize {
        self.mu.weight.val().dims()[1]
    }

    /// Input size in pixels.
    pub fn pixels(&self) -> usize {
        let first = self.layers.first().unwrap_or(&self.mu);
        first.weight.val().dims()[0]
    }
}

/// Maps a latent code to per-pixel Bernoulli means p(x|z).
#[derive(Module, Debug)]
pub struct Decoder {
    layers: Vec<Linear>,
    output: Linear,
}

impl Decoder {
    /// Pre-sigmoid logits, `[batch, pixels]`: what the loss uses, for numerical stability.
    pub fn logits(&self, z: Tensor<2>) -> Tensor<2> {
        let h = self
            .layers
            .iter()
            .fold(z, |h, layer| relu(layer.forward(h)));
        self.output.forward(h)
    }

    /// Bernoulli means in [0, 1], `[batch, pixels]`: the image the page shows.
    pub fn forward(&self, z: Tensor<2>) -> Tensor<2> {
        sigmoid(self.logits(z))
    }
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
/// never takes the log of 0.
pub fn bce_with_logits(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let per_pixel = relu(logits.clone()) - logits.clone() * targets + (-logits.abs()).exp().log1p();
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
}
