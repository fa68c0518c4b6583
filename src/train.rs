//! Native training and evaluation: IDX data in, a model bundle out.

use std::path::PathBuf;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::bundle::{
    self, Architecture, ImageSize, LatentStats, Manifest, Metrics, TrainingSettings,
};
use crate::data::{IdxDataset, Split, load_split};
use crate::model::{Vae, VaeConfig, kl_per_dimension};

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
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub seed: u64,
    /// Use only the first N training images (quick runs and tests).
    pub limit: Option<usize>,
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
pub fn train(options: &TrainOptions) -> Result<Manifest, String> {
    // Flags first, so a typo fails before a minute of loading data.
    VaeConfig::new(options.latent_dim, options.hidden.clone()).validate()?;
    if options.epochs == 0 || options.batch_size == 0 || options.limit == Some(0) {
        return Err("epochs, batch size and --limit must be at least 1".into());
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
        .with_image_height(train_set.rows)
        .with_image_width(train_set.cols);
    config.validate()?;

    let device = Device::flex().autodiff();
    device.seed(options.seed);
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut vae = config.init(&device);
    let mut optimizer = AdamConfig::new().init();

    let count = options
        .limit
        .map_or(train_set.count, |n| n.min(train_set.count));
    let mut order: Vec<usize> = (0..count).collect();
    let steps_per_epoch = count.div_ceil(options.batch_size);
    let started = Instant::now();

    for epoch in 1..=options.epochs {
        order.shuffle(&mut rng);
        let bar = progress(options.quiet, steps_per_epoch as u64, epoch, options.epochs);
        let (mut loss_sum, mut recon_sum, mut kl_sum, mut seen) = (0.0, 0.0, 0.0, 0usize);
        for indices in order.chunks(options.batch_size) {
            let images = batch(&train_set, indices, &device);
            let out = vae.forward(images);
            let loss = (out.recon.clone() + out.kl.clone()).mean();
            let grads = GradientsParams::from_grads(loss.backward(), &vae);
            vae = optimizer.step(options.learning_rate, vae, grads);

            let n = indices.len() as f64;
            recon_sum += scalar(out.recon.mean()) * n;
            kl_sum += scalar(out.kl.mean()) * n;
            loss_sum += scalar(loss) * n;
            seen += indices.len();
            bar.set_message(format!("loss {:.2} nats", loss_sum / seen as f64));
            bar.inc(1);
        }
        bar.finish_and_clear();
        if !options.quiet {
            eprintln!(
                "epoch {epoch:>3}/{}  train loss {:7.2}  (recon {:6.2} + KL {:5.2}) nats/image  {:.0}s",
                options.epochs,
                loss_sum / seen as f64,
                recon_sum / seen as f64,
                kl_sum / seen as f64,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let seconds = started.elapsed().as_secs_f64();

    let vae = vae.valid();
    let evaluation = evaluate(&vae, &test_set, options.seed)?;
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
        architecture: Architecture::Mlp {
            hidden: options.hidden.clone(),
        },
        training: TrainingSettings {
            epochs: options.epochs,
            batch_size: options.batch_size,
            learning_rate: options.learning_rate,
            seed: options.seed,
            train_images: count,
            seconds: (seconds * 10.0).round() / 10.0,
            command: options.command.clone(),
        },
        metrics: metrics(&evaluation),
        weights: bundle::WEIGHTS_FILE.to_string(),
        latent: evaluation.latent.clone(),
    };
    bundle::write_bundle(&options.out, &manifest, vae).map_err(|e| e.to_string())?;
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
    if data.pixels() != vae.encoder.pixels() {
        return Err(format!(
            "the model expects {}-pixel images but the data has {}×{}",
            vae.encoder.pixels(),
            data.rows,
            data.cols
        ));
    }
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

fn batch(data: &IdxDataset, indices: &[usize], device: &Device) -> Tensor<2> {
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
