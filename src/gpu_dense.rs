//! The MLP decoder on WebGPU as one kernel per layer, `act(h · W + b)`, in place of burn's
//! matmul, bias add and activation: three or four dispatches per layer, and a general matmul
//! that is slow on small batches. In `make bench` on SwiftShader this took a batch-1 decode from
//! 52 to about 5 ms and a batch of 256 from 2.7 s to about 0.25 s.
//!
//! One invocation computes `N` neighbouring outputs (a vector of W's row; `N` = 4 when the width
//! allows) for up to four batch rows, so each weight load serves every row and each input load
//! `N` outputs. W is row-major `[inputs, outputs]`, so neighbouring invocations read neighbouring
//! memory. The weights stay on the GPU between calls, as burn loaded them.

use burn::backend::Cube;
use burn::backend::wgpu::CubeTensor;
use burn::nn::Linear;
use burn::tensor::{DType, Shape, Tensor};
use cubecl::prelude::*;

use crate::model::{Decoder, Encoder};

/// Batch rows per invocation: one for a single image (no wasted rows), four for batches so each
/// weight load serves four rows (eight measured no faster in `make bench` on SwiftShader). The
/// kernel supports these two.
fn rows_per_invocation(batch: usize) -> usize {
    if batch < 4 { 1 } else { 4 }
}
/// Invocations per workgroup, along the outputs.
const WORKGROUP: u32 = 64;

#[derive(CubeLaunch, CubeType)]
struct DenseShape {
    batch: usize,
    inputs: usize,
    /// Outputs in vectors of `N`.
    columns: usize,
}

/// What follows the affine map: nothing (μ, log σ²), ReLU (hidden layers), sigmoid (pixels).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Identity,
    Relu,
    Sigmoid,
}

impl Activation {
    /// As the kernel's comptime argument.
    fn code(self) -> u32 {
        match self {
            Activation::Identity => IDENTITY,
            Activation::Relu => RELU,
            Activation::Sigmoid => SIGMOID,
        }
    }
}

const IDENTITY: u32 = 0;
const RELU: u32 = 1;
const SIGMOID: u32 = 2;

#[cube]
fn activate<F: Float, N: Size>(v: Vector<F, N>, #[comptime] activation: u32) -> Vector<F, N> {
    let zero = Vector::broadcast(F::new(0.0));
    if comptime![activation == SIGMOID] {
        let one = Vector::broadcast(F::new(1.0));
        one / (one + Vector::exp(zero - v))
    } else if comptime![activation == RELU] {
        <Vector<F, N> as FloatOps>::max(v, zero)
    } else {
        v
    }
}

#[cube(launch_unchecked)]
fn dense_kernel<F: Float, N: Size>(
    h: &[F],
    w: &[Vector<F, N>],
    bias: &[Vector<F, N>],
    out: &mut [Vector<F, N>],
    shape: DenseShape,
    #[comptime] rows: usize,
    #[comptime] activation: u32,
) {
    let j = ABSOLUTE_POS_X as usize;
    if j >= shape.columns {
        terminate!();
    }
    // One or four rows, in separate registers: the `rows` tests are resolved when the kernel is
    // generated, so a one-row kernel has one accumulator and no dead work.
    let first = ABSOLUTE_POS_Y as usize * rows;
    let last = shape.batch - 1;
    // Rows past the batch read the last row (in bounds) and are not written.
    let h0 = first * shape.inputs;
    let h1 = clamp_max(first + 1, last) * shape.inputs;
    let h2 = clamp_max(first + 2, last) * shape.inputs;
    let h3 = clamp_max(first + 3, last) * shape.inputs;
    let mut a0 = bias[j];
    let mut a1 = a0;
    let mut a2 = a0;
    let mut a3 = a0;
    for k in 0..shape.inputs {
        let wk = w[k * shape.columns + j];
        a0 += Vector::broadcast(h[h0 + k]) * wk;
        if comptime![rows > 1] {
            a1 += Vector::broadcast(h[h1 + k]) * wk;
            a2 += Vector::broadcast(h[h2 + k]) * wk;
            a3 += Vector::broadcast(h[h3 + k]) * wk;
        }
    }
    let o = first * shape.columns + j;
    out[o] = activate::<F, N>(a0, activation);
    if comptime![rows > 1] {
        let c = shape.columns;
        write_row::<F, N>(out, a1, first + 1 < shape.batch, o + c, activation);
        write_row::<F, N>(out, a2, first + 2 < shape.batch, o + 2 * c, activation);
        write_row::<F, N>(out, a3, first + 3 < shape.batch, o + 3 * c, activation);
    }
}

/// Writes one accumulated row at `index` if that row is in the batch.
#[cube]
fn write_row<F: Float, N: Size>(
    out: &mut [Vector<F, N>],
    acc: Vector<F, N>,
    in_batch: bool,
    index: usize,
    #[comptime] activation: u32,
) {
    if in_batch {
        out[index] = activate::<F, N>(acc, activation);
    }
}

/// The decoder's Bernoulli means through the fused kernels, or `None` when this path does not
/// apply (a convolutional decoder, a tensor not on WebGPU, an unexpected layout); the caller
/// then runs burn's own ops, which compute the same numbers.
pub fn decode(decoder: &Decoder, z: &Tensor<2>) -> Option<Tensor<2>> {
    let layers = decoder.mlp_layers()?;
    let last = layers.len() - 1;
    let mut h = cube_tensor(z.clone())?;
    for (i, layer) in layers.into_iter().enumerate() {
        let activation = if i == last {
            Activation::Sigmoid
        } else {
            Activation::Relu
        };
        h = dense(h, layer, activation)?;
    }
    Some(Tensor::from_primitive::<Cube>(h))
}

/// The posterior's `(μ, log σ²)` through the fused kernels, or `None` as for [`decode`].
pub fn encode(encoder: &Encoder, x: &Tensor<2>) -> Option<(Tensor<2>, Tensor<2>)> {
    let (layers, mu, log_var) = encoder.mlp_layers()?;
    let mut h = cube_tensor(x.clone())?;
    for layer in layers {
        h = dense(h, layer, Activation::Relu)?;
    }
    let mu = dense(h.clone(), mu, Activation::Identity)?;
    let log_var = dense(h, log_var, Activation::Identity)?;
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
fn dense(h: CubeTensor, layer: &Linear, activation: Activation) -> Option<CubeTensor> {
    let w = cube_tensor(layer.weight.val())?;
    let b = cube_tensor(layer.bias.as_ref()?.val())?;
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
            activation.code(),
        );
    }
    Some(out)
}
