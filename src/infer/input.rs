//! What a session accepts and returns: every input checked before it reaches a tensor, every
//! image checked before it reaches the page. Errors name the value that is wrong.

use super::InferError;

/// The largest |z_i| accepted. The prior puts nearly all its mass within ±5; far beyond that the
/// decoder's sums overflow f32 and the pixels stop meaning anything.
pub const Z_RANGE: (f32, f32) = (-1000.0, 1000.0);
/// Pixels are ink levels in [0, 1], on the way in and (as Bernoulli means) on the way out.
pub const PIXEL_RANGE: (f32, f32) = (0.0, 1.0);
/// The largest batch one call decodes.
const MAX_BATCH: f64 = 4096.0;

/// A batch size given as a JS number: a whole number from 1 to 4096, so that 1.5 or -1 is an
/// error, not silently truncated.
pub fn batch_size(n: f64) -> Result<usize, InferError> {
    if !(n.fract() == 0.0 && (1.0..=MAX_BATCH).contains(&n)) {
        return Err(InferError(format!(
            "batch size must be a whole number from 1 to 4096, got {n}"
        )));
    }
    Ok(n as usize)
}

/// Checks the length, and that every value is finite and within `range`; errors name the value.
pub fn check_input(
    what: &str,
    values: &[f32],
    n: usize,
    width: usize,
    range: (f32, f32),
) -> Result<(), InferError> {
    if values.len() != n * width {
        let plural = if n == 1 { "" } else { "s" };
        return Err(InferError(format!(
            "expected {n} {what}{plural} of {width} numbers ({} in all), got {}",
            n * width,
            values.len()
        )));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(InferError(format!("{what}: value {i} is {}", values[i])));
    }
    let (lo, hi) = range;
    if let Some(i) = values.iter().position(|v| !(lo..=hi).contains(v)) {
        // 1e30, not thirty-one digits.
        let value = if values[i].abs() >= 1e6 {
            format!("{:e}", values[i])
        } else {
            values[i].to_string()
        };
        return Err(InferError(format!(
            "{what}: value {i} is {value}, outside the accepted range {lo} to {hi}"
        )));
    }
    Ok(())
}

/// Bernoulli means lie in [0, 1]. A GPU that computes garbage raises no error of its own (seen
/// with rejected shaders), so the numbers are the check.
pub fn check_images(images: &[f32], backend: impl std::fmt::Display) -> Result<(), InferError> {
    let (lo, hi) = PIXEL_RANGE;
    match images
        .iter()
        .enumerate()
        .find(|(_, v)| !(lo..=hi).contains(*v))
    {
        Some((i, v)) => Err(InferError(format!(
            "the {backend} backend computed an invalid pixel ({v} at {i}; Bernoulli means lie in [0, 1])"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_bad_value() {
        let err = |r: Result<(), InferError>| r.unwrap_err().0;
        assert_eq!(
            err(check_input("latent vector", &[0.0; 3], 2, 2, Z_RANGE)),
            "expected 2 latent vectors of 2 numbers (4 in all), got 3"
        );
        assert_eq!(
            err(check_input("image", &[0.0, f32::NAN], 1, 2, PIXEL_RANGE)),
            "image: value 1 is NaN"
        );
        assert_eq!(
            err(check_input("latent vector", &[1e30], 1, 1, Z_RANGE)),
            "latent vector: value 0 is 1e30, outside the accepted range -1000 to 1000"
        );
        assert!(check_input("image", &[0.0, 1.0], 1, 2, PIXEL_RANGE).is_ok());
        assert_eq!(
            err(check_images(&[0.5, 1.5], "CPU")),
            "the CPU backend computed an invalid pixel (1.5 at 1; Bernoulli means lie in [0, 1])"
        );
    }

    #[test]
    fn batch_sizes_are_whole_numbers_in_range() {
        assert_eq!(batch_size(1.0), Ok(1));
        assert_eq!(batch_size(4096.0), Ok(4096));
        for bad in [0.0, 1.5, -1.0, 4097.0, f64::NAN] {
            assert!(batch_size(bad).is_err(), "{bad}");
        }
    }
}
