//! Building one `CreateSigningCertificateRequest` (Fulcio spec §1.2) with a fresh P-256 key:
//! either a PEM public key with a DER ECDSA-SHA256 signature over the challenge, or a PEM CSR;
//! as the HTTP JSON body or as the gRPC message.

use aws_lc_rs::{
    encoding::AsDer,
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair},
};
use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use fulcio_proto::v2;

use crate::{error::LoadgenError, token::TokenInfo};

/// The key part of one request, made with a fresh P-256 key: the same for both transports.
enum KeyProof {
    /// PEM `PUBLIC KEY` and a DER ECDSA-SHA256 signature over the token's challenge.
    PublicKey { pem: String, proof: Vec<u8> },
    /// A PEM PKCS#10 request.
    Csr(String),
}

fn key_proof(token: &TokenInfo, csr: bool) -> Result<KeyProof, LoadgenError> {
    let crypto = |what: &str| LoadgenError::Crypto(what.to_owned());
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
        .map_err(|_| crypto("P-256 key generation"))?;
    if csr {
        let pkcs8 = key.to_pkcs8v1().map_err(|_| crypto("PKCS#8 export"))?;
        let key_pair = rcgen::KeyPair::try_from(pkcs8.as_ref())
            .map_err(|e| LoadgenError::Crypto(format!("rcgen key: {e}")))?;
        let params = rcgen::CertificateParams::new(Vec::<String>::new())
            .map_err(|e| LoadgenError::Crypto(format!("CSR params: {e}")))?;
        let csr = params
            .serialize_request(&key_pair)
            .map_err(|e| LoadgenError::Crypto(format!("CSR: {e}")))?
            .pem()
            .map_err(|e| LoadgenError::Crypto(format!("CSR PEM: {e}")))?;
        Ok(KeyProof::Csr(csr))
    } else {
        let spki = key
            .public_key()
            .as_der()
            .map_err(|_| crypto("public key export"))?;
        let pem = pem_encode("PUBLIC KEY", spki.as_ref());
        let proof = key
            .sign(&SystemRandom::new(), token.challenge.as_bytes())
            .map_err(|_| crypto("proof of possession"))?;
        Ok(KeyProof::PublicKey {
            pem,
            proof: proof.as_ref().to_vec(),
        })
    }
}

/// The JSON body of `POST /api/v2/signingCert` for `token`, with a key made for this request.
pub fn signing_cert_body(token: &TokenInfo, csr: bool) -> Result<String, LoadgenError> {
    let body = match key_proof(token, csr)? {
        KeyProof::Csr(csr) => serde_json::json!({
            "credentials": {"oidcIdentityToken": token.raw},
            "certificateSigningRequest": BASE64.encode(csr),
        }),
        KeyProof::PublicKey { pem, proof } => serde_json::json!({
            "credentials": {"oidcIdentityToken": token.raw},
            "publicKeyRequest": {
                "publicKey": {"algorithm": "ECDSA", "content": pem},
                "proofOfPossession": BASE64.encode(proof),
            },
        }),
    };
    Ok(body.to_string())
}

/// The gRPC `CreateSigningCertificate` request for `token`, with a key made for this request
/// (the token travels in the message, as in the HTTP body).
pub fn signing_cert_message(
    token: &TokenInfo,
    csr: bool,
) -> Result<v2::CreateSigningCertificateRequest, LoadgenError> {
    use v2::create_signing_certificate_request::Key;
    let key = match key_proof(token, csr)? {
        KeyProof::Csr(csr) => Key::CertificateSigningRequest(csr.into_bytes()),
        KeyProof::PublicKey { pem, proof } => Key::PublicKeyRequest(v2::PublicKeyRequest {
            public_key: Some(v2::PublicKey {
                algorithm: v2::PublicKeyAlgorithm::Ecdsa as i32,
                content: pem,
            }),
            proof_of_possession: proof,
        }),
    };
    Ok(v2::CreateSigningCertificateRequest {
        credentials: Some(v2::Credentials {
            credentials: Some(v2::credentials::Credentials::OidcIdentityToken(
                token.raw.clone(),
            )),
        }),
        key: Some(key),
    })
}

/// RFC 7468 PEM with 64-column lines.
fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = BASE64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A coarse name for a client-side HTTP failure, the key errors are counted under.
pub fn transport_kind(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_decode() {
        "decode"
    } else if e.is_body() {
        "body"
    } else {
        "request"
    };
    format!("transport: {kind}")
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};

    use super::*;

    fn token() -> TokenInfo {
        TokenInfo {
            raw: "h.p.s".into(),
            challenge: "a@example.com".into(),
            alg: "RS256".into(),
        }
    }

    #[test]
    fn public_key_request_carries_a_valid_proof() {
        let body: serde_json::Value =
            serde_json::from_str(&signing_cert_body(&token(), false).unwrap()).unwrap();
        assert_eq!(body["credentials"]["oidcIdentityToken"], "h.p.s");
        let pem = body["publicKeyRequest"]["publicKey"]["content"]
            .as_str()
            .unwrap();
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let spki = BASE64.decode(b64).unwrap();
        // The last 65 bytes of a P-256 SPKI are the uncompressed point.
        let point = &spki[spki.len() - 65..];
        let proof = BASE64
            .decode(
                body["publicKeyRequest"]["proofOfPossession"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
            .verify(b"a@example.com", &proof)
            .unwrap();
    }

    #[test]
    fn csr_request_is_base64_pem() {
        let body: serde_json::Value =
            serde_json::from_str(&signing_cert_body(&token(), true).unwrap()).unwrap();
        let csr = BASE64
            .decode(body["certificateSigningRequest"].as_str().unwrap())
            .unwrap();
        assert!(
            String::from_utf8(csr)
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE REQUEST-----")
        );
        assert!(body.get("publicKeyRequest").is_none());
    }

    #[test]
    fn grpc_message_carries_the_same_proof() {
        use v2::create_signing_certificate_request::Key;
        let message = signing_cert_message(&token(), false).unwrap();
        let Some(v2::credentials::Credentials::OidcIdentityToken(raw)) =
            message.credentials.unwrap().credentials
        else {
            panic!("no token");
        };
        assert_eq!(raw, "h.p.s");
        let Some(Key::PublicKeyRequest(request)) = message.key else {
            panic!("no public key request");
        };
        let pem = request.public_key.unwrap().content;
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let spki = BASE64.decode(b64).unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &spki[spki.len() - 65..])
            .verify(b"a@example.com", &request.proof_of_possession)
            .unwrap();
        let Some(Key::CertificateSigningRequest(csr)) =
            signing_cert_message(&token(), true).unwrap().key
        else {
            panic!("no CSR");
        };
        assert!(csr.starts_with(b"-----BEGIN CERTIFICATE REQUEST-----"));
    }

    #[test]
    fn every_request_has_a_fresh_key() {
        let a = signing_cert_body(&token(), false).unwrap();
        let b = signing_cert_body(&token(), false).unwrap();
        assert_ne!(a, b);
    }
}
