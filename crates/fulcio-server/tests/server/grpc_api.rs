//! The gRPC services: v2 CA with metadata tokens, health, and the legacy service's exposure.

use fulcio_proto::{v1beta, v2};
use tonic::{Code, Request, transport::Channel};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::support::{ClientKey, Mode, TestServer, leaf_email};

fn v2_request(
    key: &ClientKey,
    token: Option<&str>,
    email: &str,
) -> v2::CreateSigningCertificateRequest {
    v2::CreateSigningCertificateRequest {
        credentials: token.map(|t| v2::Credentials {
            credentials: Some(v2::credentials::Credentials::OidcIdentityToken(
                t.to_owned(),
            )),
        }),
        key: Some(
            v2::create_signing_certificate_request::Key::PublicKeyRequest(v2::PublicKeyRequest {
                public_key: Some(v2::PublicKey {
                    algorithm: v2::PublicKeyAlgorithm::Ecdsa as i32,
                    content: key.public_key_pem(),
                }),
                proof_of_possession: key.sign(email),
            }),
        ),
    }
}

async fn channel(url: &str) -> Channel {
    Channel::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn detached_leaf(response: v2::SigningCertificate) -> String {
    match response.certificate {
        Some(v2::signing_certificate::Certificate::SignedCertificateDetachedSct(d)) => {
            assert!(d.signed_certificate_timestamp.is_empty());
            d.chain.unwrap().certificates[0].clone()
        }
        other => panic!("expected a detached SCT answer, got {other:?}"),
    }
}

#[tokio::test]
async fn v2_issues_with_metadata_token() {
    let server = TestServer::start().await;
    let key = ClientKey::p256();
    let token = server.issuer.email_token("grpc@example.com");
    let mut client = v2::ca_client::CaClient::new(channel(&server.grpc).await);
    let mut request = Request::new(v2_request(&key, None, "grpc@example.com"));
    request
        .metadata_mut()
        .insert("oidcidentitytoken", token.parse().unwrap());
    request
        .metadata_mut()
        .insert("x-request-id", "grpc-test-id".parse().unwrap());
    let response = client.create_signing_certificate(request).await.unwrap();
    assert_eq!(
        response.metadata().get("x-request-id").unwrap(),
        "grpc-test-id"
    );
    assert_eq!(
        leaf_email(&detached_leaf(response.into_inner())),
        "grpc@example.com"
    );
}

#[tokio::test]
async fn v2_errors_are_invalid_argument_with_upstream_text() {
    let server = TestServer::start().await;
    let key = ClientKey::p256();
    let mut client = v2::ca_client::CaClient::new(channel(&server.grpc).await);
    let status = client
        .create_signing_certificate(v2_request(&key, Some("not.a.jwt"), "x@example.com"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "There was an error processing the identity token"
    );
}

#[tokio::test]
async fn trust_bundle_and_configuration_over_grpc() {
    let server = TestServer::start().await;
    let mut client = v2::ca_client::CaClient::new(channel(&server.grpc).await);
    let bundle = client
        .get_trust_bundle(v2::GetTrustBundleRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bundle.chains.len(), 1);
    let configuration = client
        .get_configuration(v2::GetConfigurationRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(configuration.issuers.len(), 1);
    assert_eq!(configuration.issuers[0].challenge_claim, "email");
}

#[tokio::test]
async fn health_check_serves_and_watch_is_unimplemented() {
    let server = TestServer::start().await;
    let mut health = HealthClient::new(channel(&server.grpc).await);
    let answer = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.status, ServingStatus::Serving as i32);
    let answer = health
        .check(HealthCheckRequest {
            service: "whatever".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.status, ServingStatus::Serving as i32);
    let status = health
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
}

// The legacy service is deprecated in its proto, as upstream marks it.
#[allow(deprecated)]
#[tokio::test]
async fn legacy_grpc_only_in_duplex_mode() {
    let split = TestServer::start_in(Mode::Split).await;
    let mut client = v1beta::ca_client::CaClient::new(channel(&split.grpc).await);
    let status = client.get_root_certificate(()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);

    let duplex = TestServer::start_in(Mode::Duplex).await;
    let mut client = v1beta::ca_client::CaClient::new(channel(&duplex.grpc).await);
    let body = client.get_root_certificate(()).await.unwrap().into_inner();
    assert_eq!(body.content_type, "application/pem-certificate-chain");
    assert!(
        String::from_utf8(body.data)
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
}
