//! TLS on the gRPC port (`--grpc-tls-certificate`/`--grpc-tls-key`): real sockets, a test CA
//! made with rcgen, the generated tonic client, and certificate files replaced while serving.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use fulcio_proto::v2;
use fulcio_server::{
    Issuance, ListenAddress, RunningServer, ServeError, Server,
    tls::{GrpcTls, ReloadCounts, TlsCertificate},
};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, ServerName};
use test_support::fake_issuer::FakeIssuer;
use tokio::net::TcpStream;
use tonic::{
    Request,
    transport::{Certificate, Channel, ClientTlsConfig},
};

use crate::support::{ClientKey, leaf_email};

/// A root CA for the server certificates of one test.
struct TestCa {
    root: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate (PEM chain: leaf, root) and its key.
struct ServerPair {
    chain_pem: String,
    key_pem: String,
    leaf_der: CertificateDer<'static>,
}

impl TestCa {
    fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let root = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        TestCa { root }
    }

    fn pem(&self) -> String {
        self.root.pem()
    }

    fn der(&self) -> CertificateDer<'static> {
        self.root.der().clone()
    }

    /// A leaf for `localhost` and `127.0.0.1`.
    fn server_pair(&self) -> ServerPair {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let leaf = params.signed_by(&key, &self.root).unwrap();
        ServerPair {
            chain_pem: format!("{}{}", leaf.pem(), self.root.pem()),
            key_pem: key.serialize_pem(),
            leaf_der: leaf.der().clone(),
        }
    }
}

/// The certificate and key files of a running server, in their own directory.
struct TlsFiles {
    _dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
}

impl TlsFiles {
    fn new(pair: &ServerPair) -> TlsFiles {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("tls.crt");
        let key = dir.path().join("tls.key");
        std::fs::write(&cert, &pair.chain_pem).unwrap();
        std::fs::write(&key, &pair.key_pem).unwrap();
        TlsFiles {
            _dir: dir,
            cert,
            key,
        }
    }

    /// Replaces `path` the way deployment tools do: write a temporary file, rename it over.
    fn replace(path: &Path, contents: &str) {
        let temporary = path.with_extension("new");
        std::fs::write(&temporary, contents).unwrap();
        std::fs::rename(&temporary, path).unwrap();
    }
}

/// An issuance pipeline trusting `issuer`, without CT.
fn issuance(issuer: &FakeIssuer) -> Arc<Issuance> {
    crate::support::issuance_for(issuer, None)
}

fn local() -> ListenAddress {
    ListenAddress::new("127.0.0.1", 0)
}

async fn start_split(issuer: &FakeIssuer, tls: GrpcTls) -> RunningServer {
    Server::builder(issuance(issuer))
        .split(local(), local())
        .metrics(Some(local()))
        .grpc_tls(tls)
        .bind()
        .await
        .unwrap()
}

/// A split-port server serving gRPC with TLS from (and watching) `files`.
async fn start_watched(issuer: &FakeIssuer, files: &TlsFiles) -> RunningServer {
    start_split(
        issuer,
        GrpcTls::from_files(&files.cert, &files.key).unwrap(),
    )
    .await
}

/// A fake OIDC issuer, a test CA, and certificate files holding one of its server pairs.
struct Fixture {
    issuer: FakeIssuer,
    ca: TestCa,
    pair: ServerPair,
    files: TlsFiles,
}

impl Fixture {
    async fn new() -> Fixture {
        let issuer = FakeIssuer::start().await;
        let ca = TestCa::new("grpc tls root");
        let pair = ca.server_pair();
        let files = TlsFiles::new(&pair);
        Fixture {
            issuer,
            ca,
            pair,
            files,
        }
    }
}

/// A tonic channel over TLS trusting only `root_pem`.
async fn tls_channel(port: u16, root_pem: &str) -> Result<Channel, tonic::transport::Error> {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(root_pem))
        .domain_name("localhost");
    Channel::from_shared(format!("https://localhost:{port}"))
        .unwrap()
        .tls_config(tls)?
        .connect()
        .await
}

/// `GetTrustBundle` over a new TLS channel to `port` trusting `root_pem`, which must succeed.
async fn trust_bundle_over_tls(port: u16, root_pem: &str) -> v2::TrustBundle {
    let channel = tls_channel(port, root_pem).await.unwrap();
    v2::ca_client::CaClient::new(channel)
        .get_trust_bundle(v2::GetTrustBundleRequest {})
        .await
        .unwrap()
        .into_inner()
}

fn v2_request(key: &ClientKey, email: &str) -> v2::CreateSigningCertificateRequest {
    v2::CreateSigningCertificateRequest {
        credentials: None,
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

/// A rustls client trusting `roots`, limited to `versions`, offering ALPN h2.
fn rustls_client(
    roots: &[CertificateDer<'static>],
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> tokio_rustls::TlsConnector {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// The leaf certificate a fresh TLS 1.3 connection to `port` is shown, trusting `roots`.
async fn peer_leaf(port: u16, roots: &[CertificateDer<'static>]) -> CertificateDer<'static> {
    let connector = rustls_client(roots, &[&rustls::version::TLS13]);
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let stream = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    stream.get_ref().1.peer_certificates().unwrap()[0].clone()
}

/// Waits (generously: this only bounds a hang) until the watcher has reloaded as `done` asks.
async fn wait_for_reload(certificate: &TlsCertificate, done: impl Fn(ReloadCounts) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done(certificate.reload_counts()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no reload seen: {:?}",
            certificate.reload_counts()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn grpc_over_tls_serves_trust_bundle_and_issues() {
    let Fixture {
        issuer, ca, files, ..
    } = Fixture::new().await;
    let server = Server::builder(issuance(&issuer))
        .split(local(), local())
        .metrics(Some(local()))
        .grpc_tls_files(&files.cert, &files.key)
        .bind()
        .await
        .unwrap();
    assert!(server.is_grpc_tls() && !server.is_http_tls());
    assert!(server.grpc_tls().unwrap().is_watched());
    assert_eq!(
        server.startup_line(),
        format!(
            "fulcio: serving HTTP on {}, gRPC (TLS) on {}, metrics on {}",
            server.http_addr,
            server.grpc_addr,
            server.metrics_addr.unwrap()
        )
    );

    let channel = tls_channel(server.grpc_addr.port(), &ca.pem())
        .await
        .unwrap();
    let mut client = v2::ca_client::CaClient::new(channel);
    let bundle = client
        .get_trust_bundle(v2::GetTrustBundleRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bundle.chains.len(), 1);

    let key = ClientKey::p256();
    let mut request = Request::new(v2_request(&key, "tls@example.com"));
    request.metadata_mut().insert(
        "oidcidentitytoken",
        issuer.email_token("tls@example.com").parse().unwrap(),
    );
    let response = client
        .create_signing_certificate(request)
        .await
        .unwrap()
        .into_inner();
    let leaf = match response.certificate {
        Some(v2::signing_certificate::Certificate::SignedCertificateDetachedSct(d)) => {
            d.chain.unwrap().certificates[0].clone()
        }
        other => panic!("expected a detached SCT answer, got {other:?}"),
    };
    assert_eq!(leaf_email(&leaf), "tls@example.com");

    // The HTTP API and metrics stay cleartext with split ports, as upstream.
    let health = reqwest::get(format!("http://{}/healthz", server.http_addr))
        .await
        .unwrap();
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    let metrics = reqwest::get(format!("http://{}/metrics", server.metrics_addr.unwrap()))
        .await
        .unwrap();
    assert_eq!(metrics.status(), reqwest::StatusCode::OK);
    server.shutdown().await;
}

#[tokio::test]
async fn cleartext_and_untrusting_clients_fail_against_the_tls_port() {
    let Fixture {
        issuer, ca, files, ..
    } = Fixture::new().await;
    let tls = GrpcTls::fixed(TlsCertificate::load(&files.cert, &files.key).unwrap());
    let server = start_split(&issuer, tls).await;
    let port = server.grpc_addr.port();

    // Cleartext HTTP/2 (the TCP connect may succeed; the call cannot).
    let plain = Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect_lazy();
    let result = v2::ca_client::CaClient::new(plain)
        .get_trust_bundle(v2::GetTrustBundleRequest {})
        .await;
    assert!(result.is_err(), "cleartext call answered: {result:?}");

    // TLS trusting another root.
    let other = TestCa::new("someone else");
    let result = match tls_channel(port, &other.pem()).await {
        Ok(channel) => v2::ca_client::CaClient::new(channel)
            .get_trust_bundle(v2::GetTrustBundleRequest {})
            .await
            .map(|_| ()),
        Err(err) => Err(tonic::Status::unavailable(err.to_string())),
    };
    assert!(result.is_err(), "untrusted server certificate accepted");

    // The right root still works on the same server.
    trust_bundle_over_tls(port, &ca.pem()).await;
    server.shutdown().await;
}

#[tokio::test]
async fn only_tls_1_3_with_h2_is_offered() {
    let Fixture {
        issuer, ca, files, ..
    } = Fixture::new().await;
    let server = start_watched(&issuer, &files).await;
    let port = server.grpc_addr.port();
    let name = ServerName::try_from("localhost").unwrap();

    let tls12 = rustls_client(&[ca.der()], &[&rustls::version::TLS12]);
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let result = tls12.connect(name.clone(), tcp).await;
    assert!(result.is_err(), "TLS 1.2 handshake completed");

    let tls13 = rustls_client(&[ca.der()], &[&rustls::version::TLS13]);
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let stream = tls13.connect(name, tcp).await.unwrap();
    let connection = stream.get_ref().1;
    assert_eq!(
        connection.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    assert_eq!(connection.alpn_protocol(), Some(&b"h2"[..]));
    server.shutdown().await;
}

#[tokio::test]
async fn replaced_certificate_is_presented_to_new_connections() {
    let issuer = FakeIssuer::start().await;
    let old_ca = TestCa::new("old root");
    let new_ca = TestCa::new("new root");
    let old = old_ca.server_pair();
    let new = new_ca.server_pair();
    let files = TlsFiles::new(&old);
    let server = start_watched(&issuer, &files).await;
    let port = server.grpc_addr.port();
    let certificate = server.grpc_tls().unwrap().certificate().clone();
    let both = [old_ca.der(), new_ca.der()];
    assert_eq!(peer_leaf(port, &both).await, old.leaf_der);

    // A connection opened before the swap keeps working afterwards.
    let before = tls_channel(port, &old_ca.pem()).await.unwrap();
    let mut before = v2::ca_client::CaClient::new(before);
    before
        .get_trust_bundle(v2::GetTrustBundleRequest {})
        .await
        .unwrap();

    TlsFiles::replace(&files.key, &new.key_pem);
    TlsFiles::replace(&files.cert, &new.chain_pem);
    wait_for_reload(&certificate, |c| c.succeeded >= 1).await;

    assert_eq!(peer_leaf(port, &both).await, new.leaf_der);
    trust_bundle_over_tls(port, &new_ca.pem()).await;
    before
        .get_trust_bundle(v2::GetTrustBundleRequest {})
        .await
        .unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn broken_or_mismatched_replacement_keeps_the_old_certificate() {
    let Fixture {
        issuer,
        ca,
        pair: old,
        files,
    } = Fixture::new().await;
    let server = start_watched(&issuer, &files).await;
    let port = server.grpc_addr.port();
    let certificate = server.grpc_tls().unwrap().certificate().clone();

    // A garbled certificate file.
    TlsFiles::replace(&files.cert, "-----BEGIN CERTIFICATE-----\nnot base64!\n");
    wait_for_reload(&certificate, |c| c.failed >= 1).await;
    assert_eq!(certificate.reload_counts().succeeded, 0);
    assert_eq!(peer_leaf(port, &[ca.der()]).await, old.leaf_der);

    // A valid certificate whose key was not replaced with it.
    let other = ca.server_pair();
    let failed = certificate.reload_counts().failed;
    TlsFiles::replace(&files.cert, &other.chain_pem);
    wait_for_reload(&certificate, |c| c.failed > failed).await;
    assert_eq!(certificate.reload_counts().succeeded, 0);
    assert_eq!(peer_leaf(port, &[ca.der()]).await, old.leaf_der);

    trust_bundle_over_tls(port, &ca.pem()).await;

    // Completing the rotation is picked up.
    TlsFiles::replace(&files.key, &other.key_pem);
    wait_for_reload(&certificate, |c| c.succeeded >= 1).await;
    assert_eq!(peer_leaf(port, &[ca.der()]).await, other.leaf_der);
    server.shutdown().await;
}

#[tokio::test]
async fn bad_files_at_start_are_clear_errors() {
    let Fixture {
        issuer, ca, files, ..
    } = Fixture::new().await;
    let dir = tempfile::tempdir().unwrap();
    let bind = |cert: PathBuf, key: PathBuf| {
        Server::builder(issuance(&issuer))
            .split(local(), local())
            .metrics(None)
            .grpc_tls_files(cert, key)
            .bind()
    };
    let message = |result: Result<RunningServer, ServeError>| match result {
        Err(err @ ServeError::Tls(_)) => err.to_string(),
        Err(other) => panic!("expected a TLS error, got {other}"),
        Ok(_) => panic!("server started with bad TLS files"),
    };

    let missing = dir.path().join("absent.crt");
    let text = message(bind(missing, files.key.clone()).await);
    assert!(
        text.contains("absent.crt") && text.contains("certificate"),
        "{text}"
    );

    let garbled = dir.path().join("garbled.key");
    std::fs::write(&garbled, "this is not a key").unwrap();
    let text = message(bind(files.cert.clone(), garbled).await);
    assert!(
        text.contains("garbled.key") && text.contains("no PEM PRIVATE KEY"),
        "{text}"
    );

    let other_key = dir.path().join("other.key");
    std::fs::write(&other_key, ca.server_pair().key_pem).unwrap();
    let text = message(bind(files.cert.clone(), other_key).await);
    assert!(
        text.contains("other.key") && text.contains("does not belong"),
        "{text}"
    );
}

#[tokio::test]
async fn duplex_port_is_tls_for_grpc_and_http() {
    let Fixture {
        issuer, ca, files, ..
    } = Fixture::new().await;
    let server = Server::builder(issuance(&issuer))
        .duplex(local())
        .metrics(Some(local()))
        .grpc_tls(GrpcTls::from_files(&files.cert, &files.key).unwrap())
        .bind()
        .await
        .unwrap();
    assert!(server.is_http_tls());
    let port = server.grpc_addr.port();
    assert_eq!(
        server.startup_line(),
        format!(
            "fulcio: serving HTTP (TLS) on {0}, gRPC (TLS) on {0}, metrics on {1}",
            server.grpc_addr,
            server.metrics_addr.unwrap()
        )
    );

    let bundle = trust_bundle_over_tls(port, &ca.pem()).await;
    assert_eq!(bundle.chains.len(), 1);

    let root = reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap();
    for http1_only in [true, false] {
        let builder = reqwest::Client::builder().tls_certs_only([root.clone()]);
        let builder = if http1_only {
            builder.http1_only()
        } else {
            builder
        };
        let response = builder
            .build()
            .unwrap()
            .get(format!("https://localhost:{port}/api/v2/trustBundle"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        let expected = if http1_only {
            reqwest::Version::HTTP_11
        } else {
            reqwest::Version::HTTP_2
        };
        assert_eq!(response.version(), expected);
    }
    let cleartext = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await;
    assert!(cleartext.is_err(), "cleartext HTTP answered: {cleartext:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_stalled_handshake_does_not_hold_up_other_clients() {
    let Fixture {
        issuer, ca, files, ..
    } = Fixture::new().await;
    let server = start_watched(&issuer, &files).await;
    let port = server.grpc_addr.port();
    // Connected, accepted, and never sending a ClientHello.
    let _stalled = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let _stalled_too = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    // If accepting waited for each handshake, this would wait out both stalled ones (twice
    // the handshake timeout); it must finish within one.
    let root = ca.pem();
    let call = trust_bundle_over_tls(port, &root);
    tokio::time::timeout(fulcio_server::listen::TLS_HANDSHAKE_TIMEOUT, call)
        .await
        .expect("a TLS client waited behind stalled handshakes");
    server.shutdown().await;
}

#[tokio::test]
async fn kubernetes_style_symlink_swap_is_picked_up() {
    // A secret volume: `tls.crt -> ..data/tls.crt`, `..data -> ..<timestamp>`; an update
    // writes a new timestamped directory and renames a new `..data` link over the old one.
    let issuer = FakeIssuer::start().await;
    let ca = TestCa::new("grpc tls root");
    let old = ca.server_pair();
    let new = ca.server_pair();
    let volume = tempfile::tempdir().unwrap();
    let write_version = |name: &str, pair: &ServerPair| {
        let dir = volume.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("tls.crt"), &pair.chain_pem).unwrap();
        std::fs::write(dir.join("tls.key"), &pair.key_pem).unwrap();
    };
    write_version("..2026_01", &old);
    std::os::unix::fs::symlink("..2026_01", volume.path().join("..data")).unwrap();
    for file in ["tls.crt", "tls.key"] {
        std::os::unix::fs::symlink(format!("..data/{file}"), volume.path().join(file)).unwrap();
    }
    let tls = GrpcTls::from_files(
        &volume.path().join("tls.crt"),
        &volume.path().join("tls.key"),
    )
    .unwrap();
    let server = start_split(&issuer, tls).await;
    let port = server.grpc_addr.port();
    let certificate = server.grpc_tls().unwrap().certificate().clone();
    assert_eq!(peer_leaf(port, &[ca.der()]).await, old.leaf_der);

    write_version("..2026_02", &new);
    std::os::unix::fs::symlink("..2026_02", volume.path().join("..data_tmp")).unwrap();
    std::fs::rename(
        volume.path().join("..data_tmp"),
        volume.path().join("..data"),
    )
    .unwrap();
    std::fs::remove_dir_all(volume.path().join("..2026_01")).unwrap();
    wait_for_reload(&certificate, |c| c.succeeded >= 1).await;
    assert_eq!(peer_leaf(port, &[ca.der()]).await, new.leaf_der);
    server.shutdown().await;
}
