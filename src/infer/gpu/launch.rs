//! Runs a fully connected model's layers on WebGPU as one fused kernel each ([`super::kernel`]),
//! in place of burn's matmul, bias add and activation (several dispatches per layer, and a
//! general matmul that is slow on small batches). The layers and their activations come from
//! the model's dense description; the weights stay on the GPU between calls, as burn loaded them.

use burn::backend::Cube;
use burn::backend::wgpu::CubeTensor;
use burn::tensor::{DType, Shape, Tensor};
use cubecl::prelude::*;

use super::kernel::{DenseShapeLaunch, IDENTITY, RELU, SIGMOID, dense_kernel};
use crate::model::{Activation, Decoder, Dense, Encoder, decoder_layers, encoder_layers};

/// Batch rows per invocation: one for a single image (no wasted rows), four for batches so each
/// weight load serves four rows (eight gained nothing when timed). The kernel supports these
/// two.
fn rows_per_invocation(batch: usize) -> usize {
    if batch < 4 { 1 } else { 4 }
}
/// Invocations per workgroup, along the outputs.
const WORKGROUP: u32 = 64;

/// The activation as the kernel's comptime code.
fn code(activation: Activation) -> u32 {
    match activation {
        Activation::Identity => IDENTITY,
        Activation::Relu => RELU,
        Activation::Sigmoid => SIGMOID,
    }
}

/// The decoder's Bernoulli means through the fused kernels, or `None` when this path does not
/// apply (a convolutional decoder, a tensor not on WebGPU, an unexpected layout); the caller
/// then runs burn's own ops, which compute the same numbers.
pub fn decode(decoder: &Decoder, z: &Tensor<2>) -> Option<Tensor<2>> {
    let mut h = cube_tensor(z.clone())?;
    for layer in decoder_layers(decoder)? {
        h = dense(h, &layer)?;
    }
    Some(Tensor::from_primitive::<Cube>(h))
}

/// The posterior's `(μ, log σ²)` through the fused kernels, or `None` as for [`decode`].
pub fn encode(encoder: &Encoder, x: &Tensor<2>) -> Option<(Tensor<2>, Tensor<2>)> {
    let layers = encoder_layers(encoder)?;
    let mut h = cube_tensor(x.clone())?;
    for layer in &layers.hidden {
        h = dense(h, layer)?;
    }
    let mu = dense(h.clone(), &layers.mu)?;
    let log_var = dense(h, &layers.log_var)?;
    Some((
        Tensor::from_primitive::<Cube>(mu),
        Tensor::from_primitive::<Cube>(log_var),
    ))
}

fn cube_tensor<const D: usize>(tensor: Tensor<D>) -> Option<CubeTensor> {
    let t = tensor.try_into_primitive::<Cube>().ok()?;
    (t.dtype == DType::F32 && t.is_contiguous() && !t.meta.is_tiled()).then_some(t)
}

/// One layer, `act(h · W + b)`, as one dispatch.
fn dense(h: CubeTensor, layer: &Dense) -> Option<CubeTensor> {
    let w = cube_tensor(layer.linear.weight.val())?;
    let b = cube_tensor(layer.linear.bias.as_ref()?.val())?;
    let [batch, inputs] = h.meta.shape().dims();
    let [w_inputs, outputs] = w.meta.shape().dims();
    if w_inputs != inputs || b.meta.shape().num_elements() != outputs || batch == 0 {
        return None;
    }
    let vector = if outputs.is_multiple_of(4) { 4 } else { 1 };
    let columns = outputs / vector;
    let client = h.client.clone();
    let handle = client.empty(batch * outputs * size_of::<f32>());
    let out = CubeTensor::new_contiguous(
        client.clone(),
        h.device.clone(),
        Shape::new([batch, outputs]),
        handle,
        DType::F32,
    );
    let rows = rows_per_invocation(batch);
    let cube_count = CubeCount::Static(
        columns.div_ceil(WORKGROUP as usize) as u32,
        batch.div_ceil(rows) as u32,
        1,
    );
    // Safety: every index the kernel forms is in bounds for the shapes checked above — rows are
    // clamped to the batch, columns to `columns`, and `k` to `inputs`.
    unsafe {
        dense_kernel::launch_unchecked::<f32>(
            &client,
            cube_count,
            CubeDim::new_2d(WORKGROUP, 1),
            vector,
            h.into_buffer_arg(),
            w.into_buffer_arg(),
            b.into_buffer_arg(),
            out.clone().into_buffer_arg(),
            DenseShapeLaunch::new(batch, inputs, columns),
            rows,
            code(layer.activation),
        );
    }
    Some(out)
}
