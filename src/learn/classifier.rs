//! The bundle's digit classifier: trained on the training images and on the VAE's
//! reconstructions of them (so that its readings of decoded images, which are blurrier than
//! real digits, are as sure as they should be), and measured on both for the test set.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::{log_softmax, sigmoid};
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::batch::{batch, check_image_size, values};
use super::idx::IdxDataset;
use crate::model::{Classifier, ClassifierConfig, Vae};

/// How the classifier is trained.
#[derive(Debug, Clone)]
pub struct ClassifierTraining {
    pub hidden: Vec<usize>,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub seed: u64,
}

/// Images and labels as training examples: `pixels` holds `labels.len()` images end to end.
struct Examples {
    pixels: Vec<f32>,
    labels: Vec<u8>,
    width: usize,
}

/// The number of classes a labelled set has: one more than its largest label.
pub fn class_count(data: &IdxDataset) -> usize {
    data.labels
        .iter()
        .copied()
        .max()
        .map_or(0, |m| m as usize + 1)
}

/// Trains a classifier of `settings.hidden` on `train`'s images and `vae`'s reconstructions of
/// them; `progress(epoch, loss)` after each epoch.
pub fn train_classifier(
    vae: &Vae,
    train: &IdxDataset,
    settings: &ClassifierTraining,
    mut progress: impl FnMut(usize, f64),
) -> Result<Classifier, String> {
    check_image_size(vae, train)?;
    let classes = class_count(train);
    let config = ClassifierConfig {
        inputs: train.pixels(),
        hidden: settings.hidden.clone(),
        classes,
    };
    config.validate()?;
    if settings.epochs == 0 || settings.batch_size == 0 {
        return Err("epochs and batch size must be at least 1".into());
    }
    let mut examples = Examples {
        pixels: train.batch_f32(&(0..train.count).collect::<Vec<_>>()),
        labels: train.labels.clone(),
        width: train.pixels(),
    };
    examples.pixels.extend(reconstructions(vae, train)?);
    examples.labels.extend_from_slice(&train.labels);

    let device = Device::flex().autodiff();
    device.seed(settings.seed);
    let mut classifier = config.init(&device);
    let mut optimizer = AdamConfig::new().init();
    let mut rng = StdRng::seed_from_u64(settings.seed);
    let mut order: Vec<usize> = (0..examples.labels.len()).collect();
    for epoch in 1..=settings.epochs {
        order.shuffle(&mut rng);
        let mut total = 0.0;
        for chunk in order.chunks(settings.batch_size) {
            let (x, target) = examples.batch(chunk, classes, &device);
            let loss = cross_entropy(classifier.logits(x), target);
            total += values(loss.clone()).first().copied().unwrap_or(f32::NAN) as f64
                * chunk.len() as f64;
            let grads = GradientsParams::from_grads(loss.backward(), &classifier);
            classifier = optimizer.step(settings.learning_rate, classifier, grads);
        }
        let mean = total / order.len() as f64;
        if !mean.is_finite() {
            return Err(format!(
                "the classifier's loss became {mean} in epoch {epoch}"
            ));
        }
        progress(epoch, mean);
    }
    Ok(classifier.valid())
}

/// Accuracy of `classifier` on `data`'s images and on `vae`'s reconstructions of them at
/// z = μ: `(images, reconstructions)`, fractions in [0, 1].
pub fn classifier_accuracy(
    classifier: &Classifier,
    vae: &Vae,
    data: &IdxDataset,
) -> Result<(f64, f64), String> {
    check_image_size(vae, data)?;
    let device = Device::flex();
    let classifier = classifier.clone().to_device(&device);
    let classes = class_count(data);
    let correct = |pixels: &[f32]| {
        let logits = classifier.logits(Tensor::from_data(
            TensorData::new(
                pixels.to_vec(),
                [pixels.len() / data.pixels(), data.pixels()],
            ),
            &device,
        ));
        let logits = values(logits);
        let width = logits.len() / (pixels.len() / data.pixels()).max(1);
        logits.chunks(width.max(1)).map(argmax).collect::<Vec<_>>()
    };
    let real = correct(&data.batch_f32(&(0..data.count).collect::<Vec<_>>()));
    let recon = correct(&reconstructions(vae, data)?);
    let rate = |predicted: Vec<usize>| {
        let hits = predicted
            .iter()
            .zip(&data.labels)
            .filter(|&(&p, &l)| p == l as usize && p < classes.max(1))
            .count();
        hits as f64 / data.count.max(1) as f64
    };
    Ok((rate(real), rate(recon)))
}

/// `vae`'s Bernoulli means at z = μ for every image of `data`, end to end.
fn reconstructions(vae: &Vae, data: &IdxDataset) -> Result<Vec<f32>, String> {
    check_image_size(vae, data)?;
    let device = Device::flex();
    let vae = vae.clone().to_device(&device);
    let indices: Vec<usize> = (0..data.count).collect();
    let mut out = Vec::with_capacity(data.count * data.pixels());
    for chunk in indices.chunks(1000) {
        let (mu, _) = vae.encoder.forward(batch(data, chunk, &device));
        out.extend(values(sigmoid(vae.decoder.logits(mu))));
    }
    Ok(out)
}

impl Examples {
    /// Images `indices` and their one-hot labels.
    fn batch(&self, indices: &[usize], classes: usize, device: &Device) -> (Tensor<2>, Tensor<2>) {
        let mut x = Vec::with_capacity(indices.len() * self.width);
        let mut target = vec![0.0f32; indices.len() * classes];
        for (row, &i) in indices.iter().enumerate() {
            x.extend_from_slice(&self.pixels[i * self.width..(i + 1) * self.width]);
            target[row * classes + self.labels[i] as usize] = 1.0;
        }
        (
            Tensor::from_data(TensorData::new(x, [indices.len(), self.width]), device),
            Tensor::from_data(TensorData::new(target, [indices.len(), classes]), device),
        )
    }
}

/// Mean cross-entropy of logits against one-hot targets, nats.
fn cross_entropy(logits: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    (log_softmax(logits, 1) * target).sum_dim(1).mean().neg()
}

fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}
