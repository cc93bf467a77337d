//! Plots of traces (`trace.plot_trace`, `plot_posterior`, `plot_rank`): the SVG files
//! hold one curve per chain and panel, the panels' names, and the summary's 94% HDI.

use ppl::infer::PlotError;
use ppl::prelude::*;
use std::path::PathBuf;

/// `mu ~ Normal(0, 1)`, `sigma ~ HalfNormal(1)`, `theta = mu + sigma` (two elements),
/// `y ~ Normal(mu, sigma)`.
#[model]
fn small(y: &[f64]) {
    let mu = sample!(Normal::new(0.0, 1.0));
    let sigma = sample!(HalfNormal::new(1.0));
    let theta = vec![mu + sigma, mu - sigma];
    deterministic!(theta);
    observe!(Normal::new(mu, sigma), y);
}

fn trace() -> Trace {
    let model = small::model(&[0.3, -0.2, 1.1, 0.5]).unwrap();
    let nuts = Nuts::default()
        .chains(3)
        .draws(400)
        .tune(300)
        .seed(2)
        .progress(false);
    model.sample(nuts).unwrap()
}

fn out(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ppl_plots_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The `<polyline` elements of an SVG file with at least `points` points: the curves
/// (axes and ticks have two).
fn curves(svg: &str, points: usize) -> usize {
    svg.split("<polyline")
        .skip(1)
        .filter(|element| {
            let list = element.split("points=\"").nth(1).unwrap_or("");
            let list = list.split('"').next().unwrap_or("");
            list.split_whitespace().count() >= points
        })
        .count()
}

#[test]
fn a_trace_plot_has_a_density_and_a_trace_per_chain_and_panel() {
    let trace = trace();
    let path = out("trace.svg");
    trace.plot_trace(&path, &[]).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    // Panels: mu, sigma, theta[0], theta[1]; three chains; a density (200 points) and a
    // trace (400 draws) each.
    for name in ["mu", "sigma", "theta[0]", "theta[1]"] {
        assert!(svg.contains(&format!(">\n{name}\n<")), "{name} missing");
    }
    assert_eq!(curves(&svg, 150), 4 * 3 * 2);
    assert_eq!(curves(&svg, 399), 4 * 3);
    // Only the named variables.
    trace.plot_trace(&path, &["sigma"]).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert_eq!(curves(&svg, 150), 3 * 2);
    assert!(!svg.contains(">\nmu\n<"));
}

#[test]
fn a_posterior_plot_marks_the_summarys_hdi_and_mean() {
    let trace = trace();
    let path = out("posterior.svg");
    trace.plot_posterior(&path, &["mu", "theta"]).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    let summary = trace.summary();
    for name in ["mu", "theta[0]", "theta[1]"] {
        let row = summary.row(name).unwrap();
        for value in [row.hdi_3, row.hdi_97] {
            let label = format!(">\n{value:.3}\n<");
            assert!(svg.contains(&label), "{name}: no label {value:.3}");
        }
        assert!(
            svg.contains(&format!("94% HDI; mean = {:.3}", row.mean)),
            "{name}"
        );
    }
    assert_eq!(curves(&svg, 150), 3); // one pooled density per panel
}

#[test]
fn a_rank_plot_has_a_histogram_per_chain() {
    let trace = trace();
    let path = out("rank.svg");
    trace.plot_rank(&path, &["mu", "sigma"]).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    // 20 bins drawn as steps: 40 points per chain and panel.
    assert_eq!(curves(&svg, 40), 2 * 3);
}

#[test]
fn an_energy_plot_shows_both_densities_and_each_chains_e_bfmi() {
    let trace = trace();
    let path = out("energy.svg");
    trace.plot_energy(&path).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert_eq!(curves(&svg, 150), 2);
    assert!(svg.contains("marginal energy") && svg.contains("energy transition"));
    for chain in trace.chains() {
        let label = format!("chain {}: E-BFMI {:.2}", chain.chain, chain.bfmi());
        assert!(svg.contains(&label), "{label}");
    }
}

#[test]
fn plot_errors_are_typed() {
    let trace = trace();
    let err = trace.plot_trace(out("x.svg"), &["nope"]).unwrap_err();
    assert_eq!(err, PlotError::UnknownVariable("nope".into()));
    let missing_dir = std::env::temp_dir().join("ppl_no_such_dir_for_plots/x/y.svg");
    let err = trace.plot_posterior(&missing_dir, &[]).unwrap_err();
    assert!(matches!(err, PlotError::Drawing(_)), "{err}");
    let wrapped: ppl::Error = err.into();
    assert!(wrapped.to_string().contains("drawing"));
}
