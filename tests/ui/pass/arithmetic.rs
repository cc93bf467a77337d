// Mixed `Real`/`f64` arithmetic that model bodies need to compile.
use ppl::prelude::*;

#[model]
fn arithmetic(x: &[f64], y: &[f64]) {
    let a = sample!(Normal::new(0.0, 1.0));
    let b = sample!(Normal::new(0.0, 1.0));
    let scaled = 2.0 * a;
    let mut total = Real::from(0.0);
    for i in 0..x.len() {
        total += a + b * x[i];
    }
    let p = 1.0 / (1.0 + (-a).exp());
    let mu = x.iter().map(|xi| a + b * *xi).collect::<Vec<Real>>();
    let sum = mu.iter().copied().sum::<Real>();
    let sign = if a > 0.0 { scaled } else { -scaled };
    let term = sum + p * sign + total * 0.0;
    observe!(Normal::new(&mu, 1.0), y);
    potential!(term * 0.0);
}

fn main() {
    let x = [0.0, 1.0, 2.0];
    let y = [0.1, 0.9, 2.1];
    let model = arithmetic::model(&x, &y).unwrap();
    assert_eq!(model.dim(), 2);
    let mut grad = vec![0.0; 2];
    let lp = model.logp_grad(&[0.1, 0.2], &mut grad).unwrap();
    assert!(lp.is_finite());
}
