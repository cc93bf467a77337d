//! The posteriors of `shared/ANCHORS.md` ported from their Stan programs to `#[model]`,
//! with the data loading (Stan JSON) and the comparison against the reference posteriors.
//!
//! Shared by `tests/posteriordb.rs` (correctness in CI) and
//! `examples/posteriordb_benchmark.rs` (speed against the anchors). Each model keeps the
//! Stan program's priors, constraints and parameterisation (improper flat priors where
//! Stan has none); constant terms of the density may differ (`HalfCauchy` for a
//! `<lower=0>` Cauchy), which does not change the posterior. Data preparation that Stan
//! does in `transformed data` (centring, lag matrices) happens once when loading.

#![allow(dead_code)] // each includer uses a different part

use ppl::gp::exp_quad_cov;
use ppl::linalg::mat_vec;
use ppl::prelude::*;
use serde_json::Value;
use std::error::Error as StdError;
use std::path::PathBuf;

/// Any error of loading, building or sampling.
pub type BoxError = Box<dyn StdError + Send + Sync>;

// ---------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------

/// `arK-arK`: an AR(K) model. `lags` is the design matrix of the lagged series (row
/// `t − K` holds `y[t−1], …, y[t−K]`), `y_next` the observations `y[K..]`, so the mean
/// `α + Σₖ βₖ y[t−k]` is a normal-identity GLM: one tape node for the likelihood.
#[model]
pub fn ar_k(lags: &DataMatrix, y_next: &[f64]) {
    let alpha = sample!(Normal::new(0.0, 10.0));
    let beta = sample!(Normal::new(0.0, 10.0), shape = lags.cols());
    let sigma = sample!(HalfCauchy::new(2.5));
    observe!(NormalIdGlm::new(lags, alpha, &beta, sigma), y_next);
}

/// `diamonds-diamonds` (brms): `xc` is the design matrix without its intercept column,
/// centred; `Intercept` is the intercept of the centred predictors.
#[model]
pub fn diamonds(xc: &DataMatrix, y: &[f64]) {
    let b = sample!(Normal::new(0.0, 1.0), shape = xc.cols());
    let intercept = sample!(StudentT::new(3.0, 8.0, 10.0), name = "Intercept");
    // student_t(3, 0, 10) truncated to sigma > 0 (brms subtracts the lccdf at 0).
    let sigma = sample!(HalfStudentT::new(3.0, 10.0));
    observe!(NormalIdGlm::new(xc, intercept, &b, sigma), y);
}

/// `eight_schools-eight_schools_noncentered`.
#[model]
pub fn eight_schools_noncentered(y: &[f64], sigma: &[f64]) {
    let theta_trans = sample!(Normal::new(0.0, 1.0), shape = y.len());
    let mu = sample!(Normal::new(0.0, 5.0));
    let tau = sample!(HalfCauchy::new(5.0));
    let theta = affine(mu, tau, &theta_trans);
    deterministic!(theta);
    observe!(Normal::new(&theta, sigma), y);
}

/// `garch-garch11`: GARCH(1,1) with Stan's implicit uniform priors: flat over the
/// constrained space, `beta1` bounded by `1 − alpha1` (Stan's
/// `real<lower=0, upper=(1 - alpha1)> beta1;`). `alpha1 ~ Uniform(0, 1)` is exactly the
/// flat prior on (0, 1).
#[model]
pub fn garch11(y: &[f64], sigma1: f64) {
    let mu = sample!(Flat::new());
    let alpha0 = sample!(HalfFlat::new());
    let alpha1 = sample!(Uniform::new(0.0, 1.0));
    let beta1 = sample!(
        Flat::new(),
        transform = Transform::interval(0.0, 1.0 - alpha1)
    );
    // sigma[t]² = α₀ + α₁ (y[t−1] − μ)² + β₁ sigma[t−1]²
    let mut sigma: Vec<Real> = Vec::with_capacity(y.len());
    let mut var: Real = Real::constant(sigma1 * sigma1);
    sigma.push(Real::constant(sigma1));
    for y_prev in &y[..y.len() - 1] {
        var = alpha0 + alpha1 * (*y_prev - mu).square() + beta1 * var;
        sigma.push(var.sqrt());
    }
    observe!(Normal::new(mu, &sigma), y);
}

/// `gp_pois_regr-gp_pois_regr`: a latent Gaussian process (squared-exponential kernel
/// plus a 1e-10 jitter, non-centred through the Cholesky factor) with Poisson counts.
#[model]
pub fn gp_pois_regr(x: &[f64], k: &[i64]) {
    let rho = sample!(Gamma::new(25.0, 4.0));
    let alpha = sample!(HalfNormal::new(2.0));
    let f_tilde = sample!(Normal::new(0.0, 1.0), shape = x.len());
    let mut cov = exp_quad_cov(x, alpha, rho);
    for i in 0..x.len() {
        cov[(i, i)] += 1e-10;
    }
    // Stan rejects the proposal when the factorisation fails; NaN makes PoissonLog's
    // parameter check fail, which gives log-density −∞ (the same rejection).
    let f: Vec<Real> = match cholesky(&cov) {
        Ok(l) => mat_vec(&l, &f_tilde),
        Err(_) => vec![Real::constant(f64::NAN); x.len()],
    };
    deterministic!(f);
    observe!(PoissonLog::new(&f), k);
}

/// `kidiq-kidscore_momiq`: `kid_score ~ normal(beta[1] + beta[2] * mom_iq, sigma)` with a
/// flat prior on `beta`; `mom_iq` is the one-column design matrix.
#[model]
pub fn kidscore_momiq(mom_iq: &DataMatrix, kid_score: &[f64]) {
    let beta = sample!(Flat::new(), shape = 2);
    let sigma = sample!(HalfCauchy::new(2.5));
    observe!(
        NormalIdGlm::new(mom_iq, beta[0], &beta[1..], sigma),
        kid_score
    );
}

/// `low_dim_gauss_mix-low_dim_gauss_mix`: a two-component normal mixture with ordered
/// means, `log_mix(theta, normal_lpdf(y | mu[1], sigma[1]), normal_lpdf(y | mu[2], sigma[2]))`
/// — the fused `NormalMixture` with weights `[theta, 1 − theta]` (one tape node).
#[model]
pub fn low_dim_gauss_mix(y: &[f64]) {
    let mu = sample!(
        Normal::new(0.0, 2.0),
        shape = 2,
        transform = Transform::Ordered
    );
    let sigma = sample!(HalfNormal::new(2.0), shape = 2);
    let theta = sample!(Beta::new(5.0, 5.0));
    let w = [theta, 1.0 - theta];
    observe!(NormalMixture::new(&w[..], &mu, &sigma), y);
}

/// `radon_mn-radon_hierarchical_intercept_noncentered`: county intercepts gathered by
/// `county` (0-based) as the per-row intercept of a normal GLM on `[log_uppm, floor]`.
#[model]
pub fn radon_intercept_noncentered(
    counties: usize,
    county: &[usize],
    x: &DataMatrix,
    log_radon: &[f64],
) {
    let alpha_raw = sample!(Normal::new(0.0, 1.0), shape = counties);
    let beta = sample!(Normal::new(0.0, 10.0), shape = 2);
    let mu_alpha = sample!(Normal::new(0.0, 10.0));
    let sigma_alpha = sample!(HalfNormal::new(1.0));
    let sigma_y = sample!(HalfNormal::new(1.0));
    let alpha = affine(mu_alpha, sigma_alpha, &alpha_raw);
    deterministic!(alpha);
    observe!(
        NormalIdGlm::new(x, gather(&alpha, county), &beta, sigma_y),
        log_radon
    );
}

/// `wells_data-wells_dist100_model`: `switched ~ bernoulli_logit_glm(dist / 100, alpha, beta)`
/// with flat priors.
#[model]
pub fn wells_dist100(x: &DataMatrix, switched: &[i64]) {
    let alpha = sample!(Flat::new());
    let beta = sample!(Flat::new(), shape = 1);
    observe!(BernoulliLogitGlm::new(x, alpha, &beta), switched);
}

/// `gauss100`: a 100-d correlated Gaussian given by its mean and Cholesky factor.
#[model]
pub fn gauss100(mu: &[f64], chol: &Matrix<f64>) {
    let _x = sample!(MvNormal::from_cholesky(mu, chol), name = "x");
}

// ---------------------------------------------------------------------------------------
// The posteriors, their data and references
// ---------------------------------------------------------------------------------------

/// The posteriordb posteriors (`shared/reference/posteriordb/`).
pub const POSTERIORDB: [&str; 7] = [
    "arK-arK",
    "diamonds-diamonds",
    "eight_schools-eight_schools_noncentered",
    "garch-garch11",
    "gp_pois_regr-gp_pois_regr",
    "kidiq-kidscore_momiq",
    "low_dim_gauss_mix-low_dim_gauss_mix",
];

/// The extra benchmark posteriors (`shared/reference/benchmarks/`).
pub const BENCHMARKS: [&str; 3] = [
    "gauss100",
    "radon_mn-radon_hierarchical_intercept_noncentered",
    "wells_data-wells_dist100_model",
];

/// `shared/reference/` beside the checkout.
pub fn reference_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference")
}

/// The directory of a posterior's files.
pub fn posterior_dir(name: &str) -> PathBuf {
    let sub = if POSTERIORDB.contains(&name) {
        "posteriordb"
    } else {
        "benchmarks"
    };
    reference_root().join(sub).join(name)
}

fn read_json(path: PathBuf) -> Result<Value, BoxError> {
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?)
}

/// A Stan JSON data file.
pub struct StanData(Value);

impl StanData {
    /// Reads `data.json` of posterior `name`.
    pub fn load(name: &str) -> Result<Self, BoxError> {
        Ok(StanData(read_json(posterior_dir(name).join("data.json"))?))
    }

    fn field(&self, key: &str) -> Result<&Value, BoxError> {
        self.0
            .get(key)
            .ok_or_else(|| format!("data has no `{key}`").into())
    }

    /// A real scalar.
    pub fn real(&self, key: &str) -> Result<f64, BoxError> {
        self.field(key)?
            .as_f64()
            .ok_or_else(|| format!("`{key}` is not a number").into())
    }

    /// A non-negative integer scalar.
    pub fn size(&self, key: &str) -> Result<usize, BoxError> {
        let v = self.field(key)?;
        v.as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| format!("`{key}` is not a non-negative integer").into())
    }

    /// A real vector.
    pub fn reals(&self, key: &str) -> Result<Vec<f64>, BoxError> {
        reals_of(self.field(key)?).map_err(|e| format!("`{key}`: {e}").into())
    }

    /// An integer vector.
    pub fn ints(&self, key: &str) -> Result<Vec<i64>, BoxError> {
        self.field(key)?
            .as_array()
            .ok_or_else(|| format!("`{key}` is not an array"))?
            .iter()
            .map(|v| {
                v.as_i64()
                    .ok_or_else(|| format!("`{key}` has a non-integer element").into())
            })
            .collect()
    }

    /// A matrix, given as an array of rows.
    pub fn rows(&self, key: &str) -> Result<Vec<Vec<f64>>, BoxError> {
        self.field(key)?
            .as_array()
            .ok_or_else(|| format!("`{key}` is not an array"))?
            .iter()
            .map(|row| reals_of(row).map_err(|e| format!("`{key}`: {e}").into()))
            .collect()
    }
}

fn reals_of(v: &Value) -> Result<Vec<f64>, String> {
    v.as_array()
        .ok_or("not an array")?
        .iter()
        .map(|x| {
            x.as_f64()
                .ok_or_else(|| "a non-numeric element".to_string())
        })
        .collect()
}

/// Converts a Stan (1-based) element name `theta[3]` to ours, `theta[2]`.
pub fn our_name(stan_name: &str) -> String {
    match stan_name.split_once('[') {
        Some((base, rest)) => {
            let inner = rest.trim_end_matches(']');
            let indices: Vec<String> = inner
                .split(',')
                .map(|i| match i.trim().parse::<usize>() {
                    Ok(i) => (i - 1).to_string(),
                    Err(_) => i.to_string(),
                })
                .collect();
            format!("{base}[{}]", indices.join(","))
        }
        None => stan_name.to_string(),
    }
}

/// One reference parameter.
#[derive(Debug, Clone)]
pub struct RefParam {
    /// Our element name (0-based).
    pub name: String,
    /// The reference name (Stan, 1-based).
    pub stan_name: String,
    /// Reference posterior mean.
    pub mean: f64,
    /// Reference posterior standard deviation.
    pub sd: f64,
    /// Monte Carlo standard error of the reference mean (0 for exact references).
    pub mcse_mean: f64,
}

/// A posterior's reference means (the posteriordb parameter set, in file order).
#[derive(Debug, Clone)]
pub struct Reference {
    /// Posterior name.
    pub posterior: String,
    /// Parameters.
    pub params: Vec<RefParam>,
}

impl Reference {
    /// Reads `reference.json` of posterior `name`.
    pub fn load(name: &str) -> Result<Self, BoxError> {
        let json = read_json(posterior_dir(name).join("reference.json"))?;
        let params = json
            .get("params")
            .and_then(Value::as_object)
            .ok_or("reference.json has no `params` object")?;
        // serde_json's map keeps keys sorted; restore the file's order (name, then
        // numeric index) so the output reads naturally.
        let mut out: Vec<RefParam> = params
            .iter()
            .map(|(k, v)| {
                let num = |f: &str| v.get(f).and_then(Value::as_f64);
                Ok(RefParam {
                    name: our_name(k),
                    stan_name: k.clone(),
                    mean: num("mean").ok_or_else(|| format!("{k}: no mean"))?,
                    sd: num("sd").unwrap_or(f64::NAN),
                    mcse_mean: num("mcse_mean").ok_or_else(|| format!("{k}: no mcse_mean"))?,
                })
            })
            .collect::<Result<_, BoxError>>()?;
        out.sort_by_key(|p| sort_key(&p.stan_name));
        Ok(Reference {
            posterior: name.to_string(),
            params: out,
        })
    }
}

fn sort_key(name: &str) -> (String, usize) {
    match name.split_once('[') {
        Some((base, rest)) => (
            base.to_string(),
            rest.trim_end_matches(']').parse().unwrap_or(0),
        ),
        None => (name.to_string(), 0),
    }
}

/// Loads posterior `name`'s data, builds its model and samples it with `settings`.
pub fn sample_posterior(name: &str, settings: Nuts) -> Result<Trace, BoxError> {
    with_posterior(name, SampleWith(settings))
}

/// Something to do with a posterior's model once its data are loaded (the models have
/// different types, so the caller passes a visitor rather than receiving the model).
pub trait PosteriorVisitor {
    /// What the visit returns.
    type Output;
    /// Does the work with the built model.
    fn visit<T: ppl::ModelTemplate + Sync>(self, model: Model<T>)
        -> Result<Self::Output, BoxError>;
}

/// Samples the model with the given settings.
struct SampleWith(Nuts);

impl PosteriorVisitor for SampleWith {
    type Output = Trace;
    fn visit<T: ppl::ModelTemplate + Sync>(self, model: Model<T>) -> Result<Trace, BoxError> {
        Ok(model.sample(self.0)?)
    }
}

/// Loads the posterior's data, builds its model and hands it to `visitor`.
pub fn with_posterior<V: PosteriorVisitor>(name: &str, visitor: V) -> Result<V::Output, BoxError> {
    let data = StanData::load(name)?;
    match name {
        "arK-arK" => {
            let k = data.size("K")?;
            let y = data.reals("y")?;
            let rows: Vec<Vec<f64>> = (k..y.len())
                .map(|t| (1..=k).map(|lag| y[t - lag]).collect())
                .collect();
            let lags = DataMatrix::from_rows(&rows)?;
            visitor.visit(ar_k::model(&lags, &y[k..])?)
        }
        "diamonds-diamonds" => {
            let x = data.rows("X")?;
            let y = data.reals("Y")?;
            let (n, k) = (x.len(), data.size("K")?);
            // transformed data: drop the intercept column and centre the others.
            let means: Vec<f64> = (1..k)
                .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n as f64)
                .collect();
            let xc: Vec<f64> = x
                .iter()
                .flat_map(|r| (1..k).map(|j| r[j] - means[j - 1]).collect::<Vec<_>>())
                .collect();
            let xc = DataMatrix::new(n, k - 1, xc)?;
            visitor.visit(diamonds::model(&xc, &y)?)
        }
        "eight_schools-eight_schools_noncentered" => {
            let y = data.reals("y")?;
            let sigma = data.reals("sigma")?;
            visitor.visit(eight_schools_noncentered::model(&y, &sigma)?)
        }
        "garch-garch11" => {
            let y = data.reals("y")?;
            visitor.visit(garch11::model(&y, data.real("sigma1")?)?)
        }
        "gp_pois_regr-gp_pois_regr" => {
            let x = data.reals("x")?;
            let k = data.ints("k")?;
            visitor.visit(gp_pois_regr::model(&x, &k)?)
        }
        "kidiq-kidscore_momiq" => {
            let mom_iq = data.reals("mom_iq")?;
            let x = DataMatrix::new(mom_iq.len(), 1, mom_iq)?;
            let kid_score = data.reals("kid_score")?;
            visitor.visit(kidscore_momiq::model(&x, &kid_score)?)
        }
        "low_dim_gauss_mix-low_dim_gauss_mix" => {
            let y = data.reals("y")?;
            visitor.visit(low_dim_gauss_mix::model(&y)?)
        }
        "radon_mn-radon_hierarchical_intercept_noncentered" => {
            let counties = data.size("J")?;
            let county: Vec<usize> = data
                .ints("county_idx")?
                .iter()
                .map(|&c| c as usize - 1)
                .collect();
            let log_uppm = data.reals("log_uppm")?;
            let floor = data.reals("floor_measure")?;
            let x: Vec<f64> = log_uppm
                .iter()
                .zip(&floor)
                .flat_map(|(u, f)| [*u, *f])
                .collect();
            let x = DataMatrix::new(log_uppm.len(), 2, x)?;
            let log_radon = data.reals("log_radon")?;
            visitor.visit(radon_intercept_noncentered::model(
                counties, &county, &x, &log_radon,
            )?)
        }
        "wells_data-wells_dist100_model" => {
            let dist100: Vec<f64> = data.reals("dist")?.iter().map(|d| d / 100.0).collect();
            let x = DataMatrix::new(dist100.len(), 1, dist100)?;
            let switched = data.ints("switched")?;
            visitor.visit(wells_dist100::model(&x, &switched)?)
        }
        "gauss100" => {
            let mu = data.reals("mu")?;
            let chol = Matrix::from_rows(&data.rows("L")?);
            visitor.visit(gauss100::model(&mu, &chol)?)
        }
        other => Err(format!("unknown posterior `{other}`").into()),
    }
}

// ---------------------------------------------------------------------------------------
// Comparison with the reference
// ---------------------------------------------------------------------------------------

/// One parameter's comparison.
#[derive(Debug, Clone)]
pub struct ParamCheck {
    /// Our element name.
    pub name: String,
    /// Our posterior mean.
    pub mean: f64,
    /// Our MCSE of the mean.
    pub mcse_mean: f64,
    /// The reference mean.
    pub reference: f64,
    /// The reference MCSE.
    pub reference_mcse: f64,
    /// `4·√(mcse_ref² + mcse²)`.
    pub tolerance: f64,
    /// Our bulk ESS.
    pub ess_bulk: f64,
    /// Our R-hat.
    pub r_hat: f64,
}

impl ParamCheck {
    /// The reference mean lies within the tolerance of ours.
    pub fn ok(&self) -> bool {
        (self.mean - self.reference).abs() < self.tolerance
    }
}

/// A trace compared with a reference over the reference's parameter set.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Per reference parameter (missing ones are errors of [`compare`]).
    pub params: Vec<ParamCheck>,
}

impl Comparison {
    /// Every mean within its tolerance.
    pub fn all_match(&self) -> bool {
        self.params.iter().all(ParamCheck::ok)
    }

    /// The parameters whose means do not match.
    pub fn mismatches(&self) -> Vec<&ParamCheck> {
        self.params.iter().filter(|p| !p.ok()).collect()
    }

    /// Minimum bulk ESS over the parameter set (ANCHORS.md's "min bulk ESS").
    pub fn min_ess_bulk(&self) -> f64 {
        self.params
            .iter()
            .map(|p| p.ess_bulk)
            .fold(f64::INFINITY, f64::min)
    }

    /// Maximum R-hat over the parameter set.
    pub fn max_r_hat(&self) -> f64 {
        self.params
            .iter()
            .map(|p| p.r_hat)
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// A table of the comparison, one line per parameter.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{:<16} {:>12} {:>10} {:>12} {:>10} {:>10} {:>8} {:>7}  ok\n",
            "", "ours", "mcse", "reference", "mcse_ref", "tolerance", "ess_bulk", "r_hat"
        );
        for p in &self.params {
            s += &format!(
                "{:<16} {:>12.5} {:>10.5} {:>12.5} {:>10.5} {:>10.5} {:>8.0} {:>7.4}  {}\n",
                p.name,
                p.mean,
                p.mcse_mean,
                p.reference,
                p.reference_mcse,
                p.tolerance,
                p.ess_bulk,
                p.r_hat,
                if p.ok() { "yes" } else { "NO" }
            );
        }
        s
    }
}

/// Compares the trace's summary with the reference, parameter by parameter.
pub fn compare(trace: &Trace, reference: &Reference) -> Result<Comparison, BoxError> {
    let summary = trace.summary();
    let params = reference
        .params
        .iter()
        .map(|r| {
            let row = summary.row(&r.name).ok_or_else(|| {
                format!(
                    "the trace has no `{}` (reference `{}`)",
                    r.name, r.stan_name
                )
            })?;
            Ok(ParamCheck {
                name: r.name.clone(),
                mean: row.mean,
                mcse_mean: row.mcse_mean,
                reference: r.mean,
                reference_mcse: r.mcse_mean,
                tolerance: 4.0 * (r.mcse_mean.powi(2) + row.mcse_mean.powi(2)).sqrt(),
                ess_bulk: row.ess_bulk,
                r_hat: row.r_hat,
            })
        })
        .collect::<Result<_, BoxError>>()?;
    Ok(Comparison { params })
}
