//! The fully connected layers on the CPU backend in the page: `act(h · W + b)` with the weights
//! packed once when a model loads, instead of burn-flex's general matmul (`gemm`), which packs
//! them again on every call (see the README's decoder-speed section for the figures).
//!
//! W is stored in panels of 16 output columns, `[panel][input][16]`, so the inner loop reads it
//! sequentially, and one panel (32 KB for 512 inputs) stays in the L1 cache while every batch
//! row passes over it. A tile is 2 rows × 16 columns: 8 vector accumulators, each weight load
//! serving 2 rows and each input 16 columns. That was the fastest of the tile shapes timed;
//! shapes with more than 8 accumulators lose to register spills in V8. On wasm32 the tile uses
//! SIMD128; elsewhere the same code runs on plain arrays (the native tests check it against
//! burn's layers).

use crate::model::{Activation, Dense, DenseWeights, Vae, decoder_layers, encoder_layers};

/// Output columns per panel (four 4-lane vectors).
const PANEL: usize = 16;
/// Batch rows per tile.
const ROWS: usize = 2;

/// One layer, `act(h · W + b)`, with W packed into panels.
#[derive(Debug)]
pub struct PackedLayer {
    inputs: usize,
    outputs: usize,
    /// `[outputs / PANEL rounded up][inputs][PANEL]`, zero beyond `outputs`.
    panels: Vec<f32>,
    /// Zero-padded to whole panels.
    bias: Vec<f32>,
    activation: Activation,
}

impl PackedLayer {
    /// Packs a layer given as plain numbers.
    pub fn new(layer: &DenseWeights) -> Result<Self, String> {
        let DenseWeights {
            inputs,
            outputs,
            activation,
            ref weight,
            ref bias,
        } = *layer;
        if inputs == 0 || outputs == 0 || weight.len() != inputs * outputs || bias.len() != outputs
        {
            return Err(format!(
                "a {inputs}×{outputs} layer needs {} weights and {outputs} biases, got {} and {}",
                inputs * outputs,
                weight.len(),
                bias.len()
            ));
        }
        let count = outputs.div_ceil(PANEL);
        let mut panels = vec![0.0; count * inputs * PANEL];
        for (p, panel) in panels.chunks_exact_mut(inputs * PANEL).enumerate() {
            for (k, row) in panel.chunks_exact_mut(PANEL).enumerate() {
                let from = k * outputs + p * PANEL;
                let width = PANEL.min(outputs - p * PANEL);
                row[..width].copy_from_slice(&weight[from..from + width]);
            }
        }
        let mut padded = vec![0.0; count * PANEL];
        padded[..outputs].copy_from_slice(bias);
        Ok(PackedLayer {
            inputs,
            outputs,
            panels,
            bias: padded,
            activation,
        })
    }

    /// Reads and packs a model's layer (on the CPU device, so the read does not block).
    fn from_dense(layer: &Dense) -> Result<Self, String> {
        Self::new(&layer.weights()?)
    }

    /// `h`: `batch` rows of `inputs`; returns `batch` rows of `outputs`.
    pub fn forward(&self, h: &[f32], batch: usize) -> Vec<f32> {
        assert_eq!(h.len(), batch * self.inputs, "input size");
        let (k, n) = (self.inputs, self.outputs);
        let mut out = vec![0.0; batch * n];
        for (p, panel) in self.panels.chunks_exact(k * PANEL).enumerate() {
            let bias = &self.bias[p * PANEL..(p + 1) * PANEL];
            let width = PANEL.min(n - p * PANEL);
            let row = |i: usize| &h[i * k..][..k];
            let mut store = |first: usize, values: &[[f32; PANEL]]| {
                for (i, values) in values.iter().enumerate() {
                    let o = (first + i) * n + p * PANEL;
                    out[o..o + width].copy_from_slice(&values[..width]);
                }
            };
            // Whole tiles of two rows, then the rest one row at a time. Left out after timing:
            // blocking the rows for the L2 cache (no gain at these sizes), and skipping the
            // zeros a ReLU leaves row by row (it loses the tile's reuse of each weight load).
            let whole = batch - batch % ROWS;
            for first in (0..whole).step_by(ROWS) {
                let rows: [&[f32]; ROWS] = std::array::from_fn(|i| row(first + i));
                store(first, &tile(panel, bias, rows));
            }
            for r in whole..batch {
                store(r, &tile(panel, bias, [row(r)]));
            }
        }
        match self.activation {
            Activation::Identity => {}
            Activation::Relu => out.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Sigmoid => sigmoid(&mut out),
        }
        out
    }
}

/// `R` rows of `h · panel + bias`, 16 columns each: 4·R vector accumulators (R is 2 or 1, so
/// they fit the 16 SIMD registers of x86-64 beside the weights, and the loops unroll).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn tile<const R: usize>(panel: &[f32], bias: &[f32], rows: [&[f32]; R]) -> [[f32; PANEL]; R] {
    use core::arch::wasm32::*;
    // 4-lane vectors per panel row.
    const LANES: usize = PANEL / 4;
    let k = rows[0].len();
    assert!(panel.len() >= k * PANEL && bias.len() >= PANEL);
    assert!(rows.iter().all(|r| r.len() == k));
    // Safety (all loads below): j < k, the panel holds k × PANEL values and each row k
    // (checked above); wasm allows unaligned v128 loads.
    let load = |s: &[f32], at: usize| unsafe { v128_load(s.as_ptr().add(at) as *const v128) };
    let bias: [v128; LANES] = std::array::from_fn(|v| load(bias, 4 * v));
    let mut acc = [bias; R];
    for j in 0..k {
        let w: [v128; LANES] = std::array::from_fn(|v| load(panel, j * PANEL + 4 * v));
        for (a, row) in acc.iter_mut().zip(rows) {
            // One instruction (v128.load32_splat), not a scalar load and a splat.
            let x = unsafe { v128_load32_splat(row.as_ptr().add(j) as *const u32) };
            for v in 0..LANES {
                a[v] = f32x4_add(a[v], f32x4_mul(x, w[v]));
            }
        }
    }
    acc.map(|a| {
        let mut r = [0.0f32; PANEL];
        for (v, a) in a.into_iter().enumerate() {
            // Safety: r holds PANEL = 4 · LANES f32s.
            unsafe { v128_store(r.as_mut_ptr().add(4 * v) as *mut v128, a) };
        }
        r
    })
}

/// `1 / (1 + e^-v)` in place. Four lanes at a time on wasm: `f32::exp` is a scalar libm call,
/// slow enough to be a large share of a batch decode.
fn sigmoid(values: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let values = {
        use core::arch::wasm32::*;
        let mut chunks = values.chunks_exact_mut(4);
        for c in &mut chunks {
            let p = c.as_mut_ptr() as *mut v128;
            // Safety: `c` is 4 f32s; unaligned v128 loads and stores are allowed in wasm.
            unsafe { v128_store(p, sigmoid4(v128_load(p))) };
        }
        chunks.into_remainder()
    };
    for v in values {
        *v = 1.0 / (1.0 + (-*v).exp());
    }
}

/// Sigmoid of four lanes through `e^x = 2^n · e^r`, `n = round(x / ln 2)`, `|r| ≤ ln 2 / 2`,
/// with a degree-6 Taylor polynomial for `e^r` (relative error < 2e-7, below f32's own).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn sigmoid4(v: core::arch::wasm32::v128) -> core::arch::wasm32::v128 {
    use core::arch::wasm32::*;
    // e^-v, with -v clamped where e^x stays a normal f32; beyond, sigmoid is 0 or 1 in f32.
    let x = f32x4_pmin(
        f32x4_splat(87.0),
        f32x4_pmax(f32x4_splat(-87.0), f32x4_neg(v)),
    );
    let n = f32x4_nearest(f32x4_mul(x, f32x4_splat(core::f32::consts::LOG2_E)));
    // ln 2 split in two (Cephes' constants): n · 0.693359375 is exact for |n| ≤ 127.
    let r = f32x4_sub(x, f32x4_mul(n, f32x4_splat(355.0 / 512.0)));
    let r = f32x4_add(r, f32x4_mul(n, f32x4_splat(2.121_944_4e-4)));
    let mut p = f32x4_splat(1.0 / 720.0);
    for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = f32x4_add(f32x4_mul(p, r), f32x4_splat(c));
    }
    // 2^n by writing n + 127 into the exponent bits.
    let scale = i32x4_shl(i32x4_add(i32x4_trunc_sat_f32x4(n), i32x4_splat(127)), 23);
    let e = f32x4_mul(p, scale);
    f32x4_div(f32x4_splat(1.0), f32x4_add(f32x4_splat(1.0), e))
}

/// The same tile on plain arrays, for targets without wasm SIMD (the native tests).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn tile<const R: usize>(panel: &[f32], bias: &[f32], rows: [&[f32]; R]) -> [[f32; PANEL]; R] {
    let mut acc = [[0.0f32; PANEL]; R];
    for a in &mut acc {
        a.copy_from_slice(&bias[..PANEL]);
    }
    for (j, w) in panel.chunks_exact(PANEL).enumerate().take(rows[0].len()) {
        for (a, row) in acc.iter_mut().zip(rows) {
            for (a, w) in a.iter_mut().zip(w) {
                *a += row[j] * w;
            }
        }
    }
    acc
}

/// A stack of layers applied in order.
#[derive(Debug)]
pub struct PackedStack {
    layers: Vec<PackedLayer>,
}

impl PackedStack {
    pub fn new(layers: Vec<PackedLayer>) -> Result<Self, String> {
        if layers.windows(2).any(|w| w[0].outputs != w[1].inputs) {
            return Err("the layers' widths do not chain".into());
        }
        Ok(PackedStack { layers })
    }

    pub(super) fn from_dense(layers: &[Dense]) -> Result<Self, String> {
        Self::new(
            layers
                .iter()
                .map(PackedLayer::from_dense)
                .collect::<Result<_, _>>()?,
        )
    }

    /// `x`: `batch` rows of the first layer's inputs; returns `batch` rows of the last outputs
    /// (`x` itself for an empty stack).
    pub fn forward(&self, x: &[f32], batch: usize) -> Vec<f32> {
        match self.layers.split_first() {
            None => x.to_vec(),
            Some((first, rest)) => rest
                .iter()
                .fold(first.forward(x, batch), |h, layer| layer.forward(&h, batch)),
        }
    }
}

/// A fully connected encoder: the hidden stack, then the two heads on its output.
#[derive(Debug)]
pub struct PackedEncoder {
    hidden: PackedStack,
    mu: PackedLayer,
    log_var: PackedLayer,
}

impl PackedEncoder {
    /// `(μ, log σ²)` of `batch` images.
    pub fn forward(&self, x: &[f32], batch: usize) -> (Vec<f32>, Vec<f32>) {
        let h = self.hidden.forward(x, batch);
        (self.mu.forward(&h, batch), self.log_var.forward(&h, batch))
    }
}

/// A fully connected model with its weights packed, as the page's CPU backend runs it.
#[derive(Debug)]
pub struct PackedModel {
    pub decoder: PackedStack,
    pub encoder: PackedEncoder,
}

impl PackedModel {
    /// Packs a fully connected model; `None` for a convolutional one (burn's ops run those).
    pub fn new(vae: &Vae) -> Result<Option<Self>, String> {
        let (Some(decoder), Some(encoder)) =
            (decoder_layers(&vae.decoder), encoder_layers(&vae.encoder))
        else {
            return Ok(None);
        };
        Ok(Some(PackedModel {
            decoder: PackedStack::from_dense(&decoder)?,
            encoder: PackedEncoder {
                hidden: PackedStack::from_dense(&encoder.hidden)?,
                mu: PackedLayer::from_dense(&encoder.mu)?,
                log_var: PackedLayer::from_dense(&encoder.log_var)?,
            },
        }))
    }
}

#[cfg(test)]
#[path = "cpu_dense_tests.rs"]
mod tests;
