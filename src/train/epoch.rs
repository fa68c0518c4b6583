//! One epoch of the CLI's run: the learner's steps with a progress bar and Ctrl-C, and the
//! epoch's figures.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use super::history::EpochRecord;
use super::run::{Data, TrainJob};
use crate::learn::eval::Evaluation;
use crate::learn::{Learner, Step, scalar};

/// What an epoch's steps add up to, nats per image.
pub(super) struct Totals {
    recon: f64,
    kl: f64,
    seen: usize,
    /// Wall time of the steps alone (no evaluation, no checkpoint).
    seconds: f64,
    /// β at the end of the epoch.
    beta: f64,
}

/// Everything an epoch needs besides the learner, which it moves on.
pub(super) struct Trainer<'a> {
    job: &'a TrainJob,
    data: &'a Data,
    checkpoint_dir: &'a Path,
    stop: &'a AtomicBool,
}

impl<'a> Trainer<'a> {
    pub fn new(
        job: &'a TrainJob,
        data: &'a Data,
        checkpoint_dir: &'a Path,
        stop: &'a AtomicBool,
    ) -> Self {
        Trainer {
            job,
            data,
            checkpoint_dir,
            stop,
        }
    }

    /// Runs the learner's current epoch to its end; an error if `stop` was set.
    pub fn train_epoch(&self, learner: &mut Learner) -> Result<Totals, String> {
        let at = learner.at();
        let epoch = at.epoch;
        let bar = self.progress(at);
        let started = Instant::now();
        let (mut recon, mut kl, mut seen) = (0.0, 0.0, 0usize);
        while learner.at().epoch == epoch {
            if self.stop.load(Ordering::Relaxed) {
                bar.abandon();
                return Err(self.stopped(epoch));
            }
            let Some(out) = learner.step(&self.data.train)? else {
                break;
            };
            let n = out.recon.dims()[0];
            recon += scalar(out.recon.mean()) * n as f64;
            kl += scalar(out.kl.mean()) * n as f64;
            seen += n;
            bar.set_message(format!("loss {:.2} nats", (recon + kl) / seen as f64));
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(Totals {
            recon,
            kl,
            seen,
            seconds: started.elapsed().as_secs_f64(),
            // The first step of the next epoch: the same place in the run as after this one's last.
            beta: learner.at().beta(learner.config()),
        })
    }

    /// The history row of an epoch; `seconds` is the run's wall time so far.
    pub fn record(
        &self,
        epoch: usize,
        totals: &Totals,
        test: &Evaluation,
        seconds: f64,
    ) -> EpochRecord {
        let seen = totals.seen as f64;
        EpochRecord {
            epoch,
            beta: totals.beta,
            train_loss: (totals.recon + totals.kl) / seen,
            train_recon: totals.recon / seen,
            train_kl: totals.kl / seen,
            test_loss: test.loss(),
            test_recon: test.recon,
            test_kl: test.kl,
            kl_per_dim: test.kl_per_dim.clone(),
            seconds,
            train_seconds: totals.seconds,
        }
    }

    /// The epoch's line on stderr (none with --quiet).
    pub fn print(&self, record: &EpochRecord) {
        if self.job.quiet {
            return;
        }
        eprintln!(
            "epoch {:>3}/{}  train {:7.2} (recon {:6.2} + KL {:5.2})  test {:7.2} nats/image  {:.0}s",
            record.epoch,
            self.job.config.epochs,
            record.train_loss,
            record.train_recon,
            record.train_kl,
            record.test_loss,
            record.seconds
        );
    }

    /// Why the run stopped, and how to continue it.
    fn stopped(&self, epoch: usize) -> String {
        if epoch == 1 {
            "stopped during epoch 1, before any checkpoint was written".to_string()
        } else {
            format!(
                "stopped during epoch {epoch}; the checkpoint after epoch {} is in {}: \
                 continue with the same command and --resume",
                epoch - 1,
                self.checkpoint_dir.display()
            )
        }
    }

    fn progress(&self, at: Step) -> ProgressBar {
        if self.job.quiet {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(at.steps_per_epoch as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "epoch {prefix} [{bar:30}] {pos}/{len} steps  {per_sec}  ETA {eta}  {msg}",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        bar.set_prefix(format!("{}/{}", at.epoch, self.job.config.epochs));
        bar
    }
}
