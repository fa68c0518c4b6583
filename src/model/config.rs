//! The shape of a model and the checks that keep an untrusted one (a manifest from the network)
//! from becoming a panic or a huge allocation.

use burn::config::Config;

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

/// Side of every convolution kernel (4×4, stride 2: each layer halves the image).
pub(super) const KERNEL: usize = 4;
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
    pub(super) fn features(&self) -> [usize; 3] {
        let scale = 1 << self.channels.len();
        [
            self.channels.last().copied().unwrap_or(1),
            self.image_height / scale,
            self.image_width / scale,
        ]
    }
}
