//! Log storage (to be written).
