//! The files `fulcio dev` writes for clients: the CA chain and CT log key as PEM, the Sigstore
//! trust files (`trusted_root.json`, `signing_config.json`, and `trust_config.json` holding
//! both, sigstore-python's `--trust-config`), and a sigstore-python script that gets a
//! certificate without Rekor.

use std::{
    path::Path,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use fulcio_client::trust::{
    CaSpec, ClientTrustConfig, CtLogSpec, SigningConfig, TimeRange, Timestamp, TrustedRoot,
};

use super::{DevError, state::write_file};

/// The chain in use, issuing certificate first, as PEM.
pub const CA_CHAIN_FILE: &str = "ca-chain.pem";
/// The CT log's public key (PEM SPKI).
pub const CT_LOG_KEY_FILE: &str = "ctlog-public-key.pem";
/// The trusted root.
pub const TRUSTED_ROOT_FILE: &str = "trusted_root.json";
/// The signing config.
pub const SIGNING_CONFIG_FILE: &str = "signing_config.json";
/// Both, as a client trust config.
pub const TRUST_CONFIG_FILE: &str = "trust_config.json";
/// The identity configuration the CA runs with, for reference.
pub const IDENTITY_CONFIG_FILE: &str = "identity-config.json";
/// The sigstore-python script.
pub const PYTHON_SCRIPT_FILE: &str = "sigstore_python_request.py";

/// Who the signing config says runs the services.
const OPERATOR: &str = "fulcio dev (local)";

/// What the trust files describe.
#[derive(Debug)]
pub struct Instance<'a> {
    /// The CA's HTTP base URL.
    pub fulcio_url: &'a str,
    /// The email issuer's URL.
    pub oidc_url: &'a str,
    /// The CA chain, DER, issuing certificate first.
    pub chain: &'a [Vec<u8>],
    /// The CT log's base URL.
    pub ct_log_url: &'a str,
    /// The CT log key's DER SPKI.
    pub ct_log_spki: &'a [u8],
}

/// Writes the PEM files and the three trust files into `dir`. Everything is trusted from the
/// issuing certificate's notBefore on, with no end.
pub fn write_trust_files(dir: &Path, instance: &Instance<'_>) -> Result<(), DevError> {
    let chain_pem: String = instance
        .chain
        .iter()
        .map(|der| pem::encode(&pem::Pem::new("CERTIFICATE", der.clone())))
        .collect();
    write_file(&dir.join(CA_CHAIN_FILE), chain_pem.as_bytes(), 0o644)?;
    let key_pem = pem::encode(&pem::Pem::new("PUBLIC KEY", instance.ct_log_spki.to_vec()));
    write_file(&dir.join(CT_LOG_KEY_FILE), key_pem.as_bytes(), 0o644)?;

    let issuing = instance
        .chain
        .first()
        .ok_or_else(|| DevError::Ca("the CA has an empty chain".to_owned()))?;
    let valid_for = TimeRange {
        start: Timestamp(not_before(issuing)?),
        end: None,
    };
    let trusted_root = TrustedRoot::for_instance(
        &CaSpec {
            url: instance.fulcio_url.to_owned(),
            chain_der: instance.chain.to_vec(),
            valid_for,
        },
        &[CtLogSpec {
            base_url: instance.ct_log_url.to_owned(),
            public_key_der: instance.ct_log_spki.to_vec(),
            valid_for,
        }],
    )
    .map_err(|e| DevError::Trust(format!("building {TRUSTED_ROOT_FILE}: {e}")))?;
    let signing_config = SigningConfig::for_instance(
        instance.fulcio_url,
        Some(instance.oidc_url),
        valid_for,
        OPERATOR,
    );
    let both = ClientTrustConfig::new(trusted_root.clone(), signing_config.clone());
    write_file(
        &dir.join(TRUSTED_ROOT_FILE),
        trusted_root.to_json_pretty().as_bytes(),
        0o644,
    )?;
    write_file(
        &dir.join(SIGNING_CONFIG_FILE),
        signing_config.to_json_pretty().as_bytes(),
        0o644,
    )?;
    write_file(
        &dir.join(TRUST_CONFIG_FILE),
        both.to_json_pretty().as_bytes(),
        0o644,
    )
}

/// The certificate's notBefore.
fn not_before(der: &[u8]) -> Result<SystemTime, DevError> {
    let (_, certificate) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| DevError::Ca(format!("the CA certificate does not parse: {e}")))?;
    let seconds = certificate.validity().not_before.timestamp();
    u64::try_from(seconds)
        .ok()
        .and_then(|s| UNIX_EPOCH.checked_add(Duration::from_secs(s)))
        .ok_or_else(|| {
            DevError::Ca(format!(
                "the CA certificate's notBefore ({seconds}) is before 1970"
            ))
        })
}

/// Writes the sigstore-python script.
pub fn write_python_script(dir: &Path) -> Result<(), DevError> {
    write_file(
        &dir.join(PYTHON_SCRIPT_FILE),
        PYTHON_SCRIPT.as_bytes(),
        0o755,
    )
}

/// sigstore-python's `sign` always uploads to Rekor, which `fulcio dev` does not run; this
/// script uses the parts of sigstore-python that talk to Fulcio and check the SCT.
const PYTHON_SCRIPT: &str = r#"#!/usr/bin/env python3
"""Get a certificate from `fulcio dev` with sigstore-python's own client code.

Written by `fulcio dev`. `sigstore sign` always uploads to a Rekor, which `fulcio dev` does not
run, so this script uses the pieces of sigstore-python that talk to Fulcio: it loads the trust
config next to it (ClientTrustConfig; only its trusted root is used, since sigstore-python's
SigningConfig insists on a Rekor), sends a CSR for a fresh P-256 key with the identity token
(FulcioClient), and checks the certificate's embedded SCT against the CT log key of the trusted
root (verify_sct) and its chain against the trusted root's CA.

Usage: python3 sigstore_python_request.py TOKEN [CERT_OUT.pem]
"""

import json
import pathlib
import sys
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, ObjectIdentifier
from sigstore._internal.fulcio.client import FulcioClient
from sigstore._internal.sct import verify_sct
from sigstore._internal.trust import KeyringPurpose
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken

HERE = pathlib.Path(__file__).resolve().parent
ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")

# The generated root's subject has C=USA, as upstream's ephemeral CA writes it; cryptography
# warns that a country name should have two letters. Harmless here.
warnings.filterwarnings("ignore", message="Attribute's length must be")


def der_utf8(value: bytes) -> str:
    """The text of a DER UTF8String (short or long length form)."""
    length = value[1]
    start = 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(value[2 : 2 + count], "big")
        start = 2 + count
    return value[start : start + length].decode()


def identities(cert: x509.Certificate) -> list[str]:
    san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    found: list[str] = []
    for name in san:
        if isinstance(name, x509.OtherName):
            found.append(der_utf8(name.value))
        else:
            found.append(str(name.value))
    return found


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    state = json.loads((HERE / "state.json").read_text())
    trust = ClientTrustConfig.from_json((HERE / "trust_config.json").read_text())
    trusted_root = trust.trusted_root
    token = IdentityToken(sys.argv[1])

    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    response = FulcioClient(state["fulcio_url"]).signing_cert.post(csr, token)
    cert, chain = response.cert, response.chain

    verify_sct(cert, chain, trusted_root.ct_keyring(KeyringPurpose.SIGN))
    trusted = {c.public_bytes(serialization.Encoding.DER) for c in trusted_root.get_fulcio_certs()}
    if chain[-1].public_bytes(serialization.Encoding.DER) not in trusted:
        print("the certificate's root is not in the trusted root", file=sys.stderr)
        return 1
    issuer = cert.extensions.get_extension_for_oid(ISSUER_V2).value.value

    print("identity:", ", ".join(identities(cert)))
    print("issuer:", der_utf8(issuer))
    print("SCT verified against", HERE / "trust_config.json")
    if len(sys.argv) == 3:
        pathlib.Path(sys.argv[2]).write_bytes(
            b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [cert, *chain])
        )
        print("certificate chain written to", sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
"#;
