//! Encrypted and plain private key files (to be written).
