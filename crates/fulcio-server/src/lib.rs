//! The Fulcio server: the issuance pipeline behind the v2 gRPC and HTTP/JSON APIs and the
//! legacy v1 API, health, metrics and the listeners (Fulcio spec §1, §7).
//!
//! Start one with [`Server::builder`]:
//!
//! ```no_run
//! # async fn run(issuance: std::sync::Arc<fulcio_server::Issuance>) -> Result<(), fulcio_server::ServeError> {
//! use fulcio_server::{ListenAddress, Server};
//! let running = Server::builder(issuance)
//!     .split(ListenAddress::new("127.0.0.1", 0), ListenAddress::new("127.0.0.1", 0))
//!     .metrics(Some(ListenAddress::new("127.0.0.1", 0)))
//!     .bind()
//!     .await?;
//! eprintln!("{}", running.startup_line());
//! running.shutdown().await;
//! # Ok(()) }
//! ```

pub mod api;
pub mod build_info;
pub mod certificate_pem;
pub mod ct;
pub mod ct_embedded;
pub mod error;
pub mod files;
pub mod grpc;
pub mod http;
pub mod issuance;
pub mod legacy;
pub mod listen;
pub mod metrics;
pub mod overload;
pub mod process_metrics;
pub mod request_id;
pub mod tls;

pub use error::{ClientStatus, ServiceError};
pub use issuance::{Issuance, KeyProof, SctDelivery, SigningCertificate};
pub use listen::{ListenAddress, Listeners, RunningServer, ServeError, Server, ServerBuilder};
pub use overload::{DEFAULT_MAX_IN_FLIGHT_REQUESTS, InFlightLimit};
