//! Inference (samplers arrive with the sampler issue).
