// The README's model, end to end.
use ppl::prelude::*;

#[model]
pub fn eight_schools(y: &[f64], sigma: &[f64]) {
    let mu = sample!(Normal::new(0.0, 5.0));
    let tau = sample!(HalfCauchy::new(5.0));
    let theta_raw = sample!(Normal::new(0.0, 1.0), shape = y.len());
    let theta: Vec<Real> = theta_raw.iter().map(|t| mu + tau * *t).collect();
    deterministic!(theta);
    observe!(Normal::new(&theta, sigma), y);
}

fn main() {
    let y = [28., 8., -3., 7., -1., 1., 18., 12.];
    let sigma = [15., 10., 16., 11., 9., 11., 10., 18.];
    let model = eight_schools::model(&y, &sigma).unwrap();
    assert_eq!(model.dim(), 10);
    let mut grad = vec![0.0; 10];
    assert!(model.logp_grad(&[0.0; 10], &mut grad).unwrap().is_finite());
}
