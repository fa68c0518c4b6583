//! The page's latent map, computed once by the CLI: the test set's encodings μ projected onto a
//! plane (the latent space itself for a 2-D model, else its two principal axes or two chosen
//! dimensions), and each class's mean μ.

use burn::module::Module;
use burn::tensor::Device;

use super::batch::{batch, check_image_size};
use super::idx::IdxDataset;
use crate::bundle::{ClassMean, LatentMap};
use crate::model::Vae;

/// Test images drawn on the page's latent map: enough for a dense scatter, few enough for a
/// small manifest.
pub const MAP_POINTS: usize = 2000;

/// Which plane the map shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plane {
    /// The latent space itself for a 2-D model, principal axes otherwise.
    Auto,
    /// Two latent dimensions, 0-based.
    Dims(usize, usize),
}

/// Encodes every image of `data` and builds the map with the first `points` of them.
pub fn latent_map(
    vae: &Vae,
    data: &IdxDataset,
    plane: Plane,
    points: usize,
) -> Result<LatentMap, String> {
    let d = vae.encoder.latent_dim();
    if let Plane::Dims(a, b) = plane
        && (a >= d || b >= d || a == b)
    {
        return Err(format!(
            "the map needs two different dimensions between 1 and {d}, got {} and {}",
            a + 1,
            b + 1
        ));
    }
    check_image_size(vae, data)?;
    let mus = encode_all(vae, data);
    let n = data.count;
    let mean: Vec<f64> = (0..d)
        .map(|j| (0..n).map(|i| f64::from(mus[i * d + j])).sum::<f64>() / n as f64)
        .collect();
    let covariance = covariance(&mus, &mean, n, d);
    let total: f64 = (0..d)
        .map(|j| covariance[j * d + j])
        .sum::<f64>()
        .max(1e-12);

    let unit = |j: usize| {
        (0..d)
            .map(|k| f64::from(u8::from(k == j)))
            .collect::<Vec<_>>()
    };
    let (projection, origin, axes) = match plane {
        Plane::Auto if d == 2 => ("latent", vec![0.0; d], [unit(0), unit(1)]),
        Plane::Auto => {
            let first = leading_eigenvector(&covariance, d, None);
            let second = leading_eigenvector(&covariance, d, Some(&first));
            ("pca", mean.clone(), [first, second])
        }
        Plane::Dims(a, b) => ("dims", vec![0.0; d], [unit(a), unit(b)]),
    };
    let variance_along = |axis: &[f64]| quadratic_form(&covariance, axis, d) / total;
    let explained = [variance_along(&axes[0]), variance_along(&axes[1])];

    let project = |i: usize, axis: &[f64]| -> f32 {
        let z = &mus[i * d..(i + 1) * d];
        let dot: f64 = (0..d)
            .map(|k| (f64::from(z[k]) - origin[k]) * axis[k])
            .sum();
        round(dot) as f32
    };
    let points = (0..points.min(n))
        .map(|i| (project(i, &axes[0]), project(i, &axes[1]), data.label(i)))
        .collect();

    let mut sums: Vec<(usize, Vec<f64>)> = vec![(0, vec![0.0; d]); 256];
    for i in 0..n {
        let (count, sum) = &mut sums[usize::from(data.label(i))];
        *count += 1;
        for (s, &v) in sum.iter_mut().zip(&mus[i * d..(i + 1) * d]) {
            *s += f64::from(v);
        }
    }
    let classes = sums
        .into_iter()
        .enumerate()
        .filter(|(_, (count, _))| *count > 0)
        .map(|(label, (count, sum))| ClassMean {
            label: label as u8,
            count,
            mean: sum.iter().map(|s| round(s / count as f64) as f32).collect(),
        })
        .collect();

    let to_f32 = |v: &[f64]| v.iter().map(|&x| round(x) as f32).collect::<Vec<_>>();
    Ok(LatentMap {
        projection: projection.to_string(),
        origin: to_f32(&origin),
        axes: [to_f32(&axes[0]), to_f32(&axes[1])],
        explained: explained.map(|e| (e * 1000.0).round() / 1000.0),
        points,
        classes,
    })
}

/// μ of every image, row-major `[count, latent]`.
fn encode_all(vae: &Vae, data: &IdxDataset) -> Vec<f32> {
    let device = Device::flex();
    let vae = vae.clone().to_device(&device);
    let indices: Vec<usize> = (0..data.count).collect();
    let mut out = Vec::with_capacity(data.count * vae.encoder.latent_dim());
    for chunk in indices.chunks(500) {
        let (mu, _) = vae.encoder.forward(batch(data, chunk, &device));
        out.extend(mu.into_data().iter::<f32>());
    }
    out
}

fn covariance(mus: &[f32], mean: &[f64], n: usize, d: usize) -> Vec<f64> {
    let mut c = vec![0.0; d * d];
    for z in mus.chunks(d) {
        for a in 0..d {
            let da = f64::from(z[a]) - mean[a];
            for b in a..d {
                c[a * d + b] += da * (f64::from(z[b]) - mean[b]);
            }
        }
    }
    for a in 0..d {
        for b in a..d {
            c[a * d + b] /= n.max(1) as f64;
            c[b * d + a] = c[a * d + b];
        }
    }
    c
}

fn quadratic_form(m: &[f64], v: &[f64], d: usize) -> f64 {
    (0..d)
        .map(|a| v[a] * (0..d).map(|b| m[a * d + b] * v[b]).sum::<f64>())
        .sum()
}

/// The unit eigenvector of the symmetric `m` with the largest eigenvalue, orthogonal to
/// `except` when given (power iteration; deterministic start and sign).
fn leading_eigenvector(m: &[f64], d: usize, except: Option<&[f64]>) -> Vec<f64> {
    let orthogonalise = |v: &mut Vec<f64>| {
        if let Some(e) = except {
            let dot: f64 = v.iter().zip(e).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(e).for_each(|(a, b)| *a -= dot * b);
        }
    };
    let normalise = |v: &mut Vec<f64>| {
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-300);
        v.iter_mut().for_each(|x| *x /= norm);
    };
    let mut v: Vec<f64> = (0..d).map(|i| 1.0 + 0.1 * i as f64).collect();
    orthogonalise(&mut v);
    normalise(&mut v);
    for _ in 0..500 {
        let mut next: Vec<f64> = (0..d)
            .map(|a| (0..d).map(|b| m[a * d + b] * v[b]).sum())
            .collect();
        orthogonalise(&mut next);
        normalise(&mut next);
        let change: f64 = next.iter().zip(&v).map(|(a, b)| (a - b).abs()).sum();
        v = next;
        if change < 1e-12 {
            break;
        }
    }
    // Sign: the largest component positive, so reruns give the same picture.
    let largest = v
        .iter()
        .copied()
        .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
    if largest < 0.0 {
        v.iter_mut().for_each(|x| *x = -*x);
    }
    v
}

fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_iteration_finds_the_principal_axes() {
        // Variance 9 along (1, 1)/√2, 1 along (1, −1)/√2, 0.25 along the third axis.
        let s = std::f64::consts::FRAC_1_SQRT_2;
        let m = [5.0, 4.0, 0.0, 4.0, 5.0, 0.0, 0.0, 0.0, 0.25];
        let first = leading_eigenvector(&m, 3, None);
        let second = leading_eigenvector(&m, 3, Some(&first));
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
        assert!(close(&first, &[s, s, 0.0]), "{first:?}");
        assert!(
            close(&second, &[s, -s, 0.0]) || close(&second, &[-s, s, 0.0]),
            "{second:?}"
        );
        assert!((quadratic_form(&m, &first, 3) - 9.0).abs() < 1e-9);
    }
}
