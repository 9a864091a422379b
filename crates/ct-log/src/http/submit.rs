//! The RFC 6962 submission endpoints of a running log: `add-chain` (§4.1), `add-pre-chain`
//! (§4.2) and `get-roots` (§4.7), as static-ct-api requires them of a static log.

use std::{sync::Arc, time::Duration};

use axum::{
    Json,
    extract::{
        State,
        rejection::{BytesRejection, FailedToBufferBody},
    },
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use ct_core::AddChainResponse;

use super::ApiError;
use crate::{
    log::{AddError, Log},
    submission::{SubmissionKind, decode_chain_request},
};

/// What a client is told when sequencing fails; the cause is logged, since it may name storage
/// internals.
const UNAVAILABLE_MESSAGE: &str = "the log cannot sequence submissions right now; retry later";

/// `POST /ct/v1/add-chain`.
pub(super) async fn add_chain(
    State(log): State<Arc<Log>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    submit(&log, SubmissionKind::Chain, body).await
}

/// `POST /ct/v1/add-pre-chain`.
pub(super) async fn add_pre_chain(
    State(log): State<Arc<Log>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    submit(&log, SubmissionKind::PreChain, body).await
}

/// Decodes the body, submits the chain and answers the SCT as `AddChainResponse` JSON
/// (`sct_version`, `id`, `timestamp`, `extensions`, `signature`).
async fn submit(
    log: &Log,
    kind: SubmissionKind,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let limits = log.policy().limits;
    let body = body.map_err(|rejection| match rejection {
        // The router caps bodies at `max_body_bytes`, so the buffer gives up past it.
        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
            ApiError::PayloadTooLarge {
                max: limits.max_body_bytes(),
            }
        }
        other => ApiError::bad_request(format!("reading the request body: {other}")),
    })?;
    let chain = decode_chain_request(&body, &limits).map_err(|e| submission_error(&e))?;
    let added = log.add(kind, chain).await.map_err(|e| add_error(kind, e))?;
    let response = AddChainResponse::try_from(&added.sct)
        .map_err(|e| ApiError::internal(format!("encoding the SCT: {e}")))?;
    Ok(Json(response).into_response())
}

fn submission_error(error: &crate::submission::SubmissionError) -> ApiError {
    if error.is_client_error() {
        ApiError::bad_request(error.to_string())
    } else {
        ApiError::internal(error)
    }
}

fn add_error(kind: SubmissionKind, error: AddError) -> ApiError {
    match error {
        AddError::Submission(e) => submission_error(&e),
        AddError::PoolFull { retry_after } => ApiError::Unavailable {
            message: "the log is busy: too many pending submissions".to_owned(),
            retry_after: Some(retry_after.max(Duration::from_secs(1))),
        },
        AddError::Unavailable(detail) => {
            tracing::warn!(endpoint = kind.endpoint(), detail = %detail, "ct log submission not sequenced");
            ApiError::Unavailable {
                message: UNAVAILABLE_MESSAGE.to_owned(),
                retry_after: None,
            }
        }
    }
}

/// `GET /ct/v1/get-roots` (RFC 6962 §4.7): `{"certificates": [base64 DER, …]}`.
pub(super) async fn get_roots(State(log): State<Arc<Log>>) -> Response {
    Json(log.roots().get_roots_response()).into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use axum::{body::to_bytes, http::header};

    use super::*;
    use crate::submission::SubmissionError;

    async fn answer(error: AddError) -> (u16, Option<String>, String) {
        let response = add_error(SubmissionKind::PreChain, error).into_response();
        let status = response.status().as_u16();
        let retry = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = to_bytes(response.into_body(), 4096).await.unwrap();
        (status, retry, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_full_pool_is_503_with_retry_after_in_whole_seconds_rounded_up() {
        let (status, retry, body) = answer(AddError::PoolFull {
            retry_after: Duration::from_millis(1500),
        })
        .await;
        assert_eq!((status, retry.as_deref()), (503, Some("2")));
        assert!(body.contains("busy"), "{body}");
        let (_, retry, _) = answer(AddError::PoolFull {
            retry_after: Duration::ZERO,
        })
        .await;
        assert_eq!(retry.as_deref(), Some("1"));
    }

    #[tokio::test]
    async fn an_outage_is_503_without_its_detail() {
        let (status, retry, body) =
            answer(AddError::Unavailable("redb: /var/lib/secret-path".into())).await;
        assert_eq!((status, retry), (503, None));
        assert!(!body.contains("secret-path"), "{body}");
        assert_eq!(body, format!("{UNAVAILABLE_MESSAGE}\n"));
    }

    #[tokio::test]
    async fn refusals_are_400_with_their_message_and_internal_errors_500_without() {
        let (status, _, body) = answer(AddError::Submission(SubmissionError::EmptyChain)).await;
        assert_eq!(status, 400);
        assert_eq!(body, format!("{}\n", SubmissionError::EmptyChain));
        let (status, _, body) = answer(AddError::Submission(SubmissionError::Internal(
            "encoder detail".into(),
        )))
        .await;
        assert_eq!(status, 500);
        assert_eq!(body, "internal error\n");
    }
}
