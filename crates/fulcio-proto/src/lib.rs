//! Fulcio's API types (spec/fulcio.md §1): the v2 service `dev.sigstore.fulcio.v2.CA`, the
//! legacy `dev.sigstore.fulcio.v1beta.CA`, and `google.api.HttpBody`.
//!
//! Messages are prost types; services come with tonic servers and clients; the `v2` and
//! `v1beta` messages implement serde with grpc-gateway's protojson behaviour (§1.2): lowerCamelCase
//! output, every non-oneof field emitted even when empty, unset oneof members omitted, unknown
//! input fields ignored, input accepted in camelCase or the proto's own names, enums by name,
//! bytes as standard base64.
//!
//! The `.proto` sources live in this crate's `proto/` folder and are compiled by `build.rs`
//! with protox, so building needs no `protoc`.

// Generated code: its items carry the proto comments where we wrote them, and its style is the
// generators', not ours.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
mod generated {
    pub mod dev {
        pub mod sigstore {
            pub mod fulcio {
                pub mod v2 {
                    include!(concat!(env!("OUT_DIR"), "/dev.sigstore.fulcio.v2.rs"));
                    include!(concat!(env!("OUT_DIR"), "/dev.sigstore.fulcio.v2.serde.rs"));
                }
                pub mod v1beta {
                    include!(concat!(env!("OUT_DIR"), "/dev.sigstore.fulcio.v1beta.rs"));
                    include!(concat!(
                        env!("OUT_DIR"),
                        "/dev.sigstore.fulcio.v1beta.serde.rs"
                    ));
                }
            }
        }
    }
    pub mod google {
        pub mod api {
            include!(concat!(env!("OUT_DIR"), "/google.api.rs"));
        }
    }
}

/// `dev.sigstore.fulcio.v2`: the current API (spec §1.1).
pub use generated::dev::sigstore::fulcio::v2;

/// `dev.sigstore.fulcio.v1beta`: the deprecated legacy API (spec §1.3).
pub use generated::dev::sigstore::fulcio::v1beta;

/// `google.api`: only `HttpBody`, the legacy API's response type.
pub use generated::google::api;

/// The encoded `FileDescriptorSet` of every proto in this crate, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/fulcio_descriptor.bin"));

/// Full gRPC method paths, as they appear in `:path` and in metrics (spec §1.1).
pub mod methods {
    /// `/dev.sigstore.fulcio.v2.CA/CreateSigningCertificate`.
    pub const V2_CREATE_SIGNING_CERTIFICATE: &str =
        "/dev.sigstore.fulcio.v2.CA/CreateSigningCertificate";
    /// `/dev.sigstore.fulcio.v2.CA/GetTrustBundle`.
    pub const V2_GET_TRUST_BUNDLE: &str = "/dev.sigstore.fulcio.v2.CA/GetTrustBundle";
    /// `/dev.sigstore.fulcio.v2.CA/GetConfiguration`.
    pub const V2_GET_CONFIGURATION: &str = "/dev.sigstore.fulcio.v2.CA/GetConfiguration";
    /// `/dev.sigstore.fulcio.v1beta.CA/CreateSigningCertificate`.
    pub const V1BETA_CREATE_SIGNING_CERTIFICATE: &str =
        "/dev.sigstore.fulcio.v1beta.CA/CreateSigningCertificate";
    /// `/dev.sigstore.fulcio.v1beta.CA/GetRootCertificate`.
    pub const V1BETA_GET_ROOT_CERTIFICATE: &str =
        "/dev.sigstore.fulcio.v1beta.CA/GetRootCertificate";
}
