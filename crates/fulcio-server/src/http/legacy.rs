//! The legacy v1 routes (Fulcio spec §1.3): `POST /api/v1/signingCert` answers 201 with a PEM
//! chain and, for a detached SCT, an `SCT` header; `GET /api/v1/rootCert` answers the CA chain.

use axum::{
    body::Body,
    extract::State,
    response::{IntoResponse, Response},
};
use fulcio_proto::v1beta;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use super::{AppState, authorization_token, protojson};
use crate::legacy::{self, PEM_CERTIFICATE_CHAIN};

/// `POST /api/v1/signingCert`. The token comes only from the `Authorization` header.
pub async fn create_signing_certificate(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let _permit = state.limit.try_acquire()?;
        let bytes = protojson::read_body(body).await?;
        let request: v1beta::CreateSigningCertificateRequest = protojson::decode(&bytes)?;
        legacy::create_signing_certificate(&state.issuance, request, &authorization_token(&headers))
            .await
    }
    .await;
    match result {
        Ok(issued) => {
            let mut response = pem_chain_response(StatusCode::CREATED, issued.pem_chain);
            if let Some(sct) = issued
                .sct_header
                .and_then(|s| HeaderValue::from_str(&s).ok())
            {
                response.headers_mut().insert("SCT", sct);
            }
            response
        }
        Err(err) => err.into_response(),
    }
}

/// `GET /api/v1/rootCert`.
pub async fn root_certificate(State(state): State<AppState>) -> Response {
    match legacy::root_certificate(&state.issuance) {
        Ok(pem) => pem_chain_response(StatusCode::OK, pem),
        Err(err) => err.into_response(),
    }
}

fn pem_chain_response(status: StatusCode, pem: String) -> Response {
    let mut response = (status, pem).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PEM_CERTIFICATE_CHAIN),
    );
    response
}
