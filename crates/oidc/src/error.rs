//! Errors of configuration loading and token verification.

/// The configuration file could not be read, parsed or validated (fatal at start-up).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Reading the file failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Neither JSON nor YAML parsing succeeded.
    #[error("parsing configuration: {0}")]
    Parse(String),
    /// The configuration parsed but breaks a rule of Fulcio spec §3.1.
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// One issuer, meta-issuer or CI provider breaks a rule of Fulcio spec §3.1.
    #[error("invalid configuration for {entry:?}: {rule}")]
    Rule {
        /// The map key of the offending entry (issuer URL, meta-issuer pattern or CI provider
        /// name).
        entry: String,
        /// The rule it breaks.
        rule: ConfigRule,
    },
}

/// The validation rules of the identity configuration (Fulcio spec §3.1). Messages follow
/// upstream's so operators recognise them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigRule {
    /// `CACert` holds no parsable PEM certificate.
    #[error("failed to parse CA certificate")]
    CaCert,
    /// `IssuerClaim` is set on an issuer whose type is not `email`.
    #[error("only email issuers can use issuer claim mapping")]
    IssuerClaimNotEmail,
    /// A `spiffe` issuer without `SPIFFETrustDomain`.
    #[error("spiffe issuer must have SPIFFETrustDomain set")]
    SpiffeTrustDomainMissing,
    /// `SPIFFETrustDomain` is not a valid trust domain name or SPIFFE ID.
    #[error("spiffe trust domain is invalid")]
    SpiffeTrustDomainInvalid,
    /// A `uri` or `username` issuer without `SubjectDomain` (the field names the type).
    #[error("{0} issuer must have SubjectDomain set")]
    SubjectDomainMissing(&'static str),
    /// A `uri` issuer's `SubjectDomain` has no scheme.
    #[error("SubjectDomain for uri must contain scheme")]
    UriSubjectDomainWithoutScheme,
    /// A `username` issuer's `SubjectDomain` has a scheme.
    #[error("SubjectDomain for username should not contain scheme")]
    UsernameSubjectDomainWithScheme,
    /// A `uri` or `username` issuer whose `IssuerURL` has no scheme (the field names the type).
    #[error("issuer for {0} must contain scheme")]
    IssuerUrlWithoutScheme(&'static str),
    /// `IssuerURL` or `SubjectDomain` does not parse as a URL.
    #[error("{field} does not parse as a URL: {detail}")]
    BadUrl {
        /// `IssuerURL` or `SubjectDomain`.
        field: &'static str,
        /// Why.
        detail: String,
    },
    /// `uri` issuer: the schemes of `SubjectDomain` and `IssuerURL` differ.
    #[error("subject ({subject}) and issuer ({issuer}) URI schemes do not match")]
    SchemeMismatch {
        /// The subject domain's scheme.
        subject: String,
        /// The issuer URL's scheme.
        issuer: String,
    },
    /// A host name has fewer than two DNS labels.
    #[error("URI hostname too short: {0}")]
    HostnameTooShort(String),
    /// The last two DNS labels of the subject domain and the issuer differ.
    #[error("hostname top-level and second-level domains do not match: {subject}, {issuer}")]
    DomainMismatch {
        /// The subject domain's host.
        subject: String,
        /// The issuer's host.
        issuer: String,
    },
    /// Neither an explicit `ChallengeClaim` nor a known type gives a challenge claim.
    #[error("issuer missing challenge claim")]
    MissingChallengeClaim,
    /// A meta-issuer of type `spiffe`.
    #[error("SPIFFE meta issuers not supported")]
    SpiffeMetaIssuer,
    /// A `ci-provider` issuer whose `CIProvider` has no `CIIssuerMetadata` entry.
    #[error("ci-provider {0:?} has no CIIssuerMetadata entry")]
    UnknownCiProvider(String),
    /// A meta-issuer pattern that does not compile to a regular expression.
    #[error("meta issuer pattern does not compile: {0}")]
    MetaPattern(String),
    /// A CI provider template does not parse.
    #[error("template {field}: {detail}")]
    Template {
        /// The template's field name (JSON spelling, e.g. `BuildSignerURI`, or
        /// `SubjectAlternativeNameTemplate`).
        field: &'static str,
        /// Why it does not parse.
        detail: String,
    },
}

/// Why an identity token was refused. Every variant maps to the same client message
/// ("There was an error processing the identity token"); the detail is for the server log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    /// Not three base64url parts, or the payload is not a JSON object with a string `iss`.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// No configured issuer or meta-issuer matches `iss`.
    #[error("unknown issuer {0:?}")]
    UnknownIssuer(String),
    /// Discovery or JWKS could not be fetched or parsed.
    #[error("issuer {issuer}: {detail}")]
    Discovery {
        /// The issuer URL.
        issuer: String,
        /// What went wrong.
        detail: String,
    },
    /// The signature, algorithm or key id did not check out.
    #[error("signature: {0}")]
    Signature(String),
    /// A registered claim (`iss`, `aud`, `exp`, `nbf`) failed its check.
    #[error("claims: {0}")]
    Claims(String),
}
