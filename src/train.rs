//! Native training and evaluation: IDX data in, a model bundle out.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::bundle::{
    self, Architecture, ImageSize, LatentStats, LrSchedule, Manifest, Metrics, TrainingSettings,
};
use crate::checkpoint::{self, RunSettings, State};
use crate::data::{IdxDataset, Split, load_split};
use crate::history::{self, EpochRecord};
use crate::latent_map::{Plane, latent_map};
use crate::model::{Vae, VaeConfig, kl_per_dimension};

/// Test images drawn on the page's latent map (enough for a dense scatter, ~60 kB of JSON).
pub const MAP_POINTS: usize = 2000;

/// Everything a training run needs; the CLI fills it from flags.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub data: PathBuf,
    pub out: PathBuf,
    pub name: String,
    pub title: String,
    pub dataset: String,
    pub latent_dim: usize,
    pub hidden: Vec<usize>,
    /// Convolution channels, input side first; empty for an MLP.
    pub channels: Vec<usize>,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub lr_schedule: LrSchedule,
    /// KL weight β in loss = reconstruction + β·KL (1 = the plain VAE).
    pub beta: f64,
    /// Raise β linearly from 0 over this many epochs (KL warm-up); 0 = none.
    pub warmup_epochs: usize,
    pub seed: u64,
    /// Use only the first N training images (quick runs and tests).
    pub limit: Option<usize>,
    /// Continue from the checkpoint beside `out`.
    pub resume: bool,
    pub quiet: bool,
    pub command: String,
}

/// Test-set figures of a model, nats per image.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub recon: f64,
    pub kl: f64,
    pub images: usize,
    pub kl_per_dim: Vec<f64>,
    pub latent: Vec<LatentStats>,
}

impl Evaluation {
    pub fn loss(&self) -> f64 {
        self.recon + self.kl
    }
}

fn load(dir: &std::path::Path, split: Split) -> Result<IdxDataset, String> {
    load_split(dir, split, None).map_err(|e| e.to_string())
}

/// Trains a VAE and writes its bundle; returns the manifest written.
/// `stop` is checked between steps (Ctrl-C sets it); a stopped run keeps its last checkpoint.
pub fn train(options: &TrainOptions, stop: &AtomicBool) -> Result<Manifest, String> {
    // Flags first, so a typo fails before a minute of loading data.
    // The image size is only known once the data is read; any size the convolutions accept
    // stands in for it here.
    let side = 1 << options.channels.len();
    VaeConfig::new(options.latent_dim, options.hidden.clone())
        .with_channels(options.channels.clone())
        .with_image_height(side)
        .with_image_width(side)
        .validate()?;
    if options.epochs == 0 || options.batch_size == 0 || options.limit == Some(0) {
        return Err("epochs, batch size and --limit must be at least 1".into());
    }
    if !(options.beta >= 0.0 && options.beta.is_finite()) {
        return Err(format!("β must be a number ≥ 0, got {}", options.beta));
    }
    if !(options.learning_rate > 0.0 && options.learning_rate.is_finite()) {
        return Err(format!(
            "learning rate must be positive, got {}",
            options.learning_rate
        ));
    }
    let train_set = load(&options.data, Split::Train)?;
    let test_set = load(&options.data, Split::Test)?;
    if test_set.rows != train_set.rows || test_set.cols != train_set.cols {
        return Err(format!(
            "training images are {}×{} but test images are {}×{}",
            train_set.rows, train_set.cols, test_set.rows, test_set.cols
        ));
    }
    let config = VaeConfig::new(options.latent_dim, options.hidden.clone())
        .with_channels(options.channels.clone())
        .with_image_height(train_set.rows)
        .with_image_width(train_set.cols);
    config.validate()?;

    let count = options
        .limit
        .map_or(train_set.count, |n| n.min(train_set.count));
    let settings = RunSettings {
        latent_dim: options.latent_dim,
        hidden: options.hidden.clone(),
        channels: options.channels.clone(),
        image: (train_set.rows, train_set.cols),
        batch_size: options.batch_size,
        learning_rate: options.learning_rate,
        lr_schedule: options.lr_schedule,
        beta: options.beta,
        warmup_epochs: options.warmup_epochs,
        seed: options.seed,
        train_images: count,
    };
    let device = Device::flex().autodiff();
    device.seed(options.seed);
    let checkpoint_dir = checkpoint::dir_for(&options.out);
    // Where the checkpoints and the bundle go must be writable before the first epoch, not
    // after it: a typo in --out (or a full disk) fails in a second, not a minute.
    ensure_writable(&checkpoint_dir)?;
    let (mut vae, mut optimizer, mut state) = if options.resume {
        let (vae, optimizer, state) = checkpoint::load(
            &checkpoint_dir,
            &settings,
            &config,
            AdamConfig::new().init(),
            &device,
        )?;
        if !options.quiet {
            eprintln!(
                "resuming after epoch {} from {}",
                state.epoch(),
                checkpoint_dir.display()
            );
        }
        (vae, optimizer, state)
    } else {
        let state = State {
            settings,
            history: Vec::new(),
        };
        (config.init(&device), AdamConfig::new().init(), state)
    };

    let steps_per_epoch = count.div_ceil(options.batch_size);
    let started = Instant::now();
    let seconds_before = state.history.last().map_or(0.0, |r| r.seconds);
    // The last epoch's test evaluation is the final one; only a run with nothing left to
    // train (resumed at its last epoch) needs its own.
    let mut last_evaluation = None;

    for epoch in state.epoch() + 1..=options.epochs {
        // Each epoch's shuffle and ε depend only on (seed, epoch): a resumed run repeats
        // exactly what an uninterrupted one would have done.
        let epoch_seed = options.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = StdRng::seed_from_u64(epoch_seed);
        device.seed(epoch_seed);
        let mut order: Vec<usize> = (0..count).collect();
        order.shuffle(&mut rng);
        let bar = progress(options.quiet, steps_per_epoch as u64, epoch, options.epochs);
        let (mut recon_sum, mut kl_sum, mut seen) = (0.0, 0.0, 0usize);
        let epoch_started = Instant::now();
        let step_beta = |step: usize| {
            let warm = options.warmup_epochs * steps_per_epoch;
            let done = (epoch - 1) * steps_per_epoch + step;
            if done < warm {
                options.beta * done as f64 / warm as f64
            } else {
                options.beta
            }
        };
        for (step, indices) in order.chunks(options.batch_size).enumerate() {
            if stop.load(Ordering::Relaxed) {
                bar.abandon();
                return Err(if epoch == 1 {
                    "stopped during epoch 1, before any checkpoint was written".to_string()
                } else {
                    format!(
                        "stopped during epoch {epoch}; the checkpoint after epoch {} is in {}: \
                         continue with the same command and --resume",
                        epoch - 1,
                        checkpoint_dir.display()
                    )
                });
            }
            let images = batch(&train_set, indices, &device);
            let out = vae.forward(images);
            let objective = (out.recon.clone() + out.kl.clone() * step_beta(step)).mean();
            let grads = GradientsParams::from_grads(objective.backward(), &vae);
            let lr = options.lr_schedule.rate(
                options.learning_rate,
                (epoch - 1) * steps_per_epoch + step,
                options.epochs * steps_per_epoch,
            );
            vae = optimizer.step(lr, vae, grads);

            let n = indices.len() as f64;
            recon_sum += scalar(out.recon.mean()) * n;
            kl_sum += scalar(out.kl.mean()) * n;
            seen += indices.len();
            bar.set_message(format!(
                "loss {:.2} nats",
                (recon_sum + kl_sum) / seen as f64
            ));
            bar.inc(1);
        }
        bar.finish_and_clear();
        let train_seconds = epoch_started.elapsed().as_secs_f64();

        let test = evaluate(&vae.valid(), &test_set, options.seed)?;
        let record = EpochRecord {
            epoch,
            beta: step_beta(steps_per_epoch),
            train_loss: (recon_sum + kl_sum) / seen as f64,
            train_recon: recon_sum / seen as f64,
            train_kl: kl_sum / seen as f64,
            test_loss: test.loss(),
            test_recon: test.recon,
            test_kl: test.kl,
            kl_per_dim: test.kl_per_dim.clone(),
            seconds: seconds_before + started.elapsed().as_secs_f64(),
            train_seconds,
        };
        if !options.quiet {
            eprintln!(
                "epoch {epoch:>3}/{}  train {:7.2} (recon {:6.2} + KL {:5.2})  test {:7.2} nats/image  {:.0}s",
                options.epochs,
                record.train_loss,
                record.train_recon,
                record.train_kl,
                record.test_loss,
                record.seconds
            );
        }
        state.history.push(record);
        last_evaluation = Some(test);
        // The report goes with the checkpoint while training (the bundle folder keeps the
        // previous model, whole, until the new one is written), and into the bundle at the end.
        let (csv, svg) = report(&options.title, &state.history);
        let extra = [(REPORT_CSV, csv.as_bytes()), (REPORT_SVG, svg.as_bytes())];
        checkpoint::save(&checkpoint_dir, &vae, &optimizer, &state, &extra)?;
    }
    let seconds = state.history.last().map_or(0.0, |r| r.seconds);

    let vae = vae.valid();
    let evaluation = match last_evaluation {
        Some(evaluation) => evaluation,
        None => evaluate(&vae, &test_set, options.seed)?,
    };
    if !evaluation.loss().is_finite() {
        return Err(format!(
            "training diverged (test loss {}); try a smaller learning rate",
            evaluation.loss()
        ));
    }
    let manifest = Manifest {
        format_version: bundle::FORMAT_VERSION,
        name: options.name.clone(),
        title: options.title.clone(),
        dataset: options.dataset.clone(),
        image: ImageSize {
            width: train_set.cols,
            height: train_set.rows,
        },
        latent_dim: options.latent_dim,
        architecture: Architecture::of(&config),
        training: TrainingSettings {
            epochs: options.epochs,
            batch_size: options.batch_size,
            learning_rate: options.learning_rate,
            lr_schedule: options.lr_schedule,
            beta: options.beta,
            warmup_epochs: options.warmup_epochs,
            seed: options.seed,
            train_images: count,
            seconds: (seconds * 10.0).round() / 10.0,
            command: options.command.clone(),
        },
        metrics: metrics(&evaluation),
        weights: bundle::WEIGHTS_FILE.to_string(),
        latent: evaluation.latent.clone(),
        map: Some(latent_map(&vae, &test_set, Plane::Auto, MAP_POINTS)?),
    };
    let (csv, svg) = report(&options.title, &state.history);
    let extra = [(REPORT_CSV, csv.as_bytes()), (REPORT_SVG, svg.as_bytes())];
    bundle::write_bundle(&options.out, &manifest, vae, &extra).map_err(|e| e.to_string())?;
    Ok(manifest)
}

pub fn metrics(evaluation: &Evaluation) -> Metrics {
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    Metrics {
        test_loss_nats: round(evaluation.loss()),
        recon_nats: round(evaluation.recon),
        kl_nats: round(evaluation.kl),
        images: evaluation.images,
    }
}

/// Test loss (one z sample per image, as in the training objective), per-dimension KL and the
/// distribution of μ over the set — what the page uses for slider ranges.
pub fn evaluate(vae: &Vae, data: &IdxDataset, seed: u64) -> Result<Evaluation, String> {
    let device = Device::flex();
    let vae = vae.clone().to_device(&device);
    device.seed(seed ^ 0x5eed);
    let latent_dim = vae.encoder.latent_dim();
    check_image_size(&vae, data)?;
    let (mut recon, mut kl) = (0.0, 0.0);
    let mut kl_dims = vec![0.0; latent_dim];
    let mut mus: Vec<Vec<f32>> = vec![Vec::with_capacity(data.count); latent_dim];
    let indices: Vec<usize> = (0..data.count).collect();
    for chunk in indices.chunks(500) {
        let out = vae.forward(batch(data, chunk, &device));
        recon += scalar(out.recon.sum());
        kl += scalar(out.kl.sum());
        let per_dim = kl_per_dimension(out.mu.clone(), out.log_var).sum_dim(0);
        for (acc, v) in kl_dims.iter_mut().zip(values(per_dim)) {
            *acc += v as f64;
        }
        for (i, v) in values(out.mu).into_iter().enumerate() {
            mus[i % latent_dim].push(v);
        }
    }
    let n = data.count as f64;
    let kl_per_dim: Vec<f64> = kl_dims.iter().map(|v| v / n).collect();
    let latent = mus
        .into_iter()
        .zip(&kl_per_dim)
        .map(|(mu, &kl_nats)| latent_stats(mu, kl_nats))
        .collect();
    Ok(Evaluation {
        recon: recon / n,
        kl: kl / n,
        images: data.count,
        kl_per_dim,
        latent,
    })
}

/// Slider range: the central 99.8 % of the test-set μ, widened to at least ±3 so that prior
/// samples fit too. A dimension is active when μ varies across the data (Var > 0.01, the
/// "active units" criterion of Burda et al. 2016).
fn latent_stats(mut mu: Vec<f32>, kl_nats: f64) -> LatentStats {
    let n = mu.len().max(1) as f64;
    let mean = mu.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = mu.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    mu.sort_by(f32::total_cmp);
    let quantile = |q: f64| {
        mu.get(((mu.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0) as f64
    };
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    LatentStats {
        mu_mean: round(mean),
        mu_std: round(var.sqrt()),
        slider_min: round(quantile(0.001).min(-3.0)),
        slider_max: round(quantile(0.999).max(3.0)),
        kl_nats: round(kl_nats),
        active: var > 0.01,
    }
}

/// Importance-sampled estimate of −log p(x), nats per image, over the first `images` images:
/// log p(x) ≈ log (1/k) Σ_k p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q(z|x) (Burda et al. 2016).
/// Tighter than the ELBO the loss reports; k = 1 gives back a one-sample ELBO.
pub fn importance_sampled_nll(
    vae: &Vae,
    data: &IdxDataset,
    k: usize,
    images: usize,
    seed: u64,
) -> Result<f64, String> {
    if k == 0 || images == 0 {
        return Err("importance sampling needs k ≥ 1 samples and at least one image".into());
    }
    let device = Device::flex();
    let vae = vae.clone().to_device(&device);
    device.seed(seed ^ 0x15);
    let images = images.min(data.count);
    let latent = vae.encoder.latent_dim();
    let log_2pi = (2.0 * std::f64::consts::PI).ln() as f32;
    // Rows per forward pass: images × k samples, about 32k rows at a time.
    let per_chunk = (32_768 / k).max(1);
    let indices: Vec<usize> = (0..images).collect();
    let mut total = 0.0;
    for chunk in indices.chunks(per_chunk) {
        let b = chunk.len();
        let x = batch(data, chunk, &device);
        let (mu, log_var) = vae.encoder.forward(x.clone());
        let repeat = |t: Tensor<2>, width: usize| -> Tensor<2> {
            t.unsqueeze_dim::<3>(1)
                .repeat_dim(1, k)
                .reshape([b * k, width])
        };
        let (mu, log_var) = (repeat(mu, latent), repeat(log_var, latent));
        let x = repeat(x, data.pixels());
        let eps = Tensor::<2>::random(
            [b * k, latent],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let z = mu + (log_var.clone() * 0.5).exp() * eps.clone();
        let log_px_z = -crate::model::bce_with_logits(vae.decoder.logits(z.clone()), x);
        let log_pz = ((z.powi_scalar(2) + log_2pi) * -0.5)
            .sum_dim(1)
            .squeeze_dim(1);
        let log_qz = ((eps.powi_scalar(2) + log_var + log_2pi) * -0.5)
            .sum_dim(1)
            .squeeze_dim(1);
        let log_w = values(log_px_z + log_pz - log_qz);
        for w in log_w.chunks(k) {
            let max = w.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let sum: f64 = w.iter().map(|&v| (v as f64 - max).exp()).sum();
            total -= max + sum.ln() - (k as f64).ln();
        }
    }
    Ok(total / images as f64)
}

/// Fails at once, in words, when `dir` cannot be created or written.
fn ensure_writable(dir: &Path) -> Result<(), String> {
    let probe = dir.join(".write-test.tmp");
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&probe, b"ok"))
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| format!("cannot write to {}: {e}", dir.display()))
}

const REPORT_CSV: &str = "training.csv";
const REPORT_SVG: &str = "training.svg";

/// training.csv and training.svg: the loss per epoch.
fn report(title: &str, history: &[EpochRecord]) -> (String, String) {
    (
        history::to_csv(history),
        history::to_svg(history, &format!("{title}: loss per epoch")),
    )
}

/// The model and the dataset agree on the image size.
pub(crate) fn check_image_size(vae: &Vae, data: &IdxDataset) -> Result<(), String> {
    if data.pixels() != vae.encoder.pixels() {
        return Err(format!(
            "the model expects {}-pixel images but the data has {}×{}",
            vae.encoder.pixels(),
            data.rows,
            data.cols
        ));
    }
    Ok(())
}

/// Images `indices` of `data` as a `[n, pixels]` tensor in [0, 1].
pub(crate) fn batch(data: &IdxDataset, indices: &[usize], device: &Device) -> Tensor<2> {
    let pixels = data.batch_f32(indices);
    Tensor::from_data(
        TensorData::new(pixels, [indices.len(), data.pixels()]),
        device,
    )
}

fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().try_to_vec::<f32>().unwrap_or_default()
}

fn scalar(tensor: Tensor<1>) -> f64 {
    values(tensor).first().copied().unwrap_or(f32::NAN) as f64
}

fn progress(quiet: bool, steps: u64, epoch: usize, epochs: usize) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps);
    bar.set_style(
        ProgressStyle::with_template(
            "epoch {prefix} [{bar:30}] {pos}/{len} steps  {per_sec}  ETA {eta}  {msg}",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar.set_prefix(format!("{epoch}/{epochs}"));
    bar
}
