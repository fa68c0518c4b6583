//! A bundle's architecture as the manifest names it, and in words for messages.

use serde::{Deserialize, Serialize};

use super::ImageSize;
use crate::model::VaeConfig;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Architecture {
    /// Fully connected encoder and mirrored decoder with ReLU between layers.
    Mlp { hidden: Vec<usize> },
    /// Stride-2 convolutions (4×4 kernels) with these output channels, then fully connected
    /// layers to z; the decoder mirrors it with transposed convolutions.
    Conv {
        channels: Vec<usize>,
        hidden: Vec<usize>,
    },
}

impl Architecture {
    /// `(channels, hidden)`: convolution channels (empty for an MLP) and fully connected widths.
    pub fn layers(&self) -> (&[usize], &[usize]) {
        match self {
            Architecture::Mlp { hidden } => (&[], hidden),
            Architecture::Conv { channels, hidden } => (channels, hidden),
        }
    }

    /// The architecture for a model config.
    pub fn of(config: &VaeConfig) -> Architecture {
        if config.channels.is_empty() {
            Architecture::Mlp {
                hidden: config.hidden.clone(),
            }
        } else {
            Architecture::Conv {
                channels: config.channels.clone(),
                hidden: config.hidden.clone(),
            }
        }
    }

    /// One line in words, e.g. "MLP 784 → 256 → 16" or "conv 1 → 32 → 64 channels, 3136 → 16".
    pub fn describe(&self, image: &ImageSize, latent_dim: usize) -> String {
        let arrows = |v: &[usize]| {
            v.iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join(" → ")
        };
        let pixels = image.width * image.height;
        match self {
            Architecture::Mlp { hidden } => {
                let mut widths = vec![pixels];
                widths.extend(hidden);
                widths.push(latent_dim);
                format!("MLP {}", arrows(&widths))
            }
            Architecture::Conv { channels, hidden } => {
                let mut chans = vec![1];
                chans.extend(channels);
                let scale = 1 << channels.len();
                let flat = channels.last().copied().unwrap_or(1) * pixels / (scale * scale);
                let mut widths = vec![flat];
                widths.extend(hidden);
                widths.push(latent_dim);
                format!(
                    "conv {} channels (4×4, stride 2), then {}",
                    arrows(&chans),
                    arrows(&widths)
                )
            }
        }
    }
}
