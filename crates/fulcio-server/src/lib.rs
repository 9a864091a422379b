//! The Fulcio server: the issuance pipeline behind the v2 gRPC and HTTP/JSON APIs and the
//! legacy v1 API, health, metrics and the listeners.

pub mod ct;
