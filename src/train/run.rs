//! A training run from start to bundle: check the flags, load the data, start or resume, train
//! epoch after epoch (checkpointing each), then evaluate and write the bundle.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use burn::module::Module;
use burn::optim::AdamConfig;
use burn::tensor::Device;

use super::checkpoint::{self, RunSettings, State};
use super::epoch::Trainer;
use super::eval::{Evaluation, evaluate, metrics};
use super::history::{self, as_files};
use super::idx::{IdxDataset, Split, load_split};
use super::latent_map::{MAP_POINTS, Plane, latent_map};
use crate::bundle::{self, Architecture, ImageSize, Manifest, TrainConfig, Training, write_bundle};
use crate::model::{Vae, VaeConfig};

/// What to train and where: the model's shape, the hyperparameters, and the settings that only
/// concern this run (paths, names, output).
#[derive(Debug, Clone)]
pub struct TrainJob {
    pub data: PathBuf,
    pub out: PathBuf,
    pub name: String,
    pub title: String,
    pub dataset: String,
    pub latent_dim: usize,
    pub hidden: Vec<usize>,
    /// Convolution channels, input side first; empty for an MLP.
    pub channels: Vec<usize>,
    pub config: TrainConfig,
    /// Use only the first N training images (quick runs and tests).
    pub limit: Option<usize>,
    /// Continue from the checkpoint beside `out`.
    pub resume: bool,
    pub quiet: bool,
    /// The command line, recorded in the manifest.
    pub command: String,
}

impl TrainJob {
    /// The model for images of `height` × `width`.
    fn model(&self, height: usize, width: usize) -> VaeConfig {
        VaeConfig::new(self.latent_dim, self.hidden.clone())
            .with_channels(self.channels.clone())
            .with_image_height(height)
            .with_image_width(width)
    }

    /// Flags first, so a typo fails before a minute of loading data. The image size is only
    /// known once the data is read; any size the convolutions accept stands in for it here.
    fn check(&self) -> Result<(), String> {
        let side = 1 << self.channels.len();
        self.model(side, side).validate()?;
        let c = &self.config;
        if c.epochs == 0 || c.batch_size == 0 || self.limit == Some(0) {
            return Err("epochs, batch size and --limit must be at least 1".into());
        }
        if !(c.beta >= 0.0 && c.beta.is_finite()) {
            return Err(format!("β must be a number ≥ 0, got {}", c.beta));
        }
        if !(c.learning_rate > 0.0 && c.learning_rate.is_finite()) {
            return Err(format!(
                "learning rate must be positive, got {}",
                c.learning_rate
            ));
        }
        Ok(())
    }
}

/// The data of a run and the model it fixes.
pub(super) struct Data {
    pub train: IdxDataset,
    pub test: IdxDataset,
    pub model: VaeConfig,
    /// Training images used (all, or `--limit`).
    pub count: usize,
}

impl Data {
    fn load(job: &TrainJob) -> Result<Data, String> {
        let load = |split| load_split(&job.data, split, None).map_err(|e| e.to_string());
        let train = load(Split::Train)?;
        let test = load(Split::Test)?;
        if test.rows != train.rows || test.cols != train.cols {
            return Err(format!(
                "training images are {}×{} but test images are {}×{}",
                train.rows, train.cols, test.rows, test.cols
            ));
        }
        let model = job.model(train.rows, train.cols);
        model.validate()?;
        let count = job.limit.map_or(train.count, |n| n.min(train.count));
        Ok(Data {
            train,
            test,
            model,
            count,
        })
    }
}

/// Trains a VAE and writes its bundle; returns the manifest written.
/// `stop` is checked between steps (Ctrl-C sets it); a stopped run keeps its last checkpoint.
pub fn train(job: &TrainJob, stop: &AtomicBool) -> Result<Manifest, String> {
    job.check()?;
    let data = Data::load(job)?;
    let device = Device::flex().autodiff();
    device.seed(job.config.seed);
    let checkpoint_dir = checkpoint::dir_for(&job.out);
    // Where the checkpoints and the bundle go must be writable before the first epoch, not
    // after it: a typo in --out (or a full disk) fails in a second, not a minute.
    ensure_writable(&checkpoint_dir)?;
    let settings = RunSettings {
        model: data.model.clone(),
        training: job.config.clone(),
        train_images: data.count,
    };
    let (mut vae, mut optimizer, mut state) = if job.resume {
        let optimizer = AdamConfig::new().init();
        let resumed = checkpoint::load(&checkpoint_dir, &settings, optimizer, &device)?;
        if !job.quiet {
            eprintln!(
                "resuming after epoch {} from {}",
                resumed.2.epoch(),
                checkpoint_dir.display()
            );
        }
        resumed
    } else {
        let state = State {
            settings,
            history: Vec::new(),
        };
        (data.model.init(&device), AdamConfig::new().init(), state)
    };

    let trainer = Trainer::new(job, &data, &device, &checkpoint_dir, stop);
    let started = Instant::now();
    let seconds_before = state.history.last().map_or(0.0, |r| r.seconds);
    // The last epoch's test evaluation is the final one; only a run with nothing left to
    // train (resumed at its last epoch) needs its own.
    let mut last_evaluation = None;
    for epoch in state.epoch() + 1..=job.config.epochs {
        let totals;
        (vae, totals) = trainer.train_epoch(vae, &mut optimizer, epoch)?;
        let test = evaluate(&vae.valid(), &data.test, job.config.seed)?;
        let seconds = seconds_before + started.elapsed().as_secs_f64();
        let record = trainer.record(epoch, &totals, &test, seconds);
        trainer.print(&record);
        state.history.push(record);
        last_evaluation = Some(test);
        let report = history::report(&job.title, &state.history);
        checkpoint::save(
            &checkpoint_dir,
            &vae,
            &optimizer,
            &state,
            &as_files(&report),
        )?;
    }
    finish(job, &data, vae.valid(), &state, last_evaluation)
}

/// The final evaluation, the manifest and the bundle.
fn finish(
    job: &TrainJob,
    data: &Data,
    vae: Vae,
    state: &State,
    last_evaluation: Option<Evaluation>,
) -> Result<Manifest, String> {
    let seconds = state.history.last().map_or(0.0, |r| r.seconds);
    let evaluation = match last_evaluation {
        Some(evaluation) => evaluation,
        None => evaluate(&vae, &data.test, job.config.seed)?,
    };
    if !evaluation.loss().is_finite() {
        return Err(format!(
            "training diverged (test loss {}); try a smaller learning rate",
            evaluation.loss()
        ));
    }
    let manifest = Manifest {
        format_version: bundle::FORMAT_VERSION,
        name: job.name.clone(),
        title: job.title.clone(),
        dataset: job.dataset.clone(),
        image: ImageSize {
            width: data.train.cols,
            height: data.train.rows,
        },
        latent_dim: job.latent_dim,
        architecture: Architecture::of(&data.model),
        training: Training {
            config: job.config.clone(),
            train_images: data.count,
            seconds: (seconds * 10.0).round() / 10.0,
            command: job.command.clone(),
        },
        metrics: metrics(&evaluation),
        weights: bundle::WEIGHTS_FILE.to_string(),
        latent: evaluation.latent.clone(),
        map: Some(latent_map(&vae, &data.test, Plane::Auto, MAP_POINTS)?),
    };
    let report = history::report(&job.title, &state.history);
    write_bundle(&job.out, &manifest, vae, &as_files(&report)).map_err(|e| e.to_string())?;
    Ok(manifest)
}

/// Fails at once, in words, when `dir` cannot be created or written.
fn ensure_writable(dir: &Path) -> Result<(), String> {
    let probe = dir.join(".write-test.tmp");
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&probe, b"ok"))
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| format!("cannot write to {}: {e}", dir.display()))
}
