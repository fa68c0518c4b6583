//! The shipped bundles load into the architecture their manifest describes, and a bundle
//! that does not fit is refused with a clear message.

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use vae_explorer::bundle::{self, Manifest, load_model, read_bundle, write_bundle};
use vae_explorer::model::VaeConfig;

fn shipped() -> Vec<std::path::PathBuf> {
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("models/index.json").unwrap()).unwrap();
    index["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| Path::new("models").join(m["path"].as_str().unwrap()))
        .collect()
}

#[test]
fn shipped_bundles_load_and_decode_digits() {
    let device = Device::flex();
    let bundles = shipped();
    assert!(!bundles.is_empty(), "models/index.json lists no model");
    let mut latent_sizes = Vec::new();
    for (i, dir) in bundles.iter().enumerate() {
        let (manifest, vae) = read_bundle(dir, &device).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(manifest.latent.len(), manifest.latent_dim);
        latent_sizes.push(manifest.latent_dim);
        let loss = manifest.metrics.test_loss_nats;
        if i == 0 {
            // The default model: N ≥ 8 and the quality target (pytorch/examples: 105.6).
            assert!(manifest.latent_dim >= 8, "{}: N ≥ 8", dir.display());
            assert!(loss <= 100.0, "{}: test loss {loss} nats", dir.display());
        }
        assert!(loss < 160.0, "{}: test loss {loss} nats", dir.display());
        assert_eq!(manifest.metrics.images, 10_000, "{}", dir.display());
        let map = manifest.map.as_ref().expect("a latent map for the page");
        let plane = if manifest.latent_dim == 2 {
            "latent"
        } else {
            "pca"
        };
        assert_eq!(map.projection, plane, "{}", dir.display());
        assert_eq!((map.points.len(), map.classes.len()), (2000, 10));
        // z = 0 (the prior's mode) decodes to a digit-like image: ink in the middle, none at the border.
        let z = Tensor::<2>::zeros([1, manifest.latent_dim], &device);
        let image: Vec<f32> = vae.decoder.forward(z).into_data().try_to_vec().unwrap();
        let at = |r: usize, c: usize| image[r * 28 + c];
        let border: f32 = (0..28)
            .map(|i| at(0, i) + at(27, i) + at(i, 0) + at(i, 27))
            .sum::<f32>()
            / 112.0;
        let centre: f32 = (10..18)
            .flat_map(|r| (10..18).map(move |c| (r, c)))
            .map(|(r, c)| at(r, c))
            .sum::<f32>()
            / 64.0;
        assert!(border < 0.02, "border ink {border}");
        assert!(centre > 0.1, "centre ink {centre}");
    }
    assert!(
        latent_sizes.contains(&2),
        "a 2-D model is shipped: {latent_sizes:?}"
    );
}

/// The page's extras in each shipped bundle: a classifier that reads its own test images
/// (the figure in the manifest, measured again here from the stored file), the neighbour
/// images, and the percentiles of −log p(x).
#[test]
fn shipped_bundles_carry_the_pages_test_set_figures() {
    use vae_explorer::learn::classifier_accuracy;
    use vae_explorer::learn::idx::parse_pair;
    let device = Device::flex();
    for dir in shipped() {
        let (manifest, vae) = read_bundle(&dir, &device).unwrap();
        let info = manifest.classifier.clone().expect("a classifier");
        assert_eq!(info.classes.len(), 10);
        let classifier = bundle::read_classifier(&dir, &manifest, &device)
            .unwrap()
            .expect("its weights");
        let set = manifest.neighbours.as_ref().expect("neighbour images");
        let images = std::fs::read(dir.join(&set.images)).unwrap();
        let labels = std::fs::read(dir.join(&set.labels)).unwrap();
        let test = parse_pair(&images, &set.images, &labels, &set.labels, Some((28, 28))).unwrap();
        assert_eq!(test.count, set.count);
        // The first 1,000 test images: accuracy near the manifest's figure for all 10,000.
        let (real, _) = classifier_accuracy(&classifier, &vae, &test.first(1000)).unwrap();
        assert!(info.test_accuracy > 0.97, "{}: {info:?}", dir.display());
        assert!(
            (real - info.test_accuracy).abs() < 0.02,
            "{}: {real} vs {info:?}",
            dir.display()
        );
        let stats = manifest
            .likelihood
            .as_ref()
            .expect("likelihood percentiles");
        assert_eq!(
            (stats.quantiles.len(), stats.samples, stats.images),
            (101, 64, 10_000)
        );
        // The median test digit costs less than the model's average −ELBO plus a margin, and
        // more than nothing.
        let median = stats.quantiles[50];
        assert!(
            median > 20.0 && median < manifest.metrics.test_loss_nats + 40.0,
            "{median}"
        );
    }
}

/// A small convolutional bundle and what it decodes at fixed z: the browser tests check the
/// wasm build (CPU and WebGPU) against the same numbers. `UPDATE_FIXTURES=1` rewrites them.
#[test]
fn convolutional_fixture_decodes_to_its_golden_values() {
    let dir = Path::new("tests/fixtures/conv-tiny");
    let device = Device::flex();
    let (manifest, vae) = read_bundle(dir, &device).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        manifest.architecture,
        bundle::Architecture::Conv { .. }
    ));
    let d = manifest.latent_dim;
    let zs: Vec<f32> = (0..3 * d).map(|i| ((i as f32) * 0.7).sin() * 1.5).collect();
    let images: Vec<f32> = vae
        .decoder
        .forward(Tensor::from_data(
            TensorData::new(zs.clone(), [3, d]),
            &device,
        ))
        .into_data()
        .try_to_vec()
        .unwrap();
    let golden = dir.join("golden.json");
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        let json = serde_json::json!({ "z": zs, "images": images });
        std::fs::write(&golden, json.to_string()).unwrap();
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&golden).unwrap()).unwrap();
    let want: Vec<f64> = serde_json::from_value(json["images"].clone()).unwrap();
    assert_eq!(want.len(), images.len());
    let worst = want
        .iter()
        .zip(&images)
        .map(|(w, &g)| (w - f64::from(g)).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-5, "max |native - golden| = {worst}");
    // Not a blank image: the values vary.
    let spread =
        images.iter().fold(0f32, |m, &v| m.max(v)) - images.iter().fold(1f32, |m, &v| m.min(v));
    assert!(spread > 0.3, "spread {spread}");
}

fn small_bundle(dir: &Path, latent: usize) -> Manifest {
    let device = Device::flex();
    let vae = VaeConfig::new(latent, vec![8]).init(&device);
    let text = std::fs::read_to_string(shipped()[0].join("manifest.json")).unwrap();
    let mut manifest = Manifest::parse(&text).unwrap();
    manifest.latent_dim = latent;
    manifest.architecture = bundle::Architecture::Mlp { hidden: vec![8] };
    manifest.latent.truncate(latent);
    manifest.map = None;
    write_bundle(dir, &manifest, vae, &[]).unwrap();
    manifest
}

#[test]
fn bundles_round_trip_through_f16_storage() {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let vae = VaeConfig::new(4, vec![8]).init(&device);
    let z = Tensor::<2>::from_data(
        TensorData::new(vec![0.5f32, -1.0, 2.0, 0.0], [1, 4]),
        &device,
    );
    let before: Vec<f32> = vae
        .decoder
        .forward(z.clone())
        .into_data()
        .try_to_vec()
        .unwrap();
    let mut manifest = small_bundle(dir.path(), 4);
    manifest.name = "round-trip".into();
    let unit = |i: usize| (0..4).map(|k| if k == i { 1.0 } else { 0.0 }).collect();
    manifest.map = Some(bundle::LatentMap {
        projection: "dims".into(),
        origin: vec![0.0; 4],
        axes: [unit(1), unit(3)],
        explained: [0.5, 0.25],
        points: vec![(0.5, -1.25, 3), (2.0, 0.0, 7)],
        classes: vec![bundle::ClassMean {
            label: 3,
            count: 1,
            mean: vec![0.5, -1.0, 0.25, 0.0],
        }],
    });
    write_bundle(dir.path(), &manifest, vae, &[]).unwrap();
    let (loaded_manifest, loaded) = read_bundle(dir.path(), &device).unwrap();
    assert_eq!(loaded_manifest, manifest);
    let after: Vec<f32> = loaded.decoder.forward(z).into_data().try_to_vec().unwrap();
    let max = before
        .iter()
        .zip(&after)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(max < 1e-3, "f16 storage changed a pixel by {max}");
    assert!(
        !dir.path().join("weights.tmp").exists(),
        "temporary file left behind"
    );
}

#[test]
fn a_bundle_that_does_not_fit_is_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let manifest = small_bundle(dir.path(), 4);
    let weights = std::fs::read(dir.path().join("weights.bpk")).unwrap();

    // Manifest claims 6 latent dimensions; the weights have 4.
    let mut wrong = manifest.clone();
    wrong.latent_dim = 6;
    wrong
        .latent
        .extend(wrong.latent.clone().into_iter().take(2));
    let err = load_model(&wrong, weights.clone(), &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("do not fit") && err.contains("6 latent"),
        "{err}"
    );

    // Hidden width differs.
    let mut wrong = manifest.clone();
    wrong.architecture = bundle::Architecture::Mlp { hidden: vec![9] };
    let err = load_model(&wrong, weights.clone(), &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("do not fit") && err.contains("shape"), "{err}");

    // The manifest says convolutional, the weights are an MLP's.
    let mut wrong = manifest.clone();
    wrong.architecture = bundle::Architecture::Conv {
        channels: vec![4],
        hidden: vec![8],
    };
    let err = load_model(&wrong, weights.clone(), &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("do not fit") && err.contains("conv 1 → 4"),
        "{err}"
    );

    // Truncated and garbage weights.
    let err = load_model(&manifest, weights[..weights.len() / 2].to_vec(), &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("damaged"), "{err}");
    let err = load_model(&manifest, b"not a burnpack file at all".to_vec(), &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("damaged"), "{err}");
    let err = load_model(&manifest, Vec::new(), &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("damaged"), "{err}");
}

#[test]
fn bad_manifests_are_refused_in_words() {
    let text = std::fs::read_to_string(shipped()[0].join("manifest.json")).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        f(&mut v);
        Manifest::parse(&v.to_string()).unwrap_err().to_string()
    };
    let err = edit(&|v| v["format_version"] = 99.into());
    assert!(err.contains("format version 99"), "{err}");
    let err = edit(&|v| v["latent_dim"] = 3.into());
    assert!(err.contains("3 dimensions but describes 32"), "{err}");
    let err = edit(&|v| {
        v.as_object_mut().unwrap().remove("weights");
    });
    assert!(err.contains("weights"), "{err}");
    let err = edit(&|v| v["architecture"]["hidden"] = serde_json::json!([]));
    assert!(err.contains("hidden layers"), "{err}");
    let err = edit(&|v| v["latent"][2]["slider_min"] = 5.0.into());
    assert!(err.contains("latent dimension 3"), "{err}");
    let err = edit(&|v| v["classifier"]["weights"] = "../../etc/passwd".into());
    assert!(
        err.contains("classifier") && err.contains("plain file name"),
        "{err}"
    );
    let err = edit(&|v| v["classifier"]["classes"] = serde_json::json!(["only"]));
    assert!(err.contains("2 to 1000 classes"), "{err}");
    let err = edit(&|v| v["neighbours"]["labels"] = "/tmp/labels".into());
    assert!(err.contains("neighbour images"), "{err}");
    let err = edit(&|v| v["likelihood"]["quantiles"] = serde_json::json!([3.0, 2.0]));
    assert!(err.contains("quantiles"), "{err}");
    // Without the extras a bundle is still a bundle.
    let mut bare: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in ["classifier", "neighbours", "likelihood"] {
        bare.as_object_mut().unwrap().remove(key);
    }
    assert!(Manifest::parse(&bare.to_string()).is_ok());
    let err = edit(&|v| v["map"]["axes"][1] = serde_json::json!([1.0, 0.0]));
    assert!(
        err.contains("latent map") && err.contains("not 32"),
        "{err}"
    );
    assert!(
        Manifest::parse("{")
            .unwrap_err()
            .to_string()
            .contains("not valid")
    );
    assert!(
        Manifest::parse(&" ".repeat(5 << 20))
            .unwrap_err()
            .to_string()
            .contains("larger")
    );
}

/// A bundle zipped (as the page's "Download model" saves it, or re-zipped by another tool,
/// deflated and inside a folder) reads as the folder does; a file that is not a zip is refused
/// in words.
#[test]
fn zipped_bundles_read_like_folders() {
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    let device = Device::flex();
    let dir = Path::new("models/mnist-mlp-2");
    let (manifest, _) = read_bundle(dir, &device).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for (name, folder, method) in [
        ("stored.zip", "", zip::CompressionMethod::Stored),
        (
            "deflated.zip",
            "mnist-mlp-2/",
            zip::CompressionMethod::Deflated,
        ),
    ] {
        let path = tmp.path().join(name);
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = SimpleFileOptions::default().compression_method(method);
        for file in ["manifest.json", "weights.bpk"] {
            writer
                .start_file(format!("{folder}{file}"), options)
                .unwrap();
            writer
                .write_all(&std::fs::read(dir.join(file)).unwrap())
                .unwrap();
        }
        writer.finish().unwrap();
        let (zipped, _) = read_bundle(&path, &device).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(zipped, manifest, "{name}");
    }
    let bad = tmp.path().join("model.zip");
    std::fs::write(&bad, b"not a zip at all").unwrap();
    let err = read_bundle(&bad, &device).err().unwrap().to_string();
    assert!(err.contains("model.zip is not a zip file"), "{err}");
}
