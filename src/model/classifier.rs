//! A small digit classifier for the page's "looks like a 7" readout: a fully connected network
//! over the image's pixels, ReLU between layers, class logits out. `vae classifier` trains it
//! and stores it in a bundle beside the VAE.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// The classifier's shape: `inputs` pixels → `hidden` widths → `classes` logits.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierConfig {
    pub inputs: usize,
    pub hidden: Vec<usize>,
    pub classes: usize,
}

/// Limits that keep an untrusted manifest from asking for an absurd network.
const MAX_WIDTH: usize = 4096;
const MAX_LAYERS: usize = 4;
const MAX_CLASSES: usize = 1000;

impl ClassifierConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(2..=MAX_CLASSES).contains(&self.classes) {
            return Err(format!(
                "a classifier needs 2 to {MAX_CLASSES} classes, not {}",
                self.classes
            ));
        }
        if self.hidden.len() > MAX_LAYERS {
            return Err(format!(
                "a classifier has at most {MAX_LAYERS} hidden layers, not {}",
                self.hidden.len()
            ));
        }
        if self.inputs == 0 || self.hidden.iter().any(|&w| w == 0 || w > MAX_WIDTH) {
            return Err(format!("hidden widths must be 1 to {MAX_WIDTH}"));
        }
        Ok(())
    }

    /// A freshly initialised classifier. Call [`ClassifierConfig::validate`] first.
    pub fn init(&self, device: &Device) -> Classifier {
        let mut widths = vec![self.inputs];
        widths.extend(&self.hidden);
        widths.push(self.classes);
        Classifier {
            layers: widths
                .windows(2)
                .map(|w| LinearConfig::new(w[0], w[1]).init(device))
                .collect(),
        }
    }
}

#[derive(Module, Debug)]
pub struct Classifier {
    layers: Vec<Linear>,
}

impl Classifier {
    /// Class logits for `[n, pixels]` images in [0, 1].
    pub fn logits(&self, x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x, |h, (i, layer)| {
            let h = layer.forward(h);
            if i == last { h } else { relu(h) }
        })
    }

    pub(super) fn layers(&self) -> &[Linear] {
        &self.layers
    }
}
