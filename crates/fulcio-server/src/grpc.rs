//! The gRPC services (Fulcio spec §1.1, §1.3, §7): `dev.sigstore.fulcio.v2.CA`,
//! `grpc.health.v1.Health`, and in duplex mode `dev.sigstore.fulcio.v1beta.CA`, with upstream's
//! interceptors as layers: panic recovery, request IDs, go-grpc-prometheus metrics.

use std::{any::Any, sync::Arc};

use axum::{Router, body::Body, middleware, response::Response};
use fulcio_proto::{api::HttpBody, v1beta, v2};
use tonic::{Request, Status, metadata::MetadataMap, service::Routes};
use tonic_health::pb::{
    HealthCheckRequest, HealthCheckResponse,
    health_check_response::ServingStatus,
    health_server::{Health, HealthServer},
};
use tower_http::catch_panic::CatchPanicLayer;

use crate::{
    api::{self, OIDC_TOKEN_METADATA_KEY},
    error::ServiceError,
    issuance::Issuance,
    legacy,
    overload::InFlightLimit,
};

/// Upstream's `MaxRecvMsgSize` (4 MiB).
pub const MAX_RECV_MESSAGE_BYTES: usize = 4 << 20;

/// Legacy response metadata upstream sets for its HTTP gateway; native gRPC callers see it too.
const HTTP_CODE_METADATA_KEY: &str = "x-http-code";
const SCT_METADATA_KEY: &str = "x-sct";

/// The gRPC routes: v2 CA and health always, v1beta CA when `include_legacy` (duplex mode).
/// `CreateSigningCertificate` takes a permit from `limit` or fails `Unavailable` at once.
pub fn router(issuance: Arc<Issuance>, include_legacy: bool, limit: InFlightLimit) -> Router {
    let mut routes = Routes::new(
        v2::ca_server::CaServer::new(CaService {
            issuance: issuance.clone(),
            limit: limit.clone(),
        })
        .max_decoding_message_size(MAX_RECV_MESSAGE_BYTES),
    )
    .add_service(
        HealthServer::new(HealthService).max_decoding_message_size(MAX_RECV_MESSAGE_BYTES),
    );
    if include_legacy {
        routes = routes.add_service(
            v1beta::ca_server::CaServer::new(LegacyCaService { issuance, limit })
                .max_decoding_message_size(MAX_RECV_MESSAGE_BYTES),
        );
    }
    crate::metrics::preregister_grpc(include_legacy);
    routes
        .into_axum_router()
        // Innermost first: a panic becomes an `Unknown` status that metrics still count.
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(crate::metrics::GrpcMetricsLayer)
        .layer(middleware::from_fn(crate::request_id::assign))
}

/// The token a native gRPC caller sent as metadata, if exactly one value was sent.
fn metadata_token(metadata: &MetadataMap) -> Option<String> {
    let mut values = metadata.get_all(OIDC_TOKEN_METADATA_KEY).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => value.to_str().ok().map(str::to_owned),
        _ => None,
    }
}

/// `dev.sigstore.fulcio.v2.CA`.
#[derive(Debug, Clone)]
pub struct CaService {
    issuance: Arc<Issuance>,
    limit: InFlightLimit,
}

#[tonic::async_trait]
impl v2::ca_server::Ca for CaService {
    async fn create_signing_certificate(
        &self,
        request: Request<v2::CreateSigningCertificateRequest>,
    ) -> Result<tonic::Response<v2::SigningCertificate>, Status> {
        let _permit = self.limit.try_acquire()?;
        let token = metadata_token(request.metadata());
        let message =
            api::create_signing_certificate(&self.issuance, request.into_inner(), token.as_deref())
                .await?;
        Ok(tonic::Response::new(message))
    }

    async fn get_trust_bundle(
        &self,
        _request: Request<v2::GetTrustBundleRequest>,
    ) -> Result<tonic::Response<v2::TrustBundle>, Status> {
        Ok(tonic::Response::new(api::trust_bundle(&self.issuance)?))
    }

    async fn get_configuration(
        &self,
        _request: Request<v2::GetConfigurationRequest>,
    ) -> Result<tonic::Response<v2::Configuration>, Status> {
        Ok(tonic::Response::new(api::configuration(
            self.issuance.config(),
        )))
    }
}

/// `dev.sigstore.fulcio.v1beta.CA` (duplex mode only, as upstream).
#[derive(Debug, Clone)]
pub struct LegacyCaService {
    issuance: Arc<Issuance>,
    limit: InFlightLimit,
}

#[tonic::async_trait]
impl v1beta::ca_server::Ca for LegacyCaService {
    async fn create_signing_certificate(
        &self,
        request: Request<v1beta::CreateSigningCertificateRequest>,
    ) -> Result<tonic::Response<HttpBody>, Status> {
        let _permit = self.limit.try_acquire()?;
        let token = metadata_token(request.metadata()).unwrap_or_default();
        let issued =
            legacy::create_signing_certificate(&self.issuance, request.into_inner(), &token)
                .await?;
        let mut response = tonic::Response::new(legacy::http_body(issued.pem_chain));
        response.metadata_mut().insert(
            HTTP_CODE_METADATA_KEY,
            tonic::metadata::MetadataValue::from_static("201"),
        );
        if let Some(sct) = issued.sct_header.and_then(|s| s.parse().ok()) {
            response.metadata_mut().insert(SCT_METADATA_KEY, sct);
        }
        Ok(response)
    }

    async fn get_root_certificate(
        &self,
        _request: Request<()>,
    ) -> Result<tonic::Response<HttpBody>, Status> {
        Ok(tonic::Response::new(legacy::http_body(
            legacy::root_certificate(&self.issuance)?,
        )))
    }
}

/// `grpc.health.v1.Health` as upstream: `Check` is always SERVING (whatever the service name),
/// `Watch` is Unimplemented, and `List` is not served (so also Unimplemented).
#[derive(Debug, Clone, Copy)]
pub struct HealthService;

#[tonic::async_trait]
impl Health for HealthService {
    async fn check(
        &self,
        _request: Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<HealthCheckResponse>, Status> {
        Ok(tonic::Response::new(HealthCheckResponse {
            status: ServingStatus::Serving as i32,
        }))
    }

    type WatchStream = futures::stream::Empty<Result<HealthCheckResponse, Status>>;

    async fn watch(
        &self,
        _request: Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("unimplemented"))
    }
}

/// A handler panicked: log it and answer `Unknown` "panic: …", as upstream's recovery does.
fn panic_response(payload: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let status: Status = ServiceError::Panic(crate::http::panic_text(payload.as_ref())).into();
    status.into_http()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_token_needs_exactly_one_value() {
        let mut metadata = MetadataMap::new();
        assert_eq!(metadata_token(&metadata), None);
        metadata.append(
            OIDC_TOKEN_METADATA_KEY,
            tonic::metadata::MetadataValue::from_static("a"),
        );
        assert_eq!(metadata_token(&metadata).as_deref(), Some("a"));
        metadata.append(
            OIDC_TOKEN_METADATA_KEY,
            tonic::metadata::MetadataValue::from_static("b"),
        );
        assert_eq!(metadata_token(&metadata), None);
    }
}
