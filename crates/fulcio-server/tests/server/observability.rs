//! Request IDs and metrics.

use reqwest::StatusCode;

use crate::support::{ClientKey, TestServer};

#[tokio::test]
async fn request_id_is_echoed_truncated_or_generated() {
    let server = TestServer::start().await;
    let url = format!("{}/api/v2/trustBundle", server.http);
    let client = reqwest::Client::new();

    let response = client
        .get(&url)
        .header("x-request-id", "my-id-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "my-id-1");

    let long = "r".repeat(200);
    let response = client
        .get(&url)
        .header("x-request-id", &long)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["x-request-id"].to_str().unwrap(),
        &long[..128]
    );

    let response = client.get(&url).send().await.unwrap();
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!generated.is_empty());
    let again = client.get(&url).send().await.unwrap();
    assert_ne!(again.headers()["x-request-id"].to_str().unwrap(), generated);
}

#[tokio::test]
async fn metrics_count_issuance_and_requests() {
    let server = TestServer::start().await;
    let key = ClientKey::p256();
    let token = server.issuer.email_token("metrics@example.com");
    let response = reqwest::Client::new()
        .post(format!("{}/api/v2/signingCert", server.http))
        .bearer_auth(&token)
        .json(&key.v2_body(None, "metrics@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let text = reqwest::get(format!("{}/metrics", server.metrics))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let new_certs: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("fulcio_new_certs "))
        .unwrap_or_else(|| panic!("fulcio_new_certs missing:\n{text}"))
        .trim()
        .parse()
        .unwrap();
    assert!(new_certs >= 1.0);
    assert!(
        text.contains("# TYPE fulcio_api_latency histogram"),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{code="200",method="post"}"#),
        "{text}"
    );
    assert!(text.contains("fulcio_build_info{"), "{text}");
    assert!(text.contains("grpc_server_handled_total{"), "{text}");
    assert!(text.contains("process_resident_memory_bytes "), "{text}");
}

#[tokio::test]
async fn grpc_calls_are_counted() {
    let server = TestServer::start().await;
    let channel = tonic::transport::Channel::from_shared(server.grpc.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = fulcio_proto::v2::ca_client::CaClient::new(channel);
    client
        .get_configuration(fulcio_proto::v2::GetConfigurationRequest {})
        .await
        .unwrap();
    let text = reqwest::get(format!("{}/metrics", server.metrics))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("grpc_server_handled_total{")
                && l.contains(r#"grpc_method="GetConfiguration""#)
                && l.contains(r#"grpc_code="OK""#)
        })
        .unwrap_or_else(|| panic!("no handled line for GetConfiguration:\n{text}"));
    let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(value >= 1.0, "{line}");
    assert!(
        text.contains("# TYPE grpc_server_handling_seconds histogram"),
        "{text}"
    );
}
