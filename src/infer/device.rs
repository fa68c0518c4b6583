//! Devices for the two backends. burn's wgpu runtime can be set up once per page, so the
//! WebGPU device (and its adapter's description) is made once and kept for later sessions.

use burn::tensor::Device;

use super::{Backend, InferError};

/// A device for `backend`, with its adapter in words ("" on the CPU).
pub async fn device(backend: Backend) -> Result<(Device, String), InferError> {
    match backend {
        Backend::Cpu => Ok((Device::flex(), String::new())),
        Backend::WebGpu => webgpu::device().await,
    }
}

/// Returns the GPU memory of freed sessions to the browser. burn keeps freed pages pooled for
/// reuse; after a model switch the old model's pages are not needed again.
pub fn release_gpu_memory() {
    #[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
    webgpu::release();
}

#[cfg(not(all(target_arch = "wasm32", feature = "webgpu")))]
mod webgpu {
    use super::{Device, InferError};

    pub async fn device() -> Result<(Device, String), InferError> {
        Err(InferError::new(
            "this is the CPU-only module (vae_explorer_cpu); WebGPU is in vae_explorer",
        ))
    }
}

#[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
mod webgpu {
    use std::cell::RefCell;

    use js_sys::{Function, Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::{Device, InferError};

    thread_local! {
        /// The page's one WebGPU device and its adapter's description.
        static WEBGPU: RefCell<Option<(Device, String)>> = const { RefCell::new(None) };
    }

    pub async fn device() -> Result<(Device, String), InferError> {
        if let Some(cached) = WEBGPU.with_borrow(|d| d.clone()) {
            return Ok(cached);
        }
        // Asked first so that a browser without an adapter gets a clear sentence, before
        // burn's runtime tries (and logs) anything.
        let adapter = adapter_description()
            .await
            .map_err(|why| InferError(format!("WebGPU is not available: {why}")))?;
        let device = Device::wgpu_options()
            .init_async()
            .await
            .map_err(|e| InferError(format!("WebGPU could not be started: {e}")))?;
        WEBGPU.with_borrow_mut(|d| *d = Some((device.clone(), adapter.clone())));
        Ok((device, adapter))
    }

    pub fn release() {
        if let Some((device, _)) = WEBGPU.with_borrow(|d| d.clone()) {
            device.memory_cleanup();
        }
    }

    /// Asks the browser for a WebGPU adapter and describes it from its `info` (wgpu's own
    /// adapter info carries only the description field, which browsers often leave empty).
    async fn adapter_description() -> Result<String, String> {
        let get = |target: &JsValue, key: &str| {
            Reflect::get(target, &JsValue::from_str(key))
                .ok()
                .filter(|v| !v.is_undefined() && !v.is_null())
        };
        let gpu = get(&js_sys::global(), "navigator")
            .and_then(|nav| get(&nav, "gpu"))
            .ok_or("this browser has no WebGPU (navigator.gpu is missing)")?;
        let request = get(&gpu, "requestAdapter")
            .and_then(|f| f.dyn_into::<Function>().ok())
            .ok_or("navigator.gpu.requestAdapter is missing")?;
        let promise = request
            .call0(&gpu)
            .ok()
            .and_then(|p| p.dyn_into::<Promise>().ok())
            .ok_or("requestAdapter failed")?;
        let adapter = JsFuture::from(promise)
            .await
            .map_err(|_| "requestAdapter failed")?;
        if adapter.is_null() || adapter.is_undefined() {
            return Err("no WebGPU adapter is available".into());
        }
        let info = get(&adapter, "info").unwrap_or(JsValue::UNDEFINED);
        let parts: Vec<String> = ["vendor", "architecture", "device", "description"]
            .iter()
            .filter_map(|key| get(&info, key).and_then(|v| v.as_string()))
            .filter(|s| !s.is_empty())
            .collect();
        Ok(if parts.is_empty() {
            "unnamed adapter".to_string()
        } else {
            parts.join(" ")
        })
    }
}
