//! The registered-claim checks of an ID token (Fulcio spec §3.2.3, as go-oidc performs them).
//!
//! * `iss` equals the issuer URL;
//! * `aud` (a string or an array of strings) contains the configured client ID;
//! * `exp` is required and not before now (go-oidc allows no leeway; ours is
//!   [`crate::VerifierOptions::leeway`], 0 by default);
//! * `nbf`, if present, is at most [`crate::VerifierOptions::nbf_leeway`] (go-oidc: 5 min)
//!   in the future;
//! * `iat` is not checked, only required to be a number when present.
//!
//! go-oidc decodes the claims it knows into typed fields first, so a claim of the wrong JSON
//! type (e.g. `"exp": "tomorrow"`, `"sub": 5`) fails the token; we do the same.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::error::OidcError;

/// What the claims are checked against.
pub(crate) struct ClaimRules<'a> {
    pub issuer_url: &'a str,
    pub client_id: &'a str,
    pub now: SystemTime,
    pub exp_leeway: Duration,
    pub nbf_leeway: Duration,
}

pub(crate) fn check_claims(
    claims: &Map<String, Value>,
    rules: &ClaimRules<'_>,
) -> Result<(), OidcError> {
    check_types(claims)?;

    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if iss != rules.issuer_url {
        return Err(OidcError::Claims(format!(
            "token issued by {iss:?}, expected {:?}",
            rules.issuer_url
        )));
    }

    let audience = audience(claims)?;
    if !audience.contains(&rules.client_id) {
        return Err(OidcError::Claims(format!(
            "audience {audience:?} does not contain {:?}",
            rules.client_id
        )));
    }

    let now = seconds_since_epoch(rules.now);
    // A missing `exp` is go-oidc's zero time, long expired.
    let exp = claims
        .get("exp")
        .map(numeric_date)
        .transpose()?
        .ok_or_else(|| OidcError::Claims("token has no `exp`".to_owned()))?;
    if (exp as f64) + rules.exp_leeway.as_secs_f64() < now {
        return Err(OidcError::Claims(format!("token expired at {exp}")));
    }

    if let Some(nbf) = claims.get("nbf").filter(|v| !v.is_null()) {
        let nbf = numeric_date(nbf)?;
        if now + rules.nbf_leeway.as_secs_f64() < nbf as f64 {
            return Err(OidcError::Claims(format!("token not valid before {nbf}")));
        }
    }
    Ok(())
}

/// The claims go-oidc unmarshals into typed fields, with the JSON types they must have.
fn check_types(claims: &Map<String, Value>) -> Result<(), OidcError> {
    for name in ["iss", "sub", "nonce", "at_hash"] {
        match claims.get(name) {
            None | Some(Value::Null) | Some(Value::String(_)) => {}
            Some(_) => {
                return Err(OidcError::Malformed(format!(
                    "claim `{name}` must be a string"
                )));
            }
        }
    }
    if let Some(iat) = claims.get("iat") {
        numeric_date(iat)?;
    }
    check_distributed_claims(claims)
}

/// OpenID Connect Core §5.6.2: every `_claim_names` entry must name a `_claim_sources` entry.
fn check_distributed_claims(claims: &Map<String, Value>) -> Result<(), OidcError> {
    let malformed = |why: &str| Err(OidcError::Malformed(format!("distributed claims: {why}")));
    let names = match claims.get("_claim_names") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(names)) => names,
        Some(_) => return malformed("`_claim_names` must be an object"),
    };
    let sources = match claims.get("_claim_sources") {
        None | Some(Value::Null) => None,
        Some(Value::Object(sources)) => Some(sources),
        Some(_) => return malformed("`_claim_sources` must be an object"),
    };
    for source in names.values() {
        let Some(source) = source.as_str().filter(|s| !s.is_empty()) else {
            return malformed("a claim name has no source");
        };
        if !sources.is_some_and(|s| s.contains_key(source)) {
            return malformed("a claim source does not exist");
        }
    }
    Ok(())
}

fn audience(claims: &Map<String, Value>) -> Result<Vec<&str>, OidcError> {
    match claims.get("aud") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(aud)) => Ok(vec![aud.as_str()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| OidcError::Malformed("claim `aud` must hold strings".to_owned()))
            })
            .collect(),
        Some(_) => Err(OidcError::Malformed(
            "claim `aud` must be a string or an array of strings".to_owned(),
        )),
    }
}

/// A NumericDate (RFC 7519 §2) truncated to whole seconds, as go-oidc does.
fn numeric_date(value: &Value) -> Result<i64, OidcError> {
    let bad = || OidcError::Malformed(format!("time claim {value} is not a representable number"));
    let Value::Number(n) = value else {
        return Err(bad());
    };
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    let f = n.as_f64().ok_or_else(bad)?;
    // `as` saturates; values outside i64 are refused rather than silently clamped.
    if !f.is_finite() || f >= i64::MAX as f64 || f < i64::MIN as f64 {
        return Err(bad());
    }
    Ok(f.trunc() as i64)
}

fn seconds_since_epoch(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;

    fn rules() -> ClaimRules<'static> {
        ClaimRules {
            issuer_url: "https://issuer.example.com",
            client_id: "sigstore",
            now: UNIX_EPOCH + Duration::from_millis(NOW * 1000 + 500),
            exp_leeway: Duration::ZERO,
            nbf_leeway: Duration::from_secs(300),
        }
    }

    fn check(extra: Value) -> Result<(), OidcError> {
        let mut claims = json!({
            "iss": "https://issuer.example.com",
            "aud": "sigstore",
            "exp": NOW + 60,
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        check_claims(claims.as_object().unwrap(), &rules())
    }

    #[test]
    fn accepts_a_good_token() {
        assert!(check(json!({})).is_ok());
        assert!(check(json!({"aud": ["other", "sigstore"]})).is_ok());
        assert!(check(json!({"exp": (NOW + 60) as f64 + 0.9})).is_ok());
        assert!(check(json!({"iat": NOW + 100_000, "sub": "x", "nonce": "n"})).is_ok());
    }

    #[test]
    fn issuer_and_audience() {
        assert!(matches!(
            check(json!({"iss": "https://issuer.example.com/"})),
            Err(OidcError::Claims(_))
        ));
        assert!(matches!(
            check(json!({"aud": "other"})),
            Err(OidcError::Claims(_))
        ));
        assert!(matches!(
            check(json!({"aud": []})),
            Err(OidcError::Claims(_))
        ));
        assert!(matches!(
            check(json!({"aud": null})),
            Err(OidcError::Claims(_))
        ));
        assert!(matches!(
            check(json!({"aud": ["sigstore", 1]})),
            Err(OidcError::Malformed(_))
        ));
        assert!(matches!(
            check(json!({"aud": {"a": "sigstore"}})),
            Err(OidcError::Malformed(_))
        ));
    }

    #[test]
    fn expiry_has_no_leeway() {
        // exp equal to the current whole second is already before "now" (x.5 s).
        assert!(matches!(
            check(json!({"exp": NOW})),
            Err(OidcError::Claims(_))
        ));
        assert!(check(json!({"exp": NOW + 1})).is_ok());
        assert!(matches!(
            check(json!({"exp": NOW - 1})),
            Err(OidcError::Claims(_))
        ));
        assert!(matches!(
            check(json!({"exp": null})),
            Err(OidcError::Claims(_))
        ));
        assert!(matches!(
            check(json!({"exp": "never"})),
            Err(OidcError::Malformed(_))
        ));
        assert!(matches!(
            check(json!({"exp": 1e300})),
            Err(OidcError::Malformed(_))
        ));

        let mut lenient = rules();
        lenient.exp_leeway = Duration::from_secs(10);
        let claims =
            json!({"iss": "https://issuer.example.com", "aud": "sigstore", "exp": NOW - 5});
        assert!(check_claims(claims.as_object().unwrap(), &lenient).is_ok());
    }

    #[test]
    fn not_before_allows_five_minutes() {
        assert!(check(json!({"nbf": NOW + 299})).is_ok());
        assert!(check(json!({"nbf": NOW + 300})).is_ok());
        assert!(matches!(
            check(json!({"nbf": NOW + 301})),
            Err(OidcError::Claims(_))
        ));
        assert!(check(json!({"nbf": null})).is_ok());
        assert!(matches!(
            check(json!({"nbf": "soon"})),
            Err(OidcError::Malformed(_))
        ));
    }

    #[test]
    fn typed_claims_must_have_their_types() {
        for bad in [
            json!({"sub": 5}),
            json!({"nonce": []}),
            json!({"iat": "yesterday"}),
            json!({"_claim_names": {"groups": "src1"}}),
            json!({"_claim_names": {"groups": "src1"}, "_claim_sources": {"src2": {}}}),
            json!({"_claim_names": {"groups": ""}, "_claim_sources": {}}),
            json!({"_claim_names": []}),
        ] {
            assert!(
                matches!(check(bad.clone()), Err(OidcError::Malformed(_))),
                "{bad}"
            );
        }
        assert!(
            check(json!({"_claim_names": {"g": "s"}, "_claim_sources": {"s": {"endpoint": "x"}}}))
                .is_ok()
        );
    }
}
