//! The crypto limit (DESIGN.md "Concurrency and speed"): how many certificates per second this
//! machine could issue if the server did nothing but the public-key operations one certificate
//! needs, with aws-lc-rs on every core.
//!
//! Each operation runs on `cores` threads at once, and each thread's own CPU time is read from
//! `/proc/thread-self/schedstat` (ns). The cost of an operation is CPU time ÷ operations, so the
//! limit holds on a shared machine too, where other processes take some of the wall time: it is
//! what the cores could do if they were ours. The wall-clock rate is reported beside it. The
//! per-certificate limit is cores / Σ(count × CPU cost) over the operations a certificate needs:
//! - token verification (the token's JWS algorithm; the JWKS key is parsed once, as servers cache it),
//! - proof-of-possession verification (P-256, key parsed per request, as it is new each time),
//! - CA signatures (precertificate and final certificate; one without CT),
//! - the SCT signature (P-256; only with CT).

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use aws_lc_rs::{
    encoding::AsDer,
    rand::SystemRandom,
    rsa::KeySize,
    signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, ParsedPublicKey, RsaKeyPair},
};

use crate::{cli::LimitArgs, error::LoadgenError};

/// One measured operation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OpRate {
    /// What was measured.
    pub name: String,
    /// Mean CPU time of one operation, µs.
    pub micros_per_op: f64,
    /// Operations per second all cores could do (cores × 10⁶ ÷ µs per op).
    pub per_second: f64,
    /// Operations per second observed on the wall clock (lower when the machine is shared).
    pub wall_per_second: f64,
}

/// The measured limit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CryptoLimit {
    /// Threads used (= available cores).
    pub threads: usize,
    /// Token algorithm measured.
    pub token_alg: String,
    /// CA key measured.
    pub ca_key: String,
    /// Per-operation rates.
    pub ops: Vec<OpRate>,
    /// Certificates/s with CT: token verify + PoP verify + 2 CA signatures + 1 SCT signature.
    pub certs_per_second_with_ct: f64,
    /// Certificates/s without CT: token verify + PoP verify + 1 CA signature.
    pub certs_per_second_without_ct: f64,
    /// CPU time of one certificate's crypto with CT, µs.
    pub cpu_micros_per_cert_with_ct: f64,
    /// CPU time of one certificate's crypto without CT, µs.
    pub cpu_micros_per_cert_without_ct: f64,
}

/// A representative JWS signing input (header + typical claims, base64url): ~700 bytes.
const TOKEN_SIGNING_INPUT: [u8; 700] = [b'e'; 700];
/// A representative leaf TBSCertificate size.
const TBS: [u8; 800] = [0x30; 800];
/// A representative SCT signed-data size (precert entry).
const SCT_INPUT: [u8; 850] = [0x00; 850];
const CHALLENGE: &[u8] = b"loadgen@example.com";

type Op = Box<dyn Fn() -> bool + Sync>;

fn crypto(what: &str) -> LoadgenError {
    LoadgenError::Crypto(what.to_owned())
}

/// Token verification for a JWS `alg`, with a key generated here.
fn token_verify_op(alg: &str) -> Result<Op, LoadgenError> {
    let rng = SystemRandom::new();
    let msg = TOKEN_SIGNING_INPUT;
    let (verify_alg, public, sig): (
        &'static dyn signature::VerificationAlgorithm,
        Vec<u8>,
        Vec<u8>,
    ) = match alg {
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => {
            let key = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| crypto("RSA keygen"))?;
            let (enc, ver): (
                &'static dyn signature::RsaEncoding,
                &'static dyn signature::VerificationAlgorithm,
            ) = match alg {
                "RS256" => (
                    &signature::RSA_PKCS1_SHA256,
                    &signature::RSA_PKCS1_2048_8192_SHA256,
                ),
                "RS384" => (
                    &signature::RSA_PKCS1_SHA384,
                    &signature::RSA_PKCS1_2048_8192_SHA384,
                ),
                "RS512" => (
                    &signature::RSA_PKCS1_SHA512,
                    &signature::RSA_PKCS1_2048_8192_SHA512,
                ),
                "PS256" => (
                    &signature::RSA_PSS_SHA256,
                    &signature::RSA_PSS_2048_8192_SHA256,
                ),
                "PS384" => (
                    &signature::RSA_PSS_SHA384,
                    &signature::RSA_PSS_2048_8192_SHA384,
                ),
                _ => (
                    &signature::RSA_PSS_SHA512,
                    &signature::RSA_PSS_2048_8192_SHA512,
                ),
            };
            let mut sig = vec![0; key.public_modulus_len()];
            key.sign(enc, &rng, &msg, &mut sig)
                .map_err(|_| crypto("RSA sign"))?;
            let spki = key
                .public_key()
                .as_der()
                .map_err(|_| crypto("RSA export"))?;
            (ver, spki.as_ref().to_vec(), sig)
        }
        "ES256" | "ES384" | "ES512" => {
            let (sign_alg, ver): (
                &'static signature::EcdsaSigningAlgorithm,
                &'static dyn signature::VerificationAlgorithm,
            ) = match alg {
                "ES256" => (
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &signature::ECDSA_P256_SHA256_FIXED,
                ),
                "ES384" => (
                    &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                    &signature::ECDSA_P384_SHA384_FIXED,
                ),
                _ => (
                    &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
                    &signature::ECDSA_P521_SHA512_FIXED,
                ),
            };
            let key = EcdsaKeyPair::generate(sign_alg).map_err(|_| crypto("EC keygen"))?;
            let sig = key.sign(&rng, &msg).map_err(|_| crypto("EC sign"))?;
            (
                ver,
                key.public_key().as_ref().to_vec(),
                sig.as_ref().to_vec(),
            )
        }
        "EdDSA" => {
            let key = Ed25519KeyPair::generate().map_err(|_| crypto("Ed25519 keygen"))?;
            let sig = key.sign(&msg);
            (
                &signature::ED25519,
                key.public_key().as_ref().to_vec(),
                sig.as_ref().to_vec(),
            )
        }
        other => {
            return Err(LoadgenError::Usage(format!(
                "unknown token algorithm {other:?}"
            )));
        }
    };
    let parsed = ParsedPublicKey::new(verify_alg, public).map_err(|_| crypto("parse token key"))?;
    Ok(Box::new(move || parsed.verify_sig(&msg, &sig).is_ok()))
}

/// PoP verification: a fresh client key is parsed and used once per request.
fn pop_verify_op() -> Result<Op, LoadgenError> {
    let key = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_ASN1_SIGNING)
        .map_err(|_| crypto("P-256 keygen"))?;
    let sig = key
        .sign(&SystemRandom::new(), CHALLENGE)
        .map_err(|_| crypto("P-256 sign"))?
        .as_ref()
        .to_vec();
    let point = key.public_key().as_ref().to_vec();
    Ok(Box::new(move || {
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, &point)
            .verify(CHALLENGE, &sig)
            .is_ok()
    }))
}

fn ecdsa_sign_op(
    alg: &'static signature::EcdsaSigningAlgorithm,
    message: &'static [u8],
) -> Result<Op, LoadgenError> {
    let key = EcdsaKeyPair::generate(alg).map_err(|_| crypto("EC keygen"))?;
    let rng = SystemRandom::new();
    Ok(Box::new(move || key.sign(&rng, message).is_ok()))
}

/// This thread's CPU time so far, ns (first field of `/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Runs `op` on `threads` threads for `duration`; returns (operations, CPU seconds, wall
/// seconds). Without schedstat the wall time of each thread stands in for its CPU time.
fn measure(op: &Op, threads: usize, duration: Duration) -> (u64, f64, f64) {
    let done = AtomicU64::new(0);
    let cpu_ns = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let cpu_before = thread_cpu_ns();
                let wall_before = Instant::now();
                let mut n = 0u64;
                while started.elapsed() < duration {
                    // Count only successes so a broken op cannot look fast.
                    if op() {
                        n += 1;
                    }
                }
                let spent = match (cpu_before, thread_cpu_ns()) {
                    (Some(before), Some(after)) => after.saturating_sub(before),
                    _ => u64::try_from(wall_before.elapsed().as_nanos()).unwrap_or(u64::MAX),
                };
                done.fetch_add(n, Ordering::Relaxed);
                cpu_ns.fetch_add(spent, Ordering::Relaxed);
            });
        }
    });
    (
        done.load(Ordering::Relaxed),
        cpu_ns.load(Ordering::Relaxed) as f64 / 1e9,
        started.elapsed().as_secs_f64(),
    )
}

/// Measures the limit for `token_alg` and `ca_key` over about `duration`.
pub fn measure_limit(
    token_alg: &str,
    ca_key: &str,
    duration: Duration,
) -> Result<CryptoLimit, LoadgenError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ca_alg: &'static signature::EcdsaSigningAlgorithm = match ca_key {
        "p256" => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        "p384" => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        other => {
            return Err(LoadgenError::Usage(format!(
                "unknown --ca-key {other:?} (p256, p384)"
            )));
        }
    };
    let ops: [(String, Op); 4] = [
        (
            format!("token verify ({token_alg})"),
            token_verify_op(token_alg)?,
        ),
        ("PoP verify (P-256)".into(), pop_verify_op()?),
        (format!("CA sign ({ca_key})"), ecdsa_sign_op(ca_alg, &TBS)?),
        (
            "SCT sign (P-256)".into(),
            ecdsa_sign_op(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &SCT_INPUT)?,
        ),
    ];
    let slice = duration / 4;
    let rates: Vec<OpRate> = ops
        .iter()
        .map(|(name, op)| {
            let (count, cpu_seconds, wall_seconds) = measure(op, threads, slice);
            let count = count.max(1) as f64;
            let micros_per_op = cpu_seconds * 1e6 / count;
            OpRate {
                name: name.clone(),
                micros_per_op,
                per_second: threads as f64 * 1e6 / micros_per_op.max(f64::MIN_POSITIVE),
                wall_per_second: count / wall_seconds.max(f64::MIN_POSITIVE),
            }
        })
        .collect();
    // CPU µs one certificate needs.
    let cpu_micros = |counts: [f64; 4]| -> f64 {
        rates
            .iter()
            .zip(counts)
            .map(|(r, c)| c * r.micros_per_op)
            .sum()
    };
    let with_ct = cpu_micros([1.0, 1.0, 2.0, 1.0]);
    let without_ct = cpu_micros([1.0, 1.0, 1.0, 0.0]);
    Ok(CryptoLimit {
        threads,
        token_alg: token_alg.to_owned(),
        ca_key: ca_key.to_owned(),
        certs_per_second_with_ct: threads as f64 * 1e6 / with_ct.max(f64::MIN_POSITIVE),
        certs_per_second_without_ct: threads as f64 * 1e6 / without_ct.max(f64::MIN_POSITIVE),
        cpu_micros_per_cert_with_ct: with_ct,
        cpu_micros_per_cert_without_ct: without_ct,
        ops: rates,
    })
}

/// `fulcio-loadgen limit`.
pub fn command(args: LimitArgs) -> Result<(), LoadgenError> {
    let limit = measure_limit(&args.token_alg, &args.ca_key, args.duration)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&limit).map_err(|e| LoadgenError::Usage(e.to_string()))?
        );
    } else {
        print!("{}", crate::report::limit_text(&limit));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_cpu_time_advances_with_work() {
        let before = thread_cpu_ns().unwrap();
        let op = pop_verify_op().unwrap();
        for _ in 0..50 {
            assert!(op());
        }
        assert!(thread_cpu_ns().unwrap() > before);
    }

    #[test]
    fn every_operation_succeeds() {
        for alg in ["RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA"] {
            assert!(token_verify_op(alg).unwrap()(), "{alg}");
        }
        assert!(pop_verify_op().unwrap()());
        assert!(ecdsa_sign_op(
            &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            &TBS
        )
        .unwrap()());
        assert!(token_verify_op("HS256").is_err());
    }

    #[test]
    fn limit_with_ct_is_below_limit_without() {
        let limit = measure_limit("ES256", "p256", Duration::from_millis(200)).unwrap();
        assert_eq!(limit.ops.len(), 4);
        assert!(
            limit
                .ops
                .iter()
                .all(|op| op.per_second > 0.0 && op.wall_per_second > 0.0)
        );
        // CPU time cannot exceed wall time on `threads` threads, so the CPU-based rate is at
        // least the observed one (within scheduler-tick noise).
        assert!(
            limit
                .ops
                .iter()
                .all(|op| op.per_second >= 0.9 * op.wall_per_second)
        );
        // Two more signatures per certificate can only lower the limit.
        assert!(limit.certs_per_second_with_ct < limit.certs_per_second_without_ct);
    }
}
