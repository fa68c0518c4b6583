//! The two terms of the negative ELBO, in nats per image.

use burn::tensor::Tensor;
use burn::tensor::activation::relu;

/// Binary cross-entropy −Σ [x log p + (1−x) log(1−p)] with p = sigmoid(logits), summed over
/// pixels: nats per image, `[batch]`. Written as max(l,0) − x·l + log(1 + e^−|l|) so that it
/// never takes the log of 0. `log` rather than `log1p`: its argument is in [1, 2], where the two
/// agree to f32 precision, and the CPU backend's `log` is vectorised where `log1p` is not.
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
