//! Replays the fuzzers' seeds and every input they ever found a problem with (fuzz/regressions/)
//! through the same calls the fuzz targets make (fuzz/fuzz_targets/): no panic, ever, and the
//! seeds, which are valid files, still load.

use std::path::{Path, PathBuf};

use vae_explorer::fuzzing::{idx, manifest, weights};

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
