//! The v2 JSON routes (Fulcio spec §1.2): `POST /api/v2/signingCert`,
//! `GET /api/v2/trustBundle`, `GET /api/v2/configuration`.

use axum::{
    body::Body,
    extract::State,
    response::{IntoResponse, Response},
};
use fulcio_proto::v2;
use http::HeaderMap;

use super::{AppState, authorization_token, protojson};
use crate::api;

/// `POST /api/v2/signingCert`: the whole request message is the body; the token is taken from
/// the body, else from the `Authorization` header.
pub async fn create_signing_certificate(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let _permit = state.limit.try_acquire()?;
        let bytes = protojson::read_body(body).await?;
        let request: v2::CreateSigningCertificateRequest = protojson::decode(&bytes)?;
        let header_token = authorization_token(&headers);
        api::create_signing_certificate(&state.issuance, request, Some(&header_token)).await
    }
    .await;
    match result {
        Ok(message) => protojson::response(&message),
        Err(err) => err.into_response(),
    }
}

/// `GET /api/v2/trustBundle`.
pub async fn trust_bundle(State(state): State<AppState>) -> Response {
    match api::trust_bundle(&state.issuance) {
        Ok(message) => protojson::response(&message),
        Err(err) => err.into_response(),
    }
}

/// `GET /api/v2/configuration`.
pub async fn configuration(State(state): State<AppState>) -> Response {
    protojson::response(&api::configuration(state.issuance.config()))
}
