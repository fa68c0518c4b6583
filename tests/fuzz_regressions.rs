//! Replays the fuzzers' seeds and every input they ever found a problem with (fuzz/regressions/)
//! through the same calls the fuzz targets make (fuzz/fuzz_targets/): no panic, ever, and the
//! seeds, which are valid files, still load.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use vae_explorer::bundle::{Manifest, load_model};
use vae_explorer::data::{parse_images, parse_labels, parse_pair};

fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new("fuzz").join(kind).join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.ends_with(".gitkeep"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

fn idx(data: &[u8]) -> bool {
    let images = parse_images(data, "images").is_ok();
    let labels = parse_labels(data, "labels").is_ok();
    let pair = if let [a, b, rest @ ..] = data {
        let cut = usize::from(u16::from_be_bytes([*a, *b])).min(rest.len());
        let (i, l) = rest.split_at(cut);
        parse_pair(i, "images", l, "labels", Some((28, 28))).is_ok()
    } else {
        false
    };
    images || labels || pair
}

fn manifest(data: &[u8]) -> bool {
    std::str::from_utf8(data).is_ok_and(|text| Manifest::parse(text).is_ok())
}

fn weights(data: &[u8]) -> bool {
    let manifest =
        Manifest::parse(include_str!("fixtures/conv-tiny/manifest.json")).expect("fixture");
    load_model(&manifest, data.to_vec(), &Device::flex()).is_ok()
}

/// A fuzz target's body: true when the input was accepted.
type Target = fn(&[u8]) -> bool;

#[test]
fn fuzz_seeds_load_and_regressions_fail_cleanly() {
    let targets: [(&str, Target); 3] = [("idx", idx), ("manifest", manifest), ("weights", weights)];
    for (target, run) in targets {
        let seeds = inputs("seeds", target);
        assert!(!seeds.is_empty(), "fuzz/seeds/{target} is empty");
        for (path, bytes) in seeds {
            assert!(
                run(&bytes),
                "{}: a seed must be a valid input",
                path.display()
            );
        }
        // A panic here fails the test; an Err is the expected outcome.
        for (_path, bytes) in inputs("regressions", target) {
            run(&bytes);
        }
    }
}
