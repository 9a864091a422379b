//! ID token verification against an issuer's discovery document and JWKS (Fulcio spec §3.2).
//!
//! One [`TokenVerifier`] serves every issuer of a configuration. Per concrete issuer URL it
//! keeps the discovery result and key set, fetched lazily (or by [`TokenVerifier::prefetch`]
//! at start-up) and shared read-mostly. Fetches of one issuer are single-flight: concurrent
//! verifications wait on one request. A failed discovery is remembered for
//! [`VerifierOptions::discovery_retry_interval`] so a dead issuer is not hammered, and a key
//! set is re-fetched for an unknown `kid` at most once per
//! [`VerifierOptions::jwks_refresh_interval`].
//!
//! Verifiers of `OIDCIssuers` live as long as the [`TokenVerifier`]; those of meta-issuer
//! matches sit in a least-recently-used cache of [`VerifierOptions::meta_cache_capacity`]
//! entries (upstream: a 2Q cache of 100).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::claims::{ClaimRules, check_claims};
use crate::config::{IssuerType, OidcIssuer};
use crate::discovery::{
    ClusterCredentials, IssuerHttp, build_client, discover, fetch_keys, pem_certificates,
};
use crate::error::{ConfigError, OidcError};
use crate::jwk::{KeyVerifyError, VerificationKey};
use crate::jws::{CompactJws, JwsAlgorithm, issuer_claim};
use crate::meta_issuer::{IssuerIndex, IssuerMatch, IssuerMatchKind};
use arc_swap::ArcSwapOption;

/// The in-cluster issuer whose presence in the configuration turns on the Kubernetes
/// credentials of Fulcio spec §3.2.4.
pub const KUBERNETES_ISSUER_URL: &str = "https://kubernetes.default.svc";

/// A token whose signature, issuer, audience and lifetime have been checked.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    /// The `iss` claim (equal to the discovery document's `issuer`).
    pub issuer: String,
    /// The matched issuer's configuration. For a meta-issuer match this is a copy of the
    /// pattern's configuration with `issuer_url` set to the concrete `iss`.
    pub config: OidcIssuer,
    /// Every claim of the payload, as sent.
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// Knobs of the verifier; `Default` gives upstream's values.
#[derive(Debug, Clone)]
pub struct VerifierOptions {
    /// Timeout for discovery and JWKS requests (upstream: 10 s).
    pub http_timeout: std::time::Duration,
    /// Leeway for `exp` (go-oidc: none, so the default is 0). `nbf` has its own,
    /// [`VerifierOptions::nbf_leeway`].
    pub leeway: std::time::Duration,
    /// Minimum interval between two JWKS refreshes of one issuer caused by unknown `kid`s.
    pub jwks_refresh_interval: std::time::Duration,
    /// Capacity of the cache of verifiers for meta-issuer matches (upstream: 100).
    pub meta_cache_capacity: usize,
    /// How far in the future `nbf` may be (go-oidc: 5 min, for clock skew).
    pub nbf_leeway: Duration,
    /// How long a failed discovery is remembered before an issuer is asked again.
    pub discovery_retry_interval: Duration,
    /// Largest discovery or JWKS body accepted.
    pub max_response_bytes: usize,
    /// Cluster CA added for in-cluster Kubernetes issuers (upstream: `/var/run/fulcio/ca.crt`).
    pub kubernetes_ca_path: PathBuf,
    /// Service-account token sent to in-cluster Kubernetes issuers (upstream:
    /// `/var/run/secrets/kubernetes.io/serviceaccount/token`).
    pub kubernetes_token_path: PathBuf,
}

impl Default for VerifierOptions {
    fn default() -> Self {
        VerifierOptions {
            http_timeout: Duration::from_secs(10),
            leeway: Duration::ZERO,
            jwks_refresh_interval: Duration::from_secs(10),
            meta_cache_capacity: 100,
            nbf_leeway: Duration::from_secs(5 * 60),
            discovery_retry_interval: Duration::from_secs(5),
            max_response_bytes: 1 << 20,
            kubernetes_ca_path: PathBuf::from("/var/run/fulcio/ca.crt"),
            kubernetes_token_path: PathBuf::from(
                "/var/run/secrets/kubernetes.io/serviceaccount/token",
            ),
        }
    }
}

/// Verifies ID tokens for every issuer of a [`crate::FulcioConfig`]: discovery and JWKS are
/// fetched lazily, cached, and refreshed (rate-limited, single-flight) on an unknown `kid`.
#[derive(Debug)]
pub struct TokenVerifier {
    config: std::sync::Arc<crate::FulcioConfig>,
    options: Arc<VerifierOptions>,
    index: IssuerIndex,
    /// Shared by issuers that need no special TLS roots or credentials.
    default_client: reqwest::Client,
    /// Whether the configuration names the in-cluster issuer (Fulcio spec §3.2.4).
    has_cluster_issuer: bool,
    /// One verifier per `OIDCIssuers` key.
    fixed: HashMap<String, Arc<IssuerVerifier>>,
    meta: parking_lot::Mutex<LruCache>,
}

impl TokenVerifier {
    /// Builds a verifier; does no network I/O.
    pub fn new(
        config: std::sync::Arc<crate::FulcioConfig>,
        options: VerifierOptions,
    ) -> Result<Self, crate::ConfigError> {
        let index = IssuerIndex::new(&config)?;
        let default_client = build_client(options.http_timeout, Vec::new())
            .map_err(|e| ConfigError::Invalid(format!("building the OIDC HTTP client: {e}")))?;
        let mut verifier = TokenVerifier {
            has_cluster_issuer: index.find(KUBERNETES_ISSUER_URL).is_some(),
            config,
            options: Arc::new(options),
            index,
            default_client,
            fixed: HashMap::new(),
            meta: parking_lot::Mutex::new(LruCache::default()),
        };
        let fixed = verifier
            .config
            .oidc_issuers
            .iter()
            .map(|(url, issuer)| {
                let found = IssuerMatch {
                    config: issuer.clone(),
                    kind: IssuerMatchKind::Exact,
                };
                (
                    url.clone(),
                    Arc::new(verifier.issuer_verifier_for(url, &found)),
                )
            })
            .collect();
        verifier.fixed = fixed;
        Ok(verifier)
    }

    /// The configuration this verifier serves.
    pub fn config(&self) -> &crate::FulcioConfig {
        &self.config
    }

    /// The options this verifier runs with.
    pub fn options(&self) -> &VerifierOptions {
        &self.options
    }

    /// The issuer configuration a token with this `iss` would be verified against
    /// (Fulcio spec §3.2.2), without any network I/O.
    pub fn find_issuer(&self, iss: &str) -> Option<IssuerMatch> {
        self.index.find(iss)
    }

    /// Fetches discovery and JWKS of every concrete issuer, logging (not failing on) errors.
    /// A failed issuer is retried when a token for it arrives (Fulcio spec §3.2.3).
    pub async fn prefetch(&self) {
        let fetches = self.fixed.values().map(|verifier| async move {
            match verifier.provider().await {
                Ok(provider) => tracing::debug!(
                    issuer = %verifier.issuer_url,
                    keys = provider.keys.len(),
                    "OIDC issuer ready"
                ),
                Err(error) => tracing::warn!(
                    issuer = %verifier.issuer_url,
                    %error,
                    "OIDC issuer unavailable at start-up; will retry on demand"
                ),
            }
        });
        futures::future::join_all(fetches).await;
    }

    /// Verifies `token` (compact JWS) and returns its claims and matched issuer.
    ///
    /// Order of checks (Fulcio spec §3.2): three parts and an unverified `iss`; issuer
    /// look-up; registered claims (before any network I/O, as go-oidc checks claims before
    /// keys); algorithm (one of [`JwsAlgorithm`] and advertised by discovery); signature by a
    /// JWKS key with the token's `kid` (any compatible key when the token has none).
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, crate::OidcError> {
        let jws = CompactJws::parse(token)?;
        let iss = issuer_claim(&jws.claims)?;
        let found = self
            .index
            .find(&iss)
            .ok_or_else(|| OidcError::UnknownIssuer(iss.clone()))?;

        if found.config.client_id.is_empty() {
            return Err(OidcError::Claims(format!(
                "issuer {iss:?} has no client ID configured"
            )));
        }
        check_claims(
            &jws.claims,
            &ClaimRules {
                issuer_url: &iss,
                client_id: &found.config.client_id,
                now: SystemTime::now(),
                exp_leeway: self.options.leeway,
                nbf_leeway: self.options.nbf_leeway,
            },
        )?;

        let alg = JwsAlgorithm::from_name(&jws.alg).ok_or_else(|| {
            OidcError::Signature(format!(
                "issuer {iss}: algorithm {:?} is not accepted",
                jws.alg
            ))
        })?;

        let verifier = match found.kind {
            IssuerMatchKind::Exact => match self.fixed.get(&iss) {
                Some(verifier) => verifier.clone(),
                None => Arc::new(self.issuer_verifier_for(&iss, &found)),
            },
            IssuerMatchKind::Meta(_) => {
                let mut cache = self.meta.lock();
                cache.get_or_insert(&iss, self.options.meta_cache_capacity, || {
                    Arc::new(self.issuer_verifier_for(&iss, &found))
                })
            }
        };
        verifier
            .verify_signature(alg, jws.kid.as_deref(), jws.signing_input, &jws.signature)
            .await?;

        Ok(VerifiedToken {
            issuer: iss,
            config: found.config,
            claims: jws.claims,
        })
    }

    /// Builds the verifier of one concrete issuer, with the HTTP client its configuration
    /// calls for.
    fn issuer_verifier_for(&self, iss: &str, found: &IssuerMatch) -> IssuerVerifier {
        IssuerVerifier {
            issuer_url: iss.to_owned(),
            http: self.http_for(iss, found),
            options: self.options.clone(),
            provider: ArcSwapOption::empty(),
            fetch: tokio::sync::Mutex::new(FetchState::default()),
        }
    }

    fn http_for(&self, iss: &str, found: &IssuerMatch) -> Result<IssuerHttp, String> {
        let mut roots = pem_certificates(&found.config.ca_cert);
        // Fulcio spec §3.2.4: only Kubernetes issuers configured by exact URL (or the
        // in-cluster URL itself) get the cluster's CA and credentials; a meta-issuer match is
        // anyone's cluster and must never see our service-account token.
        let trusted_cluster = found.kind == IssuerMatchKind::Exact || iss == KUBERNETES_ISSUER_URL;
        let cluster = if found.config.issuer_type == IssuerType::Kubernetes
            && self.has_cluster_issuer
            && trusted_cluster
        {
            match std::fs::read_to_string(&self.options.kubernetes_ca_path) {
                Ok(pem) => roots.extend(pem_certificates(&pem)),
                Err(error) => tracing::warn!(
                    issuer = %iss,
                    path = %self.options.kubernetes_ca_path.display(),
                    %error,
                    "cluster CA not readable; using the platform roots"
                ),
            }
            if !self.options.kubernetes_token_path.exists() {
                tracing::warn!(
                    issuer = %iss,
                    path = %self.options.kubernetes_token_path.display(),
                    "Kubernetes token file can't be found"
                );
            }
            Some(ClusterCredentials {
                token_path: self.options.kubernetes_token_path.clone(),
            })
        } else {
            None
        };
        let client = if roots.is_empty() {
            self.default_client.clone()
        } else {
            build_client(self.options.http_timeout, roots)?
        };
        IssuerHttp::new(client, iss, cluster, self.options.max_response_bytes)
    }
}

/// Discovery result and keys of one issuer.
#[derive(Debug)]
struct Provider {
    jwks_uri: String,
    algorithms: Vec<JwsAlgorithm>,
    keys: Vec<VerificationKey>,
    /// Bumped on every key refresh, so a waiter can tell that someone else refreshed.
    generation: u64,
}

/// Bookkeeping of fetches, guarded by the single-flight lock.
#[derive(Debug, Default)]
struct FetchState {
    /// The last failed discovery, replayed to callers until the retry interval passes.
    last_failure: Option<(Instant, String)>,
    /// The last key refresh caused by an unknown `kid` (the initial fetch does not count).
    last_refresh: Option<Instant>,
}

/// Verification state of one concrete issuer URL.
#[derive(Debug)]
struct IssuerVerifier {
    issuer_url: String,
    /// An issuer whose HTTP client could not be built fails every verification.
    http: Result<IssuerHttp, String>,
    options: Arc<VerifierOptions>,
    /// Read without locking on the hot path.
    provider: ArcSwapOption<Provider>,
    /// Held across fetches: concurrent callers wait for one request instead of each sending
    /// their own.
    fetch: tokio::sync::Mutex<FetchState>,
}

/// What one pass over the key set found.
enum KeySearch {
    Verified,
    /// No key has the token's `kid`, or (without a `kid`) none verified: a refreshed key set
    /// may have it.
    NoKey,
    /// A definite failure.
    Refused(String),
}

impl IssuerVerifier {
    fn discovery_error(&self, detail: String) -> OidcError {
        OidcError::Discovery {
            issuer: self.issuer_url.clone(),
            detail,
        }
    }

    fn http(&self) -> Result<&IssuerHttp, OidcError> {
        self.http
            .as_ref()
            .map_err(|e| self.discovery_error(e.clone()))
    }

    /// The issuer's discovery result and keys, fetching them if needed.
    async fn provider(&self) -> Result<Arc<Provider>, OidcError> {
        if let Some(provider) = self.provider.load_full() {
            return Ok(provider);
        }
        let mut state = self.fetch.lock().await;
        // Another caller may have fetched while we waited for the lock.
        if let Some(provider) = self.provider.load_full() {
            return Ok(provider);
        }
        if let Some((at, detail)) = &state.last_failure
            && at.elapsed() < self.options.discovery_retry_interval
        {
            return Err(self.discovery_error(format!("{detail} (not retried yet)")));
        }
        match self.fetch_provider().await {
            Ok(provider) => {
                let provider = Arc::new(provider);
                self.provider.store(Some(provider.clone()));
                state.last_failure = None;
                Ok(provider)
            }
            Err(detail) => {
                tracing::warn!(issuer = %self.issuer_url, error = %detail, "OIDC discovery failed");
                state.last_failure = Some((Instant::now(), detail.clone()));
                Err(self.discovery_error(detail))
            }
        }
    }

    async fn fetch_provider(&self) -> Result<Provider, String> {
        let http = self.http.as_ref().map_err(Clone::clone)?;
        let discovery = discover(http, &self.issuer_url).await?;
        let keys = fetch_keys(http, &discovery.jwks_uri).await?;
        Ok(Provider {
            jwks_uri: discovery.jwks_uri,
            algorithms: discovery.algorithms,
            keys,
            generation: 0,
        })
    }

    /// Re-fetches the key set after `seen` turned out to lack the token's key, unless someone
    /// already did, or the last refresh is too recent.
    async fn refresh_keys(
        &self,
        seen: &Provider,
        kid: Option<&str>,
    ) -> Result<Arc<Provider>, OidcError> {
        let mut state = self.fetch.lock().await;
        if let Some(current) = self.provider.load_full()
            && current.generation != seen.generation
        {
            return Ok(current);
        }
        if let Some(last) = state.last_refresh
            && last.elapsed() < self.options.jwks_refresh_interval
        {
            return Err(OidcError::Signature(format!(
                "issuer {}: no key for kid {kid:?}; key set refreshed too recently to retry",
                self.issuer_url
            )));
        }
        state.last_refresh = Some(Instant::now());
        tracing::info!(issuer = %self.issuer_url, ?kid, "unknown key id; refreshing JWKS");
        let keys = fetch_keys(self.http()?, &seen.jwks_uri)
            .await
            .map_err(|detail| self.discovery_error(detail))?;
        let refreshed = Arc::new(Provider {
            jwks_uri: seen.jwks_uri.clone(),
            algorithms: seen.algorithms.clone(),
            keys,
            generation: seen.generation + 1,
        });
        self.provider.store(Some(refreshed.clone()));
        Ok(refreshed)
    }

    async fn verify_signature(
        &self,
        alg: JwsAlgorithm,
        kid: Option<&str>,
        signing_input: &str,
        signature: &[u8],
    ) -> Result<(), OidcError> {
        let provider = self.provider().await?;
        if !provider.algorithms.contains(&alg) {
            return Err(OidcError::Signature(format!(
                "issuer {}: algorithm {alg} is not advertised in discovery",
                self.issuer_url
            )));
        }
        let refused = |detail: String| {
            OidcError::Signature(format!(
                "issuer {}: kid {kid:?}, alg {alg}: {detail}",
                self.issuer_url
            ))
        };
        match search_keys(&provider.keys, alg, kid, signing_input, signature) {
            KeySearch::Verified => return Ok(()),
            KeySearch::Refused(detail) => return Err(refused(detail)),
            KeySearch::NoKey => {}
        }
        let provider = self.refresh_keys(&provider, kid).await?;
        match search_keys(&provider.keys, alg, kid, signing_input, signature) {
            KeySearch::Verified => Ok(()),
            KeySearch::Refused(detail) => Err(refused(detail)),
            KeySearch::NoKey => Err(refused("no matching key in the refreshed key set".into())),
        }
    }
}

/// go-oidc's key choice: with a `kid`, the keys carrying it; without, every key.
fn search_keys(
    keys: &[VerificationKey],
    alg: JwsAlgorithm,
    kid: Option<&str>,
    signing_input: &str,
    signature: &[u8],
) -> KeySearch {
    let mut candidates = keys
        .iter()
        .filter(|key| kid.is_none() || key.kid.as_deref() == kid)
        .peekable();
    if candidates.peek().is_none() {
        return KeySearch::NoKey;
    }
    let mut wrong_type = true;
    for key in candidates {
        match key.verify(alg, signing_input.as_bytes(), signature) {
            Ok(()) => return KeySearch::Verified,
            Err(KeyVerifyError::BadSignature) => wrong_type = false,
            Err(KeyVerifyError::WrongKeyType) => {}
        }
    }
    match (kid, wrong_type) {
        (Some(_), true) => KeySearch::Refused("the key with this kid is of another type".into()),
        (Some(_), false) => KeySearch::Refused("signature does not verify".into()),
        // Without a kid a rotated-in key could be the one; look again (rate-limited).
        (None, _) => KeySearch::NoKey,
    }
}

/// A small least-recently-used map of meta-issuer verifiers.
#[derive(Debug, Default)]
struct LruCache {
    entries: HashMap<String, (Arc<IssuerVerifier>, u64)>,
    clock: u64,
}

impl LruCache {
    fn get_or_insert(
        &mut self,
        key: &str,
        capacity: usize,
        make: impl FnOnce() -> Arc<IssuerVerifier>,
    ) -> Arc<IssuerVerifier> {
        self.clock += 1;
        let now = self.clock;
        if let Some((verifier, used)) = self.entries.get_mut(key) {
            *used = now;
            return verifier.clone();
        }
        let verifier = make();
        if capacity == 0 {
            return verifier;
        }
        if self.entries.len() >= capacity {
            // Linear scan: the capacity is small (100) and misses are rare.
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(key.to_owned(), (verifier.clone(), now));
        verifier
    }

    #[cfg(test)]
    fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dummy_verifier(name: &str) -> Arc<IssuerVerifier> {
        Arc::new(IssuerVerifier {
            issuer_url: name.to_owned(),
            http: Err("unused".into()),
            options: Arc::new(VerifierOptions::default()),
            provider: ArcSwapOption::empty(),
            fetch: tokio::sync::Mutex::new(FetchState::default()),
        })
    }

    #[test]
    fn lru_evicts_the_least_recently_used() {
        let mut cache = LruCache::default();
        for name in ["a", "b", "c"] {
            cache.get_or_insert(name, 3, || dummy_verifier(name));
        }
        // Touch "a" so "b" becomes the oldest.
        let a = cache.get_or_insert("a", 3, || dummy_verifier("other"));
        assert_eq!(a.issuer_url, "a");
        cache.get_or_insert("d", 3, || dummy_verifier("d"));
        assert!(cache.contains("a"));
        assert!(!cache.contains("b"));
        assert!(cache.contains("c"));
        assert!(cache.contains("d"));
        assert_eq!(cache.entries.len(), 3);
    }

    #[test]
    fn lru_of_capacity_zero_caches_nothing() {
        let mut cache = LruCache::default();
        cache.get_or_insert("a", 0, || dummy_verifier("a"));
        assert!(!cache.contains("a"));
    }

    #[test]
    fn defaults_are_upstreams() {
        let options = VerifierOptions::default();
        assert_eq!(options.http_timeout, Duration::from_secs(10));
        assert_eq!(options.leeway, Duration::ZERO);
        assert_eq!(options.nbf_leeway, Duration::from_secs(300));
        assert_eq!(options.meta_cache_capacity, 100);
    }
}
