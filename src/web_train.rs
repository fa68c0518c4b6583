//! The training worker's API (the `train` feature, `pkg/vae_explorer_train.js`): a
//! [`Trainer`] runs [`learn::Learner`]'s steps — the same code as `vae train` — on the CPU or
//! WebGPU backend, and hands back figures, decoded images and the finished bundle. Every read
//! from the device is async; errors are JS exceptions with a sentence.

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use js_sys::{Float32Array, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::bundle::{Manifest, TrainConfig, load_model, manifest_json, weights_bytes};
use crate::infer::{Backend, device::device};
use crate::learn::export::{self, About};
use crate::learn::idx::IdxDataset;
use crate::learn::{Learner, evaluate, weights};
use crate::model::{Vae, VaeConfig};

/// Label of an image that has none (a drawing without a digit, a photo).
const UNLABELLED: u8 = 255;

/// The page's training settings: the model's shape (for a model from scratch) and the
/// hyperparameters, named as in the manifest's `training` section.
#[derive(Deserialize)]
struct Settings {
    #[serde(default)]
    latent_dim: usize,
    #[serde(default)]
    hidden: Vec<usize>,
    #[serde(flatten)]
    config: TrainConfig,
}

/// Where the run is and what its last steps measured (nats per image).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Progress {
    step: usize,
    epoch: usize,
    epochs: usize,
    step_in_epoch: usize,
    steps_per_epoch: usize,
    total_steps: usize,
    finished: bool,
    recon: f64,
    kl: f64,
    loss: f64,
    beta: f64,
    lr: f64,
    kl_per_dim: Vec<f32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Figures {
    recon: f64,
    kl: f64,
    loss: f64,
    kl_per_dim: Vec<f64>,
    images: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Encoded {
    mu: Vec<f32>,
    log_var: Vec<f32>,
}

fn fail(message: impl std::fmt::Display) -> JsError {
    JsError::new(&message.to_string())
}

/// A model in training on one backend.
#[wasm_bindgen]
pub struct Trainer {
    model: VaeConfig,
    config: TrainConfig,
    backend: Backend,
    /// The autodiff device the steps run on.
    device: Device,
    /// Before the first data: the model and no learner yet.
    waiting: Option<Vae>,
    learner: Option<Learner>,
    data: Option<IdxDataset>,
    probe: Option<IdxDataset>,
    /// Steps of earlier runs of this trainer (before the data last changed).
    steps_before: usize,
    /// Milliseconds spent in `train`.
    busy_ms: f64,
    /// The bundle this one was fine-tuned from.
    base: Option<Manifest>,
}

#[wasm_bindgen]
impl Trainer {
    /// A new model from `settings` (JSON) for `width` × `height` images on `backend` =
    /// "cpu" | "webgpu".
    pub async fn create(
        settings: String,
        width: usize,
        height: usize,
        backend: String,
    ) -> Result<Trainer, JsError> {
        let settings: Settings = parse_settings(&settings)?;
        let model = VaeConfig::new(settings.latent_dim, settings.hidden.clone())
            .with_image_width(width)
            .with_image_height(height);
        model.validate().map_err(fail)?;
        let (backend, device) = start(&backend, &settings.config).await?;
        let vae = model.init(&device);
        Ok(Trainer::new(
            model,
            settings.config,
            backend,
            device,
            vae,
            None,
        ))
    }

    /// Continues training the bundle (manifest text + weights) with `settings`' hyperparameters
    /// (its model shape is the bundle's).
    #[wasm_bindgen(js_name = fineTune)]
    pub async fn fine_tune(
        manifest: String,
        weights: Vec<u8>,
        settings: String,
        backend: String,
    ) -> Result<Trainer, JsError> {
        let settings: Settings = parse_settings(&settings)?;
        let manifest = Manifest::parse(&manifest).map_err(fail)?;
        let (backend, device) = start(&backend, &settings.config).await?;
        let vae = load_model(&manifest, weights, &device).map_err(fail)?;
        let model = manifest.config();
        Ok(Trainer::new(
            model,
            settings.config,
            backend,
            device,
            vae,
            Some(manifest),
        ))
    }

    fn new(
        model: VaeConfig,
        config: TrainConfig,
        backend: Backend,
        device: Device,
        vae: Vae,
        base: Option<Manifest>,
    ) -> Trainer {
        Trainer {
            model,
            config,
            backend,
            device,
            waiting: Some(vae),
            learner: None,
            data: None,
            probe: None,
            steps_before: 0,
            busy_ms: 0.0,
            base,
        }
    }

    /// "CPU" or "WebGPU".
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.to_string()
    }

    #[wasm_bindgen(getter, js_name = latentDim)]
    pub fn latent_dim(&self) -> usize {
        self.model.latent_dim
    }

    #[wasm_bindgen(getter, js_name = imageWidth)]
    pub fn image_width(&self) -> usize {
        self.model.image_width
    }

    #[wasm_bindgen(getter, js_name = imageHeight)]
    pub fn image_height(&self) -> usize {
        self.model.image_height
    }

    /// Steps done so far.
    #[wasm_bindgen(getter)]
    pub fn step(&self) -> usize {
        self.steps_before + self.learner.as_ref().map_or(0, |l| l.at().done())
    }

    /// The training images: `count` images of the model's size, u8 (0 = background), and
    /// their labels (255 = none). Changing the data mid-run starts a new run over it with the
    /// same model and optimizer.
    #[wasm_bindgen(js_name = setData)]
    pub fn set_data(
        &mut self,
        pixels: Vec<u8>,
        labels: Vec<u8>,
        count: usize,
    ) -> Result<(), JsError> {
        let data = self.dataset(pixels, labels, count, "the training images")?;
        let (vae, optimizer) = match (self.learner.take(), self.waiting.take()) {
            (Some(learner), _) => {
                self.steps_before += learner.at().done();
                learner.into_parts()
            }
            (None, Some(vae)) => (vae, Learner::adam()),
            (None, None) => return Err(fail("the trainer has no model")),
        };
        let learner = Learner::new(
            vae,
            optimizer,
            self.config.clone(),
            data.count,
            0,
            &self.device,
        )
        .map_err(fail)?;
        self.learner = Some(learner);
        self.data = Some(data);
        Ok(())
    }

    /// A fixed set of test images for [`Trainer::evaluate`], the latent map and the bundle's
    /// figures.
    #[wasm_bindgen(js_name = setProbe)]
    pub fn set_probe(
        &mut self,
        pixels: Vec<u8>,
        labels: Vec<u8>,
        count: usize,
    ) -> Result<(), JsError> {
        self.probe = Some(self.dataset(pixels, labels, count, "the test images")?);
        Ok(())
    }

    /// Runs up to `steps` steps (fewer when the run ends). A step whose loss is not a number is
    /// not applied: the error says so and the weights stay those of the last good step.
    pub async fn train(&mut self, steps: usize) -> Result<JsValue, JsError> {
        let started = js_sys::Date::now();
        let (Some(learner), Some(data)) = (self.learner.as_mut(), self.data.as_ref()) else {
            return Err(fail("there are no training images yet"));
        };
        let (mut recon, mut kl, mut seen) = (0.0, 0.0, 0usize);
        let mut last = None;
        for _ in 0..steps {
            let Some(pending) = learner.prepare(data).map_err(fail)? else {
                break;
            };
            let out = &pending.output;
            let n = out.recon.dims()[0];
            let both = Tensor::cat(vec![out.recon.clone().mean(), out.kl.clone().mean()], 0);
            let read = read(both).await?;
            let (r, k) = (read[0] as f64, read[1] as f64);
            if !(r + k).is_finite() {
                self.busy_ms += js_sys::Date::now() - started;
                return Err(fail(format!(
                    "the loss became {} at step {}; the weights of the last good step are kept. \
                     Try a smaller learning rate.",
                    r + k,
                    self.steps_before + out.at.done() + 1
                )));
            }
            recon += r * n as f64;
            kl += k * n as f64;
            seen += n;
            last = Some(learner.apply(pending));
        }
        let kl_per_dim = match last {
            Some(out) => read(out.kl_per_dim).await?,
            None => vec![0.0; self.model.latent_dim],
        };
        let at = learner.at();
        let per = |v: f64| if seen == 0 { f64::NAN } else { v / seen as f64 };
        let config = learner.config();
        let progress = Progress {
            step: self.steps_before + at.done(),
            epoch: at.epoch.min(config.epochs),
            epochs: config.epochs,
            step_in_epoch: if learner.finished() {
                at.steps_per_epoch
            } else {
                at.step
            },
            steps_per_epoch: at.steps_per_epoch,
            total_steps: config.epochs * at.steps_per_epoch,
            finished: learner.finished(),
            recon: per(recon),
            kl: per(kl),
            loss: per(recon + kl),
            beta: at.beta(config),
            lr: at.learning_rate(config),
            kl_per_dim,
        };
        self.busy_ms += js_sys::Date::now() - started;
        Ok(serde_wasm_bindgen::to_value(&progress)?)
    }

    /// Decodes `n` latent vectors laid end to end with the model as it is now.
    pub async fn decode(&self, zs: Vec<f32>, n: usize) -> Result<Float32Array, JsError> {
        let vae = self.inference()?;
        let latent = self.model.latent_dim;
        if n == 0 || zs.len() != n * latent || zs.iter().any(|v| !v.is_finite()) {
            return Err(fail(format!(
                "expected {n} × {latent} finite latent values, got {}",
                zs.len()
            )));
        }
        let z = Tensor::<2>::from_data(TensorData::new(zs, [n, latent]), &vae_device(&vae));
        let images = read(vae.decoder.forward(z)).await?;
        Ok(Float32Array::from(&images[..]))
    }

    /// Encodes `n` images (values in [0, 1]) to their posteriors `{mu, logVar}`.
    pub async fn encode(&self, pixels: Vec<f32>, n: usize) -> Result<JsValue, JsError> {
        let vae = self.inference()?;
        let size = self.model.pixels();
        if n == 0 || pixels.len() != n * size || pixels.iter().any(|v| !v.is_finite()) {
            return Err(fail(format!(
                "expected {n} images of {size} finite values, got {} values",
                pixels.len()
            )));
        }
        let x = Tensor::<2>::from_data(TensorData::new(pixels, [n, size]), &vae_device(&vae));
        let (mu, log_var) = vae.encoder.forward(x);
        let encoded = Encoded {
            mu: read(mu).await?,
            log_var: read(log_var).await?,
        };
        Ok(serde_wasm_bindgen::to_value(&encoded)?)
    }

    /// The model's figures on the test images (one z sample per image, as `vae eval`).
    pub async fn evaluate(&self) -> Result<JsValue, JsError> {
        let probe = self
            .probe
            .as_ref()
            .ok_or_else(|| fail("there are no test images yet"))?;
        let cpu = weights::to_cpu(&self.inference()?).await.map_err(fail)?;
        let e = evaluate(&cpu, probe, self.config.seed).map_err(fail)?;
        let figures = Figures {
            recon: e.recon,
            kl: e.kl,
            loss: e.loss(),
            kl_per_dim: e.kl_per_dim,
            images: e.images,
        };
        Ok(serde_wasm_bindgen::to_value(&figures)?)
    }

    /// The model as a bundle `{manifest, weights}`: the same two files `vae train` writes.
    #[wasm_bindgen(js_name = exportBundle)]
    pub async fn export_bundle(&self, name: String, title: String) -> Result<JsValue, JsError> {
        let probe = self
            .probe
            .as_ref()
            .ok_or_else(|| fail("there are no test images yet"))?;
        let cpu = weights::to_cpu(&self.inference()?).await.map_err(fail)?;
        let dataset = self
            .base
            .as_ref()
            .map_or("trained in the browser", |m| &m.dataset);
        let command = match &self.base {
            Some(base) => format!("fine-tuned in the browser from {}", base.name),
            None => "trained in the browser".to_string(),
        };
        let about = About {
            name: &name,
            title: &title,
            dataset,
            model: &self.model,
            config: &self.config,
            train_images: self.data.as_ref().map_or(0, |d| d.count),
            seconds: self.busy_ms / 1000.0,
            command: &command,
        };
        let manifest = export::manifest(&about, &cpu, probe, None).map_err(fail)?;
        let text = manifest_json(&manifest).map_err(fail)?;
        let weights = weights_bytes(cpu).map_err(fail)?;
        let out = js_sys::Object::new();
        js_sys::Reflect::set(&out, &"manifest".into(), &text.into())
            .map_err(|_| fail("could not build the result"))?;
        js_sys::Reflect::set(
            &out,
            &"weights".into(),
            &Uint8Array::from(&weights[..]).into(),
        )
        .map_err(|_| fail("could not build the result"))?;
        Ok(out.into())
    }
}

impl Trainer {
    /// The model as it is now, without autodiff.
    fn inference(&self) -> Result<Vae, JsError> {
        match (&self.learner, &self.waiting) {
            (Some(learner), _) => Ok(learner.model().valid()),
            (None, Some(vae)) => Ok(vae.valid()),
            (None, None) => Err(fail("the trainer has no model")),
        }
    }

    fn dataset(
        &self,
        images: Vec<u8>,
        mut labels: Vec<u8>,
        count: usize,
        what: &str,
    ) -> Result<IdxDataset, JsError> {
        let (rows, cols) = (self.model.image_height, self.model.image_width);
        if count == 0 {
            return Err(fail(format!("{what} are empty")));
        }
        if images.len() != count * rows * cols {
            return Err(fail(format!(
                "{what} hold {} bytes, not {count} images of {cols}×{rows}",
                images.len()
            )));
        }
        if labels.is_empty() {
            labels = vec![UNLABELLED; count];
        }
        if labels.len() != count {
            return Err(fail(format!(
                "{what} have {} labels for {count} images",
                labels.len()
            )));
        }
        Ok(IdxDataset {
            images,
            labels,
            count,
            rows,
            cols,
        })
    }
}

fn parse_settings(text: &str) -> Result<Settings, JsError> {
    let settings: Settings = serde_json::from_str(text)
        .map_err(|e| fail(format!("the training settings are not valid: {e}")))?;
    let c = &settings.config;
    if c.epochs == 0 || c.batch_size == 0 || c.batch_size > 4096 {
        return Err(fail(
            "epochs must be at least 1 and the batch size between 1 and 4096",
        ));
    }
    if !(c.beta >= 0.0 && c.beta.is_finite()) {
        return Err(fail(format!("β must be a number ≥ 0, got {}", c.beta)));
    }
    if !(c.learning_rate > 0.0 && c.learning_rate.is_finite()) {
        return Err(fail(format!(
            "the learning rate must be positive, got {}",
            c.learning_rate
        )));
    }
    Ok(settings)
}

/// The autodiff device for `backend`, seeded as `vae train` seeds its device before building
/// the model.
async fn start(backend: &str, config: &TrainConfig) -> Result<(Backend, Device), JsError> {
    let backend: Backend = backend.parse().map_err(fail)?;
    let (device, _adapter) = device(backend).await.map_err(fail)?;
    let device = device.autodiff();
    device.seed(config.seed);
    Ok((backend, device))
}

fn vae_device(vae: &Vae) -> Device {
    vae.devices()
        .into_iter()
        .next()
        .unwrap_or_else(Device::flex)
}

async fn read<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, JsError> {
    crate::model::read::floats(tensor).await.map_err(fail)
}
