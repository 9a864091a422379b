//! Harness for the real `oidc-provider` (to be written).
