//! One optimisation step, and which images it takes: the whole of training that the CLI and
//! the page share. The caller decides when to read the step's figures (synchronously natively,
//! asynchronously on WebGPU) and what to do between steps.

use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::batch::{batch, check_image_size};
use super::idx::IdxDataset;
use super::schedule::{Step, epoch_seed, step_seed};
use crate::bundle::TrainConfig;
use crate::model::{Vae, kl_per_dimension};

/// A model in training with its optimizer and its place in the run: epoch after epoch over
/// `images` training images in an order fixed by (seed, epoch).
pub struct Learner {
    /// Always `Some`, but while the optimizer consumes it (taken so that its tensors have one
    /// owner and are updated in place).
    vae: Option<Vae>,
    optimizer: ModuleOptimizer,
    config: TrainConfig,
    device: Device,
    images: usize,
    /// The next step to run.
    at: Step,
    /// This epoch's image order (empty until the epoch's first step).
    order: Vec<usize>,
}

/// What one step computed, still on the device: per-image terms of the batch, and the KL of
/// each latent dimension averaged over it.
pub struct StepOutput {
    /// The step just run.
    pub at: Step,
    pub beta: f64,
    pub learning_rate: f64,
    /// −log p(x|z), nats, `[batch]`.
    pub recon: Tensor<1>,
    /// KL(q(z|x) ‖ p(z)), nats, `[batch]`.
    pub kl: Tensor<1>,
    /// Mean KL per latent dimension over the batch, `[latent]`.
    pub kl_per_dim: Tensor<1>,
}

impl Learner {
    /// A new model of `vae`'s shape and a fresh Adam, before epoch `after_epoch + 1` of a run
    /// over `images` training images (0 for a fresh start).
    pub fn new(
        vae: Vae,
        optimizer: ModuleOptimizer,
        config: TrainConfig,
        images: usize,
        after_epoch: usize,
        device: &Device,
    ) -> Result<Learner, String> {
        if images == 0 {
            return Err("there are no training images".into());
        }
        if config.batch_size == 0 || config.epochs == 0 {
            return Err("epochs and batch size must be at least 1".into());
        }
        Ok(Learner {
            vae: Some(vae),
            optimizer,
            images,
            at: Step {
                epoch: after_epoch + 1,
                step: 0,
                steps_per_epoch: images.div_ceil(config.batch_size),
            },
            config,
            device: device.clone(),
            order: Vec::new(),
        })
    }

    /// Adam with burn's defaults, the optimizer every run uses.
    pub fn adam() -> ModuleOptimizer {
        AdamConfig::new().init()
    }

    /// The next step to run.
    pub fn at(&self) -> Step {
        self.at
    }

    /// Whether every epoch of the run is done.
    pub fn finished(&self) -> bool {
        self.at.epoch > self.config.epochs
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    pub fn model(&self) -> &Vae {
        self.vae
            .as_ref()
            .expect("the model is only taken inside apply")
    }

    pub fn optimizer(&self) -> &ModuleOptimizer {
        &self.optimizer
    }

    /// Gives back the model and the optimizer.
    pub fn into_parts(self) -> (Vae, ModuleOptimizer) {
        let vae = self.vae.expect("the model is only taken inside apply");
        (vae, self.optimizer)
    }

    /// Runs the next step on `data` (the training set, whose first `images` images are used);
    /// `None` when the run is finished.
    pub fn step(&mut self, data: &IdxDataset) -> Result<Option<StepOutput>, String> {
        let Some(pending) = self.prepare(data)? else {
            return Ok(None);
        };
        Ok(Some(self.apply(pending)))
    }

    /// The next step's forward and backward pass, not yet applied: the caller may look at its
    /// figures first and drop it (a NaN loss), keeping the weights of the last good step.
    pub fn prepare(&mut self, data: &IdxDataset) -> Result<Option<Pending>, String> {
        if self.finished() {
            return Ok(None);
        }
        check_image_size(self.model(), data)?;
        if data.count < self.images {
            return Err(format!(
                "the run expects {} training images but the data has {}",
                self.images, data.count
            ));
        }
        let at = self.at;
        if at.step == 0 || self.order.len() != self.images {
            // Each epoch's order depends only on (seed, epoch): a resumed run repeats exactly
            // what an uninterrupted one would have done.
            let mut rng = StdRng::seed_from_u64(epoch_seed(self.config.seed, at.epoch));
            self.order = (0..self.images).collect();
            self.order.shuffle(&mut rng);
        }
        // ε of each step depends only on where the step is, not on what else used the device's
        // generator before it (an evaluation between steps, a preview in the page).
        self.device.seed(step_seed(self.config.seed, at));
        let size = self.config.batch_size;
        let indices = &self.order[at.step * size..((at.step + 1) * size).min(self.images)];
        let (beta, learning_rate) = (at.beta(&self.config), at.learning_rate(&self.config));

        let vae = self.model();
        let out = vae.forward(batch(data, indices, &self.device));
        let objective = (out.recon.clone() + out.kl.clone() * beta).mean();
        let grads = GradientsParams::from_grads(objective.backward(), vae);
        Ok(Some(Pending {
            grads,
            output: StepOutput {
                at,
                beta,
                learning_rate,
                recon: out.recon.detach(),
                kl: out.kl.detach(),
                kl_per_dim: kl_per_dimension(out.mu.detach(), out.log_var.detach())
                    .mean_dim(0)
                    .squeeze_dim(0),
            },
        }))
    }

    /// Applies a prepared step: the optimizer updates the weights and the run moves on.
    pub fn apply(&mut self, pending: Pending) -> StepOutput {
        let Pending { grads, output } = pending;
        if let Some(vae) = self.vae.take() {
            self.vae = Some(self.optimizer.step(output.learning_rate, vae, grads));
        }
        self.at = output.at.next();
        output
    }
}

/// A step computed but not yet applied (see [`Learner::prepare`]).
pub struct Pending {
    grads: GradientsParams,
    pub output: StepOutput,
}
