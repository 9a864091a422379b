//! In-process fake OIDC issuer (to be written).
