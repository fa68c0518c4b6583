//! The fused dense kernel, `act(h · W + b)` for one layer in one dispatch (cubecl, compiled to
//! WGSL by burn's wgpu runtime). Launch code and shape checks are in `launch.rs`.
//!
//! One invocation computes `N` neighbouring outputs (a vector of W's row; `N` = 4 when the width
//! allows) for up to four batch rows, so each weight load serves every row and each input load
//! `N` outputs. W is row-major `[inputs, outputs]`, so neighbouring invocations read neighbouring
//! memory.

use cubecl::prelude::*;

#[derive(CubeLaunch, CubeType)]
pub(super) struct DenseShape {
    pub batch: usize,
    pub inputs: usize,
    /// Outputs in vectors of `N`.
    pub columns: usize,
}

/// The activation as the kernel's comptime argument.
pub(super) const IDENTITY: u32 = 0;
pub(super) const RELU: u32 = 1;
pub(super) const SIGMOID: u32 = 2;

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
pub(super) fn dense_kernel<F: Float, N: Size>(
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
