//! How good a model is on a test set: the loss as trained, per-dimension KL and slider ranges,
//! and the tighter importance-sampled −log p(x).

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};

use super::batch::{batch, check_image_size, scalar, values};
use super::idx::IdxDataset;
use crate::bundle::{LatentStats, LikelihoodStats, Metrics};
use crate::model::{Vae, bce_with_logits, kl_per_dimension};

/// Test-set figures of a model, nats per image.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub recon: f64,
    pub kl: f64,
    pub images: usize,
    pub kl_per_dim: Vec<f64>,
    pub latent: Vec<LatentStats>,
}

impl Evaluation {
    pub fn loss(&self) -> f64 {
        self.recon + self.kl
    }
}

/// The manifest's figures, rounded to 0.001 nats.
pub fn metrics(evaluation: &Evaluation) -> Metrics {
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    Metrics {
        test_loss_nats: round(evaluation.loss()),
        recon_nats: round(evaluation.recon),
        kl_nats: round(evaluation.kl),
        images: evaluation.images,
    }
}

/// Test loss (one z sample per image, as in the training objective), per-dimension KL and the
/// distribution of μ over the set — what the page uses for slider ranges.
pub fn evaluate(vae: &Vae, data: &IdxDataset, seed: u64) -> Result<Evaluation, String> {
    let device = Device::flex();
    let vae = vae.clone().to_device(&device);
    device.seed(seed ^ 0x5eed);
    let latent_dim = vae.encoder.latent_dim();
    check_image_size(&vae, data)?;
    let (mut recon, mut kl) = (0.0, 0.0);
    let mut kl_dims = vec![0.0; latent_dim];
    let mut mus: Vec<Vec<f32>> = vec![Vec::with_capacity(data.count); latent_dim];
    let indices: Vec<usize> = (0..data.count).collect();
    for chunk in indices.chunks(500) {
        let out = vae.forward(batch(data, chunk, &device));
        recon += scalar(out.recon.sum());
        kl += scalar(out.kl.sum());
        let per_dim = kl_per_dimension(out.mu.clone(), out.log_var).sum_dim(0);
        for (acc, v) in kl_dims.iter_mut().zip(values(per_dim)) {
            *acc += v as f64;
        }
        for (i, v) in values(out.mu).into_iter().enumerate() {
            mus[i % latent_dim].push(v);
        }
    }
    let n = data.count as f64;
    let kl_per_dim: Vec<f64> = kl_dims.iter().map(|v| v / n).collect();
    let latent = mus
        .into_iter()
        .zip(&kl_per_dim)
        .map(|(mu, &kl_nats)| latent_stats(mu, kl_nats))
        .collect();
    Ok(Evaluation {
        recon: recon / n,
        kl: kl / n,
        images: data.count,
        kl_per_dim,
        latent,
    })
}

/// Slider range: the central 99.8 % of the test-set μ, widened to at least ±3 so that prior
/// samples fit too. A dimension is active when μ varies across the data (Var > 0.01, the
/// "active units" criterion of Burda et al. 2016).
fn latent_stats(mut mu: Vec<f32>, kl_nats: f64) -> LatentStats {
    let n = mu.len().max(1) as f64;
    let mean = mu.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = mu.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    mu.sort_by(f32::total_cmp);
    let quantile = |q: f64| {
        mu.get(((mu.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0) as f64
    };
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    LatentStats {
        mu_mean: round(mean),
        mu_std: round(var.sqrt()),
        slider_min: round(quantile(0.001).min(-3.0)),
        slider_max: round(quantile(0.999).max(3.0)),
        kl_nats: round(kl_nats),
        active: var > 0.01,
    }
}

/// Importance-sampled estimate of −log p(x), nats per image, over the first `images` images:
/// log p(x) ≈ log (1/k) Σ_k p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q(z|x) (Burda et al. 2016).
/// Tighter than the ELBO the loss reports; k = 1 gives back a one-sample ELBO.
pub fn importance_sampled_nll(
    vae: &Vae,
    data: &IdxDataset,
    k: usize,
    images: usize,
    seed: u64,
) -> Result<f64, String> {
    let each = per_image_nll(vae, data, k, images, seed)?;
    Ok(each.iter().sum::<f64>() / each.len() as f64)
}

/// The importance-sampled −log p(x) of each of the first `images` images, nats.
pub fn per_image_nll(
    vae: &Vae,
    data: &IdxDataset,
    k: usize,
    images: usize,
    seed: u64,
) -> Result<Vec<f64>, String> {
    if k == 0 || images == 0 {
        return Err("importance sampling needs k ≥ 1 samples and at least one image".into());
    }
    let device = Device::flex();
    let vae = vae.clone().to_device(&device);
    device.seed(seed ^ 0x15);
    let images = images.min(data.count);
    let latent = vae.encoder.latent_dim();
    let log_2pi = (2.0 * std::f64::consts::PI).ln() as f32;
    // Rows per forward pass: images × k samples, about 32k rows at a time.
    let per_chunk = (32_768 / k).max(1);
    let indices: Vec<usize> = (0..images).collect();
    let mut each = Vec::with_capacity(images);
    for chunk in indices.chunks(per_chunk) {
        let b = chunk.len();
        let x = batch(data, chunk, &device);
        let (mu, log_var) = vae.encoder.forward(x.clone());
        let repeat = |t: Tensor<2>, width: usize| -> Tensor<2> {
            t.unsqueeze_dim::<3>(1)
                .repeat_dim(1, k)
                .reshape([b * k, width])
        };
        let (mu, log_var) = (repeat(mu, latent), repeat(log_var, latent));
        let x = repeat(x, data.pixels());
        let eps = Tensor::<2>::random([b * k, latent], Distribution::Normal(0.0, 1.0), &device);
        let z = mu + (log_var.clone() * 0.5).exp() * eps.clone();
        let log_px_z = -bce_with_logits(vae.decoder.logits(z.clone()), x);
        let log_pz = ((z.powi_scalar(2) + log_2pi) * -0.5)
            .sum_dim(1)
            .squeeze_dim(1);
        let log_qz = ((eps.powi_scalar(2) + log_var + log_2pi) * -0.5)
            .sum_dim(1)
            .squeeze_dim(1);
        let log_w = values(log_px_z + log_pz - log_qz);
        for w in log_w.chunks(k) {
            let max = w.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let sum: f64 = w.iter().map(|&v| (v as f64 - max).exp()).sum();
            each.push(-(max + sum.ln() - (k as f64).ln()));
        }
    }
    Ok(each)
}

/// The percentiles (0, 1, …, 100) of per-image −log p(x) estimated with `k` samples each, for
/// the page's "more typical than 73 % of test digits".
pub fn likelihood_stats(mut each: Vec<f64>, k: usize) -> Result<LikelihoodStats, String> {
    if each.is_empty() || !each.iter().all(|v| v.is_finite()) {
        return Err("the test images' −log p(x) are not all finite numbers".into());
    }
    each.sort_by(f64::total_cmp);
    let last = (each.len() - 1) as f64;
    let quantiles = (0..=100)
        .map(|p| {
            // Linear between the two nearest order statistics.
            let at = last * p as f64 / 100.0;
            let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
            let v = each[lo] + (each[hi] - each[lo]) * (at - lo as f64);
            (v * 100.0).round() / 100.0
        })
        .collect();
    Ok(LikelihoodStats {
        samples: k,
        images: each.len(),
        quantiles,
    })
}

#[cfg(test)]
mod tests {
    use super::likelihood_stats;

    #[test]
    fn percentiles_interpolate_between_order_statistics() {
        let stats = likelihood_stats((0..=200).rev().map(f64::from).collect(), 64).unwrap();
        assert_eq!(stats.quantiles.len(), 101);
        assert_eq!(stats.quantiles[0], 0.0);
        assert_eq!(stats.quantiles[50], 100.0);
        assert_eq!(stats.quantiles[73], 146.0);
        assert_eq!(stats.quantiles[100], 200.0);
        let two = likelihood_stats(vec![10.0, 20.0], 1).unwrap();
        assert_eq!(two.quantiles[25], 12.5);
        assert!(likelihood_stats(vec![], 1).is_err());
        assert!(likelihood_stats(vec![1.0, f64::NAN], 1).is_err());
    }
}
