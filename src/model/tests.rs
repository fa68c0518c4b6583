//! The model's unit tests: shapes, the loss terms against their definitions, config checks.

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor, TensorData};

use super::*;

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
fn dense_description_computes_the_decoder() {
    let vae = VaeConfig::new(3, vec![16, 8]).init(&device());
    let layers: Vec<DenseWeights> = decoder_layers(&vae.decoder)
        .expect("an MLP decoder has a dense description")
        .iter()
        .map(|d| d.weights().unwrap())
        .collect();
    let shapes: Vec<_> = layers
        .iter()
        .map(|l| (l.inputs, l.outputs, l.activation))
        .collect();
    assert_eq!(
        shapes,
        [
            (3, 8, Activation::Relu),
            (8, 16, Activation::Relu),
            (16, 784, Activation::Sigmoid)
        ]
    );
    // The plain-number decoder gives what burn's forward pass gives.
    let z = [0.5f32, -1.25, 2.0];
    let h = layers.iter().fold(z.to_vec(), |h, l| l.forward_row(&h));
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
    assert!(decoder_layers(&conv.decoder).is_none());
    assert!(encoder_layers(&conv.encoder).is_none());
}

#[test]
fn dense_description_computes_the_encoder() {
    let vae = VaeConfig::new(3, vec![16, 8]).init(&device());
    let layers = encoder_layers(&vae.encoder).expect("an MLP encoder has a dense description");
    let weights = |d: &Dense| d.weights().unwrap();
    assert!(
        layers
            .hidden
            .iter()
            .all(|d| d.activation == Activation::Relu)
    );
    assert_eq!(layers.mu.activation, Activation::Identity);
    assert_eq!(layers.log_var.activation, Activation::Identity);
    let x: Vec<f32> = (0..784).map(|i| (i % 7) as f32 / 7.0).collect();
    let h = layers
        .hidden
        .iter()
        .fold(x.clone(), |h, d| weights(d).forward_row(&h));
    let images = Tensor::<2>::from_data(TensorData::new(x, [1, 784]), &device());
    let (mu, log_var) = vae.encoder.forward(images);
    for (head, want) in [(&layers.mu, mu), (&layers.log_var, log_var)] {
        let got = weights(head).forward_row(&h);
        let err = got
            .iter()
            .zip(&values(want))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-4, "max abs error {err}");
    }
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
