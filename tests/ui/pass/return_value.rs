// A model may return a value whose type mentions `Real` (generated quantities).
use ppl::prelude::*;

#[model]
fn line(x: &[f64]) -> Vec<Real> {
    let a = sample!(Normal::new(0.0, 1.0));
    let b = sample!(Normal::new(0.0, 1.0));
    x.iter().map(|xi| a + b * *xi).collect()
}

fn main() {
    let model = line::model(&[1.0, 2.0]).unwrap();
    let out: Vec<f64> = model.output(&[0.5, 2.0]).unwrap();
    assert_eq!(out, vec![2.5, 4.5]);
}
