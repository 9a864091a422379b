//! `--ca ephemeralca`: an in-memory self-signed root, new at every start (Fulcio spec §6).

use std::{sync::Arc, time::SystemTime};

use der::Encode;

use crate::{
    CaError, InMemorySigner, IssuingKey, KeyKind, Signer, certificate,
    hierarchy::{self, NameSpec},
};

/// The root's subject as upstream's template has it (C, ST, L, street, postalCode, O); written
/// as Go's `pkix.Name.ToRDNSequence` does, one single-valued RDN each, all PrintableString.
fn subject() -> NameSpec {
    NameSpec {
        country: vec!["USA".into()],
        province: vec!["WA".into()],
        locality: vec!["Kirkland".into()],
        street_address: vec!["767 6th St S".into()],
        postal_code: vec!["98033".into()],
        organization: vec!["sigstore".into()],
        common_name: None,
    }
}

/// A fresh root key of `kind` and its self-signed certificate (10 years, subject as upstream).
///
/// Upstream always uses ECDSA P-256 here; other kinds are for tests and `fulcio dev`.
pub fn generate(kind: KeyKind) -> Result<IssuingKey, CaError> {
    from_signer(InMemorySigner::generate(kind)?)
}

/// The same root for a key the caller already holds (`fulcio dev` keeps its key on disk so the
/// root survives restarts): a self-signed certificate valid from now for ten years.
pub fn from_signer(signer: InMemorySigner) -> Result<IssuingKey, CaError> {
    let root = self_signed_root(&signer, SystemTime::now())?;
    IssuingKey::new(Arc::new(signer), vec![root])
}

/// Upstream's ephemeral root: subject as [`subject`], valid from `now` for ten calendar years,
/// with the extensions of every root ([`hierarchy::root_tbs`]). Signed synchronously, so
/// building a CA needs no runtime.
pub(crate) fn self_signed_root(
    signer: &InMemorySigner,
    now: SystemTime,
) -> Result<Vec<u8>, CaError> {
    let validity = hierarchy::calendar_years(now, 10)?;
    let tbs_der = hierarchy::root_tbs(signer, &subject(), now, validity)?
        .to_der()
        .map_err(|e| CaError::Encoding(e.to_string()))?;
    let signature = signer.sign_sync(&tbs_der)?;
    certificate::assemble(&tbs_der, signer.algorithm(), &signature)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use der::DateTime;

    use super::*;

    /// The root's notAfter for a notBefore `unix_seconds`, as [`self_signed_root`] computes it.
    fn ten_years_later(unix_seconds: Duration) -> Duration {
        unix_seconds + hierarchy::calendar_years(UNIX_EPOCH + unix_seconds, 10).unwrap()
    }

    #[test]
    fn subject_is_upstreams_rdn_sequence() {
        let name = subject().to_der().unwrap();
        // SEQUENCE { SET { SEQUENCE { 2.5.4.6, PrintableString "USA" } }, … }
        let expected = "3068\
            310c300a06035504061303555341\
            310b3009060355040813025741\
            3111300f060355040713084b69726b6c616e64\
            311530130603550409130c3736372036746820537420 53"
            .replace(' ', "");
        assert!(
            hex::encode(&name).starts_with(&expected),
            "{}",
            hex::encode(&name)
        );
        let text = String::from_utf8_lossy(&name);
        for value in ["USA", "WA", "Kirkland", "767 6th St S", "98033", "sigstore"] {
            assert!(text.contains(value));
        }
    }

    #[test]
    fn ten_calendar_years() {
        // 2024-02-29T12:00:00Z → 2034-03-01T12:00:00Z, as Go normalises.
        let leap_day = DateTime::new(2024, 2, 29, 12, 0, 0)
            .unwrap()
            .unix_duration();
        let later = DateTime::from_unix_duration(ten_years_later(leap_day)).unwrap();
        assert_eq!(
            (later.year(), later.month(), later.day(), later.hour()),
            (2034, 3, 1, 12)
        );
        let ordinary = DateTime::new(2026, 8, 5, 1, 2, 3).unwrap().unix_duration();
        let later = DateTime::from_unix_duration(ten_years_later(ordinary)).unwrap();
        assert_eq!(
            (later.year(), later.month(), later.day(), later.seconds()),
            (2036, 8, 5, 3)
        );
    }
}
