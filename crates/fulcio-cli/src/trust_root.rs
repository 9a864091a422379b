//! `fulcio trust-root`: writes the trust files clients need for a running instance —
//! `trusted_root.json`, `signing_config.json` and the client trust config holding both
//! (`trust_config.json`, for sigstore-python's `--trust-config`).
//!
//! The CA chains come from the instance itself (`GET {fulcio-url}/api/v2/trustBundle`; one
//! `certificateAuthorities` entry per chain); the CT log's key from a PEM file (the embedded
//! log writes `log-public-key.pem` in its data directory) and its URL from a flag. Validity
//! windows start at `--valid-from`, or by default at the issuing certificate's notBefore (for
//! the CT key: the earliest of them), and end at `--valid-until` when given.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::{Duration, SystemTime},
};

use clap::Args;
use fulcio_client::{
    request::{CaClient, Transport},
    trust::{
        CaSpec, CertificateAuthority, ClientTrustConfig, CtLogSpec, SigningConfig, TimeRange,
        Timestamp, TrustedRoot, format_timestamp,
    },
};

/// The flags of `fulcio trust-root`.
#[derive(Debug, Clone, Args)]
pub struct TrustRootArgs {
    /// The running Fulcio's HTTP base URL: its trust bundle is fetched from there, and it is the
    /// CA URL written to both files
    #[arg(long, value_name = "URL")]
    pub fulcio_url: String,

    /// The CT log's public key (PEM "PUBLIC KEY"; the embedded log writes log-public-key.pem in
    /// its data directory)
    #[arg(long, value_name = "FILE", requires = "ct_log_url")]
    pub ct_log_public_key: Option<PathBuf>,

    /// The CT log's base URL
    #[arg(long, value_name = "URL", requires = "ct_log_public_key")]
    pub ct_log_url: Option<String>,

    /// The identity provider to name in the signing config
    #[arg(long, value_name = "URL")]
    pub oidc_url: Option<String>,

    /// Start of the validity windows (RFC 3339) [default: the issuing certificate's notBefore]
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub valid_from: Option<SystemTime>,

    /// End of the validity windows (RFC 3339) [default: open-ended]
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub valid_until: Option<SystemTime>,

    /// Start of the CT key's validity window (RFC 3339) [default: --valid-from, else the
    /// earliest issuing certificate's notBefore]
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub ct_log_valid_from: Option<SystemTime>,

    /// Who runs the services, for the signing config [default: the Fulcio URL's host]
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,

    /// Where to write trusted_root.json, signing_config.json and trust_config.json (created if
    /// missing; existing files are replaced)
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,

    /// How long to wait for the CA (Go duration syntax: 30s, 1m)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::go_duration::parse)]
    pub timeout: Duration,
}

/// Runs `fulcio trust-root`.
pub fn main(args: TrustRootArgs) -> ExitCode {
    let runtime = match crate::new_runtime(false) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    match runtime.block_on(run(&args)) {
        Ok(written) => {
            for (path, what) in written {
                println!("wrote {what} to {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("Error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Builds and writes the three files; returns what was written where.
async fn run(args: &TrustRootArgs) -> Result<Vec<(PathBuf, &'static str)>, String> {
    let fulcio_url = args.fulcio_url.trim_end_matches('/').to_owned();
    let host = url::Url::parse(&fulcio_url)
        .map_err(|e| format!("--fulcio-url {fulcio_url:?}: {e}"))?
        .host_str()
        .map(str::to_owned)
        .unwrap_or_default();
    if let (Some(from), Some(until)) = (args.valid_from, args.valid_until)
        && until <= from
    {
        return Err("--valid-until must be later than --valid-from".to_owned());
    }
    // Read local input before asking the CA, so a typo fails fast.
    let ct_key = match &args.ct_log_public_key {
        Some(path) => Some(read_public_key(path)?),
        None => None,
    };

    let client = CaClient::new(&fulcio_url, Transport::Http, args.timeout)
        .map_err(|e| format!("{fulcio_url}: {e}"))?;
    let chains = client
        .trust_bundle()
        .await
        .map_err(|e| format!("fetching the trust bundle of {fulcio_url}: {e}"))?;

    let (trusted_root, signing_config) = build(args, &fulcio_url, &host, chains, ct_key)?;
    let trust_config = ClientTrustConfig::new(trusted_root.clone(), signing_config.clone());

    // What we write must read back through our own checks.
    TrustedRoot::from_json(trusted_root.to_json_pretty().as_bytes())
        .map_err(|e| format!("the trusted root built does not check: {e}"))?;

    std::fs::create_dir_all(&args.out_dir)
        .map_err(|e| format!("creating {}: {e}", args.out_dir.display()))?;
    let files = [
        (
            "trusted_root.json",
            "the trusted root",
            trusted_root.to_json_pretty(),
        ),
        (
            "signing_config.json",
            "the signing config",
            signing_config.to_json_pretty(),
        ),
        (
            "trust_config.json",
            "the client trust config",
            trust_config.to_json_pretty(),
        ),
    ];
    let mut written = Vec::with_capacity(files.len());
    for (name, what, text) in files {
        let path = args.out_dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        written.push((path, what));
    }
    Ok(written)
}

/// The trusted root and signing config for the CA at `fulcio_url` (whose host is `host`) with
/// the trust bundle `chains` and, when given, the CT key `ct_key` (DER SPKI): one
/// `certificateAuthorities` entry per chain.
fn build(
    args: &TrustRootArgs,
    fulcio_url: &str,
    host: &str,
    chains: Vec<Vec<Vec<u8>>>,
    ct_key: Option<Vec<u8>>,
) -> Result<(TrustedRoot, SigningConfig), String> {
    let mut cas = Vec::with_capacity(chains.len());
    for (index, chain) in chains.into_iter().enumerate() {
        let issuing = chain
            .first()
            .ok_or_else(|| format!("the trust bundle of {fulcio_url}: chain {index} is empty"))?;
        let start = match args.valid_from {
            Some(start) => start,
            None => not_before(issuing).map_err(|e| {
                format!("the trust bundle of {fulcio_url}: chain {index}: issuing certificate: {e}")
            })?,
        };
        cas.push(CaSpec {
            url: fulcio_url.to_owned(),
            chain_der: chain,
            valid_for: window(start, args.valid_until)?,
        });
    }
    let earliest = cas
        .iter()
        .map(|ca| ca.valid_for.start.0)
        .min()
        .ok_or_else(|| format!("the trust bundle of {fulcio_url} has no chains"))?;

    let ct_logs: Vec<CtLogSpec> = match (ct_key, &args.ct_log_url) {
        (Some(public_key_der), Some(url)) => vec![CtLogSpec {
            base_url: url.trim_end_matches('/').to_owned(),
            public_key_der,
            valid_for: window(args.ct_log_valid_from.unwrap_or(earliest), args.valid_until)?,
        }],
        _ => Vec::new(),
    };

    let (first, others) = cas
        .split_first()
        .ok_or_else(|| format!("the trust bundle of {fulcio_url} has no chains"))?;
    let mut trusted_root = TrustedRoot::for_instance(first, &ct_logs).map_err(|e| e.to_string())?;
    for ca in others {
        trusted_root
            .certificate_authorities
            .push(CertificateAuthority::from_spec(ca).map_err(|e| e.to_string())?);
    }
    let operator = args.operator.clone().unwrap_or_else(|| host.to_owned());
    let signing_config = SigningConfig::for_instance(
        fulcio_url,
        args.oidc_url.as_deref().map(|u| u.trim_end_matches('/')),
        window(earliest, args.valid_until)?,
        &operator,
    );
    Ok((trusted_root, signing_config))
}

/// `[start, end)`, refusing an instant RFC 3339 cannot write.
fn window(start: SystemTime, end: Option<SystemTime>) -> Result<TimeRange, String> {
    for at in std::iter::once(start).chain(end) {
        format_timestamp(at)?;
    }
    Ok(TimeRange {
        start: Timestamp(start),
        end: end.map(Timestamp),
    })
}

/// The DER SubjectPublicKeyInfo in a PEM `PUBLIC KEY` file.
fn read_public_key(path: &Path) -> Result<Vec<u8>, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let block = pem::parse(&text).map_err(|e| format!("{}: not PEM: {e}", path.display()))?;
    if block.tag() != "PUBLIC KEY" {
        return Err(format!(
            "{}: a PEM {:?} block, expected \"PUBLIC KEY\"",
            path.display(),
            block.tag()
        ));
    }
    Ok(block.into_contents())
}

/// A certificate's notBefore.
fn not_before(der: &[u8]) -> Result<SystemTime, String> {
    use x509_parser::prelude::FromDer as _;

    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    Ok(cert.validity().not_before.to_datetime().into())
}

/// An RFC 3339 instant (`2026-11-24T14:18:57Z`, any offset).
fn parse_time(text: &str) -> Result<SystemTime, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(SystemTime::from)
        .map_err(|e| format!("not an RFC 3339 time ({e}), e.g. 2026-11-24T14:18:57Z"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, PublicKeyData as _};

    /// A self-signed CA certificate valid from midnight UTC of `year`-01-02.
    fn ca_cert(common_name: &str, year: i32) -> Vec<u8> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.not_before = rcgen::date_time_ymd(year, 1, 2);
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    fn args() -> TrustRootArgs {
        TrustRootArgs {
            fulcio_url: "http://ca.example:5555".to_owned(),
            ct_log_public_key: None,
            ct_log_url: Some("http://log.example/".to_owned()),
            oidc_url: None,
            valid_from: None,
            valid_until: None,
            ct_log_valid_from: None,
            operator: None,
            out_dir: PathBuf::from("unused"),
            timeout: Duration::from_secs(1),
        }
    }

    fn rfc3339(at: Timestamp) -> String {
        format_timestamp(at.0).unwrap()
    }

    #[test]
    fn each_chain_of_the_bundle_is_one_authority_with_its_own_start() {
        let chains = vec![vec![ca_cert("new", 2026)], vec![ca_cert("old", 2024)]];
        let ct_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .unwrap()
            .subject_public_key_info();
        let (root, signing) = build(
            &args(),
            "http://ca.example:5555",
            "ca.example",
            chains.clone(),
            Some(ct_key.clone()),
        )
        .unwrap();
        assert_eq!(root.certificate_authorities.len(), 2);
        for (authority, chain) in root.certificate_authorities.iter().zip(&chains) {
            assert_eq!(
                authority
                    .chain_der()
                    .map(<[u8]>::to_vec)
                    .collect::<Vec<_>>(),
                *chain
            );
            assert_eq!(authority.uri, "http://ca.example:5555");
            assert_eq!(authority.valid_for.end, None);
        }
        let starts: Vec<String> = root
            .certificate_authorities
            .iter()
            .map(|ca| rfc3339(ca.valid_for.start))
            .collect();
        assert_eq!(starts, ["2026-01-02T00:00:00Z", "2024-01-02T00:00:00Z"]);
        assert_eq!(root.certificate_authorities[1].subject.common_name, "old");
        // The CT key and the signing config start with the earliest chain.
        let log = &root.ctlogs[0];
        assert_eq!(log.base_url, "http://log.example");
        assert_eq!(log.public_key_der(), Some(ct_key.as_slice()));
        let log_window = log.public_key.valid_for.unwrap();
        assert_eq!(rfc3339(log_window.start), "2024-01-02T00:00:00Z");
        assert_eq!(
            rfc3339(signing.ca_urls[0].valid_for.start),
            "2024-01-02T00:00:00Z"
        );
        assert_eq!(signing.ca_urls[0].operator, "ca.example");
    }

    #[test]
    fn without_a_ct_key_the_root_has_no_ct_log() {
        let (root, _) = build(
            &args(),
            "http://ca.example",
            "ca.example",
            vec![vec![ca_cert("only", 2025)]],
            None,
        )
        .unwrap();
        assert!(root.ctlogs.is_empty());
    }

    #[test]
    fn an_empty_chain_is_an_error() {
        let err = build(
            &args(),
            "http://ca.example",
            "ca.example",
            vec![vec![]],
            None,
        )
        .unwrap_err();
        assert!(err.contains("chain 0 is empty"), "{err}");
    }
}
