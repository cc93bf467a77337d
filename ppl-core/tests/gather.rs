//! `gather(&theta, &index)` must give the same value and gradient as the materialised
//! slice `index.map(|i| theta[i])`, through every kind of density code path.

use ppl_core::dist::{Distribution, Exponential, MvNormal, Normal, StudentT};
use ppl_core::linalg::Matrix;
use ppl_core::param::{gather, Operand, Param};
use ppl_core::tape::{self, Var};
use ppl_core::Real;

/// Value and gradient of `f(theta)` on the tape.
fn value_and_gradient(theta: &[f64], f: impl Fn(&[Var]) -> Var) -> (f64, Vec<f64>) {
    tape::reset();
    let leaves: Vec<Var> = theta.iter().map(|t| Var::leaf(*t)).collect();
    let out = f(&leaves);
    let mut g = vec![0.0; theta.len()];
    tape::gradient(out, &leaves, &mut g);
    (out.value(), g)
}

fn assert_same(a: (f64, Vec<f64>), b: (f64, Vec<f64>)) {
    assert!(
        (a.0 - b.0).abs() < 1e-10 * b.0.abs().max(1.0),
        "values {} vs {}",
        a.0,
        b.0
    );
    for (x, y) in a.1.iter().zip(&b.1) {
        assert!(
            (x - y).abs() < 1e-10 * y.abs().max(1.0),
            "gradients {:?} vs {:?}",
            a.1,
            b.1
        );
    }
}

fn index(n: usize, groups: usize) -> Vec<usize> {
    (0..n).map(|i| (i * 7 + 3) % groups).collect()
}

#[test]
fn gathered_means_match_materialised_slices() {
    let theta = [0.3, -1.2, 0.8, 2.0, -0.4];
    for n in [5, 16, 17, 200] {
        let idx = index(n, theta.len());
        let y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin() * 2.0).collect();
        // Normal with a scalar variable sigma (the fused scalar-σ path for n > 16).
        let idx4: Vec<usize> = idx.iter().map(|i| i % 4).collect();
        let with_gather4 = value_and_gradient(&theta, |t| {
            let sigma = t[4].exp();
            Normal::new(gather(&t[..4], &idx4[..]), sigma)
                .unwrap()
                .log_density(Param::<Var>::operand(&&y[..]))
                .unwrap()
        });
        let plain4 = value_and_gradient(&theta, |t| {
            let sigma = t[4].exp();
            let m: Vec<Var> = idx4.iter().map(|i| t[*i]).collect();
            Normal::new(&m, sigma)
                .unwrap()
                .log_density(Param::<Var>::operand(&&y[..]))
                .unwrap()
        });
        assert_same(with_gather4, plain4);
        // StudentT through the generic driver, with gathered locations.
        let g = value_and_gradient(&theta, |t| {
            StudentT::new(4.0, gather(t, &idx[..]), 1.5)
                .unwrap()
                .log_density(Param::<Var>::operand(&&y[..]))
                .unwrap()
        });
        let p = value_and_gradient(&theta, |t| {
            let m: Vec<Var> = idx.iter().map(|i| t[*i]).collect();
            StudentT::new(4.0, &m, 1.5)
                .unwrap()
                .log_density(Param::<Var>::operand(&&y[..]))
                .unwrap()
        });
        assert_same(g, p);
        // Exponential with a gathered value (its scalar-rate fast path must not drop it).
        let pos: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
        let g = value_and_gradient(&pos, |t| {
            Exponential::new(2.0)
                .unwrap()
                .log_density(Param::<Var>::operand(&gather(t, &idx[..])))
                .unwrap()
        });
        let p = value_and_gradient(&pos, |t| {
            let v: Vec<Var> = idx.iter().map(|i| t[*i]).collect();
            Exponential::new(2.0)
                .unwrap()
                .log_density(Operand::Slice(&v))
                .unwrap()
        });
        assert_same(g, p);
    }
}

#[test]
fn gathered_multivariate_mean() {
    let theta = [0.3, -1.2, 0.8];
    let idx = [2usize, 0, 1, 1];
    let cov = Matrix::from_rows(&[
        vec![2.0, 0.3, 0.0, 0.1],
        vec![0.3, 1.0, 0.2, 0.0],
        vec![0.0, 0.2, 1.5, 0.4],
        vec![0.1, 0.0, 0.4, 1.2],
    ]);
    let x = [0.5, 0.1, -0.3, 0.9];
    let g = value_and_gradient(&theta, |t| {
        MvNormal::new(gather(t, &idx[..]), &cov)
            .unwrap()
            .log_density(Param::<Var>::operand(&&x[..]))
            .unwrap()
    });
    let p = value_and_gradient(&theta, |t| {
        let m: Vec<Var> = idx.iter().map(|i| t[*i]).collect();
        MvNormal::new(&m, &cov)
            .unwrap()
            .log_density(Param::<Var>::operand(&&x[..]))
            .unwrap()
    });
    assert_same(g, p);
}

#[test]
fn out_of_range_index_is_a_constructor_error() {
    let theta = [1.0, 2.0];
    let err = Normal::new(gather(&theta[..], &[0, 2]), 1.0).unwrap_err();
    assert_eq!(err.parameter, "mu");
    assert!(err.to_string().contains("out of range"), "{err}");
}
