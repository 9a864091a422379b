//! (to be written)
pub struct AlgorithmRegistry;
