//! Every distribution's vectorised log-density records exactly one tape node, whatever
//! mix of slices and scalars its arguments are (Stan's operands-and-partials).

use ppl_core::dist::*;
use ppl_core::glm::DataMatrix;
use ppl_core::linalg::Matrix;
use ppl_core::param::{gather, Operand, Param};
use ppl_core::tape::{self, Var};
use ppl_core::Real;

/// Nodes recorded by `f` given five positive leaves in (0, 1) and three scalar leaves.
fn nodes_recorded(f: impl Fn(&[Var], &[Var]) -> Var) -> (usize, f64) {
    tape::reset();
    let xs: Vec<Var> = [0.15, 0.3, 0.45, 0.6, 0.75]
        .iter()
        .map(|v| Var::leaf(*v))
        .collect();
    let ps: Vec<Var> = [0.4, 1.3, 2.2].iter().map(|v| Var::leaf(*v)).collect();
    let before = tape::len();
    let out = f(&xs, &ps);
    (tape::len() - before, out.value())
}

macro_rules! one_node {
    ($name:literal, |$x:ident, $p:ident| $body:expr) => {{
        let (n, v) = nodes_recorded(|$x, $p| $body);
        assert_eq!(n, 1, "{}: {} nodes", $name, n);
        assert!(v.is_finite(), "{}: value {}", $name, v);
    }};
}

fn x(v: &[Var]) -> Operand<'_, Var> {
    Operand::Slice(v)
}

#[test]
fn continuous_densities_record_one_node() {
    one_node!("Normal", |v, p| Normal::new(p[0], p[1])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("Normal slice mu", |v, p| Normal::new(v, p[1])
        .unwrap()
        .log_density(Param::<Var>::operand(&0.2))
        .unwrap());
    one_node!("Normal gathered", |v, p| Normal::new(
        gather(p, &[0, 1, 2, 1, 0]),
        p[1]
    )
    .unwrap()
    .log_density(x(v))
    .unwrap());
    one_node!("HalfNormal", |v, p| HalfNormal::new(p[1])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("StudentT", |v, p| StudentT::new(p[2], p[0], p[1])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("HalfStudentT", |v, p| HalfStudentT::new(p[2], p[1])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("Cauchy", |v, p| Cauchy::new(p[0], p[1])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("HalfCauchy", |v, p| HalfCauchy::new(p[1])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("Exponential", |v, p| Exponential::new(p[1])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("Gamma", |v, p| Gamma::new(p[2], p[1])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("InverseGamma", |v, p| InverseGamma::new(p[2], p[1])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("Beta", |v, p| Beta::new(p[1], p[2])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("Uniform", |v, p| Uniform::new(-1.0, p[2])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("LogNormal", |v, p| LogNormal::new(p[0], p[1])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("Laplace", |v, p| Laplace::new(p[0], p[1])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("Logistic", |v, p| Logistic::new(p[0], p[1])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("Weibull", |v, p| Weibull::new(p[2], p[1])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("ChiSquared", |v, p| ChiSquared::new(p[2])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("Pareto", |v, p| Pareto::new(0.1, p[2])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("TruncatedNormal", |v, p| TruncatedNormal::new(
        p[0], p[1], -1.0, 2.0
    )
    .unwrap()
    .log_density(x(v))
    .unwrap());
    one_node!("SkewNormal", |v, p| SkewNormal::new(p[0], p[1], p[2])
        .unwrap()
        .log_density(x(v))
        .unwrap());
    one_node!("VonMises", |v, p| VonMises::new(p[0], p[1])
        .unwrap()
        .log_density(x(v))
        .unwrap());
}

#[test]
fn discrete_and_glm_densities_record_one_node() {
    let counts = [0i64, 3, 1, 4, 2];
    let bits = [0i64, 1, 1, 0, 1];
    fn d(s: &[i64]) -> Operand<'_, Var> {
        Operand::IntData(s)
    }
    one_node!("Bernoulli", |_v, p| Bernoulli::new(p[0])
        .unwrap()
        .log_density(d(&bits))
        .unwrap());
    one_node!("Bernoulli slice", |v, _p| Bernoulli::new(v)
        .unwrap()
        .log_density(d(&bits))
        .unwrap());
    one_node!("BernoulliLogit", |v, _p| BernoulliLogit::new(v)
        .unwrap()
        .log_density(d(&bits))
        .unwrap());
    one_node!("Binomial", |v, _p| Binomial::new(5i64, v)
        .unwrap()
        .log_density(d(&counts))
        .unwrap());
    one_node!("Poisson", |_v, p| Poisson::new(p[2])
        .unwrap()
        .log_density(d(&counts))
        .unwrap());
    one_node!("PoissonLog", |v, _p| PoissonLog::new(v)
        .unwrap()
        .log_density(d(&counts))
        .unwrap());
    one_node!("NegativeBinomial", |_v, p| NegativeBinomial::new(
        p[2], p[1]
    )
    .unwrap()
    .log_density(d(&counts))
    .unwrap());
    one_node!("Geometric", |_v, p| Geometric::new(p[0])
        .unwrap()
        .log_density(d(&counts))
        .unwrap());
    one_node!("BetaBinomial", |_v, p| BetaBinomial::new(5i64, p[1], p[2])
        .unwrap()
        .log_density(d(&counts))
        .unwrap());
    let x = DataMatrix::new(
        5,
        2,
        vec![0.1, -0.3, 0.5, 0.2, -0.4, 0.8, 1.0, -1.0, 0.0, 0.3],
    )
    .unwrap();
    let y = [0.3, -0.2, 0.5, 1.0, -0.7];
    one_node!("NormalIdGlm", |_v, p| NormalIdGlm::new(
        &x,
        p[0],
        &p[1..3],
        p[1]
    )
    .unwrap()
    .log_density(Param::<Var>::operand(&&y[..]))
    .unwrap());
    one_node!("BernoulliLogitGlm", |_v, p| BernoulliLogitGlm::new(
        &x,
        p[0],
        &p[1..3]
    )
    .unwrap()
    .log_density(d(&bits))
    .unwrap());
    one_node!("PoissonLogGlm", |_v, p| PoissonLogGlm::new(
        &x,
        p[0],
        &p[1..3]
    )
    .unwrap()
    .log_density(d(&counts))
    .unwrap());
}

#[test]
fn multivariate_densities_record_one_node() {
    let cov = Matrix::from_rows(&[
        vec![1.0, 0.3, 0.1],
        vec![0.3, 2.0, 0.2],
        vec![0.1, 0.2, 1.5],
    ]);
    one_node!("MvNormal", |v, p| MvNormal::new(p, &cov)
        .unwrap()
        .log_density(x(&v[..3]))
        .unwrap());
    one_node!("Dirichlet", |_v, p| {
        let simplex = [0.2, 0.5, 0.3];
        Dirichlet::new(p)
            .unwrap()
            .log_density(Param::<Var>::operand(&&simplex[..]))
            .unwrap()
    });
    one_node!("LKJCorrCholesky", |_v, p| {
        let l = [1.0, 0.0, 0.6, 0.8];
        LKJCorrCholesky::new(2, p[2])
            .unwrap()
            .log_density(Param::<Var>::operand(&&l[..]))
            .unwrap()
    });
}
