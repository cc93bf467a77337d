// Plain f64 code inside a model (data preprocessing) keeps compiling next to the `Real` bounds.
use ppl::prelude::*;

#[model]
fn centred(x: &[f64], y: &[f64]) {
    let m: f64 = x.iter().sum::<f64>() / x.len() as f64;
    let two_times_three = 2.0 * 3.0;
    let half: f64 = 1.0 / 2.0 - 0.5 + 0.5;
    let centred: Vec<f64> = x
        .iter()
        .map(|xi| (xi - m) * half * two_times_three / 6.0)
        .collect();
    let b = sample!(Normal::new(0.0, 1.0));
    let mu: Vec<Real> = centred.iter().map(|c| b * *c).collect();
    observe!(Normal::new(&mu, 1.0), y);
}

fn main() {
    let model = centred::model(&[1.0, 2.0, 3.0], &[0.0, 1.0, 2.0]).unwrap();
    assert_eq!(model.dim(), 1);
    assert!(model.logp(&[1.0]).unwrap().is_finite());
}
