//! Step 3: the leaf's embedded SCTs against the trusted root's CT logs (RFC 6962 §3.3, §5.2).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use ct_core::{
    CtError, LogPublicKey, SignedCertificateTimestamp, SignedEntry,
    certificate::{embedded_scts, precert_entry_from_certificate},
    log_key::log_id_of,
};

use super::{VerifiedSct, VerifyError, VerifyOptions, show_time};
use crate::trust::{TransparencyLogInstance, TrustedRoot};

/// Verifies every embedded SCT of `leaf_der` (issued by `issuer_der`) and returns those that
/// verify. With `options.require_sct`, none verifying is an error naming what was wrong with
/// each.
pub(super) fn verify_embedded(
    leaf_der: &[u8],
    issuer_der: &[u8],
    root: &TrustedRoot,
    options: &VerifyOptions,
) -> Result<Vec<VerifiedSct>, VerifyError> {
    let scts = match embedded_scts(leaf_der) {
        Ok(scts) => scts,
        Err(CtError::MissingExtension(_)) => Vec::new(),
        Err(e) => {
            return Err(VerifyError::Sct(format!(
                "the certificate's SCT list extension does not decode: {e}"
            )));
        }
    };
    if scts.is_empty() {
        return if options.require_sct {
            Err(VerifyError::Sct(
                "the certificate has no embedded SCT (extension 1.3.6.1.4.1.11129.2.4.2)"
                    .to_owned(),
            ))
        } else {
            Ok(Vec::new())
        };
    }
    let entry = match precert_entry_from_certificate(leaf_der, issuer_der) {
        Ok(entry) => SignedEntry::Precert(entry),
        Err(e) => {
            return Err(VerifyError::Sct(format!(
                "cannot rebuild the precertificate entry the SCTs sign: {e}"
            )));
        }
    };

    let mut verified = Vec::new();
    let mut failures = Vec::new();
    let total = scts.len();
    for (index, sct) in scts.iter().enumerate() {
        match verify_one(sct, &entry, root, options.at) {
            Ok(good) => verified.push(good),
            Err(reason) if total == 1 => failures.push(reason),
            Err(reason) => failures.push(format!("SCT {} of {total}: {reason}", index + 1)),
        }
    }
    if verified.is_empty() && options.require_sct {
        return Err(VerifyError::Sct(failures.join("; ")));
    }
    Ok(verified)
}

/// One SCT: its log, found by log ID among the trusted root's CT logs; its signature over
/// `entry`; its timestamp inside the log key's validity and not after `at`.
fn verify_one(
    sct: &SignedCertificateTimestamp,
    entry: &SignedEntry,
    root: &TrustedRoot,
    at: SystemTime,
) -> Result<VerifiedSct, String> {
    let log = find_log(&sct.log_id, root)?;
    let name = log_name(log);
    let spki = log
        .public_key_der()
        .ok_or_else(|| format!("CT log {name} of the trusted root has no public key"))?;
    let key = LogPublicKey::from_spki_der(spki)
        .map_err(|e| format!("the key of CT log {name} is not usable: {e}"))?;
    key.verify_sct(sct, entry).map_err(|e| match e {
        CtError::BadSignature => format!(
            "the SCT from CT log {name}: signature does not verify over this certificate's \
             precertificate entry"
        ),
        other => format!("the SCT from CT log {name} does not verify: {other}"),
    })?;
    let timestamp = UNIX_EPOCH + Duration::from_millis(sct.timestamp);
    if let Some(valid_for) = &log.public_key.valid_for
        && !valid_for.contains(timestamp)
    {
        let end = valid_for
            .end
            .map_or_else(|| "open-ended".to_owned(), |end| show_time(end.0));
        return Err(format!(
            "the SCT from CT log {name} has timestamp {}, outside the validFor of the log's key \
             ({} to {end})",
            show_time(timestamp),
            show_time(valid_for.start.0)
        ));
    }
    if timestamp > at {
        return Err(format!(
            "the SCT from CT log {name} has timestamp {}, after the verification time {}",
            show_time(timestamp),
            show_time(at)
        ));
    }
    Ok(VerifiedSct {
        log_id: sct.log_id,
        log_url: log.base_url.clone(),
        timestamp,
    })
}

/// The CT log whose key hashes to `log_id`, provided its declared `logId.keyId` is that hash
/// too. A log that declares `log_id` for a key hashing to something else is reported as such.
fn find_log<'a>(
    log_id: &[u8; 32],
    root: &'a TrustedRoot,
) -> Result<&'a TransparencyLogInstance, String> {
    let key_hash = |log: &TransparencyLogInstance| log.public_key_der().map(log_id_of);
    let by_key = root
        .ctlogs
        .iter()
        .find(|log| key_hash(log).as_ref() == Some(log_id));
    let by_declared_id = root
        .ctlogs
        .iter()
        .find(|log| log.log_id.key_id.0.as_slice() == log_id.as_slice());
    match (by_key, by_declared_id) {
        (Some(log), _) if log.log_id.key_id.0.as_slice() == log_id.as_slice() => Ok(log),
        (Some(log), _) | (None, Some(log)) => Err(format!(
            "CT log {} of the trusted root has logId.keyId {}, but the SHA-256 of its key is {}: \
             a log ID must be the SHA-256 of the log's key",
            log_name(log),
            BASE64.encode(&log.log_id.key_id.0),
            key_hash(log).map_or_else(|| "(no key)".to_owned(), |hash| BASE64.encode(hash))
        )),
        (None, None) => Err(format!(
            "the SCT's log ID {} matches no CT log in the trusted root",
            BASE64.encode(log_id)
        )),
    }
}

fn log_name(log: &TransparencyLogInstance) -> String {
    if log.base_url.is_empty() {
        format!("with log ID {}", BASE64.encode(&log.log_id.key_id.0))
    } else {
        log.base_url.clone()
    }
}
