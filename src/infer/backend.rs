//! Which backend a session runs on, and which kernels its last decode used.

use std::fmt;
use std::str::FromStr;

use super::InferError;

/// The two backends the page can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// burn's CPU backend (flex), with the packed dense layers for fully connected models.
    Cpu,
    /// burn's wgpu backend, with the fused dense kernels for fully connected models.
    WebGpu,
}

impl Backend {
    /// One sentence on why this backend is active: the page chose it.
    pub fn reason(self) -> String {
        format!("{self} backend chosen")
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Cpu => "CPU",
            Backend::WebGpu => "WebGPU",
        })
    }
}

/// The page's names: "webgpu" or "cpu". The page decides between them itself.
impl FromStr for Backend {
    type Err = InferError;

    fn from_str(name: &str) -> Result<Self, InferError> {
        match name {
            "webgpu" => Ok(Backend::WebGpu),
            "cpu" => Ok(Backend::Cpu),
            other => Err(InferError(format!(
                "unknown backend \"{other}\": use webgpu or cpu"
            ))),
        }
    }
}

/// Which kernels the last decode ran, for the tests and the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernels {
    /// No decode yet.
    None,
    /// burn's ops (matmul, bias add, activation).
    Burn,
    /// Packed dense layers on the CPU (`cpu_dense`, fully connected decoder).
    Packed,
    /// One fused dense kernel per layer (WebGPU, fully connected decoder).
    Fused,
}

impl Kernels {
    /// As the page's `decoderKernels` reads it ("" before the first decode).
    pub fn name(self) -> &'static str {
        match self {
            Kernels::None => "",
            Kernels::Burn => "burn",
            Kernels::Packed => "packed",
            Kernels::Fused => "fused",
        }
    }
}
