//! The textbook variational autoencoder (Kingma & Welling, 2014).
//!
//! encoder: x → (μ, log σ²) of q(z|x) = N(μ, diag σ²)
//! reparameterisation: z = μ + σ ⊙ ε, ε ~ N(0, I)
//! decoder: z → Bernoulli means p(x|z) (a sigmoid over logits)
//! loss (negative ELBO, nats per image) = BCE reconstruction + KL(q(z|x) ‖ N(0, I))
//!
//! The bottom of the crate: it imports nothing else from it.

mod classifier;
mod config;
mod dense;
mod loss;
pub mod read;
mod vae;

pub use classifier::{Classifier, ClassifierConfig};
pub use config::VaeConfig;
pub use dense::{
    Activation, Dense, DenseWeights, EncoderLayers, classifier_layers, decoder_layers,
    encoder_layers,
};
pub use loss::{bce_with_logits, kl_divergence, kl_per_dimension};
pub use vae::{Decoder, Encoder, Vae, VaeOutput};

#[cfg(test)]
mod tests;
