//! What changes step by step during a run: the learning rate, β during the KL warm-up, and the
//! seed of each epoch.

use crate::bundle::{LrSchedule, TrainConfig};

impl LrSchedule {
    /// The rate at `step` of `total` steps, for a base rate `lr`.
    pub fn rate(self, lr: f64, step: usize, total: usize) -> f64 {
        match self {
            LrSchedule::Constant => lr,
            LrSchedule::Cosine => {
                let done = step as f64 / total.max(1) as f64;
                let floor = lr * 0.01;
                floor + 0.5 * (lr - floor) * (1.0 + (std::f64::consts::PI * done.min(1.0)).cos())
            }
        }
    }
}

/// Where a run is: `step` (0-based) of `epoch` (1-based), `steps_per_epoch` per epoch.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub epoch: usize,
    pub step: usize,
    pub steps_per_epoch: usize,
}

impl Step {
    /// The step after this one (the first of the next epoch after an epoch's last).
    pub fn next(self) -> Step {
        if self.step + 1 >= self.steps_per_epoch {
            Step {
                epoch: self.epoch + 1,
                step: 0,
                ..self
            }
        } else {
            Step {
                step: self.step + 1,
                ..self
            }
        }
    }

    /// Steps done before this one, over the whole run.
    pub fn done(self) -> usize {
        (self.epoch - 1) * self.steps_per_epoch + self.step
    }

    /// The learning rate of this step.
    pub fn learning_rate(self, config: &TrainConfig) -> f64 {
        config.lr_schedule.rate(
            config.learning_rate,
            self.done(),
            config.epochs * self.steps_per_epoch,
        )
    }

    /// β of this step: rising linearly from 0 over the warm-up epochs, then `config.beta`.
    pub fn beta(self, config: &TrainConfig) -> f64 {
        let warm = config.warmup_epochs * self.steps_per_epoch;
        let done = self.done();
        if done < warm {
            config.beta * done as f64 / warm as f64
        } else {
            config.beta
        }
    }
}

/// Each epoch's shuffle and ε depend only on (seed, epoch): a resumed run repeats exactly what
/// an uninterrupted one would have done.
pub fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The seed of a step's ε: fixed by (seed, epoch, step) alone.
pub fn step_seed(seed: u64, at: Step) -> u64 {
    epoch_seed(seed, at.epoch) ^ (at.step as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_schedule_starts_at_the_rate_and_ends_at_one_percent() {
        let rate = |step| LrSchedule::Cosine.rate(1e-3, step, 100);
        assert!((rate(0) - 1e-3).abs() < 1e-12);
        assert!((rate(50) - 0.505e-3).abs() < 1e-9);
        assert!((rate(100) - 1e-5).abs() < 1e-12);
        assert!((1..=100).all(|s| rate(s) < rate(s - 1)), "decreasing");
        assert_eq!(LrSchedule::Constant.rate(1e-3, 70, 100), 1e-3);
    }

    #[test]
    fn beta_warms_up_over_its_epochs() {
        let config = TrainConfig {
            epochs: 4,
            batch_size: 1,
            learning_rate: 1e-3,
            lr_schedule: LrSchedule::Constant,
            beta: 2.0,
            warmup_epochs: 2,
            seed: 0,
        };
        let at = |epoch, step| Step {
            epoch,
            step,
            steps_per_epoch: 10,
        };
        assert_eq!(at(1, 0).beta(&config), 0.0);
        assert_eq!(at(1, 10).beta(&config), 1.0);
        assert_eq!(at(2, 5).beta(&config), 1.5);
        assert_eq!(at(3, 0).beta(&config), 2.0);
        assert_eq!(at(4, 3).learning_rate(&config), 1e-3);
    }

    #[test]
    fn steps_run_through_epochs_and_seed_apart() {
        let at = Step {
            epoch: 1,
            step: 0,
            steps_per_epoch: 3,
        };
        let walk: Vec<(usize, usize)> = std::iter::successors(Some(at), |s| Some(s.next()))
            .take(5)
            .map(|s| (s.epoch, s.step))
            .collect();
        assert_eq!(walk, [(1, 0), (1, 1), (1, 2), (2, 0), (2, 1)]);
        let seeds: std::collections::HashSet<u64> =
            std::iter::successors(Some(at), |s| Some(s.next()))
                .take(9)
                .map(|s| step_seed(42, s))
                .collect();
        assert_eq!(seeds.len(), 9, "every step draws its own ε");
    }
}
