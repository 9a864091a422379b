//! The certificate profile (to be written).
