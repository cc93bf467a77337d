// observe! named explicitly, and named after a field of the data.
use ppl::prelude::*;

pub struct Data {
    pub heights: Vec<f64>,
}

#[model]
fn heights(data: &Data) {
    let mu = sample!(Normal::new(170.0, 10.0));
    observe!(Normal::new(mu, 5.0), &data.heights);
    observe!(Normal::new(mu, 5.0), data.heights[0], name = "first_height");
}

fn main() {
    let data = Data {
        heights: vec![172.0, 168.0],
    };
    let model = heights::model(&data).unwrap();
    assert!(model.logp(&[170.0]).unwrap().is_finite());
}
