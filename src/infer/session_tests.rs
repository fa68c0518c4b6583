//! Sessions on the native CPU backend: the shipped MLP on the packed layers, the conv fixture
//! on burn's ops, and the messages the page shows for bad calls.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use super::*;

/// Runs a future to completion on this thread (the CPU backend's reads finish at once).
fn block_on<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        std::thread::yield_now();
    }
}

fn session(dir: &str, backend: Backend) -> Result<Session, InferError> {
    let manifest = std::fs::read_to_string(format!("{dir}/manifest.json")).unwrap();
    let weights = std::fs::read(format!("{dir}/weights.bpk")).unwrap();
    block_on(Session::create(&manifest, weights, backend))
}

const MLP: &str = "models/mnist-mlp-2";
const CONV: &str = "tests/fixtures/conv-tiny";

#[test]
fn a_fully_connected_model_runs_on_the_packed_layers() {
    let s = session(MLP, Backend::Cpu).unwrap();
    assert_eq!(s.kernels(), Kernels::None);
    block_on(s.warm_up()).unwrap();
    assert_eq!((s.backend().to_string(), s.adapter()), ("CPU".into(), ""));
    assert_eq!(s.kernels().name(), "packed");
    let images = block_on(s.decode(&[0.0; 6], 3)).unwrap();
    assert_eq!(images.len(), 3 * s.pixels());
    let encoding = block_on(s.encode(&images[..s.pixels()])).unwrap();
    assert_eq!(encoding.mu.len(), s.latent_dim());
    assert_eq!(encoding.log_var.len(), s.latent_dim());
}

/// A batch of images encodes row for row as one image at a time does.
#[test]
fn a_batch_encodes_like_its_images_one_by_one() {
    for dir in [MLP, CONV] {
        let s = session(dir, Backend::Cpu).unwrap();
        let d = s.latent_dim();
        let images = block_on(s.decode(&[0.3; 64][..3 * d], 3)).unwrap();
        let (mu, log_var) = block_on(s.encode_batch(&images, 3)).unwrap();
        assert_eq!((mu.len(), log_var.len()), (3 * d, 3 * d));
        for i in 0..3 {
            let one = block_on(s.encode(&images[i * s.pixels()..(i + 1) * s.pixels()])).unwrap();
            for (a, b) in one.mu.iter().zip(&mu[i * d..(i + 1) * d]) {
                assert!((a - b).abs() < 1e-4, "{dir}: {a} vs {b}");
            }
        }
        let err = block_on(s.encode_batch(&images, 2)).unwrap_err().0;
        assert!(err.contains("image"), "{err}");
    }
}

/// The page's classifier (packed layers, softmax) gives burn's probabilities, and refuses
/// what it cannot read in words.
#[test]
fn the_classifier_runs_on_the_packed_layers_like_burn() {
    use crate::bundle::load_classifier;
    use crate::infer::ClassifierSession;
    use burn::tensor::activation::softmax;
    let manifest = std::fs::read_to_string(format!("{MLP}/manifest.json")).unwrap();
    let weights = std::fs::read(format!("{MLP}/classifier.bpk")).unwrap();
    let c = ClassifierSession::create(&manifest, weights.clone()).unwrap();
    assert_eq!(c.classes().len(), 10);
    let s = session(MLP, Backend::Cpu).unwrap();
    let images = block_on(s.decode(&[1.0, -1.0, -2.0, 0.5, 0.0, 0.0], 3)).unwrap();
    let probs = c.classify(&images, 3).unwrap();
    let parsed = Manifest::parse(&manifest).unwrap();
    let device = Device::flex();
    let reference = load_classifier(&parsed, weights.clone(), &device).unwrap();
    let x = Tensor::<2>::from_data(TensorData::new(images.clone(), [3, s.pixels()]), &device);
    let expected: Vec<f32> = softmax(reference.logits(x), 1)
        .into_data()
        .try_to_vec()
        .unwrap();
    for (a, b) in probs.iter().zip(&expected) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    for row in probs.chunks(10) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    let err = c.classify(&images[1..], 3).unwrap_err().0;
    assert!(err.contains("image"), "{err}");
    let without = manifest.replace("\"classifier\"", "\"classifier_gone\"");
    let err = ClassifierSession::create(&without, weights.clone())
        .err()
        .unwrap()
        .0;
    assert!(err.contains("no classifier"), "{err}");
    let err = ClassifierSession::create(&manifest, weights[..1000].to_vec())
        .err()
        .unwrap()
        .0;
    assert!(err.contains("classifier"), "{err}");
}

#[test]
fn a_convolutional_model_runs_on_burns_ops() {
    let s = session(CONV, Backend::Cpu).unwrap();
    let z = vec![0.5; s.latent_dim()];
    let images = block_on(s.decode(&z, 1)).unwrap();
    assert_eq!(s.kernels().name(), "burn");
    assert_eq!(images.len(), s.image().width * s.image().height);
    assert!(images.iter().all(|p| (0.0..=1.0).contains(p)));
    assert_eq!(block_on(s.round_trip(&[1.5, -2.0])).unwrap(), [1.5, -2.0]);
}

#[test]
fn bad_calls_are_errors_in_words() {
    let s = session(MLP, Backend::Cpu).unwrap();
    let err = |r: Result<Vec<f32>, InferError>| r.unwrap_err().to_string();
    assert_eq!(
        err(block_on(s.decode(&[0.0; 3], 1))),
        "expected 1 latent vector of 2 numbers (2 in all), got 3"
    );
    assert_eq!(
        err(block_on(s.decode(&[0.0, 2000.0], 1))),
        "latent vector: value 1 is 2000, outside the accepted range -1000 to 1000"
    );
    let image = vec![2.0; s.pixels()];
    assert_eq!(
        block_on(s.encode(&image)).unwrap_err().to_string(),
        "image: value 0 is 2, outside the accepted range 0 to 1"
    );
    assert_eq!(
        "auto".parse::<Backend>().unwrap_err().to_string(),
        "unknown backend \"auto\": use webgpu or cpu"
    );
    // This build has no WebGPU backend, and says so.
    let webgpu = session(CONV, Backend::WebGpu).err().unwrap();
    assert!(webgpu.0.contains("CPU-only module"), "{webgpu}");
}
