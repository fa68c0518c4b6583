//! The wasm-bindgen shell the page talks to: [`Explorer`] wraps an [`infer::Session`] and turns
//! its results into JS values and its errors into JS exceptions with the same sentences. Every
//! read back from the GPU is async.

use js_sys::Float32Array;
use wasm_bindgen::prelude::*;

use crate::infer::{self, Backend, ClassifierSession, Session, input};

unsafe extern "C" {
    /// Runs the module's static constructors (cubecl registers its kernels through them).
    fn __wasm_call_ctors();
}

#[wasm_bindgen(start)]
pub fn start() {
    // Calling the constructors once ourselves makes wasm-ld treat the module as a library;
    // otherwise it wraps every export in a shim that re-runs the constructors on every call.
    unsafe { __wasm_call_ctors() };
    console_error_panic_hook::set_once();
}

/// Returns the GPU memory of freed explorers to the browser (after a model switch).
#[wasm_bindgen(js_name = releaseGpuMemory)]
pub fn release_gpu_memory() {
    infer::device::release_gpu_memory();
}

/// Whether this module has the WebGPU backend (`pkg/vae_explorer.js`) or is the CPU-only one
/// (`pkg/vae_explorer_cpu.js`) the page paints with first.
#[wasm_bindgen(js_name = hasWebGpu)]
pub fn has_webgpu() -> bool {
    cfg!(feature = "webgpu")
}

/// A loaded model on one backend.
#[wasm_bindgen]
pub struct Explorer {
    session: Session,
}

#[wasm_bindgen]
impl Explorer {
    /// Loads a bundle (manifest text + burnpack bytes) on `backend` = "webgpu" | "cpu", then
    /// warms it up with one decode and one encode.
    pub async fn create(
        manifest: String,
        weights: Vec<u8>,
        backend: String,
    ) -> Result<Explorer, JsError> {
        let backend: Backend = backend.parse()?;
        let session = Session::create(&manifest, weights, backend).await?;
        session.warm_up().await?;
        Ok(Explorer { session })
    }

    /// "WebGPU" or "CPU".
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.session.backend().to_string()
    }

    /// One sentence on why this backend is active.
    #[wasm_bindgen(getter, js_name = backendReason)]
    pub fn backend_reason(&self) -> String {
        self.session.backend().reason()
    }

    /// The WebGPU adapter in words ("" on the CPU backend).
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        self.session.adapter().to_string()
    }

    /// The kernels the last decode ran: "fused" (one dense kernel per layer, WebGPU), "packed"
    /// (packed dense layers, CPU), "burn" (burn's ops) or "" before the first decode.
    #[wasm_bindgen(getter, js_name = decoderKernels)]
    pub fn decoder_kernels(&self) -> String {
        self.session.kernels().name().to_string()
    }

    #[wasm_bindgen(getter, js_name = latentDim)]
    pub fn latent_dim(&self) -> usize {
        self.session.latent_dim()
    }

    /// Image width in pixels, from the manifest.
    #[wasm_bindgen(getter, js_name = imageWidth)]
    pub fn image_width(&self) -> usize {
        self.session.image().width
    }

    /// Image height in pixels, from the manifest.
    #[wasm_bindgen(getter, js_name = imageHeight)]
    pub fn image_height(&self) -> usize {
        self.session.image().height
    }

    /// Decodes one latent vector to its image of Bernoulli means, row-major.
    pub async fn decode(&self, z: Vec<f32>) -> Result<Float32Array, JsError> {
        let images = self.session.decode(&z, 1).await?;
        Ok(Float32Array::from(&images[..]))
    }

    /// Decodes `n` latent vectors laid end to end; returns `n` images end to end. `n` is taken
    /// as a JS number so that 1.5 or -1 is an error, not silently truncated.
    #[wasm_bindgen(js_name = decodeBatch)]
    pub async fn decode_batch(&self, zs: Vec<f32>, n: f64) -> Result<Float32Array, JsError> {
        let images = self.session.decode(&zs, input::batch_size(n)?).await?;
        Ok(Float32Array::from(&images[..]))
    }

    /// Uploads `values`, runs one trivial kernel (×1) and reads the result back: the fixed cost
    /// every call on this backend pays, which the benchmark subtracts from a decode.
    #[wasm_bindgen(js_name = roundTrip)]
    pub async fn round_trip(&self, values: Vec<f32>) -> Result<Float32Array, JsError> {
        let values = self.session.round_trip(&values).await?;
        Ok(Float32Array::from(&values[..]))
    }

    /// Encodes `n` images laid end to end to `{mu, logVar}`: two Float32Arrays of `n` rows of
    /// the latent size.
    #[wasm_bindgen(js_name = encodeBatch)]
    pub async fn encode_batch(&self, pixels: Vec<f32>, n: f64) -> Result<JsValue, JsError> {
        let (mu, log_var) = self
            .session
            .encode_batch(&pixels, input::batch_size(n)?)
            .await?;
        let out = js_sys::Object::new();
        let set = |key: &str, values: &[f32]| {
            js_sys::Reflect::set(&out, &key.into(), &Float32Array::from(values))
        };
        set("mu", &mu)
            .and_then(|_| set("logVar", &log_var))
            .map_err(|_| JsError::new("could not hand the encodings to the page"))?;
        Ok(out.into())
    }

    /// Encodes an image (0 = background, 1 = ink) to the posterior's `{mu, logVar}`.
    pub async fn encode(&self, pixels: Vec<f32>) -> Result<JsValue, JsError> {
        let encoding = self.session.encode(&pixels).await?;
        Ok(serde_wasm_bindgen::to_value(&encoding)?)
    }
}

/// The bundle's digit classifier, run on the CPU (whatever backend decodes).
#[wasm_bindgen]
pub struct Classifier {
    session: ClassifierSession,
}

#[wasm_bindgen]
impl Classifier {
    /// From the bundle's manifest text (it must describe a classifier) and the classifier's
    /// burnpack bytes.
    pub fn create(manifest: String, weights: Vec<u8>) -> Result<Classifier, JsError> {
        Ok(Classifier {
            session: ClassifierSession::create(&manifest, weights)?,
        })
    }

    /// Class names, in the order of `classify`'s probabilities.
    #[wasm_bindgen(getter)]
    pub fn classes(&self) -> Vec<String> {
        self.session.classes().to_vec()
    }

    /// Class probabilities of `n` images laid end to end: `n` rows of `classes.length` values.
    pub fn classify(&self, images: Vec<f32>, n: f64) -> Result<Float32Array, JsError> {
        let probs = self.session.classify(&images, input::batch_size(n)?)?;
        Ok(Float32Array::from(&probs[..]))
    }
}
