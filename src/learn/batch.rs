//! Between the dataset and burn: images as tensors, tensors back as numbers.

use burn::tensor::{Device, Tensor, TensorData};

use super::idx::IdxDataset;
use crate::model::Vae;

/// The model and the dataset agree on the image size.
pub fn check_image_size(vae: &Vae, data: &IdxDataset) -> Result<(), String> {
    if data.pixels() != vae.encoder.pixels() {
        return Err(format!(
            "the model expects {}-pixel images but the data has {}×{}",
            vae.encoder.pixels(),
            data.rows,
            data.cols
        ));
    }
    Ok(())
}

/// Images `indices` of `data` as a `[n, pixels]` tensor in [0, 1].
pub fn batch(data: &IdxDataset, indices: &[usize], device: &Device) -> Tensor<2> {
    let pixels = data.batch_f32(indices);
    Tensor::from_data(
        TensorData::new(pixels, [indices.len(), data.pixels()]),
        device,
    )
}

/// A tensor's values (empty if it does not hold f32s).
pub fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().try_to_vec::<f32>().unwrap_or_default()
}

/// A one-element tensor's value (NaN if empty).
pub fn scalar(tensor: Tensor<1>) -> f64 {
    values(tensor).first().copied().unwrap_or(f32::NAN) as f64
}
