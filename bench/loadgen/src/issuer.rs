//! `fulcio-loadgen issuer`: a fake OIDC issuer (test-support's) kept running so a server can
//! verify tokens against its discovery document and JWKS, plus the Fulcio config that trusts
//! it and a token for the load run.

use std::{
    path::Path,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use test_support::fake_issuer::{FakeIssuer, SigningAlg};

use crate::{cli::IssuerArgs, error::LoadgenError};

/// The issuer's JWS algorithm by name.
fn signing_alg(name: &str) -> Result<SigningAlg, LoadgenError> {
    SigningAlg::ALL
        .into_iter()
        .find(|alg| alg.name() == name)
        .ok_or_else(|| LoadgenError::Usage(format!("unknown --alg {name:?}")))
}

/// A Fulcio config (spec §3.1, JSON form) with one `email` issuer.
pub fn fulcio_config(issuer_url: &str) -> serde_json::Value {
    serde_json::json!({
        "OIDCIssuers": {
            issuer_url: {
                "IssuerURL": issuer_url,
                "ClientID": "sigstore",
                "Type": "email",
            }
        }
    })
}

/// Writes through a temporary file and a rename, so a reader never sees half a token.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), LoadgenError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).map_err(|e| LoadgenError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| LoadgenError::io(path, e))
}

fn mint(issuer: &FakeIssuer, email: &str, lifetime: Duration) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    issuer.token(serde_json::json!({
        "sub": email,
        "email": email,
        "email_verified": true,
        "exp": now + lifetime.as_secs(),
    }))
}

/// Runs the issuer until SIGINT/SIGTERM, rewriting the token at half its lifetime.
pub async fn serve(args: IssuerArgs) -> Result<(), LoadgenError> {
    let alg = signing_alg(&args.alg)?;
    let issuer = FakeIssuer::start_with(&[alg]).await;
    let url = issuer.url();
    let config = fulcio_config(&url);
    let config = serde_json::to_vec_pretty(&config)
        .map_err(|e| LoadgenError::Usage(format!("config JSON: {e}")))?;
    write_atomically(&args.write_config, &config)?;
    write_atomically(
        &args.write_token,
        mint(&issuer, &args.email, args.token_lifetime).as_bytes(),
    )?;
    println!("issuer {url} ({})", alg.name());
    println!("config {}", args.write_config.display());
    println!("token  {}", args.write_token.display());

    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| LoadgenError::Usage(format!("installing SIGTERM handler: {e}")))?;
    let refresh = (args.token_lifetime / 2).max(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
            () = tokio::time::sleep(refresh) => {
                write_atomically(
                    &args.write_token,
                    mint(&issuer, &args.email, args.token_lifetime).as_bytes(),
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenInfo;

    #[test]
    fn config_names_the_issuer_as_email() {
        let config = fulcio_config("http://127.0.0.1:1234");
        let issuer = &config["OIDCIssuers"]["http://127.0.0.1:1234"];
        assert_eq!(issuer["Type"], "email");
        assert_eq!(issuer["ClientID"], "sigstore");
        assert_eq!(issuer["IssuerURL"], "http://127.0.0.1:1234");
    }

    #[test]
    fn algorithms_are_looked_up_by_jose_name() {
        assert_eq!(signing_alg("ES256").unwrap(), SigningAlg::ES256);
        assert!(signing_alg("HS256").is_err());
    }

    #[tokio::test]
    async fn minted_token_carries_the_email_and_lifetime() {
        let issuer = FakeIssuer::start().await;
        let token = mint(&issuer, "x@example.com", Duration::from_secs(7200));
        let info = TokenInfo::parse(&token).unwrap();
        assert_eq!(info.challenge, "x@example.com");
        assert_eq!(info.alg, "RS256");
    }
}
