//! `fulcio-loadgen ct-stub`: a stand-in RFC 6962 log for load runs until our own log exists.
//! It keeps nothing: it decodes the chain, builds the entry (RFC 6962 §3.2) with ct-core, and
//! signs an SCT carrying a static-ct-api `leaf_index` extension from a counter, so the server's
//! CT client path (precertificate, submission, SCT embedding, final certificate) is exercised
//! and the SCT signature is paid on this machine as a real log would pay it.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{StatusCode, Uri},
};
use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use ct_core::{
    AddChainResponse, LogSigningKey, SignedEntry, certificate::precert_entry_from_precertificate,
    sign_sct,
};

use crate::{cli::CtStubArgs, error::LoadgenError};

struct StubLog {
    key: LogSigningKey,
    next_index: AtomicU64,
}

/// static-ct-api `leaf_index`: extension type 0, length 5, 40-bit big-endian index.
fn leaf_index_extension(index: u64) -> Vec<u8> {
    let mut ext = vec![0, 0, 5];
    ext.extend_from_slice(&index.to_be_bytes()[3..]);
    ext
}

type Answer = Result<Json<AddChainResponse>, (StatusCode, String)>;

fn bad_request(what: impl std::fmt::Display) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, what.to_string())
}

async fn add(State(log): State<Arc<StubLog>>, uri: Uri, body: Bytes) -> Answer {
    let precert = if uri.path().ends_with("/ct/v1/add-pre-chain") {
        true
    } else if uri.path().ends_with("/ct/v1/add-chain") {
        false
    } else {
        return Err((StatusCode::NOT_FOUND, "not found".into()));
    };
    let json: serde_json::Value = serde_json::from_slice(&body).map_err(bad_request)?;
    let chain = json["chain"]
        .as_array()
        .ok_or_else(|| bad_request("no chain"))?
        .iter()
        .map(|c| {
            c.as_str()
                .and_then(|c| BASE64.decode(c).ok())
                .ok_or_else(|| bad_request("chain entries must be base64"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let entry = match (precert, chain.as_slice()) {
        (true, [pre, issuer, ..]) => SignedEntry::Precert(
            precert_entry_from_precertificate(pre, issuer).map_err(bad_request)?,
        ),
        (false, [leaf, ..]) => SignedEntry::X509(leaf.clone()),
        _ => return Err(bad_request("chain too short")),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let index = log.next_index.fetch_add(1, Ordering::Relaxed);
    let sct = sign_sct(&entry, now, &leaf_index_extension(index), &log.key)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    AddChainResponse::try_from(&sct)
        .map(Json)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// The router, separate from the listener for tests.
fn router(key: LogSigningKey) -> Router {
    Router::new().fallback(add).with_state(Arc::new(StubLog {
        key,
        next_index: AtomicU64::new(0),
    }))
}

fn public_key_pem(key: &LogSigningKey) -> String {
    let b64 = BASE64.encode(key.public_key().spki_der());
    let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END PUBLIC KEY-----\n");
    out
}

/// Serves the stub until the process is killed.
pub async fn serve(args: CtStubArgs) -> Result<(), LoadgenError> {
    let key = LogSigningKey::generate_p256().map_err(|e| LoadgenError::Crypto(e.to_string()))?;
    if let Some(path) = &args.write_public_key {
        std::fs::write(path, public_key_pem(&key)).map_err(|e| LoadgenError::io(path, e))?;
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| LoadgenError::Server(format!("binding {}: {e}", args.listen)))?;
    println!(
        "stand-in CT log on http://{} (log ID {})",
        args.listen,
        BASE64.encode(key.log_id())
    );
    axum::serve(listener, router(key))
        .await
        .map_err(|e| LoadgenError::Server(e.to_string()))
}

#[cfg(test)]
mod tests {
    use ct_core::{LogPublicKey, SignedCertificateTimestamp};

    use super::*;

    #[test]
    fn leaf_index_is_forty_bits_big_endian() {
        assert_eq!(
            leaf_index_extension(0x01_0203_0405),
            [0, 0, 5, 1, 2, 3, 4, 5]
        );
    }

    #[test]
    fn public_key_pem_parses_back() {
        let key = LogSigningKey::generate_p256().unwrap();
        let parsed = LogPublicKey::from_pem(public_key_pem(&key).as_bytes()).unwrap();
        assert_eq!(parsed.log_id(), key.log_id());
    }

    #[tokio::test]
    async fn add_chain_answers_a_verifiable_sct_with_increasing_index() {
        let key = LogSigningKey::generate_p256().unwrap();
        let spki = key.public_key().spki_der().to_vec();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/any/prefix/ct/v1/add-chain",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move { axum::serve(listener, router(key)).await });
        let client = reqwest::Client::new();
        for expected_index in 0..2u8 {
            let leaf = vec![0x30, 0x03, 0x02, 0x01, expected_index];
            let resp: AddChainResponse = client
                .post(&url)
                .json(&serde_json::json!({"chain": [BASE64.encode(&leaf)]}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let sct = SignedCertificateTimestamp::try_from(&resp).unwrap();
            assert_eq!(sct.extensions, [0, 0, 5, 0, 0, 0, 0, expected_index]);
            ct_core::verify_sct(&sct, &SignedEntry::X509(leaf), &spki).unwrap();
        }
        let status = client
            .post(url.replace("add-chain", "get-sth"))
            .body("{}")
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404);
    }
}
