//! Simulation-based calibration (Talts et al. 2018) of NUTS on a small hierarchical
//! model, and of the compound sampler (NUTS + BinaryGibbs) on a model with one discrete
//! and two continuous variables.
//!
//! For each replication: draw parameters from the prior and data from the prior
//! predictive, fit the model to that data, thin the posterior draws to near-independence
//! and record the rank of the true value among them. If the sampler is correct, each
//! parameter's ranks are uniform; a chi-square test (fixed seed, α = 0.001) checks that.
//! A negative control runs the same procedure with a deliberately wrong inference model
//! and asserts the test rejects, so the first test is known to have power.

use ppl::prelude::*;

const N_GROUPS: usize = 4;
const OBS_PER_GROUP: usize = 5;

/// Non-centred hierarchical normal model: 4 groups × 5 observations, unit noise.
/// `mu_sd` is the prior scale of `mu`: 1 for simulation, and also for inference in the
/// calibrated test; the negative control infers with a wrong value.
#[model]
fn hierarchical(group: &[usize], y: &[f64], mu_sd: f64) {
    let mu = sample!(Normal::new(0.0, mu_sd));
    let tau = sample!(HalfNormal::new(1.0));
    let z = sample!(Normal::new(0.0, 1.0), shape = N_GROUPS);
    let theta: Vec<Real> = z.iter().map(|zi| mu + tau * *zi).collect();
    deterministic!(theta);
    let loc: Vec<Real> = group.iter().map(|g| theta[*g]).collect();
    observe!(Normal::new(&loc, 1.0), y);
}

/// The scalars whose ranks are tested: (trace/prior name, element).
const PARAMS: [(&str, usize); 3] = [("mu", 0), ("tau", 0), ("theta", 0)];

/// Chi-square critical value for 9 degrees of freedom at α = 0.001
/// (upper 0.1% point; numerically P(χ²₉ > 27.877) = 0.00100006).
const CHI2_CRIT_9DF_0001: f64 = 27.877;

/// Posterior draws kept per replication: ranks run over 0..=L, i.e. L + 1 = 100 values.
const L: usize = 99;
/// Rank bins: 100 rank values in 10 bins of 10.
const BINS: usize = 10;

struct SbcResult {
    /// Per parameter, the rank histogram.
    histograms: Vec<[usize; BINS]>,
    /// Per parameter, the chi-square statistic against uniform.
    chi2: Vec<f64>,
}

fn chi_square(hist: &[usize; BINS], replications: usize) -> f64 {
    let expected = replications as f64 / BINS as f64;
    hist.iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

/// Runs `replications` SBC replications, simulating with prior scale 1 for `mu` and
/// fitting with `infer_mu_sd`, keeping every `thin`-th of `L * thin` post-warm-up draws.
fn run_sbc(
    seed: u64,
    replications: usize,
    thin: usize,
    tune: usize,
    infer_mu_sd: f64,
) -> SbcResult {
    assert_eq!((L + 1) % BINS, 0);
    let group: Vec<usize> = (0..N_GROUPS * OBS_PER_GROUP)
        .map(|i| i % N_GROUPS)
        .collect();
    let placeholder = vec![0.0; group.len()];
    let simulator = hierarchical::model(&group, &placeholder, 1.0).unwrap();
    let mut histograms = vec![[0usize; BINS]; PARAMS.len()];
    for s in 0..replications {
        let draw = simulator
            .prior_draw(&mut ppl::model::rng_for(seed, s as u64))
            .unwrap();
        let y = draw.observed.get("y").unwrap().values.clone();
        assert_eq!(y.len(), group.len());
        let model = hierarchical::model(&group, &y, infer_mu_sd).unwrap();
        let trace = model
            .sample(
                Nuts::default()
                    .chains(1)
                    .draws(L * thin)
                    .tune(tune)
                    .seed(seed.wrapping_mul(1_000_003).wrapping_add(s as u64))
                    .progress(false),
            )
            .unwrap();
        for (p, &(name, element)) in PARAMS.iter().enumerate() {
            let truth = draw
                .variables
                .get(name)
                .or_else(|| draw.deterministics.get(name))
                .unwrap()
                .values[element];
            let chains = trace.samples(name, element).unwrap();
            let rank = chains[0]
                .iter()
                .step_by(thin)
                .filter(|&&v| v < truth)
                .count();
            assert!(rank <= L);
            histograms[p][rank / ((L + 1) / BINS)] += 1;
        }
    }
    let chi2 = histograms
        .iter()
        .map(|h| chi_square(h, replications))
        .collect();
    SbcResult { histograms, chi2 }
}

fn report(label: &str, result: &SbcResult) {
    for (p, &(name, element)) in PARAMS.iter().enumerate() {
        eprintln!(
            "{label}: {name}[{element}] ranks {:?} chi2 = {:.3}",
            result.histograms[p], result.chi2[p]
        );
    }
}

#[test]
fn nuts_is_calibrated_on_a_hierarchical_model() {
    let start = std::time::Instant::now();
    let replications = 1000;
    let result = run_sbc(2018, replications, 10, 500, 1.0);
    report("sbc", &result);
    eprintln!("sbc: {replications} replications in {:?}", start.elapsed());
    for (p, &(name, element)) in PARAMS.iter().enumerate() {
        assert!(
            result.chi2[p] < CHI2_CRIT_9DF_0001,
            "{name}[{element}]: ranks {:?} not uniform (chi2 = {:.3} >= {CHI2_CRIT_9DF_0001})",
            result.histograms[p],
            result.chi2[p]
        );
    }
}

/// Negative control: simulate with `mu ~ Normal(0, 1)` but infer with
/// `mu ~ Normal(0, 0.5)`. The posterior is then too narrow and shrunk towards zero, so
/// the true `mu` lands in the tails too often and the test must reject.
#[test]
fn sbc_rejects_a_misspecified_prior() {
    let start = std::time::Instant::now();
    let replications = 200;
    let result = run_sbc(7, replications, 2, 200, 0.5);
    report("sbc negative control", &result);
    eprintln!(
        "sbc negative control: {replications} replications in {:?}",
        start.elapsed()
    );
    assert!(
        result.chi2[0] > CHI2_CRIT_9DF_0001,
        "mu: the misspecified model was not rejected (chi2 = {:.3} <= {CHI2_CRIT_9DF_0001})",
        result.chi2[0]
    );
}

/// One discrete and two continuous variables: `k` shifts the mean of the second group
/// of observations only.
///
/// (With the shift on every observation, `mu` and `k` are confounded: at small `sigma`
/// the posterior has one mode per `k`, a flip of `k` at fixed `mu` is never accepted,
/// and the chains stay in their starting mode. SBC with 3000 replications shows it as
/// U-shaped ranks — chi-square 21 for `mu`, 16 for `k` — a mixing limit of any
/// Metropolis-within-Gibbs sampler, not a calibration error of this one.)
#[model]
fn shifted_normal(y: &[f64]) {
    let k = sample!(Bernoulli::new(0.4));
    let mu = sample!(Normal::new(0.0, 1.0));
    let sigma = sample!(HalfNormal::new(1.0));
    observe!(Normal::new(mu, sigma), &y[..3], name = "y_base");
    observe!(
        Normal::new(mu + k as f64, sigma),
        &y[3..],
        name = "y_shifted"
    );
}

/// The rank of `truth` among `draws`, ties broken uniformly at random (needed for a
/// discrete parameter, where draws equal to the truth are common).
fn randomised_rank(
    draws: impl Iterator<Item = f64>,
    truth: f64,
    rng: &mut impl rand::Rng,
) -> usize {
    let (mut below, mut ties) = (0, 0);
    for v in draws {
        if v < truth {
            below += 1;
        } else if v == truth {
            ties += 1;
        }
    }
    below + rng.gen_range(0..=ties)
}

#[test]
fn the_compound_sampler_is_calibrated() {
    let start = std::time::Instant::now();
    let (seed, replications, thin) = (404_u64, 1000, 10);
    let names = [("k", 0), ("mu", 0), ("sigma", 0)];
    let placeholder = [0.0; 5];
    let simulator = shifted_normal::model(&placeholder).unwrap();
    let mut histograms = vec![[0usize; BINS]; names.len()];
    let mut tie_rng = ppl::model::rng_for(seed, u64::MAX);
    for s in 0..replications {
        let draw = simulator
            .prior_draw(&mut ppl::model::rng_for(seed, s as u64))
            .unwrap();
        let mut y = draw.observed.get("y_base").unwrap().values.clone();
        y.extend(&draw.observed.get("y_shifted").unwrap().values);
        let model = shifted_normal::model(&y).unwrap();
        let settings = Compound::new(
            Nuts::default()
                .chains(1)
                .draws(L * thin)
                .tune(300)
                .seed(seed.wrapping_mul(7919).wrapping_add(s as u64))
                .progress(false),
        );
        let trace = model.sample(settings).unwrap();
        assert_eq!(trace.step_labels(), ["binary_gibbs[k]", "nuts[mu, sigma]"]);
        for (p, &(name, element)) in names.iter().enumerate() {
            let truth = draw.variables.get(name).unwrap().values[element];
            let chain = trace.samples(name, element).unwrap()[0];
            let rank = randomised_rank(chain.iter().step_by(thin).copied(), truth, &mut tie_rng);
            assert!(rank <= L);
            histograms[p][rank / ((L + 1) / BINS)] += 1;
        }
    }
    eprintln!(
        "compound sbc: {replications} replications in {:?}",
        start.elapsed()
    );
    for (p, &(name, _)) in names.iter().enumerate() {
        let chi2 = chi_square(&histograms[p], replications);
        eprintln!(
            "compound sbc: {name} ranks {:?} chi2 = {chi2:.3}",
            histograms[p]
        );
        assert!(
            chi2 < CHI2_CRIT_9DF_0001,
            "{name}: ranks {:?} not uniform (chi2 = {chi2:.3} >= {CHI2_CRIT_9DF_0001})",
            histograms[p]
        );
    }
}
