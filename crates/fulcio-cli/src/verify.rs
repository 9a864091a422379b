//! `fulcio verify`: verify a certificate against a trusted root; the exit status is the verdict.
//!
//! 0: the certificate verified (chain to a trusted CA, validity, an embedded SCT from a trusted
//! CT log, and the identity policy, as `fulcio_client::verify` checks them). 1: it was rejected;
//! the reason is printed as `Error: …`. 2: the input could not be used (a file that cannot be
//! read, a trusted root that does not load, a certificate that does not parse, a bad regular
//! expression); command-line usage errors also exit 2, through clap.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::SystemTime,
};

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use clap::{Args, ValueEnum};
use fulcio_client::{
    trust::TrustedRoot,
    verify::{Matcher, Policy, Verified, VerifyError, VerifyOptions, verify_certificate},
};
use serde_json::json;
use x509_parser::{certificate::X509Certificate, prelude::FromDer};

use crate::request::time_text;

/// The exit status of a rejected certificate.
const REJECTED: u8 = 1;
/// The exit status of unusable input.
const UNUSABLE: u8 = 2;

/// The flags of `fulcio verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// The certificate, PEM or DER; a PEM file may hold the whole chain, leaf first
    #[arg(value_name = "CERT")]
    pub certificate: PathBuf,

    /// trusted_root.json (or a client trust config holding one): the CAs and CT logs to trust
    #[arg(long, value_name = "FILE")]
    pub trusted_root: PathBuf,

    /// More certificates (PEM) to build the path with: intermediates, and the root if wanted
    #[arg(long, value_name = "FILE")]
    pub certificate_chain: Option<PathBuf>,

    /// The identity the certificate must name: its email, URI or username SAN
    #[arg(
        long,
        value_name = "IDENTITY",
        conflicts_with = "certificate_identity_regexp"
    )]
    pub certificate_identity: Option<String>,

    /// A regular expression the whole identity must match
    #[arg(long, value_name = "REGEX")]
    pub certificate_identity_regexp: Option<String>,

    /// The OIDC issuer the certificate must name
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "certificate_oidc_issuer_regexp"
    )]
    pub certificate_oidc_issuer: Option<String>,

    /// A regular expression the whole OIDC issuer must match
    #[arg(long, value_name = "REGEX")]
    pub certificate_oidc_issuer_regexp: Option<String>,

    /// Verify at this instant (RFC 3339, e.g. 2026-01-02T03:04:05Z) instead of now
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339)]
    pub at: Option<SystemTime>,

    /// Accept a certificate without a verifying embedded SCT (e.g. from a Fulcio without CT)
    #[arg(long)]
    pub insecure_ignore_sct: bool,

    /// What to print on stdout
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Lines for people.
    Text,
    /// One JSON object.
    Json,
}

fn parse_rfc3339(text: &str) -> Result<SystemTime, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(SystemTime::from)
        .map_err(|e| format!("not an RFC 3339 time: {e}"))
}

/// Runs `fulcio verify`.
pub fn main(args: VerifyArgs) -> ExitCode {
    let output = args.output;
    match run(&args) {
        Ok(verified) => {
            match output {
                Output::Text => print!("{}", text_report(&verified)),
                Output::Json => println!("{}", json_report(&verified)),
            }
            ExitCode::SUCCESS
        }
        Err(Failure { message, status }) => {
            if output == Output::Json && status == REJECTED {
                println!("{}", json!({"verified": false, "error": message}));
            }
            eprintln!("Error: {message}");
            ExitCode::from(status)
        }
    }
}

/// Why the command did not verify, and its exit status.
struct Failure {
    message: String,
    status: u8,
}

impl Failure {
    fn unusable(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            status: UNUSABLE,
        }
    }
}

impl From<VerifyError> for Failure {
    fn from(error: VerifyError) -> Self {
        let status = match error {
            VerifyError::Parse(_) | VerifyError::Options(_) => UNUSABLE,
            _ => REJECTED,
        };
        Failure {
            message: error.to_string(),
            status,
        }
    }
}

fn run(args: &VerifyArgs) -> Result<Verified, Failure> {
    let root = TrustedRoot::load(&args.trusted_root)
        .map_err(|e| Failure::unusable(format!("trusted root: {e}")))?;
    let mut chain = read_certificates(&args.certificate)?;
    if let Some(path) = &args.certificate_chain {
        chain.extend(read_certificates(path)?);
    }
    let policy = Policy {
        identity: matcher(
            args.certificate_identity.as_deref(),
            args.certificate_identity_regexp.as_deref(),
        )?,
        issuer: matcher(
            args.certificate_oidc_issuer.as_deref(),
            args.certificate_oidc_issuer_regexp.as_deref(),
        )?,
    };
    let options = VerifyOptions {
        at: args.at.unwrap_or_else(SystemTime::now),
        policy,
        require_sct: !args.insecure_ignore_sct,
    };
    Ok(verify_certificate(&chain, &root, &options)?)
}

fn matcher(exact: Option<&str>, regex: Option<&str>) -> Result<Option<Matcher>, Failure> {
    match (exact, regex) {
        (Some(value), _) => Ok(Some(Matcher::Exact(value.to_owned()))),
        (None, Some(pattern)) => Ok(Some(Matcher::regex(pattern)?)),
        (None, None) => Ok(None),
    }
}

/// The certificates of a file: every `CERTIFICATE` block of a PEM file in order, or the whole
/// file as one DER certificate.
fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>, Failure> {
    let bytes =
        std::fs::read(path).map_err(|e| Failure::unusable(format!("{}: {e}", path.display())))?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Ok(vec![bytes]);
    }
    let blocks = pem::parse_many(&bytes)
        .map_err(|e| Failure::unusable(format!("{}: invalid PEM: {e}", path.display())))?;
    let certificates: Vec<Vec<u8>> = blocks
        .into_iter()
        .filter(|block| block.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect();
    if certificates.is_empty() {
        return Err(Failure::unusable(format!(
            "{}: no CERTIFICATE block",
            path.display()
        )));
    }
    Ok(certificates)
}

/// How each certificate of the path is shown: the leaf by serial, the others by subject.
fn path_names(verified: &Verified) -> Vec<String> {
    verified
        .path
        .iter()
        .enumerate()
        .map(|(index, der)| match X509Certificate::from_der(der) {
            Ok((_, cert)) if index == 0 => format!(
                "leaf, serial {}",
                cert.tbs_certificate.raw_serial_as_string()
            ),
            Ok((_, cert)) => cert.subject().to_string(),
            Err(_) => format!("certificate {index} (unparseable)"),
        })
        .collect()
}

fn text_report(verified: &Verified) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("Verified OK\n");
    for identity in &verified.identities {
        let _ = writeln!(out, "Identity: {identity}");
    }
    let _ = writeln!(
        out,
        "Issuer: {}",
        verified.issuer.as_deref().unwrap_or("(none)")
    );
    let _ = writeln!(
        out,
        "Valid: {} to {}",
        time_text(verified.not_before),
        time_text(verified.not_after)
    );
    out.push_str("Chain:\n");
    for name in path_names(verified) {
        let _ = writeln!(out, "  {name}");
    }
    for sct in &verified.scts {
        let _ = writeln!(
            out,
            "SCT: log {} (log ID {}) at {}",
            sct.log_url,
            BASE64.encode(sct.log_id),
            time_text(sct.timestamp)
        );
    }
    if !verified.sigstore_extensions.is_empty() {
        out.push_str("Sigstore extensions:\n");
        for extension in &verified.sigstore_extensions {
            let _ = writeln!(
                out,
                "  {} ({}): {}",
                extension.name, extension.oid, extension.value
            );
        }
    }
    out
}

fn json_report(verified: &Verified) -> serde_json::Value {
    json!({
        "verified": true,
        "identities": verified.identities,
        "issuer": verified.issuer,
        "notBefore": time_text(verified.not_before),
        "notAfter": time_text(verified.not_after),
        "chain": path_names(verified),
        "scts": verified.scts.iter().map(|sct| json!({
            "logUrl": sct.log_url,
            "logId": BASE64.encode(sct.log_id),
            "timestamp": time_text(sct.timestamp),
        })).collect::<Vec<_>>(),
        "extensions": verified.sigstore_extensions.iter().map(|e| json!({
            "oid": e.oid,
            "name": e.name,
            "value": e.value,
        })).collect::<Vec<_>>(),
    })
}
