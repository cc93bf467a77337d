//! Plots of a trace as SVG files: ArviZ's `plot_trace` (per-chain densities and
//! traces), `plot_posterior` (density, mean and 94% HDI) and `plot_rank` (per-chain rank
//! histograms, the visual R-hat).
//!
//! Each scalar of the chosen variables gets a panel (a vector variable one per
//! element); with no variables named, every parameter and deterministic is plotted.
//! Densities are Gaussian kernel density estimates with Silverman's bandwidth,
//! computed on 512 linear bins (exact to well under a pixel).

use crate::diagnostics::hdi_sorted;
use crate::trace::Trace;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;
use thiserror::Error;

/// The chains' colours (ArviZ's default cycle).
const CHAIN_COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
/// Points of a density curve.
const DENSITY_POINTS: usize = 200;
/// Bins of the linear binning behind a density.
const DENSITY_BINS: usize = 512;
/// Bins of a rank histogram (ArviZ's default for a few thousand draws).
const RANK_BINS: usize = 20;
/// The HDI's probability mass (ArviZ's default).
const HDI_PROB: f64 = 0.94;

/// Why a plot could not be drawn.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum PlotError {
    /// No recorded variable has this name.
    #[error("the trace has no variable `{0}`")]
    UnknownVariable(String),
    /// The trace has no draws, or nothing to plot.
    #[error("nothing to plot: the trace has no draws of the chosen variables")]
    Empty,
    /// Drawing or writing the file failed.
    #[error("drawing the plot failed: {0}")]
    Drawing(String),
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for PlotError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        PlotError::Drawing(e.to_string())
    }
}

/// One scalar to plot: its name and its draws per chain.
struct Panel {
    name: String,
    chains: Vec<Vec<f64>>,
}

impl Panel {
    fn pooled(&self) -> Vec<f64> {
        self.chains.iter().flatten().copied().collect()
    }
}

/// A Gaussian kernel density estimate of `values` with Silverman's bandwidth, at
/// [`DENSITY_POINTS`] points spanning the values' range: `(x, density)` pairs. Constant
/// values give a single spike of height 1 at the value.
pub(crate) fn kde(values: &[f64]) -> Vec<(f64, f64)> {
    let n = values.len();
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if n == 0 || !(lo.is_finite() && hi.is_finite()) {
        return Vec::new();
    }
    if hi - lo <= f64::EPSILON * lo.abs().max(1.0) {
        return vec![(lo, 1.0)];
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let iqr = crate::diagnostics::quantile_sorted(&sorted, 0.75)
        - crate::diagnostics::quantile_sorted(&sorted, 0.25);
    let spread = if iqr > 0.0 { sd.min(iqr / 1.34) } else { sd };
    let h = 0.9 * spread * (n as f64).powf(-0.2);
    // Linear binning: each value shares its unit weight between its two bin centres.
    let width = (hi - lo) / (DENSITY_BINS - 1) as f64;
    let mut weights = vec![0.0; DENSITY_BINS];
    for &v in values {
        let position = (v - lo) / width;
        let left = (position.floor() as usize).min(DENSITY_BINS - 2);
        let fraction = position - left as f64;
        weights[left] += 1.0 - fraction;
        weights[left + 1] += fraction;
    }
    let norm = 1.0 / (n as f64 * h * (2.0 * std::f64::consts::PI).sqrt());
    (0..DENSITY_POINTS)
        .map(|i| {
            let x = lo + (hi - lo) * i as f64 / (DENSITY_POINTS - 1) as f64;
            let density: f64 = weights
                .iter()
                .enumerate()
                .filter(|(_, w)| **w > 0.0)
                .map(|(b, w)| {
                    let z = (x - (lo + b as f64 * width)) / h;
                    w * (-0.5 * z * z).exp()
                })
                .sum();
            (x, density * norm)
        })
        .collect()
}

/// The range of `values`, padded by 5% (by ½ when they are all equal).
fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 0.5 };
    (lo - pad, hi + pad)
}

impl Trace {
    /// The panels of the named variables (all posterior ones when none are named).
    fn panels(&self, variables: &[&str]) -> Result<Vec<Panel>, PlotError> {
        let chosen: Vec<usize> = if variables.is_empty() {
            (0..self.variables.len())
                .filter(|&i| self.variables[i].kind.is_posterior())
                .collect()
        } else {
            variables
                .iter()
                .map(|name| {
                    self.variables
                        .iter()
                        .position(|v| v.name == *name)
                        .ok_or_else(|| PlotError::UnknownVariable(name.to_string()))
                })
                .collect::<Result<_, _>>()?
        };
        let panels: Vec<Panel> = chosen
            .into_iter()
            .flat_map(|i| {
                let variable = &self.variables[i];
                (0..variable.len()).map(move |e| (i, e))
            })
            .map(|(i, e)| Panel {
                name: self.variables[i].element_name(e),
                chains: self
                    .chains
                    .iter()
                    .map(|c| c.column(self.offsets[i] + e).to_vec())
                    .collect(),
            })
            .collect();
        if panels.is_empty() || panels.iter().all(|p| p.chains.iter().all(Vec::is_empty)) {
            return Err(PlotError::Empty);
        }
        Ok(panels)
    }

    /// ArviZ's `plot_trace`: for each scalar of `variables` (every parameter and
    /// deterministic when empty), a row with each chain's density on the left and its
    /// draws in order on the right, one colour per chain; written as SVG to `path`.
    ///
    /// ```
    /// use ppl_infer::{sample_log_density, LogDensity, Nuts};
    ///
    /// struct StdNormal;
    /// impl LogDensity for StdNormal {
    ///     fn dim(&self) -> usize { 2 }
    ///     fn logp(&self, x: &[f64]) -> ppl_core::Result<f64> {
    ///         Ok(-0.5 * x.iter().map(|v| v * v).sum::<f64>())
    ///     }
    ///     fn logp_grad(&self, x: &[f64], g: &mut [f64]) -> ppl_core::Result<f64> {
    ///         for (g, x) in g.iter_mut().zip(x) { *g = -x; }
    ///         self.logp(x)
    ///     }
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let nuts = Nuts::default().chains(2).draws(300).tune(200).seed(1).progress(false);
    /// let trace = sample_log_density(&StdNormal, nuts)?;
    /// let path = std::env::temp_dir().join("ppl_doc_trace.svg");
    /// trace.plot_trace(&path, &[])?; // x[0] and x[1]
    /// let svg = std::fs::read_to_string(&path)?;
    /// assert!(svg.starts_with("<svg") && svg.contains("x[1]"));
    /// assert!(trace.plot_trace(&path, &["y"]).is_err()); // no such variable
    /// # Ok(()) }
    /// ```
    pub fn plot_trace(&self, path: impl AsRef<Path>, variables: &[&str]) -> Result<(), PlotError> {
        let panels = self.panels(variables)?;
        let rows = panels.len();
        let root = SVGBackend::new(path.as_ref(), (960, 180 * rows as u32)).into_drawing_area();
        root.fill(&WHITE)?;
        for (panel, row) in panels.iter().zip(root.split_evenly((rows, 1))) {
            let (left, right) = row.split_horizontally(320);
            let densities: Vec<Vec<(f64, f64)>> = panel.chains.iter().map(|c| kde(c)).collect();
            let x_range = padded_range(panel.chains.iter().flatten().copied());
            let top = densities.iter().flatten().map(|p| p.1).fold(0.0, f64::max);
            let mut chart = ChartBuilder::on(&left)
                .caption(&panel.name, ("sans-serif", 15))
                .margin(6)
                .x_label_area_size(22)
                .y_label_area_size(40)
                .build_cartesian_2d(x_range.0..x_range.1, 0.0..top * 1.05 + f64::MIN_POSITIVE)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(5)
                .y_labels(3)
                .draw()?;
            for (c, density) in densities.into_iter().enumerate() {
                chart.draw_series(LineSeries::new(
                    density,
                    CHAIN_COLORS[c % 10].stroke_width(1),
                ))?;
            }
            let draws = panel.chains.iter().map(Vec::len).max().unwrap_or(0);
            let mut chart = ChartBuilder::on(&right)
                .caption(&panel.name, ("sans-serif", 15))
                .margin(6)
                .x_label_area_size(22)
                .y_label_area_size(50)
                .build_cartesian_2d(0.0..draws.max(1) as f64, x_range.0..x_range.1)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(6)
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_labels(4)
                .draw()?;
            for (c, chain) in panel.chains.iter().enumerate() {
                let points = chain.iter().enumerate().map(|(i, v)| (i as f64, *v));
                chart.draw_series(LineSeries::new(points, CHAIN_COLORS[c % 10].mix(0.7)))?;
            }
        }
        root.present()?;
        Ok(())
    }

    /// ArviZ's `plot_posterior`: for each scalar of `variables` (every parameter and
    /// deterministic when empty), the density of the pooled draws with the mean and the
    /// 94% highest-density interval marked and labelled, three panels to a row; written
    /// as SVG to `path`. See [`plot_trace`](Self::plot_trace) for an example.
    pub fn plot_posterior(
        &self,
        path: impl AsRef<Path>,
        variables: &[&str],
    ) -> Result<(), PlotError> {
        let panels = self.panels(variables)?;
        let columns = panels.len().min(3);
        let rows = panels.len().div_ceil(columns);
        let root = SVGBackend::new(path.as_ref(), (330 * columns as u32, 250 * rows as u32))
            .into_drawing_area();
        root.fill(&WHITE)?;
        let areas = root.split_evenly((rows, columns));
        for (panel, area) in panels.iter().zip(areas) {
            posterior_panel(panel, &area)?;
        }
        root.present()?;
        Ok(())
    }

    /// ArviZ's `plot_rank`: for each scalar of `variables` (every parameter and
    /// deterministic when empty), each chain's histogram of the ranks of its draws among
    /// all chains' draws (20 bins), against the uniform count that chains sampling the
    /// same distribution share; written as SVG to `path`. See
    /// [`plot_trace`](Self::plot_trace) for an example.
    pub fn plot_rank(&self, path: impl AsRef<Path>, variables: &[&str]) -> Result<(), PlotError> {
        let panels = self.panels(variables)?;
        let columns = panels.len().min(3);
        let rows = panels.len().div_ceil(columns);
        let root = SVGBackend::new(path.as_ref(), (330 * columns as u32, 220 * rows as u32))
            .into_drawing_area();
        root.fill(&WHITE)?;
        let areas = root.split_evenly((rows, columns));
        for (panel, area) in panels.iter().zip(areas) {
            let histograms = rank_histograms(&panel.chains, RANK_BINS);
            let expected = panel.chains.iter().map(Vec::len).sum::<usize>() as f64
                / panel.chains.len().max(1) as f64
                / RANK_BINS as f64;
            let top = histograms
                .iter()
                .flatten()
                .copied()
                .fold(expected, f64::max);
            let mut chart = ChartBuilder::on(&area)
                .caption(&panel.name, ("sans-serif", 15))
                .margin(6)
                .x_label_area_size(36)
                .y_label_area_size(40)
                .build_cartesian_2d(0.0..1.0, 0.0..top * 1.1)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc("rank (normalised)")
                .y_label_formatter(&|v| format!("{v:.0}"))
                .draw()?;
            for (c, histogram) in histograms.iter().enumerate() {
                // A step line over the bins.
                let steps = histogram.iter().enumerate().flat_map(|(b, count)| {
                    let (x0, x1) = (
                        b as f64 / RANK_BINS as f64,
                        (b + 1) as f64 / RANK_BINS as f64,
                    );
                    [(x0, *count), (x1, *count)]
                });
                chart.draw_series(LineSeries::new(steps, CHAIN_COLORS[c % 10].stroke_width(2)))?;
            }
            chart.draw_series(LineSeries::new(
                [(0.0, expected), (1.0, expected)],
                BLACK.mix(0.5),
            ))?;
        }
        root.present()?;
        Ok(())
    }
}

impl Trace {
    /// ArviZ's `plot_energy`: the density of the centred Hamiltonian at the draws (the
    /// marginal energy) and of its changes between successive draws (the energy
    /// transitions), pooled over the chains, with each chain's E-BFMI. When the
    /// transitions' density is much narrower than the marginal one, the sampler cannot
    /// cross the energy levels of the posterior (E-BFMI below 0.3 draws the summary's
    /// warning); written as SVG to `path`. See [`plot_trace`](Self::plot_trace) for an
    /// example.
    pub fn plot_energy(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        let mut marginal = Vec::new();
        let mut transitions = Vec::new();
        for chain in &self.chains {
            let energy: Vec<f64> = chain.stats.iter().map(|s| s.energy).collect();
            let mean = energy.iter().sum::<f64>() / energy.len().max(1) as f64;
            marginal.extend(energy.iter().map(|e| e - mean));
            transitions.extend(energy.windows(2).map(|w| w[1] - w[0]));
        }
        let (marginal, transitions) = (kde(&marginal), kde(&transitions));
        if marginal.len() < 2 || transitions.len() < 2 {
            return Err(PlotError::Empty);
        }
        let root = SVGBackend::new(path.as_ref(), (640, 400)).into_drawing_area();
        root.fill(&WHITE)?;
        let x_range = padded_range(marginal.iter().chain(&transitions).map(|p| p.0));
        let top = marginal
            .iter()
            .chain(&transitions)
            .map(|p| p.1)
            .fold(0.0, f64::max);
        let mut chart = ChartBuilder::on(&root)
            .caption("energy", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(25)
            .build_cartesian_2d(x_range.0..x_range.1, 0.0..top * 1.3)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .disable_y_axis()
            .x_labels(6)
            .draw()?;
        chart
            .draw_series(LineSeries::new(marginal, CHAIN_COLORS[0].stroke_width(2)))?
            .label("marginal energy")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], CHAIN_COLORS[0]));
        chart
            .draw_series(LineSeries::new(
                transitions,
                CHAIN_COLORS[1].stroke_width(2),
            ))?
            .label("energy transition")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], CHAIN_COLORS[1]));
        for chain in &self.chains {
            let label = format!("chain {}: E-BFMI {:.2}", chain.chain, chain.bfmi());
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                .label(label);
        }
        chart
            .configure_series_labels()
            .border_style(BLACK.mix(0.3))
            .background_style(WHITE)
            .draw()?;
        root.present()?;
        Ok(())
    }
}

/// One panel of [`Trace::plot_posterior`].
fn posterior_panel(
    panel: &Panel,
    area: &DrawingArea<SVGBackend<'_>, Shift>,
) -> Result<(), PlotError> {
    let mut pooled = panel.pooled();
    pooled.sort_by(f64::total_cmp);
    let density = kde(&pooled);
    let mean = pooled.iter().sum::<f64>() / pooled.len().max(1) as f64;
    let (hdi_lo, hdi_hi) = hdi_sorted(&pooled, HDI_PROB);
    let x_range = padded_range(pooled.iter().copied());
    let top = density.iter().map(|p| p.1).fold(0.0, f64::max) * 1.25 + f64::MIN_POSITIVE;
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.name, ("sans-serif", 15))
        .margin(8)
        .x_label_area_size(22)
        .build_cartesian_2d(x_range.0..x_range.1, 0.0..top)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_y_axis()
        .x_labels(5)
        .draw()?;
    chart.draw_series(LineSeries::new(density, CHAIN_COLORS[0].stroke_width(2)))?;
    let bar = top * 0.05;
    chart.draw_series(LineSeries::new(
        [(hdi_lo, bar), (hdi_hi, bar)],
        BLACK.stroke_width(4),
    ))?;
    let centred =
        TextStyle::from(("sans-serif", 11).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    let label = |x: f64, text: String| Text::new(text, (x, bar * 1.6), centred.clone());
    chart.draw_series([
        label(hdi_lo, format!("{hdi_lo:.3}")),
        label(hdi_hi, format!("{hdi_hi:.3}")),
    ])?;
    chart.draw_series([Text::new(
        format!("94% HDI; mean = {mean:.3}"),
        (x_range.0, top * 0.95),
        ("sans-serif", 12).into_font(),
    )])?;
    chart.draw_series(LineSeries::new(
        [(mean, 0.0), (mean, top * 0.85)],
        BLACK.mix(0.4),
    ))?;
    Ok(())
}

/// Each chain's count of draws per rank bin, ranks taken over all chains' draws.
fn rank_histograms(chains: &[Vec<f64>], bins: usize) -> Vec<Vec<f64>> {
    let mut all: Vec<(f64, usize)> = chains
        .iter()
        .enumerate()
        .flat_map(|(c, chain)| chain.iter().map(move |v| (*v, c)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = all.len().max(1);
    let mut histograms = vec![vec![0.0; bins]; chains.len()];
    for (rank, (_, chain)) in all.iter().enumerate() {
        let bin = (rank * bins / total).min(bins - 1);
        histograms[*chain][bin] += 1.0;
    }
    histograms
}

#[cfg(test)]
mod tests {
    use super::*;
    use ppl_core::model::rng_for;
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn the_density_estimate_of_normal_draws_is_the_normal_density() {
        let mut rng = rng_for(3, 0);
        let n = 20_000;
        let draws: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
        let density = kde(&draws);
        // It integrates to one over the range (the tails beyond it hold ~1e-4).
        let integral: f64 = density
            .windows(2)
            .map(|w| 0.5 * (w[0].1 + w[1].1) * (w[1].0 - w[0].0))
            .sum();
        assert!((integral - 1.0).abs() < 2e-3, "{integral}");
        // At the points within 2 sd of the mean: the normal density, within the
        // estimate's bias h²f″/2 (≤ 0.004 with h ≈ 0.12) plus 4 of its standard
        // deviations √(f R(K) / (n h)) ≤ 0.007.
        for (x, f) in density.iter().filter(|(x, _)| x.abs() < 2.0) {
            let exact = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
            assert!(
                (f - exact).abs() < 0.004 + 4.0 * 0.007,
                "{x}: {f} vs {exact}"
            );
        }
    }

    #[test]
    fn constant_and_empty_values_have_degenerate_densities() {
        assert_eq!(kde(&[2.0; 10]), vec![(2.0, 1.0)]);
        assert!(kde(&[]).is_empty());
    }

    #[test]
    fn rank_histograms_count_every_draw_once() {
        let chains = vec![vec![0.0, 1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0, 7.0]];
        let histograms = rank_histograms(&chains, 2);
        // The first chain holds the lower half of the ranks.
        assert_eq!(histograms, vec![vec![4.0, 0.0], vec![0.0, 4.0]]);
    }
}
