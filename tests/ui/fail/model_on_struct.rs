use ppl::prelude::*;

#[model]
pub struct Data {
    pub y: Vec<f64>,
}

fn main() {
    let data = Data { y: vec![1.0] };
    assert_eq!(data.y.len(), 1);
}
