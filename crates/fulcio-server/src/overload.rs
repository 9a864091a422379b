//! Load shedding: a bound on the issuance requests the server works on at once.
//!
//! Every certificate request — HTTP `POST /api/v2/signingCert`, legacy `POST /api/v1/signingCert`,
//! gRPC `CreateSigningCertificate` (v2 and v1beta) — takes a permit from one [`InFlightLimit`]
//! shared by all listeners before it reads its body, and holds it until its answer is ready.
//! A request that finds no permit free is refused at once, without queueing: HTTP 503 with
//! `Retry-After: 1`, gRPC `Unavailable` (the code gRPC retry policies and sigstore clients
//! retry on), and `fulcio_shed_requests_total` counts it. Health, metrics, trust bundle,
//! configuration and root certificate requests never take a permit, so they are never shed.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ServiceError;

/// The default bound on in-flight issuance requests.
///
/// Each issuance is a token verification plus one or two CA signatures (precertificate and
/// final certificate with CT): well under a millisecond of CPU, so a server does thousands a
/// second (docs/performance.md). A request past what the cores can take only waits — for a
/// core, or for the CT log — holding its request state and making every other request later.
/// 4096 waiting requests are already about half a second of work for a server issuing
/// ~8,000/s, yet only a few MiB of request state, and far more than the few hundred
/// concurrent clients the load generator needs to saturate a machine; so the bound never
/// refuses a server that keeps up, and it refuses quickly (instead of queueing without
/// limit) once the queue alone would take the better part of a second to drain. A bound
/// derived from the core count would be wrong for servers that mostly wait on a remote CT
/// log or KMS, where concurrency, not CPU, is what each request holds.
pub const DEFAULT_MAX_IN_FLIGHT_REQUESTS: usize = 4096;

/// A shared bound on in-flight issuance requests; clones share the same permits.
#[derive(Debug, Clone)]
pub struct InFlightLimit {
    permits: Arc<Semaphore>,
    max: usize,
}

/// Holding one of these is being one of the in-flight requests; dropping it frees the slot.
#[derive(Debug)]
pub struct InFlightPermit {
    _permit: OwnedSemaphorePermit,
}

impl InFlightLimit {
    /// At most `max` requests at once; 0 is taken as 1 (a bound of 0 would refuse everything).
    pub fn new(max: usize) -> Self {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            permits: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// The bound.
    pub fn max(&self) -> usize {
        self.max
    }

    /// How many requests are in flight now.
    pub fn in_flight(&self) -> usize {
        self.max - self.permits.available_permits()
    }

    /// A permit if one is free; otherwise counts the shed request and returns
    /// [`ServiceError::Overloaded`].
    pub fn try_acquire(&self) -> Result<InFlightPermit, ServiceError> {
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => Ok(InFlightPermit { _permit: permit }),
            Err(_) => {
                crate::metrics::count_shed_request();
                Err(ServiceError::Overloaded { max: self.max })
            }
        }
    }
}

impl Default for InFlightLimit {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_IN_FLIGHT_REQUESTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_are_bounded_and_returned_on_drop() {
        let limit = InFlightLimit::new(2);
        let a = limit.try_acquire();
        let b = limit.clone().try_acquire();
        assert!(a.is_ok() && b.is_ok());
        assert_eq!(limit.in_flight(), 2);
        assert!(matches!(
            limit.try_acquire(),
            Err(ServiceError::Overloaded { max: 2 })
        ));
        drop(a);
        assert_eq!(limit.in_flight(), 1);
        assert!(limit.try_acquire().is_ok());
    }

    #[test]
    fn zero_means_one() {
        assert_eq!(InFlightLimit::new(0).max(), 1);
    }
}
