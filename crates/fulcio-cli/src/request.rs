//! `fulcio request`: get a signing certificate and verify it before writing it.
//!
//! 1. The trusted root is read and the key loaded (`--key`) or generated (`--key-type`); the
//!    files to write are checked first, so nothing is asked of the CA that cannot be kept.
//! 2. The identity token comes from `--identity-token`, `SIGSTORE_ID_TOKEN`, GitHub Actions,
//!    or the browser / device flow against `--oidc-issuer` (`fulcio_client::token::resolve`).
//! 3. The CA is asked over HTTP (v2 JSON) or gRPC (`--grpc`), proving the key by a signature
//!    over the token's subject or by a CSR (`--csr`).
//! 4. The chain is verified against the trusted root (chain, validity, embedded SCT) and the
//!    leaf must carry our key; only then are the certificate chain and, for a generated key,
//!    the key (mode 0600, never overwriting, encrypted with `--key-password-file`) written.
//!
//! Exit status 0 on success; 1 when anything fails (nothing is written then); 2 for usage
//! errors, through clap.

use std::{
    io::{IsTerminal as _, Write as _},
    path::PathBuf,
    process::ExitCode,
    time::{Duration, SystemTime},
};

use clap::{Args, ValueEnum};
use fulcio_client::{
    key::{KeyAlgorithm, SigningKey},
    request::{CaClient, Proof, Transport},
    token::{self, DevicePrompt, Interaction, OidcClientConfig, TokenOptions, TokenSource},
    trust::{TrustedRoot, format_timestamp},
    verify::{Verified, VerifyOptions, verify_certificate},
};
use serde_json::json;

/// The public-good Fulcio.
const PUBLIC_GOOD_FULCIO: &str = "https://fulcio.sigstore.dev";
/// The public-good identity provider, used for the interactive flows when the CA is the
/// public-good one and no `--oidc-issuer` is given (as cosign does).
const PUBLIC_GOOD_OIDC: &str = "https://oauth2.sigstore.dev/auth";
/// How long a browser or device sign-in may take.
const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(300);

/// The flags of `fulcio request`.
#[derive(Debug, Clone, Args)]
pub struct RequestArgs {
    /// The Fulcio to ask (its HTTP base URL)
    #[arg(long, value_name = "URL", default_value = PUBLIC_GOOD_FULCIO)]
    pub fulcio_url: String,

    /// Use Fulcio's gRPC API instead of HTTP JSON
    #[arg(long)]
    pub grpc: bool,

    /// The gRPC endpoint, when it differs from --fulcio-url (implies --grpc)
    #[arg(long, value_name = "URL")]
    pub fulcio_grpc_url: Option<String>,

    /// The OIDC identity token, or a file holding it [default: $SIGSTORE_ID_TOKEN, GitHub
    /// Actions' token, else a sign-in with --oidc-issuer]
    #[arg(long, value_name = "TOKEN|FILE")]
    pub identity_token: Option<String>,

    /// The identity provider to sign in with when no token is at hand [default: the
    /// public-good provider when --fulcio-url is the public-good Fulcio]
    #[arg(long, value_name = "URL")]
    pub oidc_issuer: Option<String>,

    /// The OIDC client ID for the sign-in
    #[arg(long, value_name = "ID", default_value = "sigstore")]
    pub oidc_client_id: String,

    /// A file holding the OIDC client secret, for confidential clients
    #[arg(long, value_name = "FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,

    /// The redirect URL of the browser sign-in [default: http://localhost:0/auth/callback, any
    /// free port]
    #[arg(long, value_name = "URL")]
    pub oidc_redirect_url: Option<String>,

    /// Sign in with the device flow (a code to enter on another device) instead of a browser
    #[arg(long)]
    pub device: bool,

    /// The kind of key to generate
    #[arg(long, value_enum, default_value_t = KeyType::P256, conflicts_with = "key")]
    pub key_type: KeyType,

    /// Use this private key (PEM: PKCS#8, encrypted PKCS#8, SEC1 or PKCS#1) instead of
    /// generating one
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// A file holding the password of --key, or to encrypt the generated key with
    #[arg(long, value_name = "FILE")]
    pub key_password_file: Option<PathBuf>,

    /// Prove possession of the key with a certificate signing request instead of a signed
    /// challenge
    #[arg(long)]
    pub csr: bool,

    /// trusted_root.json (or a client trust config): the certificate must verify against it
    /// before anything is written
    #[arg(long, value_name = "FILE")]
    pub trusted_root: PathBuf,

    /// Where to write the certificate chain (PEM, leaf first)
    #[arg(long, value_name = "FILE", default_value = "fulcio-cert.pem")]
    pub output_certificate: PathBuf,

    /// Where to write the generated key (PKCS#8 PEM, mode 0600; an existing file is never
    /// overwritten)
    #[arg(
        long,
        value_name = "FILE",
        default_value = "fulcio-key.pem",
        conflicts_with = "key"
    )]
    pub output_key: PathBuf,

    /// What to print on stdout
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,

    /// How long to wait for the CA (Go duration syntax, e.g. 30s, 1m)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::go_duration::parse)]
    pub timeout: Duration,
}

/// The key types `--key-type` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyType {
    /// ECDSA P-256 with SHA-256.
    P256,
    /// ECDSA P-384 with SHA-384.
    P384,
    /// Ed25519.
    Ed25519,
    /// RSA 3072 with PKCS#1 v1.5 SHA-256.
    Rsa3072,
}

impl From<KeyType> for KeyAlgorithm {
    fn from(kind: KeyType) -> Self {
        match kind {
            KeyType::P256 => KeyAlgorithm::P256,
            KeyType::P384 => KeyAlgorithm::P384,
            KeyType::Ed25519 => KeyAlgorithm::Ed25519,
            KeyType::Rsa3072 => KeyAlgorithm::Rsa3072,
        }
    }
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Lines for people.
    Text,
    /// One JSON object.
    Json,
}

/// Runs `fulcio request`.
pub fn main(args: RequestArgs) -> ExitCode {
    let runtime = match crate::new_runtime(true) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    match runtime.block_on(run(&args)) {
        Ok(done) => {
            match args.output {
                Output::Text => print!("{}", done.text()),
                Output::Json => println!("{}", done.json()),
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("Error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What was obtained and written.
struct Done {
    certificate_path: PathBuf,
    key_path: Option<PathBuf>,
    key_encrypted: bool,
    key_algorithm: KeyAlgorithm,
    token_source: TokenSource,
    verified: Verified,
}

impl Done {
    fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Certificate chain written to {}",
            self.certificate_path.display()
        );
        if let Some(path) = &self.key_path {
            let _ = writeln!(
                out,
                "{} private key written to {}{}",
                self.key_algorithm,
                path.display(),
                if self.key_encrypted {
                    " (encrypted)"
                } else {
                    ""
                }
            );
        }
        for identity in &self.verified.identities {
            let _ = writeln!(out, "Identity: {identity}");
        }
        let _ = writeln!(
            out,
            "Issuer: {}",
            self.verified.issuer.as_deref().unwrap_or("(none)")
        );
        let _ = writeln!(out, "Expires: {}", time_text(self.verified.not_after));
        out
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "certificate": self.certificate_path.display().to_string(),
            "key": self.key_path.as_ref().map(|p| p.display().to_string()),
            "keyEncrypted": self.key_path.is_some().then_some(self.key_encrypted),
            "keyAlgorithm": self.key_algorithm.name(),
            "tokenSource": format!("{:?}", self.token_source),
            "identities": self.verified.identities,
            "issuer": self.verified.issuer,
            "notBefore": time_text(self.verified.not_before),
            "notAfter": time_text(self.verified.not_after),
            "scts": self.verified.scts.len(),
        })
    }
}

/// `at` as RFC 3339 for people; a time that cannot be printed says so instead of failing.
pub(crate) fn time_text(at: SystemTime) -> String {
    format_timestamp(at).unwrap_or_else(|e| format!("(unprintable time: {e})"))
}

async fn run(args: &RequestArgs) -> Result<Done, String> {
    // Everything that can fail locally fails before the network is used.
    let root = TrustedRoot::load(&args.trusted_root).map_err(|e| format!("trusted root: {e}"))?;
    let password = args
        .key_password_file
        .as_deref()
        .map(crate::private_file::read_password)
        .transpose()?;
    let generated = args.key.is_none();
    if generated && args.output_key.exists() {
        return Err(format!(
            "{} already exists: the key file is never overwritten (choose another \
             --output-key, or remove it)",
            args.output_key.display()
        ));
    }
    let key = match &args.key {
        Some(path) => SigningKey::load(path, password.as_deref().map(|p| p.as_str()))
            .map_err(|e| format!("key: {e}"))?,
        None => {
            let algorithm = KeyAlgorithm::from(args.key_type);
            tokio::task::spawn_blocking(move || SigningKey::generate(algorithm))
                .await
                .map_err(|e| format!("key generation: {e}"))?
                .map_err(|e| e.to_string())?
        }
    };
    let (url, transport) = match (&args.fulcio_grpc_url, args.grpc) {
        (Some(url), _) => (url.as_str(), Transport::Grpc),
        (None, true) => (args.fulcio_url.as_str(), Transport::Grpc),
        (None, false) => (args.fulcio_url.as_str(), Transport::Http),
    };
    let client = CaClient::new(url, transport, args.timeout).map_err(|e| e.to_string())?;

    let options = token_options(args)?;
    let identity = token::resolve(&options, &TerminalInteraction)
        .await
        .map_err(|e| e.to_string())?;
    let claims = token::unverified_claims(&identity.token).map_err(|e| e.to_string())?;

    let proof = if args.csr {
        Proof::Csr
    } else {
        Proof::Challenge
    };
    let progress = Progress::show(&format!("requesting a certificate from {url}"));
    let answer = client
        .signing_certificate(&identity.token, &key, proof, claims.challenge_subject())
        .await;
    progress.clear();
    let answer = answer.map_err(|e| e.to_string())?;

    let verified =
        verify_certificate(&answer.chain, &root, &VerifyOptions::now()).map_err(|e| {
            format!(
                "the certificate from {url} does not verify against {}, nothing was written: {e}",
                args.trusted_root.display()
            )
        })?;
    let leaf_key = leaf_public_key(&answer.chain[0])?;
    if leaf_key != key.public_key_der() {
        return Err(format!(
            "the certificate from {url} is not for our key, nothing was written"
        ));
    }

    let chain_pem: String = answer
        .chain
        .iter()
        .map(|der| {
            pem::encode_config(
                &pem::Pem::new("CERTIFICATE", der.clone()),
                pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
            )
        })
        .collect();
    let key_path = if generated {
        let text = key
            .to_pkcs8_pem(password.as_deref().map(|p| p.as_str()))
            .map_err(|e| e.to_string())?;
        crate::private_file::write_new(&args.output_key, text.as_bytes())?;
        Some(args.output_key.clone())
    } else {
        None
    };
    if let Err(e) = std::fs::write(&args.output_certificate, chain_pem) {
        // Leave nothing half-done: the key without its certificate is of no use.
        let mut message = format!("{}: {e}", args.output_certificate.display());
        if let Some(path) = &key_path
            && let Err(removing) = std::fs::remove_file(path)
        {
            message.push_str(&format!(
                "; the new key {} is left behind, removing it failed: {removing}",
                path.display()
            ));
        }
        return Err(message);
    }
    Ok(Done {
        certificate_path: args.output_certificate.clone(),
        key_path,
        key_encrypted: password.is_some(),
        key_algorithm: key.algorithm(),
        token_source: identity.source,
        verified,
    })
}

fn token_options(args: &RequestArgs) -> Result<TokenOptions, String> {
    let issuer = args.oidc_issuer.clone().or_else(|| {
        (args.fulcio_url.trim_end_matches('/') == PUBLIC_GOOD_FULCIO)
            .then(|| PUBLIC_GOOD_OIDC.to_owned())
    });
    let client_secret = args
        .oidc_client_secret_file
        .as_deref()
        .map(|path| {
            std::fs::read_to_string(path)
                .map(|text| text.trim().to_owned())
                .map_err(|e| format!("OIDC client secret file {}: {e}", path.display()))
        })
        .transpose()?;
    Ok(TokenOptions {
        explicit: args.identity_token.clone(),
        audience: "sigstore".to_owned(),
        ambient: true,
        oidc: issuer.map(|issuer| OidcClientConfig {
            issuer,
            client_id: args.oidc_client_id.clone(),
            client_secret,
            redirect_url: args.oidc_redirect_url.clone(),
        }),
        device: args.device,
        timeout: Some(SIGN_IN_TIMEOUT),
    })
}

fn leaf_public_key(der: &[u8]) -> Result<Vec<u8>, String> {
    use x509_parser::prelude::FromDer as _;
    let (_, leaf) = x509_parser::certificate::X509Certificate::from_der(der)
        .map_err(|e| format!("cannot parse the issued certificate: {e}"))?;
    Ok(leaf.public_key().raw.to_vec())
}

/// A status line on stderr while waiting, only when stderr is a terminal.
struct Progress {
    shown: bool,
}

impl Progress {
    fn show(message: &str) -> Self {
        let stderr = std::io::stderr();
        let shown = stderr.is_terminal();
        if shown {
            let mut stderr = stderr.lock();
            let _ = write!(stderr, "{message}…");
            let _ = stderr.flush();
        }
        Progress { shown }
    }

    fn clear(self) {
        if self.shown {
            let mut stderr = std::io::stderr().lock();
            // Carriage return, then erase the line.
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
        }
    }
}

/// The interactive sign-in's messages on stderr; a browser is opened only on a desktop.
struct TerminalInteraction;

impl Interaction for TerminalInteraction {
    fn open_browser(&self, authorization_url: &str) -> bool {
        let opened = open_in_browser(authorization_url);
        if opened {
            eprintln!(
                "Your browser will open to sign in. If it does not, open this URL:\n\n    {authorization_url}\n"
            );
        } else {
            eprintln!("To sign in, open this URL in a browser:\n\n    {authorization_url}\n");
        }
        opened
    }

    fn device_prompt(&self, prompt: &DevicePrompt) {
        match &prompt.verification_uri_complete {
            Some(complete) => eprintln!(
                "To sign in, open {complete}\n(or open {} and enter the code {}).\nThe code expires in {} seconds.",
                prompt.verification_uri,
                prompt.user_code,
                prompt.expires_in.as_secs()
            ),
            None => eprintln!(
                "To sign in, open {} and enter the code {}.\nThe code expires in {} seconds.",
                prompt.verification_uri,
                prompt.user_code,
                prompt.expires_in.as_secs()
            ),
        }
    }
}

/// Starts the desktop's URL opener when there is a desktop (macOS, or a DISPLAY /
/// WAYLAND_DISPLAY on other Unix systems); `false` when there is none or it did not start.
fn open_in_browser(url: &str) -> bool {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if std::env::var_os("DISPLAY").is_some_and(|v| !v.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|v| !v.is_empty())
    {
        "xdg-open"
    } else {
        return false;
    };
    std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|mut child| {
            // Reap it when it exits, without waiting for it here.
            std::thread::spawn(move || child.wait());
        })
        .is_ok()
}
