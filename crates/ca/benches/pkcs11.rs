//! PKCS#11 signing bench (being written).
fn main() {}
