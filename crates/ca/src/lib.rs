//! The certificate authority: client key policy and proof of possession (Fulcio spec §2), the
//! certificate profile (§4.1, §4.3), precertificate → final certificate (§5), and the CA key
//! backends behind the [`Signer`] trait (§6).

pub mod algorithm_registry;
pub mod authority;
pub mod certificate;
pub mod csr;
pub mod ephemeral;
pub mod error;
pub mod file_watch;
pub mod fileca;
pub mod hierarchy;
pub mod key;
pub mod keyfile;
pub mod pkcs11;
pub mod pop;
pub mod signer;

pub use algorithm_registry::AlgorithmRegistry;
pub use authority::{CertificateAuthority, IssuedCertificate, IssuingKey, Precertificate};
pub use error::{CaError, KeyRequestError};
pub use key::{ClientPublicKey, HashAlgorithm, KeyAlgorithm};
pub use signer::{InMemorySigner, KeyKind, SignFuture, SignatureAlgorithm, Signer, SignerError};
