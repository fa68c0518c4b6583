//! The bundle's classifier, run on the CPU whatever backend decodes: the page reads every
//! decoded image back anyway to paint it, and a small network on a few hundred thousand
//! weights costs far less than a round trip to the GPU.

use burn::tensor::Device;

use super::InferError;
use super::cpu_dense::PackedStack;
use super::input::{PIXEL_RANGE, check_input};
use crate::bundle::{Manifest, load_classifier};
use crate::model::classifier_layers;

/// A classifier with its layers packed for the CPU.
pub struct ClassifierSession {
    stack: PackedStack,
    classes: Vec<String>,
    pixels: usize,
}

impl ClassifierSession {
    /// From the bundle's manifest (which must describe a classifier) and its weights file.
    pub fn create(manifest: &str, weights: Vec<u8>) -> Result<ClassifierSession, InferError> {
        let manifest = Manifest::parse(manifest)?;
        let classifier = load_classifier(&manifest, weights, &Device::flex())?;
        let stack = PackedStack::from_dense(&classifier_layers(&classifier))?;
        Ok(ClassifierSession {
            stack,
            classes: manifest.classifier.map(|c| c.classes).unwrap_or_default(),
            pixels: manifest.image.width * manifest.image.height,
        })
    }

    /// Class names, in the order of [`ClassifierSession::classify`]'s probabilities.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Class probabilities (softmax) of `n` images laid end to end: `n` rows of
    /// `classes().len()` values.
    pub fn classify(&self, images: &[f32], n: usize) -> Result<Vec<f32>, InferError> {
        check_input("image", images, n, self.pixels, PIXEL_RANGE)?;
        let mut probs = self.stack.forward(images, n);
        for row in probs.chunks_mut(self.classes.len()) {
            softmax(row);
        }
        Ok(probs)
    }
}

/// In place, shifted by the maximum so that no logit overflows `exp`.
fn softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in row.iter_mut() {
        *v /= sum;
    }
}
