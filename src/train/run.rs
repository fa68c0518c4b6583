//! A training run from start to bundle: check the flags, load the data, start or resume, train
//! epoch after epoch (checkpointing each), then evaluate and write the bundle.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;

use super::checkpoint::{self, RunSettings, State};
use super::epoch::Trainer;
use super::history::{self, as_files};
use crate::bundle::{Manifest, TrainConfig, write_bundle};
use crate::learn::Learner;
use crate::learn::eval::{Evaluation, evaluate};
use crate::learn::export::{self, About};
use crate::learn::idx::{IdxDataset, Split, load_split};
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
    let (vae, optimizer, mut state) = if job.resume {
        let resumed = checkpoint::load(&checkpoint_dir, &settings, Learner::adam(), &device)?;
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
        (data.model.init(&device), Learner::adam(), state)
    };
    let mut learner = Learner::new(
        vae,
        optimizer,
        job.config.clone(),
        data.count,
        state.epoch(),
        &device,
    )?;

    let trainer = Trainer::new(job, &data, &checkpoint_dir, stop);
    let started = Instant::now();
    let seconds_before = state.history.last().map_or(0.0, |r| r.seconds);
    // The last epoch's test evaluation is the final one; only a run with nothing left to
    // train (resumed at its last epoch) needs its own.
    let mut last_evaluation = None;
    while !learner.finished() {
        let epoch = learner.at().epoch;
        let totals = trainer.train_epoch(&mut learner)?;
        let test = evaluate(&learner.model().valid(), &data.test, job.config.seed)?;
        let seconds = seconds_before + started.elapsed().as_secs_f64();
        let record = trainer.record(epoch, &totals, &test, seconds);
        trainer.print(&record);
        state.history.push(record);
        last_evaluation = Some(test);
        let report = history::report(&job.title, &state.history);
        checkpoint::save(
            &checkpoint_dir,
            learner.model(),
            learner.optimizer(),
            &state,
            &as_files(&report),
        )?;
    }
    let (vae, _) = learner.into_parts();
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
    let about = About {
        name: &job.name,
        title: &job.title,
        dataset: &job.dataset,
        model: &data.model,
        config: &job.config,
        train_images: data.count,
        seconds: state.history.last().map_or(0.0, |r| r.seconds),
        command: &job.command,
    };
    let manifest = export::manifest(&about, &vae, &data.test, last_evaluation)?;
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
