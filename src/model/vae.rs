//! The model: encoder, decoder and the reparameterised sample between them.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Distribution, Tensor};

use super::config::{KERNEL, VaeConfig};
use super::loss::{bce_with_logits, kl_divergence};

impl VaeConfig {
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

    /// For an encoder without convolutions: its hidden layers, then the μ and log σ² heads
    /// (with their activations in [`super::dense::encoder_layers`]).
    pub(super) fn mlp_layers(&self) -> Option<(&[Linear], &Linear, &Linear)> {
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

    /// The layers of a fully connected decoder, input side first (with their activations in
    /// [`super::dense::decoder_layers`]); `None` for a convolutional decoder.
    pub(super) fn mlp_layers(&self) -> Option<Vec<&Linear>> {
        self.deconvs
            .is_empty()
            .then(|| self.layers.iter().chain([&self.output]).collect())
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
