//! The one description of a fully connected stack: which `Linear` layers run in which order and
//! what follows each. The CPU packed layers, the WebGPU fused kernels and the decoder export all
//! read it, so the rule is written once:
//!
//! - decoder: ReLU between layers, sigmoid after the last (Bernoulli means);
//! - encoder: ReLU after each hidden layer, identity after the μ and log σ² heads;
//! - classifier: ReLU between layers, identity after the last (logits).
//!
//! burn's own forward pass (`Encoder::forward`, `Decoder::forward`) is the reference the tests
//! hold this description to.

use burn::nn::Linear;
use burn::tensor::Tensor;
use serde::Serialize;

use super::classifier::Classifier;
use super::vae::{Decoder, Encoder};

/// What follows a layer's affine map `h · W + b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Identity,
    Relu,
    Sigmoid,
}

impl Activation {
    /// The activation of one value: the definition the fast paths are tested against.
    pub fn apply(self, v: f32) -> f32 {
        match self {
            Activation::Identity => v,
            Activation::Relu => v.max(0.0),
            Activation::Sigmoid => 1.0 / (1.0 + (-v).exp()),
        }
    }
}

/// One fully connected layer of a model and the activation after it.
#[derive(Clone, Copy, Debug)]
pub struct Dense<'a> {
    pub linear: &'a Linear,
    pub activation: Activation,
}

/// A fully connected encoder: hidden layers, then two heads on the last hidden output.
#[derive(Clone, Debug)]
pub struct EncoderLayers<'a> {
    pub hidden: Vec<Dense<'a>>,
    pub mu: Dense<'a>,
    pub log_var: Dense<'a>,
}

/// A fully connected decoder's layers, input side first; `None` for a convolutional one.
pub fn decoder_layers(decoder: &Decoder) -> Option<Vec<Dense<'_>>> {
    let layers = decoder.mlp_layers()?;
    let last = layers.len() - 1;
    let activation = |i| {
        if i == last {
            Activation::Sigmoid
        } else {
            Activation::Relu
        }
    };
    Some(
        layers
            .into_iter()
            .enumerate()
            .map(|(i, linear)| Dense {
                linear,
                activation: activation(i),
            })
            .collect(),
    )
}

/// A classifier's layers, input side first.
pub fn classifier_layers(classifier: &Classifier) -> Vec<Dense<'_>> {
    let layers = classifier.layers();
    let last = layers.len().saturating_sub(1);
    layers
        .iter()
        .enumerate()
        .map(|(i, linear)| Dense {
            linear,
            activation: if i == last {
                Activation::Identity
            } else {
                Activation::Relu
            },
        })
        .collect()
}

/// A fully connected encoder's layers; `None` for a convolutional one.
pub fn encoder_layers(encoder: &Encoder) -> Option<EncoderLayers<'_>> {
    let (hidden, mu, log_var) = encoder.mlp_layers()?;
    let head = |linear| Dense {
        linear,
        activation: Activation::Identity,
    };
    Some(EncoderLayers {
        hidden: hidden
            .iter()
            .map(|linear| Dense {
                linear,
                activation: Activation::Relu,
            })
            .collect(),
        mu: head(mu),
        log_var: head(log_var),
    })
}

/// One layer as plain numbers: what the CPU path packs and `vae export-decoder` writes (for
/// the benchmark's other runtimes).
#[derive(Debug, Clone, Serialize)]
pub struct DenseWeights {
    pub inputs: usize,
    pub outputs: usize,
    pub activation: Activation,
    /// Row-major `[inputs, outputs]`, as burn's `Linear` stores it.
    pub weight: Vec<f32>,
    /// Zeros for a layer without a bias.
    pub bias: Vec<f32>,
}

impl Dense<'_> {
    /// Reads the layer's parameters. Blocking: call it on the CPU device (the page packs its
    /// CPU layers this way; a WebGPU read must be async).
    pub fn weights(&self) -> Result<DenseWeights, String> {
        let [inputs, outputs] = self.linear.weight.val().dims();
        let values = |t: Tensor<1>| {
            t.into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .map_err(|e| format!("unreadable layer parameters: {e:?}"))
        };
        let weight = values(self.linear.weight.val().flatten(0, 1))?;
        let bias = match &self.linear.bias {
            Some(b) => values(b.val())?,
            None => vec![0.0; outputs],
        };
        Ok(DenseWeights {
            inputs,
            outputs,
            activation: self.activation,
            weight,
            bias,
        })
    }
}

impl DenseWeights {
    /// `act(h · W + b)` for one input row, plainly: the reference for the fast paths' tests.
    pub fn forward_row(&self, h: &[f32]) -> Vec<f32> {
        (0..self.outputs)
            .map(|j| {
                let sum: f32 = (0..self.inputs)
                    .map(|k| h[k] * self.weight[k * self.outputs + j])
                    .sum();
                self.activation.apply(self.bias[j] + sum)
            })
            .collect()
    }
}
