//! The `vae` CLI end to end on a tiny IDX dataset: train → bundle → eval/inspect, and the
//! error paths a user meets (missing data, bad files, bad flags) give messages, not panics.

use std::path::Path;
use std::process::{Command, Output};

use vae_explorer::data::{encode_images, encode_labels};

fn vae(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vae"))
        .args(args)
        .output()
        .expect("the vae binary runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Writes a small 28×28 dataset: bars at different positions, so there is something to learn.
fn tiny_dataset(dir: &Path, train: usize, test: usize) {
    for (prefix, count) in [("train", train), ("t10k", test)] {
        let mut pixels = vec![0u8; count * 784];
        for (i, image) in pixels.chunks_mut(784).enumerate() {
            let col = 4 + (i * 7) % 20;
            for row in 4..24 {
                image[row * 28 + col] = 255;
                image[row * 28 + col + 1] = 200;
            }
        }
        let labels: Vec<u8> = (0..count).map(|i| (i % 10) as u8).collect();
        std::fs::write(
            dir.join(format!("{prefix}-images-idx3-ubyte")),
            encode_images((count, 28, 28), &pixels),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{prefix}-labels-idx1-ubyte")),
            encode_labels(&labels),
        )
        .unwrap();
    }
}

#[test]
fn train_writes_a_bundle_that_eval_and_inspect_read() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    tiny_dataset(data.path(), 256, 64);
    let bundle = out.path().join("tiny");
    let data_arg = data.path().to_str().unwrap();
    let bundle_arg = bundle.to_str().unwrap();

    let run = vae(&[
        "train",
        "--data",
        data_arg,
        "--out",
        bundle_arg,
        "--latent",
        "8",
        "--hidden",
        "32",
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--quiet",
    ]);
    assert!(run.status.success(), "{}", text(&run));
    assert!(text(&run).contains("test loss"), "{}", text(&run));

    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["latent_dim"], 8);
    assert_eq!(manifest["latent"].as_array().unwrap().len(), 8);
    assert_eq!(manifest["metrics"]["images"], 64);

    let eval = vae(&["eval", "--model", bundle_arg, "--data", data_arg, "--json"]);
    assert!(eval.status.success(), "{}", text(&eval));
    let json: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    let total = json["test_loss_nats"].as_f64().unwrap();
    let parts = json["recon_nats"].as_f64().unwrap() + json["kl_nats"].as_f64().unwrap();
    assert!((total - parts).abs() < 0.01, "{json}");
    // Same seed, same model: eval reproduces the figure training wrote into the manifest.
    assert!(
        (total - manifest["metrics"]["test_loss_nats"].as_f64().unwrap()).abs() < 0.01,
        "{json}"
    );

    let inspect = vae(&["inspect", bundle_arg]);
    assert!(inspect.status.success(), "{}", text(&inspect));
    assert!(
        text(&inspect).contains("784 → 32 → (μ, log σ²) ∈ R^8"),
        "{}",
        text(&inspect)
    );
}

#[test]
fn user_errors_are_messages_with_a_failing_exit_code() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let data_arg = data.path().to_str().unwrap();
    let bundle_arg = out.path().join("b");
    let bundle_arg = bundle_arg.to_str().unwrap();

    // No dataset there.
    let run = vae(&["train", "--data", data_arg, "--out", bundle_arg, "--quiet"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(
        text(&run).contains("train-images-idx3-ubyte"),
        "{}",
        text(&run)
    );
    assert!(!text(&run).contains("panicked"), "{}", text(&run));

    // A damaged images file.
    tiny_dataset(data.path(), 32, 16);
    let images = data.path().join("train-images-idx3-ubyte");
    let bytes = std::fs::read(&images).unwrap();
    std::fs::write(&images, &bytes[..bytes.len() - 100]).unwrap();
    let run = vae(&["train", "--data", data_arg, "--out", bundle_arg, "--quiet"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(
        text(&run).contains("train-images-idx3-ubyte"),
        "{}",
        text(&run)
    );
    assert!(!bundle_arg.is_empty() && !Path::new(bundle_arg).join("manifest.json").exists());

    // Bad flags: clap's message and exit code 2.
    let run = vae(&["train", "--latent", "many"]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(text(&run).contains("invalid value"), "{}", text(&run));
    tiny_dataset(data.path(), 32, 16);
    let run = vae(&["train", "--data", data_arg, "--latent", "0", "--quiet"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(text(&run).contains("latent size"), "{}", text(&run));

    // A folder that is not a bundle.
    let run = vae(&["eval", "--model", data_arg, "--data", data_arg]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(text(&run).contains("manifest.json"), "{}", text(&run));
}
