//! The packed layers against the plain definition and against burn's forward pass.

use super::*;
use crate::model::VaeConfig;
use burn::tensor::{Device, Tensor, TensorData};

fn numbers(n: usize, seed: u32) -> Vec<f32> {
    (0..n as u32)
        .map(|i| ((i.wrapping_mul(2654435761).wrapping_add(seed) >> 8) % 1000) as f32 / 500.0 - 1.0)
        .collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn weights(inputs: usize, outputs: usize, w: &[f32], b: &[f32], a: Activation) -> DenseWeights {
    DenseWeights {
        inputs,
        outputs,
        activation: a,
        weight: w.to_vec(),
        bias: b.to_vec(),
    }
}

#[test]
fn layer_matches_the_definition_for_ragged_sizes() {
    // Widths that are not whole panels and batches that are not whole tiles.
    for (inputs, outputs, batch) in [(3, 5, 1), (7, 9, 2), (16, 8, 4), (5, 17, 7), (2, 1, 3)] {
        let w = numbers(inputs * outputs, 1);
        let b = numbers(outputs, 2);
        let x = numbers(batch * inputs, 3);
        for activation in [Activation::Identity, Activation::Relu, Activation::Sigmoid] {
            let plain = weights(inputs, outputs, &w, &b, activation);
            let got = PackedLayer::new(&plain).unwrap().forward(&x, batch);
            let want: Vec<f32> = x
                .chunks(inputs)
                .flat_map(|row| plain.forward_row(row))
                .collect();
            assert!(
                max_diff(&got, &want) < 1e-5,
                "{inputs}×{outputs}, batch {batch}, {activation:?}"
            );
        }
    }
}

#[test]
fn bad_shapes_are_errors() {
    let relu = Activation::Relu;
    assert!(PackedLayer::new(&weights(2, 3, &[0.0; 5], &[0.0; 3], relu)).is_err());
    assert!(PackedLayer::new(&weights(2, 3, &[0.0; 6], &[0.0; 2], relu)).is_err());
    let a = PackedLayer::new(&weights(2, 3, &[0.0; 6], &[0.0; 3], relu)).unwrap();
    let b = PackedLayer::new(&weights(4, 1, &[0.0; 4], &[0.0; 1], relu)).unwrap();
    assert!(PackedStack::new(vec![a, b]).is_err());
}

#[test]
fn decoder_and_encoder_match_burn() {
    let device = Device::flex();
    let vae = VaeConfig::new(5, vec![24, 12]).init(&device);
    let packed = PackedModel::new(&vae).unwrap().expect("an MLP packs");
    let batch = 6;
    let z = numbers(batch * 5, 4);
    let values = |t: Tensor<2>| t.into_data().try_into_vec::<f32>().unwrap();
    let want = values(vae.decoder.forward(Tensor::from_data(
        TensorData::new(z.clone(), [batch, 5]),
        &device,
    )));
    assert!(max_diff(&packed.decoder.forward(&z, batch), &want) < 1e-5);

    let x: Vec<f32> = numbers(batch * 784, 5).iter().map(|v| v.abs()).collect();
    let (mu, log_var) = vae.encoder.forward(Tensor::from_data(
        TensorData::new(x.clone(), [batch, 784]),
        &device,
    ));
    let (m, l) = packed.encoder.forward(&x, batch);
    assert!(max_diff(&m, &values(mu)) < 1e-4);
    assert!(max_diff(&l, &values(log_var)) < 1e-4);

    let conv = VaeConfig::new(3, vec![])
        .with_channels(vec![4])
        .init(&device);
    assert!(PackedModel::new(&conv).unwrap().is_none());
}
