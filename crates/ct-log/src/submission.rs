//! Submission validation (to be written).
