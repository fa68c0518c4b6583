//! Per-epoch training history: kept in the checkpoint, written as CSV and as an SVG plot.

use serde::{Deserialize, Serialize};

/// One epoch's figures, nats per image.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct EpochRecord {
    pub epoch: usize,
    pub beta: f64,
    pub train_loss: f64,
    pub train_recon: f64,
    pub train_kl: f64,
    pub test_loss: f64,
    pub test_recon: f64,
    pub test_kl: f64,
    pub kl_per_dim: Vec<f64>,
    /// Wall time since the run began (test evaluations and checkpoints included).
    pub seconds: f64,
    /// Wall time of this epoch's training steps alone: what the speed benchmark compares.
    #[serde(default)]
    pub train_seconds: f64,
}

/// The training report (training.csv and training.svg) as files for a folder: it goes with
/// the checkpoint while training and into the bundle at the end.
pub fn report(title: &str, history: &[EpochRecord]) -> [(&'static str, String); 2] {
    [
        ("training.csv", to_csv(history)),
        (
            "training.svg",
            to_svg(history, &format!("{title}: loss per epoch")),
        ),
    ]
}

/// `(name, bytes)` pairs for [`crate::fsio`] from [`report`]'s files.
pub fn as_files<'a>(files: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a [u8])> {
    files
        .iter()
        .map(|(name, text)| (*name, text.as_bytes()))
        .collect()
}

/// The CSV: one row per epoch, KL of each latent dimension in its own column.
pub fn to_csv(history: &[EpochRecord]) -> String {
    let dims = history.first().map_or(0, |r| r.kl_per_dim.len());
    let mut out = String::from(
        "epoch,beta,train_loss,train_recon,train_kl,test_loss,test_recon,test_kl,seconds,train_seconds",
    );
    for d in 1..=dims {
        out.push_str(&format!(",kl_dim_{d}"));
    }
    out.push('\n');
    for r in history {
        out.push_str(&format!(
            "{},{},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.1},{:.2}",
            r.epoch,
            r.beta,
            r.train_loss,
            r.train_recon,
            r.train_kl,
            r.test_loss,
            r.test_recon,
            r.test_kl,
            r.seconds,
            r.train_seconds
        ));
        for kl in &r.kl_per_dim {
            out.push_str(&format!(",{kl:.4}"));
        }
        out.push('\n');
    }
    out
}

/// A plotted curve: label, colour, dash pattern, and the figure it plots.
type Series = (
    &'static str,
    &'static str,
    &'static str,
    fn(&EpochRecord) -> f64,
);

/// A self-contained SVG of the loss curves (train and test; total, reconstruction, KL).
pub fn to_svg(history: &[EpochRecord], title: &str) -> String {
    let (w, h, left, right, top, bottom) = (720.0, 420.0, 64.0, 170.0, 40.0, 48.0);
    let series: [Series; 6] = [
        ("test loss", "#1f4e9c", "", |r| r.test_loss),
        ("train loss", "#1f4e9c", "6 4", |r| r.train_loss),
        ("test recon", "#b5541b", "", |r| r.test_recon),
        ("train recon", "#b5541b", "6 4", |r| r.train_recon),
        ("test KL", "#2b7a3d", "", |r| r.test_kl),
        ("train KL", "#2b7a3d", "6 4", |r| r.train_kl),
    ];
    let all: Vec<f64> = history
        .iter()
        .flat_map(|r| series.iter().map(move |s| (s.3)(r)))
        .filter(|v| v.is_finite())
        .collect();
    let max = all.iter().copied().fold(1.0, f64::max) * 1.05;
    let epochs = history.len().max(2) as f64;
    let x = |e: usize| left + (e as f64 - 1.0) / (epochs - 1.0) * (w - left - right);
    let y = |v: f64| top + (1.0 - v / max) * (h - top - bottom);

    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{left}\" y=\"24\" font-size=\"15\">{}</text>\n",
        escape(title)
    );
    for i in 0..=5 {
        let v = max * i as f64 / 5.0;
        svg.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{v:.0}</text>\n",
            w - right,
            left - 6.0,
            y(v) + 4.0,
            y = y(v)
        ));
    }
    svg.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">epoch (1–{})</text>\n\
         <text x=\"16\" y=\"{:.1}\" transform=\"rotate(-90 16 {:.1})\" text-anchor=\"middle\">nats per image</text>\n",
        (left + w - right) / 2.0,
        h - 12.0,
        history.len(),
        h / 2.0,
        h / 2.0
    ));
    for (i, (name, colour, dash, value)) in series.iter().enumerate() {
        let points: Vec<String> = history
            .iter()
            .map(|r| format!("{:.1},{:.1}", x(r.epoch), y(value(r))))
            .collect();
        svg.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\" points=\"{}\"/>\n",
            points.join(" ")
        ));
        let ly = top + 18.0 * i as f64;
        svg.push_str(&format!(
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\"/><text x=\"{:.1}\" y=\"{:.1}\">{name}</text>\n",
            w - right + 12.0,
            w - right + 40.0,
            w - right + 46.0,
            ly + 4.0
        ));
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: usize) -> EpochRecord {
        EpochRecord {
            epoch,
            beta: 1.0,
            train_loss: 150.0 - epoch as f64,
            train_recon: 120.0,
            train_kl: 30.0 - epoch as f64,
            test_loss: 149.0,
            test_recon: 119.0,
            test_kl: 30.0,
            kl_per_dim: vec![1.5, 0.0],
            seconds: 3.0 * epoch as f64,
            train_seconds: 2.5,
        }
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_epoch() {
        let csv = to_csv(&[record(1), record(2)]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[0].ends_with("seconds,kl_dim_1,kl_dim_2"),
            "{}",
            lines[0]
        );
        assert_eq!(lines[2].split(',').count(), lines[0].split(',').count());
        assert!(lines[2].starts_with("2,1,148.0000,"), "{}", lines[2]);
    }

    #[test]
    fn svg_draws_six_curves_with_a_point_per_epoch() {
        let svg = to_svg(&[record(1), record(2), record(3)], "a <title>");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 6);
        let first = svg.split("points=\"").nth(1).unwrap();
        assert_eq!(first.split('"').next().unwrap().split(' ').count(), 3);
        assert!(svg.contains("a &lt;title&gt;"));
    }
}
