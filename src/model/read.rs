//! Tensors back into memory: one asynchronous read for every caller (a page cannot block on
//! WebGPU), and the reason in words when it fails.

use burn::tensor::Tensor;

/// The values of `tensor` as f32, or why they could not be read (on WebGPU: a lost device, a
/// failed map).
pub async fn floats<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, String> {
    let data = tensor.into_data_async().await.map_err(|e| {
        // burn chains causes and a backtrace note; the innermost cause is the one that says why.
        let full = format!("{e:?}");
        let cause = full.rsplit("Caused by:").next().unwrap_or(&full);
        let cause = cause.split("Backtrace:").next().unwrap_or(cause).trim();
        format!("the result could not be read back ({cause})")
    })?;
    data.convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| format!("unexpected tensor data: {e:?}"))
}
