//! `fulcio createca`: make the CA's root in a PKCS#11 token (upstream's flags), and beyond
//! upstream, the key pair and an intermediate.
//!
//! `fulcio createca --hsm-caroot-id ID [subject flags]` (upstream's command): opens the token
//! of `--pkcs11-config-path`, refuses if a certificate with CKA_ID `ID` exists, finds the key
//! pair labelled `--hsm-key-label` (created first with `--generate-key`), self-signs a 10-year
//! root (certSign + cRLSign, CA, path length 1), prints it, stores it in the token under `ID`
//! (not with `--hsm aws`, for tokens that keep no certificates) and writes it to `--out`.
//!
//! With `--intermediate-key-label L --intermediate-id IID` it also makes an intermediate whose
//! key is in a token (generated when absent; the same token, or `--intermediate-pkcs11-config-
//! path` for an online token apart from the offline root's) and stores it under `IID` there;
//! with `--intermediate-key-file F --intermediate-key-password-file P` the intermediate's key
//! is a fresh encrypted PKCS#8 file for `--ca fileca` instead. `fulcio createca intermediate`
//! does the same later, under a root already in the token.
//!
//! Everything that can be refused (an existing certificate id, an existing key file, a missing
//! key) is checked before anything is created. Errors go to stderr with exit status 1; usage
//! errors exit 2 through clap.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
    time::SystemTime,
};

use ca::{
    IssuingKey, KeyKind, Signer,
    hierarchy::{self, NameSpec},
    pkcs11::{DEFAULT_KEY_LABEL, Pkcs11Config, Pkcs11Signer, Pkcs11Token},
};
use clap::{Args, Subcommand, ValueEnum};
use fulcio_client::key::{KeyAlgorithm, SigningKey};
use zeroize::Zeroizing;

/// Upstream's root lifetime, in calendar years.
const ROOT_YEARS: u16 = 10;
/// The certificate specification's recommended intermediate lifetime (never past the root).
const INTERMEDIATE_YEARS: u16 = 3;

/// The default common name of an intermediate.
const DEFAULT_INTERMEDIATE_CN: &str = "Fulcio Intermediate CA";

/// The flags of `fulcio createca`.
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct CreateCaArgs {
    /// Issue an intermediate later, under a root already made
    #[command(subcommand)]
    command: Option<CreateCaCommand>,

    /// Organization name for root CA
    #[arg(long, default_value = "Fulcio Root CA")]
    org: String,
    /// Country name for root CA
    #[arg(long)]
    country: Option<String>,
    /// Province name for root CA
    #[arg(long)]
    province: Option<String>,
    /// Locality name for root CA
    #[arg(long)]
    locality: Option<String>,
    /// Street address for root CA
    #[arg(long)]
    street_address: Option<String>,
    /// Postal code for root CA
    #[arg(long)]
    postal_code: Option<String>,
    /// Common name for root CA (upstream sets none)
    #[arg(long)]
    common_name: Option<String>,
    /// output root CA to file (PEM)
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    #[command(flatten)]
    token: TokenArgs,

    /// Generate the root's key pair in the token first (labelled --hsm-key-label, CKA_ID
    /// --hsm-caroot-id); refused if a key with that label exists
    #[arg(long)]
    generate_key: bool,
    /// Type of the key --generate-key creates
    #[arg(long, value_enum, default_value_t = KeyType::P384)]
    key_type: KeyType,

    #[command(flatten)]
    intermediate: IntermediateArgs,
}

#[derive(Debug, Clone, Subcommand)]
enum CreateCaCommand {
    /// Issue an intermediate under the root stored in the token with --hsm-caroot-id, signed
    /// by the key labelled --hsm-key-label
    Intermediate(Box<IntermediateCommandArgs>),
}

/// The flags of `fulcio createca intermediate`.
#[derive(Debug, Clone, Args)]
struct IntermediateCommandArgs {
    #[command(flatten)]
    token: TokenArgs,
    /// Read the root certificate from this PEM file instead of the token (AWS CloudHSM keeps
    /// no certificates)
    #[arg(long = "aws-hsm-root-ca-path", value_name = "FILE")]
    root_cert: Option<PathBuf>,
    #[command(flatten)]
    intermediate: IntermediateArgs,
}

/// How to reach the root's token and key (upstream's flags, plus the PIN file and label).
#[derive(Debug, Clone, Args)]
struct TokenArgs {
    /// The HSM provider to use. Valid values: softhsm (default), aws
    #[arg(long, value_enum, default_value_t = HsmKind::Softhsm)]
    hsm: HsmKind,
    /// path to fulcio pkcs11 config file (crypto11 JSON: Path, TokenLabel, Pin)
    #[arg(long, value_name = "FILE", default_value = "config/crypto11.conf")]
    pkcs11_config_path: PathBuf,
    /// File holding the token's user PIN, when the config has no Pin [default:
    /// $FULCIO_PKCS11_PIN]
    #[arg(long, value_name = "FILE")]
    pkcs11_pin_file: Option<PathBuf>,
    /// HSM ID for Root CA (its certificate's CKA_ID, the bytes of this string)
    #[arg(long, value_name = "ID", required = true)]
    hsm_caroot_id: Option<String>,
    /// Label of the root's key pair in the token
    #[arg(long, value_name = "LABEL", default_value = DEFAULT_KEY_LABEL)]
    hsm_key_label: String,
}

/// The intermediate: where its key lives and what to call it.
#[derive(Debug, Clone, Args)]
struct IntermediateArgs {
    /// Write the intermediate's chain (intermediate, then root; PEM) to this file, e.g. for
    /// --fileca-cert
    #[arg(long, value_name = "FILE")]
    intermediate_out: Option<PathBuf>,
    /// Common name of the intermediate (the rest of its subject is the root's)
    #[arg(long, value_name = "NAME", default_value = DEFAULT_INTERMEDIATE_CN)]
    intermediate_common_name: String,
    /// Label of the intermediate's key pair in a token (generated there if absent)
    #[arg(
        long,
        value_name = "LABEL",
        requires = "intermediate_id",
        conflicts_with = "intermediate_key_file"
    )]
    intermediate_key_label: Option<String>,
    /// CKA_ID the intermediate's certificate (and a generated key) gets in its token
    #[arg(long, value_name = "ID", requires = "intermediate_key_label")]
    intermediate_id: Option<String>,
    /// The intermediate's token, when it is not the root's (crypto11 JSON)
    #[arg(long, value_name = "FILE", requires = "intermediate_key_label")]
    intermediate_pkcs11_config_path: Option<PathBuf>,
    /// File holding the user PIN of the intermediate's token, when its config has no Pin
    /// [default: $FULCIO_PKCS11_PIN]
    #[arg(
        long,
        value_name = "FILE",
        requires = "intermediate_pkcs11_config_path"
    )]
    intermediate_pkcs11_pin_file: Option<PathBuf>,
    /// Generate the intermediate's key into this new file instead (encrypted PKCS#8, mode
    /// 0600, never overwritten), for --ca fileca
    #[arg(
        long,
        value_name = "FILE",
        requires_all = ["intermediate_key_password_file", "intermediate_out"]
    )]
    intermediate_key_file: Option<PathBuf>,
    /// File holding the password that encrypts --intermediate-key-file
    #[arg(long, value_name = "FILE", requires = "intermediate_key_file")]
    intermediate_key_password_file: Option<PathBuf>,
    /// Type of a generated intermediate key
    #[arg(long, value_enum, default_value_t = KeyType::P384)]
    intermediate_key_type: KeyType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HsmKind {
    /// SoftHSM2 or any token that stores certificates
    Softhsm,
    /// AWS CloudHSM: no certificate is stored in the token (keep the files)
    Aws,
}

/// CA key types (the certificate specification recommends P-384 or RSA-4096 for a root).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum KeyType {
    /// ECDSA P-256
    P256,
    /// ECDSA P-384
    P384,
    /// RSA 3072
    Rsa3072,
    /// RSA 4096
    Rsa4096,
}

impl KeyType {
    fn kind(self) -> KeyKind {
        match self {
            KeyType::P256 => KeyKind::EcdsaP256,
            KeyType::P384 => KeyKind::EcdsaP384,
            KeyType::Rsa3072 => KeyKind::Rsa3072,
            KeyType::Rsa4096 => KeyKind::Rsa4096,
        }
    }

    fn file_algorithm(self) -> KeyAlgorithm {
        match self {
            KeyType::P256 => KeyAlgorithm::P256,
            KeyType::P384 => KeyAlgorithm::P384,
            KeyType::Rsa3072 => KeyAlgorithm::Rsa3072,
            KeyType::Rsa4096 => KeyAlgorithm::Rsa4096,
        }
    }
}

/// Runs `fulcio createca`.
pub fn main(args: CreateCaArgs) -> ExitCode {
    let runtime = match crate::new_runtime(false) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let result = match args.command.clone() {
        Some(CreateCaCommand::Intermediate(sub)) => runtime.block_on(run_intermediate(*sub)),
        None => runtime.block_on(run_root(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("Error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// An opened token with the names to report it by.
struct OpenToken {
    token: Arc<Pkcs11Token>,
    config: Pkcs11Config,
}

impl OpenToken {
    fn open(path: &Path, pin_file: Option<&Path>) -> Result<Self, String> {
        let config = Pkcs11Config::load(path, pin_file).map_err(|e| e.to_string())?;
        let token = Pkcs11Token::open(&config).map_err(|e| e.to_string())?;
        Ok(Self { token, config })
    }

    fn label(&self) -> &str {
        &self.config.token_label
    }

    fn refuse_existing_certificate(&self, id: &str, flag: &str) -> Result<(), String> {
        match self.token.find_certificate(id.as_bytes()) {
            Ok(None) => Ok(()),
            Ok(Some(_)) => Err(format!(
                "certificate already exists with this ID: token {:?} has a certificate with \
                 ID {id:?}; choose another {flag}",
                self.label()
            )),
            Err(e) => Err(format!(
                "looking for a certificate with ID {id:?} in token {:?}: {e}",
                self.label()
            )),
        }
    }

    fn signer(&self, key_label: &str, hint: &str) -> Result<Pkcs11Signer, String> {
        self.token
            .signer(key_label)
            .map_err(|e| format!("{e}{hint}"))
    }

    fn store(&self, id: &str, label: &str, der: &[u8]) -> Result<(), String> {
        self.token
            .store_certificate(id.as_bytes(), label, der)
            .map_err(|e| {
                format!(
                    "storing the certificate with ID {id:?} in token {:?}: {e}",
                    self.label()
                )
            })
    }
}

/// Where the intermediate's key is, once its token is open or its file checked.
enum IntermediatePlan {
    Token {
        /// `None`: the root's token.
        token: Option<OpenToken>,
        label: String,
        id: String,
        /// Whether the token keeps certificates (not AWS CloudHSM).
        store: bool,
    },
    File {
        key_file: PathBuf,
        password: Zeroizing<String>,
        out: PathBuf,
    },
}

fn required_root_id(token: &TokenArgs) -> Result<&str, String> {
    token
        .hsm_caroot_id
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| "--hsm-caroot-id must be set (and not empty)".to_owned())
}

async fn run_root(args: CreateCaArgs) -> Result<(), String> {
    let root_id = required_root_id(&args.token)?;
    let key_label = args.token.hsm_key_label.as_str();
    let store_root = args.token.hsm == HsmKind::Softhsm;
    if !store_root && args.out.is_none() {
        eprintln!("WARNING: --out is not set. Root CA will not be saved.");
    }
    let wants_intermediate = args.intermediate.intermediate_key_label.is_some()
        || args.intermediate.intermediate_key_file.is_some();
    if !wants_intermediate && args.intermediate.intermediate_out.is_some() {
        return Err(
            "--intermediate-out needs --intermediate-key-label or --intermediate-key-file".into(),
        );
    }

    let root_token = OpenToken::open(
        &args.token.pkcs11_config_path,
        args.token.pkcs11_pin_file.as_deref(),
    )?;
    root_token.refuse_existing_certificate(root_id, "--hsm-caroot-id")?;
    let plan = if wants_intermediate {
        Some(plan_intermediate(
            &args.intermediate,
            &root_token,
            root_id,
            key_label,
            None,
            args.token.hsm,
        )?)
    } else {
        None
    };

    if args.generate_key {
        root_token
            .token
            .generate_key_pair(key_label, root_id.as_bytes(), args.key_type.kind())
            .map_err(|e| {
                format!(
                    "generating the root key pair {key_label:?} in token {:?}: {e}",
                    root_token.label()
                )
            })?;
        eprintln!(
            "generated the key pair {key_label:?} ({}) in token {:?}",
            args.key_type.file_algorithm(),
            root_token.label()
        );
    }
    let hint = if args.generate_key {
        ""
    } else {
        " (create one with --generate-key, or name it with --hsm-key-label)"
    };
    let root_signer = Arc::new(root_token.signer(key_label, hint)?);

    let subject = NameSpec {
        country: non_empty(args.country.as_deref().unwrap_or_default()),
        province: non_empty(args.province.as_deref().unwrap_or_default()),
        locality: non_empty(args.locality.as_deref().unwrap_or_default()),
        street_address: non_empty(args.street_address.as_deref().unwrap_or_default()),
        postal_code: non_empty(args.postal_code.as_deref().unwrap_or_default()),
        organization: non_empty(&args.org),
        common_name: args.common_name.clone().filter(|cn| !cn.is_empty()),
    };
    let now = SystemTime::now();
    let validity = hierarchy::calendar_years(now, ROOT_YEARS)
        .map_err(|e| format!("the root's validity: {e}"))?;
    let root = hierarchy::self_signed_root(root_signer.as_ref(), &subject, now, validity)
        .await
        .map_err(|e| format!("signing the root certificate: {e}"))?;
    // The root is checked as `fulcio serve` will check it before anything is kept.
    IssuingKey::new(root_signer.clone(), vec![root.clone()])
        .map_err(|e| format!("the new root does not pass the CA checks: {e}"))?;
    let root_pem = certificate_pem(&root);
    print!("{root_pem}");

    if store_root {
        root_token.store(root_id, key_label, &root)?;
        eprintln!(
            "root CA created in token {:?} with PKCS11 ID {root_id:?}",
            root_token.label()
        );
    } else {
        eprintln!("Running in AWS mode; skipping root CA storage in HSM");
    }
    if let Some(out) = &args.out {
        write_public(out, root_pem.as_bytes())?;
        eprintln!("root CA saved to file: {}", out.display());
    }

    if let Some(plan) = plan {
        make_intermediate(
            plan,
            &args.intermediate,
            &root_token,
            root_signer.as_ref(),
            &root,
            root_id,
            key_label,
            store_root,
        )
        .await?;
    }
    Ok(())
}

async fn run_intermediate(args: IntermediateCommandArgs) -> Result<(), String> {
    let root_id = required_root_id(&args.token)?;
    let key_label = args.token.hsm_key_label.as_str();
    if args.intermediate.intermediate_key_label.is_none()
        && args.intermediate.intermediate_key_file.is_none()
    {
        return Err(
            "fulcio createca intermediate needs --intermediate-key-label (a key in a token) or \
             --intermediate-key-file (a key file)"
                .into(),
        );
    }
    let root_token = OpenToken::open(
        &args.token.pkcs11_config_path,
        args.token.pkcs11_pin_file.as_deref(),
    )?;
    let root = match &args.root_cert {
        Some(path) => read_certificate_pem(path)?,
        None => root_token
            .token
            .find_certificate(root_id.as_bytes())
            .map_err(|e| {
                format!(
                    "looking for the root certificate with ID {root_id:?} in token {:?}: {e}",
                    root_token.label()
                )
            })?
            .ok_or_else(|| {
                format!(
                    "token {:?} has no certificate with ID {root_id:?} (--hsm-caroot-id); make \
                     the root with fulcio createca first, or give it with \
                     --aws-hsm-root-ca-path",
                    root_token.label()
                )
            })?,
    };
    let plan = plan_intermediate(
        &args.intermediate,
        &root_token,
        root_id,
        key_label,
        Some(&root),
        args.token.hsm,
    )?;
    let root_signer = root_token.signer(key_label, "")?;
    let store_root = args.token.hsm == HsmKind::Softhsm && args.root_cert.is_none();
    make_intermediate(
        plan,
        &args.intermediate,
        &root_token,
        &root_signer,
        &root,
        root_id,
        key_label,
        store_root,
    )
    .await
}

/// Opens the intermediate's token and checks that nothing would be overwritten.
fn plan_intermediate(
    args: &IntermediateArgs,
    root_token: &OpenToken,
    root_id: &str,
    root_key_label: &str,
    root: Option<&[u8]>,
    hsm: HsmKind,
) -> Result<IntermediatePlan, String> {
    if let (Some(label), Some(id)) = (&args.intermediate_key_label, &args.intermediate_id) {
        if id.is_empty() {
            return Err("--intermediate-id must not be empty".into());
        }
        if hsm == HsmKind::Aws && args.intermediate_out.is_none() {
            return Err(
                "with --hsm aws the intermediate is not stored in the token: give \
                 --intermediate-out to keep its chain (for --aws-hsm-root-ca-path)"
                    .into(),
            );
        }
        let token = match &args.intermediate_pkcs11_config_path {
            Some(path) => Some(OpenToken::open(
                path,
                args.intermediate_pkcs11_pin_file.as_deref(),
            )?),
            None => {
                if id == root_id {
                    return Err(format!(
                        "--intermediate-id {id:?} is the root's --hsm-caroot-id; in the same \
                         token the two certificates need different IDs"
                    ));
                }
                if label == root_key_label {
                    return Err(format!(
                        "--intermediate-key-label {label:?} is the root's key label; the \
                         intermediate needs a key of its own"
                    ));
                }
                None
            }
        };
        if let Some(own) = &token {
            own.refuse_existing_certificate(id, "--intermediate-id")?;
            // The root is copied into the intermediate's token under its own ID.
            match own.token.find_certificate(root_id.as_bytes()) {
                Ok(None) => {}
                Ok(Some(existing)) if Some(existing.as_slice()) == root => {}
                Ok(Some(_)) => {
                    return Err(format!(
                        "token {:?} already has another certificate with the root's ID \
                         {root_id:?}",
                        own.label()
                    ));
                }
                Err(e) => {
                    return Err(format!(
                        "looking for a certificate with ID {root_id:?} in token {:?}: {e}",
                        own.label()
                    ));
                }
            }
        } else {
            root_token.refuse_existing_certificate(id, "--intermediate-id")?;
        }
        Ok(IntermediatePlan::Token {
            token,
            label: label.clone(),
            id: id.clone(),
            store: hsm == HsmKind::Softhsm,
        })
    } else if let (Some(key_file), Some(password_file), Some(out)) = (
        &args.intermediate_key_file,
        &args.intermediate_key_password_file,
        &args.intermediate_out,
    ) {
        if key_file.exists() {
            return Err(format!(
                "{} already exists: the key file is never overwritten",
                key_file.display()
            ));
        }
        Ok(IntermediatePlan::File {
            key_file: key_file.clone(),
            password: crate::private_file::read_password(password_file)?,
            out: out.clone(),
        })
    } else {
        Err(
            "the intermediate needs --intermediate-key-label with --intermediate-id, or \
             --intermediate-key-file with --intermediate-key-password-file and \
             --intermediate-out"
                .into(),
        )
    }
}

/// Issues the intermediate under `root` and keeps it where `plan` says.
#[allow(clippy::too_many_arguments)]
async fn make_intermediate(
    plan: IntermediatePlan,
    args: &IntermediateArgs,
    root_token: &OpenToken,
    root_signer: &Pkcs11Signer,
    root: &[u8],
    root_id: &str,
    root_key_label: &str,
    root_in_token: bool,
) -> Result<(), String> {
    use x509_parser::prelude::FromDer as _;
    let (_, parsed) = x509_parser::certificate::X509Certificate::from_der(root)
        .map_err(|e| format!("the root certificate does not parse: {e}"))?;
    let mut subject = NameSpec::from_name_der(parsed.subject().as_raw())
        .map_err(|e| format!("the root's subject: {e}"))?;
    subject.common_name = Some(args.intermediate_common_name.clone());
    let now = SystemTime::now();
    let validity = hierarchy::calendar_years(now, INTERMEDIATE_YEARS)
        .map_err(|e| format!("the intermediate's validity: {e}"))?;
    let chain_pem =
        |intermediate: &[u8]| format!("{}{}", certificate_pem(intermediate), certificate_pem(root));

    match plan {
        IntermediatePlan::Token {
            token,
            label,
            id,
            store,
        } => {
            let own_token = token.is_some();
            let token = token.as_ref().unwrap_or(root_token);
            let signer = match token.token.signer(&label) {
                Ok(signer) => signer,
                Err(_) => {
                    token
                        .token
                        .generate_key_pair(&label, id.as_bytes(), args.intermediate_key_type.kind())
                        .map_err(|e| {
                            format!(
                                "generating the intermediate key pair {label:?} in token {:?}: \
                                 {e}",
                                token.label()
                            )
                        })?;
                    eprintln!(
                        "generated the key pair {label:?} ({}) in token {:?}",
                        args.intermediate_key_type.file_algorithm(),
                        token.label()
                    );
                    token.signer(&label, "")?
                }
            };
            let intermediate = hierarchy::intermediate(
                root_signer,
                root,
                signer.public_key_der(),
                &subject,
                now,
                validity,
            )
            .await
            .map_err(|e| format!("signing the intermediate certificate: {e}"))?;
            IssuingKey::new(Arc::new(signer), vec![intermediate.clone(), root.to_vec()])
                .map_err(|e| format!("the new intermediate does not pass the CA checks: {e}"))?;
            print!("{}", certificate_pem(&intermediate));
            if store {
                token.store(&id, &label, &intermediate)?;
                eprintln!(
                    "intermediate CA created in token {:?} with PKCS11 ID {id:?}",
                    token.label()
                );
            } else {
                eprintln!("Running in AWS mode; skipping intermediate CA storage in HSM");
            }
            // `fulcio serve --ca pkcs11ca` builds the chain from the certificates in the
            // intermediate's token: the root goes there too, unless it is already (checked
            // before anything was made: absent, or this very root).
            if store && (own_token || !root_in_token) {
                let present = token
                    .token
                    .find_certificate(root_id.as_bytes())
                    .map_err(|e| format!("looking for the root in {:?}: {e}", token.label()))?;
                if present.is_none() {
                    token.store(root_id, root_key_label, root)?;
                    eprintln!(
                        "root CA copied to token {:?} with PKCS11 ID {root_id:?}",
                        token.label()
                    );
                }
            }
            if let Some(out) = &args.intermediate_out {
                write_public(out, chain_pem(&intermediate).as_bytes())?;
                eprintln!("intermediate chain saved to file: {}", out.display());
            }
        }
        IntermediatePlan::File {
            key_file,
            password,
            out,
        } => {
            let key = SigningKey::generate(args.intermediate_key_type.file_algorithm())
                .map_err(|e| format!("generating the intermediate key: {e}"))?;
            let intermediate = hierarchy::intermediate(
                root_signer,
                root,
                key.public_key_der(),
                &subject,
                now,
                validity,
            )
            .await
            .map_err(|e| format!("signing the intermediate certificate: {e}"))?;
            let key_pem = key
                .to_pkcs8_pem(Some(password.as_str()))
                .map_err(|e| format!("encrypting the intermediate key: {e}"))?;
            print!("{}", certificate_pem(&intermediate));
            crate::private_file::write_new(&key_file, key_pem.as_bytes())?;
            write_public(&out, chain_pem(&intermediate).as_bytes())?;
            // Read back the way `fulcio serve --ca fileca` will.
            ca::fileca::load(&out, &key_file, password.as_str()).map_err(|e| {
                format!(
                    "{} and {} do not load as a file CA: {e}",
                    out.display(),
                    key_file.display()
                )
            })?;
            eprintln!(
                "intermediate key saved to {} and its chain to {}",
                key_file.display(),
                out.display()
            );
        }
    }
    Ok(())
}

fn non_empty(value: &str) -> Vec<String> {
    if value.is_empty() {
        Vec::new()
    } else {
        vec![value.to_owned()]
    }
}

/// PEM as Go's `pem.Encode` writes a certificate.
fn certificate_pem(der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new("CERTIFICATE", der), config)
}

fn read_certificate_pem(path: &Path) -> Result<Vec<u8>, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let block = pem::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if block.tag() != "CERTIFICATE" {
        return Err(format!(
            "{}: a {} PEM block, not a CERTIFICATE",
            path.display(),
            block.tag()
        ));
    }
    Ok(block.into_contents())
}

fn write_public(path: &Path, contents: &[u8]) -> Result<(), String> {
    fulcio_server::files::write_atomically(path, contents, 0o644)
        .map_err(|e| format!("writing {}: {e}", path.display()))
}
