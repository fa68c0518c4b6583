//! The wasm-bindgen shell the page talks to: create an explorer from bundle bytes, then
//! `decode`, `decodeBatch` and `encode`. Every read back from the GPU is async; every error
//! reaches JS as an exception with a message.

use std::cell::Cell;
#[cfg(feature = "webgpu")]
use std::cell::RefCell;

use burn::tensor::{Device, Tensor, TensorData};
use js_sys::Float32Array;
#[cfg(feature = "webgpu")]
use js_sys::Reflect;
use serde::Serialize;
use wasm_bindgen::prelude::*;
#[cfg(feature = "webgpu")]
use wasm_bindgen_futures::JsFuture;

use crate::bundle::{Manifest, load_model};
use crate::cpu_dense::{DenseLayer, DenseStack};
use crate::model::Vae;

unsafe extern "C" {
    /// Runs the module's static constructors (cubecl registers its kernels through them).
    fn __wasm_call_ctors();
}

#[wasm_bindgen(start)]
pub fn start() {
    // Calling the constructors once ourselves makes wasm-ld treat the module as a library;
    // otherwise it wraps every export in a shim that re-runs ~5,000 constructors per call.
    unsafe { __wasm_call_ctors() };
    console_error_panic_hook::set_once();
}

/// Returns the GPU memory of freed explorers to the browser. burn keeps freed pages pooled for
/// reuse; after a model switch the old model's pages are not needed again.
#[wasm_bindgen(js_name = releaseGpuMemory)]
pub fn release_gpu_memory() {
    #[cfg(feature = "webgpu")]
    if let Some((device, _)) = WEBGPU.with_borrow(|d| d.clone()) {
        device.memory_cleanup();
    }
}

/// Whether this module has the WebGPU backend (`pkg/vae_explorer.js`) or is the CPU-only one
/// (`pkg/vae_explorer_cpu.js`) the page paints with first.
#[wasm_bindgen(js_name = hasWebGpu)]
pub fn has_webgpu() -> bool {
    cfg!(feature = "webgpu")
}

#[cfg(feature = "webgpu")]
thread_local! {
    /// burn's wgpu runtime can be initialised once per page; later explorers reuse it.
    static WEBGPU: RefCell<Option<(Device, String)>> = const { RefCell::new(None) };
}

/// What the page asked for.
#[derive(Clone, Copy, PartialEq)]
enum Choice {
    Auto,
    WebGpu,
    Cpu,
}

/// A loaded model on one backend.
#[wasm_bindgen]
pub struct Explorer {
    vae: Vae,
    device: Device,
    backend: &'static str,
    reason: String,
    adapter: String,
    latent_dim: usize,
    pixels: usize,
    decoder_kernels: Cell<DecoderKernels>,
    /// On the CPU backend, a fully connected model's layers with their weights packed for
    /// `cpu_dense` (`None` on WebGPU and for a convolutional model).
    packed: Option<Packed>,
}

struct Packed {
    decoder: DenseStack,
    encoder: Option<(DenseStack, [DenseLayer; 2])>,
}

impl Packed {
    fn new(vae: &Vae) -> Result<Option<Self>, String> {
        let Some(decoder) = DenseStack::decoder(&vae.decoder)? else {
            return Ok(None);
        };
        let encoder = DenseStack::encoder(&vae.encoder)?;
        Ok(Some(Packed { decoder, encoder }))
    }
}

/// Which kernels the last decode ran, for the tests and the benchmark.
#[derive(Clone, Copy)]
enum DecoderKernels {
    /// No decode yet.
    None,
    /// burn's ops (matmul, bias add, activation).
    Burn,
    /// Packed dense layers on the CPU (`cpu_dense`, fully connected decoder).
    Packed,
    /// One fused dense kernel per layer (WebGPU, fully connected decoder).
    #[cfg_attr(not(feature = "webgpu"), expect(dead_code))]
    Fused,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Encoding {
    mu: Vec<f32>,
    log_var: Vec<f32>,
}

fn js_error(message: impl std::fmt::Display) -> JsError {
    JsError::new(&message.to_string())
}

#[wasm_bindgen]
impl Explorer {
    /// Loads a bundle (manifest text + burnpack bytes) on `backend` = "auto" | "webgpu" | "cpu".
    pub async fn create(
        manifest: String,
        weights: Vec<u8>,
        backend: String,
    ) -> Result<Explorer, JsError> {
        let choice = match backend.as_str() {
            "auto" | "" => Choice::Auto,
            "webgpu" => Choice::WebGpu,
            "cpu" => Choice::Cpu,
            other => {
                return Err(js_error(format!(
                    "unknown backend \"{other}\": use auto, webgpu or cpu"
                )));
            }
        };
        let manifest = Manifest::parse(&manifest).map_err(js_error)?;
        let (device, backend, reason, adapter) = pick_device(choice).await?;
        let vae = load_model(&manifest, weights, &device).map_err(js_error)?;
        let packed = if backend == "CPU" {
            Packed::new(&vae).map_err(js_error)?
        } else {
            None
        };
        let explorer = Explorer {
            vae,
            device,
            backend,
            reason,
            adapter,
            latent_dim: manifest.latent_dim,
            pixels: manifest.config().pixels(),
            decoder_kernels: Cell::new(DecoderKernels::None),
            packed,
        };
        // Compile the pipelines and fill the memory pools now, so the first slider move is fast.
        explorer.decode(vec![0.0; explorer.latent_dim]).await?;
        explorer.encode(vec![0.0; explorer.pixels]).await?;
        Ok(explorer)
    }

    /// "WebGPU" or "CPU".
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.to_string()
    }

    /// One sentence on why this backend is active.
    #[wasm_bindgen(getter, js_name = backendReason)]
    pub fn backend_reason(&self) -> String {
        self.reason.clone()
    }

    /// The WebGPU adapter in words ("" on the CPU backend).
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        self.adapter.clone()
    }

    /// The kernels the last decode ran: "fused" (one dense kernel per layer, WebGPU), "packed"
    /// (packed dense layers, CPU), "burn" (burn's ops) or "" before the first decode.
    #[wasm_bindgen(getter, js_name = decoderKernels)]
    pub fn decoder_kernels(&self) -> String {
        match self.decoder_kernels.get() {
            DecoderKernels::None => "",
            DecoderKernels::Burn => "burn",
            DecoderKernels::Packed => "packed",
            DecoderKernels::Fused => "fused",
        }
        .to_string()
    }

    #[wasm_bindgen(getter, js_name = latentDim)]
    pub fn latent_dim(&self) -> usize {
        self.latent_dim
    }

    /// Decodes one latent vector to its image of Bernoulli means, row-major.
    pub async fn decode(&self, z: Vec<f32>) -> Result<Float32Array, JsError> {
        self.decode_batch(z, 1.0).await
    }

    /// Decodes `n` latent vectors laid end to end; returns `n` images end to end.
    #[wasm_bindgen(js_name = decodeBatch)]
    pub async fn decode_batch(&self, zs: Vec<f32>, n: f64) -> Result<Float32Array, JsError> {
        // Taken as a JS number so that 1.5 or -1 is an error, not silently truncated.
        if !(n.fract() == 0.0 && (1.0..=4096.0).contains(&n)) {
            return Err(js_error(format!(
                "batch size must be a whole number from 1 to 4096, got {n}"
            )));
        }
        let n = n as usize;
        check_input("latent vector", &zs, n, self.latent_dim, Z_RANGE)?;
        let images = if let Some(packed) = &self.packed {
            self.decoder_kernels.set(DecoderKernels::Packed);
            packed.decoder.forward(&zs, n)
        } else {
            let z = Tensor::<2>::from_data(TensorData::new(zs, [n, self.latent_dim]), &self.device);
            read(self.decoder_forward(z)).await?
        };
        // Bernoulli means are in [0, 1]. A GPU that computes garbage raises no error of its own
        // (seen with rejected shaders), so the numbers are the check.
        let bad = images
            .iter()
            .enumerate()
            .find(|(_, v)| !(0.0..=1.0).contains(*v));
        if let Some((i, v)) = bad {
            return Err(js_error(format!(
                "the {} backend computed an invalid pixel ({v} at {i}; Bernoulli means lie in [0, 1])",
                self.backend
            )));
        }
        Ok(Float32Array::from(&images[..]))
    }

    /// Uploads `values`, runs one trivial kernel (×1) and reads the result back: the fixed cost
    /// every call on this backend pays, which the benchmark subtracts from a decode.
    #[wasm_bindgen(js_name = roundTrip)]
    pub async fn round_trip(&self, values: Vec<f32>) -> Result<Float32Array, JsError> {
        check_input(
            "values",
            &values,
            1,
            values.len().max(1),
            (f32::MIN, f32::MAX),
        )?;
        let n = values.len();
        let values =
            read(Tensor::<2>::from_data(TensorData::new(values, [1, n]), &self.device) * 1.0)
                .await?;
        Ok(Float32Array::from(&values[..]))
    }

    /// Encodes a 28×28 image (0 = background, 1 = ink) to the posterior's `{mu, logVar}`.
    pub async fn encode(&self, pixels: Vec<f32>) -> Result<JsValue, JsError> {
        check_input("image", &pixels, 1, self.pixels, (0.0, 1.0))?;
        let encoding = if let Some((hidden, [mu, log_var])) =
            self.packed.as_ref().and_then(|p| p.encoder.as_ref())
        {
            let h = hidden.forward(&pixels, 1);
            Encoding {
                mu: mu.forward(&h, 1),
                log_var: log_var.forward(&h, 1),
            }
        } else {
            let x = Tensor::<2>::from_data(TensorData::new(pixels, [1, self.pixels]), &self.device);
            let (mu, log_var) = self.encoder_forward(x);
            Encoding {
                mu: read(mu).await?,
                log_var: read(log_var).await?,
            }
        };
        serde_wasm_bindgen::to_value(&encoding).map_err(js_error)
    }
}

impl Explorer {
    /// Bernoulli means for `z`: on WebGPU through the fused dense kernels (one dispatch per
    /// layer), otherwise, or for a convolutional decoder, through burn's ops.
    fn decoder_forward(&self, z: Tensor<2>) -> Tensor<2> {
        #[cfg(feature = "webgpu")]
        if self.backend == "WebGPU"
            && let Some(images) = crate::gpu_dense::decode(&self.vae.decoder, &z)
        {
            self.decoder_kernels.set(DecoderKernels::Fused);
            return images;
        }
        self.decoder_kernels.set(DecoderKernels::Burn);
        self.vae.decoder.forward(z)
    }

    /// `(μ, log σ²)` for the images `x`, through the fused kernels where the decode uses them.
    fn encoder_forward(&self, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        #[cfg(feature = "webgpu")]
        if self.backend == "WebGPU"
            && let Some(posterior) = crate::gpu_dense::encode(&self.vae.encoder, &x)
        {
            return posterior;
        }
        self.vae.encoder.forward(x)
    }
}

/// The largest |z_i| accepted. The prior puts nearly all its mass within ±5; far beyond that the
/// decoder's sums overflow f32 and the pixels stop meaning anything.
const Z_RANGE: (f32, f32) = (-1000.0, 1000.0);

/// Checks the length, and that every value is finite and within `range`; errors name the value.
fn check_input(
    what: &str,
    values: &[f32],
    n: usize,
    width: usize,
    range: (f32, f32),
) -> Result<(), JsError> {
    if values.len() != n * width {
        let plural = if n == 1 { "" } else { "s" };
        return Err(js_error(format!(
            "expected {n} {what}{plural} of {width} numbers ({} in all), got {}",
            n * width,
            values.len()
        )));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(js_error(format!("{what}: value {i} is {}", values[i])));
    }
    let (lo, hi) = range;
    if let Some(i) = values.iter().position(|v| !(lo..=hi).contains(v)) {
        // 1e30, not thirty-one digits.
        let value = if values[i].abs() >= 1e6 {
            format!("{:e}", values[i])
        } else {
            values[i].to_string()
        };
        return Err(js_error(format!(
            "{what}: value {i} is {value}, outside the accepted range {lo} to {hi}"
        )));
    }
    Ok(())
}

/// The one way tensors come back to JS: an async read, never a blocking one.
async fn read(tensor: Tensor<2>) -> Result<Vec<f32>, JsError> {
    let data = tensor.into_data_async().await.map_err(|e| {
        // burn chains causes and a backtrace note; the innermost cause is the one that says why.
        let full = format!("{e:?}");
        let cause = full.rsplit("Caused by:").next().unwrap_or(&full);
        let cause = cause.split("Backtrace:").next().unwrap_or(cause).trim();
        js_error(format!("the result could not be read back ({cause})"))
    })?;
    data.try_into_vec::<f32>()
        .map_err(|e| js_error(format!("unexpected tensor data: {e:?}")))
}

type Picked = (Device, &'static str, String, String);

fn cpu_device(reason: impl Into<String>) -> Picked {
    (Device::flex(), "CPU", reason.into(), String::new())
}

#[cfg(not(feature = "webgpu"))]
async fn pick_device(choice: Choice) -> Result<Picked, JsError> {
    match choice {
        Choice::WebGpu => Err(js_error(
            "this is the CPU-only module (vae_explorer_cpu); WebGPU is in vae_explorer",
        )),
        Choice::Cpu => Ok(cpu_device("CPU backend chosen")),
        Choice::Auto => Ok(cpu_device(
            "auto: the CPU-only module has no WebGPU backend",
        )),
    }
}

/// `auto` here is a rule (a software adapter runs the same maths slower than the CPU backend);
/// the page itself starts on the CPU module and measures both backends instead.
#[cfg(feature = "webgpu")]
async fn pick_device(choice: Choice) -> Result<Picked, JsError> {
    if choice == Choice::Cpu {
        return Ok(cpu_device("CPU backend chosen"));
    }
    let adapter = match probe_adapter().await {
        Ok(adapter) => adapter,
        Err(why) if choice == Choice::Auto => {
            return Ok(cpu_device(format!("auto: {why}; using the CPU backend")));
        }
        Err(why) => return Err(js_error(format!("WebGPU is not available: {why}"))),
    };
    if choice == Choice::Auto && adapter.software {
        return Ok(cpu_device(format!(
            "auto: the only WebGPU adapter is a software fallback ({}), slower than the CPU backend",
            adapter.description
        )));
    }
    let device = webgpu_device(&adapter.description).await?;
    let reason = match choice {
        Choice::Auto => format!("auto: hardware WebGPU adapter ({})", adapter.description),
        _ => "WebGPU backend chosen".to_string(),
    };
    Ok((device, "WebGPU", reason, adapter.description))
}

#[cfg(feature = "webgpu")]
async fn webgpu_device(description: &str) -> Result<Device, JsError> {
    if let Some((device, _)) = WEBGPU.with_borrow(|d| d.clone()) {
        return Ok(device);
    }
    let device = Device::wgpu_options()
        .init_async()
        .await
        .map_err(|e| js_error(format!("WebGPU could not be started: {e}")))?;
    WEBGPU.with_borrow_mut(|d| *d = Some((device.clone(), description.to_string())));
    Ok(device)
}

#[cfg(feature = "webgpu")]
struct AdapterInfo {
    description: String,
    software: bool,
}

#[cfg(feature = "webgpu")]
/// Asks the browser for a WebGPU adapter and describes it, without creating a device.
async fn probe_adapter() -> Result<AdapterInfo, String> {
    let global = js_sys::global();
    let get = |target: &JsValue, key: &str| Reflect::get(target, &JsValue::from_str(key)).ok();
    let gpu = get(&global, "navigator")
        .and_then(|nav| get(&nav, "gpu"))
        .filter(|gpu| !gpu.is_undefined() && !gpu.is_null())
        .ok_or("this browser has no WebGPU (navigator.gpu is missing)")?;
    let request = get(&gpu, "requestAdapter")
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or("navigator.gpu.requestAdapter is missing")?;
    let promise = request
        .call0(&gpu)
        .map_err(|_| "requestAdapter failed")?
        .dyn_into::<js_sys::Promise>()
        .map_err(|_| "requestAdapter did not return a promise")?;
    let adapter = JsFuture::from(promise)
        .await
        .map_err(|e| format!("requestAdapter failed: {}", describe(&e)))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("no WebGPU adapter is available".into());
    }
    let info = get(&adapter, "info").unwrap_or(JsValue::UNDEFINED);
    let field = |key: &str| {
        get(&info, key)
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let parts: Vec<String> = ["vendor", "architecture", "device", "description"]
        .iter()
        .map(|k| field(k))
        .filter(|s| !s.is_empty())
        .collect();
    let description = if parts.is_empty() {
        "unnamed adapter".to_string()
    } else {
        parts.join(" ")
    };
    let flagged =
        |target: &JsValue| get(target, "isFallbackAdapter").and_then(|v| v.as_bool()) == Some(true);
    let lower = description.to_lowercase();
    let software = flagged(&info)
        || flagged(&adapter)
        || [
            "swiftshader",
            "llvmpipe",
            "lavapipe",
            "basic render",
            "warp",
        ]
        .iter()
        .any(|name| lower.contains(name));
    Ok(AdapterInfo {
        description,
        software,
    })
}

#[cfg(feature = "webgpu")]
fn describe(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "unknown error".into())
}
