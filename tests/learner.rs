//! The training step the CLI and the page share (`learn::Learner`): epochs take every image
//! once, a step computed and dropped (a NaN loss in the page) leaves the run as it was, and
//! data that does not fit is an error. Its own test binary: burn's CPU generator is global, and
//! tests running beside these in one process would draw from it between a seed and its use.

use std::sync::Mutex;

use burn::tensor::{Device, Tensor};
use vae_explorer::bundle::{LrSchedule, TrainConfig};
use vae_explorer::learn::idx::IdxDataset;
use vae_explorer::learn::{Learner, StepOutput, scalar};
use vae_explorer::model::VaeConfig;

/// The tests here take turns with the generator.
static GENERATOR: Mutex<()> = Mutex::new(());

fn data(count: usize) -> IdxDataset {
    let images = (0..count * 16).map(|i| (i * 37 % 256) as u8).collect();
    IdxDataset {
        images,
        labels: vec![0; count],
        count,
        rows: 4,
        cols: 4,
    }
}

fn learner(images: usize, batch_size: usize) -> (Learner, Device) {
    let device = Device::flex().autodiff();
    device.seed(3);
    let model = VaeConfig::new(2, vec![8])
        .with_image_height(4)
        .with_image_width(4);
    let config = TrainConfig {
        epochs: 2,
        batch_size,
        learning_rate: 1e-2,
        lr_schedule: LrSchedule::Constant,
        beta: 1.0,
        warmup_epochs: 0,
        seed: 3,
    };
    let vae = model.init(&device);
    let learner = Learner::new(vae, Learner::adam(), config, images, 0, &device).unwrap();
    (learner, device)
}

fn loss(out: &StepOutput) -> f64 {
    scalar(out.recon.clone().mean()) + scalar(out.kl.clone().mean())
}

#[test]
fn epochs_take_every_image_once_in_batches_then_the_run_ends() {
    let _turn = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    let (mut learner, _) = learner(10, 4);
    let data = data(10);
    let mut sizes = Vec::new();
    while let Some(out) = learner.step(&data).unwrap() {
        sizes.push((out.at.epoch, out.recon.dims()[0]));
    }
    assert_eq!(sizes, [(1, 4), (1, 4), (1, 2), (2, 4), (2, 4), (2, 2)]);
    assert!(learner.finished());
    assert!(learner.step(&data).unwrap().is_none());
}

#[test]
fn a_dropped_step_leaves_the_weights_and_the_place_in_the_run() {
    let _turn = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    let data = data(12);
    let (mut a, _) = learner(12, 4);
    let (mut b, _) = learner(12, 4);
    a.step(&data).unwrap();
    b.step(&data).unwrap();
    // b computes a step and drops it (as the page does with a NaN loss), and something
    // else draws from the device's generator in between.
    let dropped = b.prepare(&data).unwrap().unwrap();
    let _ = Tensor::<1>::random([5], burn::tensor::Distribution::Default, &Device::flex());
    drop(dropped);
    assert_eq!(b.at().step, 1);
    let (x, y) = (
        a.step(&data).unwrap().unwrap(),
        b.step(&data).unwrap().unwrap(),
    );
    assert_eq!(loss(&x), loss(&y), "the same step computes the same loss");
}

#[test]
fn data_that_does_not_fit_is_an_error() {
    let _turn = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    let (mut learner, _) = learner(12, 4);
    let err = learner.step(&data(5)).err().unwrap();
    assert!(err.contains("12 training images"), "{err}");
}
