//! The `vae` CLI end to end on a tiny IDX dataset: train → bundle → eval/inspect, and the
//! error paths a user meets (missing data, bad files, bad flags) give messages, not panics.

use std::path::Path;
use std::process::{Command, Output};

use vae_explorer::learn::idx::{encode_images, encode_labels};

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

/// The run failed with exit `code` and said `needle`, in words and without a panic.
fn assert_fails(out: &Output, code: i32, needle: &str) {
    let said = text(out);
    assert_eq!(out.status.code(), Some(code), "{said}");
    assert!(said.contains(needle), "expected {needle:?} in: {said}");
    assert!(!said.contains("panicked"), "{said}");
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
    // The page's latent map: the principal plane of the 8-D μ, every test image on it.
    assert_eq!(manifest["map"]["projection"], "pca");
    assert_eq!(manifest["map"]["points"].as_array().unwrap().len(), 64);
    assert_eq!(manifest["map"]["classes"].as_array().unwrap().len(), 10);

    let eval = vae(&["eval", "--model", bundle_arg, "--data", data_arg, "--json"]);
    assert!(eval.status.success(), "{}", text(&eval));
    let json: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    let total = json["test_loss_nats"].as_f64().unwrap();
    let parts = json["recon_nats"].as_f64().unwrap() + json["kl_nats"].as_f64().unwrap();
    assert!((total - parts).abs() < 0.01, "{json}");
    // The importance-sampled bound is tighter than the one-sample ELBO (up to sampling noise).
    let nll = json["nll_is_nats"].as_f64().unwrap();
    assert!(nll > 0.0 && nll <= total + 0.5, "{json}");
    assert_eq!(json["nll_is_k"], 100);
    assert_eq!(json["nll_is_images"], 64);
    // Same seed, same model: eval reproduces the figure training wrote into the manifest.
    assert!(
        (total - manifest["metrics"]["test_loss_nats"].as_f64().unwrap()).abs() < 0.01,
        "{json}"
    );

    // `vae map` redraws it on two chosen dimensions; a dimension that does not exist is refused.
    let map = vae(&[
        "map", "--model", bundle_arg, "--data", data_arg, "--dims", "2,5",
    ]);
    assert!(map.status.success(), "{}", text(&map));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["map"]["projection"], "dims");
    assert_eq!(manifest["map"]["axes"][1][4], 1.0);
    let map = vae(&[
        "map", "--model", bundle_arg, "--data", data_arg, "--dims", "2,9",
    ]);
    assert_fails(&map, 1, "between 1 and 8");

    // The page's test-set figures: every test image kept for the neighbour search (an IDX
    // pair the dataset reader reads back), and 101 ascending percentiles of −log p(x).
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["neighbours"]["count"], 64);
    let images = std::fs::read(bundle.join("neighbours-images.idx")).unwrap();
    let labels = std::fs::read(bundle.join("neighbours-labels.idx")).unwrap();
    let set = vae_explorer::learn::idx::parse_pair(
        &images,
        "neighbours-images.idx",
        &labels,
        "neighbours-labels.idx",
        Some((28, 28)),
    )
    .unwrap();
    assert_eq!(set.count, 64);
    assert_eq!(set.labels[..10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let quantiles: Vec<f64> = manifest["likelihood"]["quantiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(quantiles.len(), 101);
    assert!(quantiles.windows(2).all(|w| w[0] <= w[1]), "{quantiles:?}");
    assert!(quantiles[0] > 0.0);
    assert_eq!(manifest["likelihood"]["samples"], 64);

    // The classifier: the bars' positions say their labels, so it learns them; eval measures
    // it again from the stored file and gets the manifest's figure.
    let classify = vae(&[
        "classifier",
        "--model",
        bundle_arg,
        "--data",
        data_arg,
        "--hidden",
        "32",
        "--epochs",
        "20",
        "--batch-size",
        "32",
    ]);
    assert!(classify.status.success(), "{}", text(&classify));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("manifest.json")).unwrap())
            .unwrap();
    let accuracy = manifest["classifier"]["test_accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.5, "{}", manifest["classifier"]);
    assert_eq!(
        manifest["classifier"]["classes"].as_array().unwrap().len(),
        10
    );
    assert!(bundle.join("classifier.bpk").is_file());
    // The map survived the rewrite.
    assert_eq!(manifest["map"]["projection"], "dims");
    let eval = vae(&[
        "eval", "--model", bundle_arg, "--data", data_arg, "--json", "--is-k", "0",
    ]);
    assert!(eval.status.success(), "{}", text(&eval));
    let json: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    assert!(
        (json["classifier_accuracy"].as_f64().unwrap() - accuracy).abs() < 1e-4,
        "{json}"
    );

    let inspect = vae(&["inspect", bundle_arg]);
    assert!(inspect.status.success(), "{}", text(&inspect));
    assert!(
        text(&inspect).contains("encoder MLP 784 → 32 → 8 = (μ, log σ²)"),
        "{}",
        text(&inspect)
    );
    assert!(
        text(&inspect).contains("classifier    MLP 784 → 32 → 10"),
        "{}",
        text(&inspect)
    );
}

#[test]
fn a_convolutional_model_trains_evaluates_and_describes_itself() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    tiny_dataset(data.path(), 128, 32);
    let bundle = out.path().join("conv");
    let (data_arg, bundle_arg) = (data.path().to_str().unwrap(), bundle.to_str().unwrap());
    let run = vae(&[
        "train",
        "--data",
        data_arg,
        "--out",
        bundle_arg,
        "--latent",
        "4",
        "--channels",
        "4,8",
        "--hidden",
        "none",
        "--epochs",
        "1",
        "--batch-size",
        "32",
        "--quiet",
    ]);
    assert!(run.status.success(), "{}", text(&run));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["architecture"]["kind"], "conv");
    assert_eq!(
        manifest["architecture"]["channels"],
        serde_json::json!([4, 8])
    );
    assert_eq!(manifest["title"], "MNIST, 4-D latent (conv)");

    let eval = vae(&[
        "eval", "--model", bundle_arg, "--data", data_arg, "--json", "--is-k", "4",
    ]);
    assert!(eval.status.success(), "{}", text(&eval));
    let inspect = vae(&["inspect", bundle_arg]);
    assert!(
        text(&inspect).contains("conv 1 → 4 → 8 channels (4×4, stride 2), then 392 → 4"),
        "{}",
        text(&inspect)
    );

    // Three halvings do not fit a 28-pixel image: said before any training.
    let odd = vae(&[
        "train",
        "--data",
        data_arg,
        "--out",
        bundle_arg,
        "--channels",
        "4,8,16",
        "--quiet",
    ]);
    assert_fails(&odd, 1, "divisible by 8");
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
    assert_fails(&run, 1, "train-images-idx3-ubyte");

    // A damaged images file.
    tiny_dataset(data.path(), 32, 16);
    let images = data.path().join("train-images-idx3-ubyte");
    let bytes = std::fs::read(&images).unwrap();
    std::fs::write(&images, &bytes[..bytes.len() - 100]).unwrap();
    let run = vae(&["train", "--data", data_arg, "--out", bundle_arg, "--quiet"]);
    assert_fails(&run, 1, "train-images-idx3-ubyte");
    assert!(
        !Path::new(bundle_arg).join("manifest.json").exists(),
        "no bundle from bad data"
    );

    // Bad flags: clap's message and exit code 2.
    let run = vae(&["train", "--latent", "many"]);
    assert_fails(&run, 2, "invalid value");
    let run = vae(&["train", "--hidden", "512,2x6"]);
    assert_fails(&run, 2, "comma-separated whole numbers");
    tiny_dataset(data.path(), 32, 16);
    let run = vae(&["train", "--data", data_arg, "--latent", "0", "--quiet"]);
    assert_fails(&run, 1, "latent size");

    // An output folder that cannot be created (its parent is a file): said before training.
    let file = out.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let inside = file.join("bundle");
    let run = vae(&[
        "train",
        "--data",
        data_arg,
        "--out",
        inside.to_str().unwrap(),
        "--quiet",
    ]);
    assert_fails(&run, 1, "cannot write to");

    // A folder that is not a bundle.
    let run = vae(&["eval", "--model", data_arg, "--data", data_arg]);
    assert_fails(&run, 1, "manifest.json");
}

fn metrics_of(bundle: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(bundle.join("manifest.json")).unwrap();
    serde_json::from_str::<serde_json::Value>(&text).unwrap()["metrics"].clone()
}

#[test]
fn a_resumed_run_ends_where_an_uninterrupted_one_does() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    tiny_dataset(data.path(), 200, 50);
    let data_arg = data.path().to_str().unwrap();
    let train = |bundle: &Path, epochs: &str, extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data",
            data_arg,
            "--out",
            bundle.to_str().unwrap(),
            "--latent",
            "4",
            "--hidden",
            "16",
            "--batch-size",
            "32",
            "--seed",
            "7",
            // A constant rate: under the cosine schedule the rate depends on --epochs, so
            // "2 epochs, then resume to 3" would not be an interrupted 3-epoch run.
            "--lr-schedule",
            "constant",
            "--quiet",
            "--epochs",
            epochs,
        ];
        args.extend_from_slice(extra);
        vae(&args)
    };

    let whole = out.path().join("whole");
    assert!(train(&whole, "3", &[]).status.success());
    let parts = out.path().join("parts");
    assert!(train(&parts, "2", &[]).status.success());
    let resumed = train(&parts, "3", &["--resume"]);
    assert!(resumed.status.success(), "{}", text(&resumed));
    // Same seed, same per-epoch shuffles and ε, same optimizer state: the same model.
    assert_eq!(metrics_of(&whole), metrics_of(&parts));

    // The per-epoch history survives the resume: three rows in the CSV.
    let csv = std::fs::read_to_string(parts.join("training.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(parts.join("training.svg").exists());

    // Resuming with other settings, or with nothing to resume, is refused in words.
    let other = train(&parts, "4", &["--resume", "--lr", "0.01"]);
    assert_fails(&other, 1, "other settings");
    let nothing = train(&out.path().join("never"), "2", &["--resume"]);
    assert_fails(&nothing, 1, "nothing to resume");
}

#[test]
fn a_killed_run_resumes_from_its_last_checkpoint() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    tiny_dataset(data.path(), 3000, 50);
    let bundle = out.path().join("killed");
    let args = [
        "train",
        "--data",
        data.path().to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
        "--latent",
        "4",
        "--hidden",
        "64",
        "--batch-size",
        "16",
        // Constant: under cosine the rate depends on --epochs, which the resume changes.
        "--lr-schedule",
        "constant",
        "--epochs",
        "40",
        "--quiet",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_vae"))
        .args(args)
        .spawn()
        .unwrap();
    let state = out.path().join("killed.checkpoint").join("state.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !state.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    assert!(
        state.exists(),
        "no checkpoint was written within two minutes"
    );
    assert!(
        !bundle.join("manifest.json").exists(),
        "the run finished before it was killed"
    );

    let state_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let done = state_json["history"].as_array().unwrap().len();
    assert!((1..40).contains(&done), "{done} epochs done");
    let mut resume = args.to_vec();
    // One more epoch than the checkpoint has: only that epoch runs.
    let epochs = (done + 1).to_string();
    let at = resume.len() - 2;
    resume[at] = &epochs;
    let resumed = vae(&[&resume[..], &["--resume"]].concat());
    assert!(resumed.status.success(), "{}", text(&resumed));
    // The same seed run without interruption ends with exactly the same metrics: the kill
    // lost only the unfinished epoch, and a checkpoint is never half old, half new.
    let whole = out.path().join("whole");
    let mut uninterrupted = resume.clone();
    let at = uninterrupted.iter().position(|a| *a == "--out").unwrap() + 1;
    uninterrupted[at] = whole.to_str().unwrap();
    let ran = vae(&uninterrupted);
    assert!(ran.status.success(), "{}", text(&ran));
    assert_eq!(metrics_of(&bundle), metrics_of(&whole));
}

/// `vae inspect` loads the bundle (manifest and weights); returns its latent size.
fn loads(bundle: &Path) -> Result<u64, String> {
    let out = vae(&["inspect", bundle.to_str().unwrap()]);
    if !out.status.success() {
        return Err(text(&out));
    }
    let text = std::fs::read_to_string(bundle.join("manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    Ok(manifest["latent_dim"].as_u64().unwrap())
}

fn train_args<'a>(data: &'a Path, out: &'a Path, latent: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--latent",
        latent,
        "--hidden",
        "16",
        "--epochs",
        "1",
        "--quiet",
    ]
}

#[test]
fn a_run_killed_at_any_moment_never_damages_the_previous_bundle() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    tiny_dataset(data.path(), 400, 50);
    let bundle = out.path().join("model");
    assert!(vae(&train_args(data.path(), &bundle, "3")).status.success());
    assert_eq!(loads(&bundle), Ok(3));
    std::fs::write(bundle.join("notes.txt"), "mine").unwrap();

    // How long a whole run takes, then kills spread over that time, the final write included.
    let timing = out.path().join("timing");
    let started = std::time::Instant::now();
    assert!(vae(&train_args(data.path(), &timing, "4")).status.success());
    let run = started.elapsed();
    let kills = 16;
    let mut replaced = 0;
    for k in 1..=kills {
        // Each run writes the other latent size, so old and new bundles are told apart.
        let old = loads(&bundle).unwrap();
        let new = if old == 3 { "4" } else { "3" };
        let mut child = Command::new(env!("CARGO_BIN_EXE_vae"))
            .args(train_args(data.path(), &bundle, new))
            .spawn()
            .unwrap();
        std::thread::sleep(run.mul_f64(0.5 + 0.6 * k as f64 / kills as f64));
        let _ = child.kill(); // SIGKILL, or nothing if it already finished
        child.wait().unwrap();
        // Whole: the old model or the new one, never a mixture or a half-written file.
        match loads(&bundle) {
            Ok(d) if d == old => {}
            Ok(d) if d.to_string() == new => replaced += 1,
            other => panic!("kill {k}: the bundle does not load: {other:?}"),
        }
        let notes = std::fs::read_to_string(bundle.join("notes.txt")).unwrap();
        assert_eq!(notes, "mine");
    }
    eprintln!("{kills} kills: {replaced} runs had finished, the others were killed");
    assert!(replaced < kills, "no run was killed before it finished");
}

/// Runs `script` as root of a new user and mount namespace (a private tmpfs needs no real
/// root); `None` when this machine does not allow that.
fn in_namespace(script: &str) -> Option<Output> {
    let probe = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        return None;
    }
    Some(
        Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount", "sh", "-c", script])
            .output()
            .unwrap(),
    )
}

#[test]
fn a_full_disk_is_a_clear_error_and_the_previous_bundle_survives() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    tiny_dataset(data.path(), 200, 50);
    let prev = work.path().join("prev");
    assert!(vae(&train_args(data.path(), &prev, "3")).status.success());
    let disk = work.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let model = disk.join("model");
    let args = train_args(data.path(), &model, "4").join(" ");
    let exe = env!("CARGO_BIN_EXE_vae");
    let (mut failures, mut successes) = (0, 0);
    // From too small for the checkpoint to too small only for the new bundle beside the old.
    for kb in [96, 160, 352, 384, 416, 448, 512, 1024] {
        let script = format!(
            "set -e; mount -t tmpfs -o size={kb}k tmpfs {disk}; cp -r {prev} {model}; \
             set +e; {exe} {args}; echo \"exit=$?\"; {exe} inspect {model} >/dev/null \
             && echo loads; cat {model}/manifest.json",
            disk = disk.display(),
            prev = prev.display(),
            model = model.display(),
        );
        let Some(out) = in_namespace(&script) else {
            eprintln!("skipped: this machine allows no user namespace for a private tmpfs");
            return;
        };
        let said = text(&out);
        assert!(!said.contains("panicked"), "{kb} KB: {said}");
        assert!(
            said.contains("loads"),
            "{kb} KB: the bundle still loads: {said}"
        );
        if said.contains("exit=0") {
            successes += 1;
            assert!(said.contains("\"latent_dim\": 4"), "{kb} KB: {said}");
        } else {
            failures += 1;
            assert!(said.contains("exit=1"), "{kb} KB: {said}");
            assert!(said.contains("No space left on device"), "{kb} KB: {said}");
            assert!(
                said.contains("\"latent_dim\": 3"),
                "{kb} KB: the old bundle: {said}"
            );
        }
    }
    eprintln!("full disk: {failures} sizes failed in words, {successes} finished");
    assert!(failures > 0, "no size was small enough to fill the disk");
}
