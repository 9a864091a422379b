//! The CT branch of issuance with an in-process stand-in log: embedded SCTs, the submitted
//! chain, and the failure answer.

use std::sync::{Arc, Mutex};

use ct_core::{DigitallySigned, SignedCertificateTimestamp};
use fulcio_server::ct::{CtError, CtFuture, CtLog};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ClientKey, TestServer};

/// Records submissions; answers a fixed SCT, or fails.
#[derive(Debug, Default)]
struct StandInLog {
    fail: bool,
    pre_chains: Mutex<Vec<Vec<Vec<u8>>>>,
}

fn sct() -> SignedCertificateTimestamp {
    SignedCertificateTimestamp {
        version: 0,
        log_id: [7; 32],
        timestamp: 1_700_000_000_000,
        extensions: Vec::new(),
        signature: DigitallySigned {
            hash_algorithm: 4,
            signature_algorithm: 3,
            signature: vec![1, 2, 3],
        },
    }
}

impl CtLog for StandInLog {
    fn add_pre_chain(&self, chain: Vec<Vec<u8>>) -> CtFuture<'_> {
        self.pre_chains.lock().unwrap().push(chain);
        let fail = self.fail;
        Box::pin(async move {
            if fail {
                Err(CtError("log said 503".into()))
            } else {
                Ok(sct())
            }
        })
    }

    fn add_chain(&self, _chain: Vec<Vec<u8>>) -> CtFuture<'_> {
        Box::pin(async {
            Err(CtError(
                "add-chain is not expected: the CA supports precertificates".into(),
            ))
        })
    }
}

const SCT_LIST_OID: &str = "1.3.6.1.4.1.11129.2.4.2";
const POISON_OID: &str = "1.3.6.1.4.1.11129.2.4.3";

fn extension_oids(der: &[u8]) -> Vec<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    cert.extensions()
        .iter()
        .map(|e| e.oid.to_id_string())
        .collect()
}

#[tokio::test]
async fn ct_configured_gives_embedded_sct_and_submits_precert_with_root() {
    let log = Arc::new(StandInLog::default());
    let server = TestServer::start_with_ct(log.clone()).await;
    let key = ClientKey::p256();
    let token = server.issuer.email_token("ct@example.com");
    let response = reqwest::Client::new()
        .post(format!("{}/api/v2/signingCert", server.http))
        .json(&key.v2_body(Some(&token), "ct@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body.get("signedCertificateDetachedSct").is_none());
    let chain: Vec<String> = serde_json::from_value(
        body["signedCertificateEmbeddedSct"]["chain"]["certificates"].clone(),
    )
    .unwrap();
    assert_eq!(chain.len(), 2);

    let leaf = pem::parse(&chain[0]).unwrap().into_contents();
    let root = pem::parse(&chain[1]).unwrap().into_contents();
    let leaf_oids = extension_oids(&leaf);
    assert_eq!(
        leaf_oids.last().map(String::as_str),
        Some(SCT_LIST_OID),
        "SCT list last: {leaf_oids:?}"
    );
    assert!(!leaf_oids.iter().any(|o| o == POISON_OID));

    let submissions = log.pre_chains.lock().unwrap().clone();
    assert_eq!(submissions.len(), 1);
    let submitted = &submissions[0];
    assert_eq!(
        submitted.len(),
        2,
        "precertificate then the CA chain including the root"
    );
    assert_eq!(submitted[1], root);
    let precert_oids = extension_oids(&submitted[0]);
    assert_eq!(precert_oids.last().map(String::as_str), Some(POISON_OID));
}

#[tokio::test]
async fn ct_failure_is_internal_error() {
    let log = Arc::new(StandInLog {
        fail: true,
        ..Default::default()
    });
    let server = TestServer::start_with_ct(log).await;
    let key = ClientKey::p256();
    let token = server.issuer.email_token("ctfail@example.com");
    let response = reqwest::Client::new()
        .post(format!("{}/api/v2/signingCert", server.http))
        .json(&key.v2_body(Some(&token), "ctfail@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"code": 13, "message": "Error entering certificate in CTL", "details": []})
    );
}
