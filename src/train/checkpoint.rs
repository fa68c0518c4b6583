//! Training checkpoints: model and optimizer state after each epoch, so `vae train --resume`
//! continues where a stopped or killed run left off. The folder is replaced as a whole (fsio), so
//! a checkpoint is either the previous epoch's or the new one, never half of each.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};

use super::history::EpochRecord;
use crate::bundle::TrainConfig;
use crate::fsio;
use crate::model::{Vae, VaeConfig};

const MODEL: &str = "model.bpk";
const OPTIMIZER: &str = "optimizer.bpk";
const STATE: &str = "state.json";

/// The settings a resumed run must share with the run that wrote the checkpoint (all but
/// `training.epochs`, which a resumed run may raise).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct RunSettings {
    /// The model's shape, image size included.
    pub model: VaeConfig,
    pub training: TrainConfig,
    pub train_images: usize,
}

impl RunSettings {
    /// Whether a run with `self` may continue a checkpoint made with `other`.
    fn resumes(&self, other: &RunSettings) -> bool {
        let without_epochs = |s: &RunSettings| {
            let mut s = s.clone();
            s.training.epochs = 0;
            s
        };
        without_epochs(self) == without_epochs(other)
    }
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct State {
    pub settings: RunSettings,
    pub history: Vec<EpochRecord>,
}

impl State {
    /// Epochs completed.
    pub fn epoch(&self) -> usize {
        self.history.last().map_or(0, |r| r.epoch)
    }
}

/// Where a bundle's checkpoint lives: `<out>.checkpoint/` beside the bundle folder, so the
/// served bundle holds only what the page needs.
pub fn dir_for(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".checkpoint");
    out.with_file_name(name)
}

/// Saves the checkpoint, with `extra` files (the training report) in the same folder.
pub fn save(
    dir: &Path,
    vae: &Vae,
    optimizer: &ModuleOptimizer,
    state: &State,
    extra: &[(&str, &[u8])],
) -> Result<(), String> {
    let model = vae
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| format!("cannot serialise the model: {e}"))?;
    let optim = optimizer
        .into_bytes()
        .map_err(|e| format!("cannot serialise the optimizer state: {e}"))?;
    let json = serde_json::to_string_pretty(state).map_err(|e| e.to_string())?;
    let mut files = vec![
        (MODEL, &model[..]),
        (OPTIMIZER, &optim[..]),
        (STATE, json.as_bytes()),
    ];
    files.extend_from_slice(extra);
    fsio::replace_dir(dir, &files, false)
}

/// Loads a checkpoint written with `settings`; anything else is an error that says what differs.
pub fn load(
    dir: &Path,
    settings: &RunSettings,
    optimizer: ModuleOptimizer,
    device: &Device,
) -> Result<(Vae, ModuleOptimizer, State), String> {
    let state_path = dir.join(STATE);
    let text = std::fs::read_to_string(&state_path).map_err(|e| {
        format!(
            "nothing to resume: cannot read {} ({e}); run without --resume to start afresh",
            state_path.display()
        )
    })?;
    let state: State = serde_json::from_str(&text)
        .map_err(|e| format!("{} is damaged: {e}", state_path.display()))?;
    if !settings.resumes(&state.settings) {
        return Err(format!(
            "the checkpoint in {} was made with other settings; resume with the same flags \
             (only --epochs may change).\n  checkpoint: {:?}\n  now:        {:?}",
            dir.display(),
            state.settings,
            settings
        ));
    }
    let read = |name: &str| {
        std::fs::read(dir.join(name))
            .map(Bytes::from_bytes_vec)
            .map_err(|e| format!("cannot read {}: {e}", dir.join(name).display()))
    };
    let record = ModuleRecord::from_bytes(read(MODEL)?)
        .map_err(|e| format!("{} is damaged: {e}", dir.join(MODEL).display()))?;
    let vae = settings
        .model
        .init(device)
        .try_load_record(record)
        .map_err(|e| format!("{} does not fit: {e}", dir.join(MODEL).display()))?;
    let optimizer = optimizer
        .from_bytes(read(OPTIMIZER)?)
        .map_err(|e| format!("{} is damaged: {e}", dir.join(OPTIMIZER).display()))?;
    Ok((vae, optimizer, state))
}
