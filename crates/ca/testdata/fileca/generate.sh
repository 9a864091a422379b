#!/usr/bin/env bash
# Regenerates every vector in this directory (see README.md for what each file is).
#
#   crates/ca/testdata/fileca/generate.sh
#
# Needs: openssl 3 (with the legacy provider, for DES-CBC), python3. The sigstore/cosign key
# envelope needs NaCl secretbox, which the Python standard library lacks, so PyNaCl is installed
# into a venv outside the repository (${XDG_CACHE_HOME:-$HOME/.cache}/fulcio-rs/venv).
#
# Every run makes new keys: the tests only rely on the shapes, never on key bytes.
set -euo pipefail

cd "$(dirname "$0")"
PASS=password123
DAYS=36500 # 100 years: vectors must not expire under the tests
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

venv="${XDG_CACHE_HOME:-$HOME/.cache}/fulcio-rs/venv"
if ! "$venv/bin/python" -c 'import nacl.secret' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet pynacl
fi
PY="$venv/bin/python"

rm -f ./*.pem keys/*.pem
mkdir -p keys

# One openssl config for every certificate: the extensions are named per profile below.
cat >"$work/x509.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
[root]
basicConstraints = critical, CA:TRUE, pathlen:2
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[self_signed_ca]
basicConstraints = critical, CA:TRUE, pathlen:1
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[intermediate_pathlen1]
basicConstraints = critical, CA:TRUE, pathlen:1
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[issuing]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[issuing_no_eku]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[intermediate_server_auth_only]
basicConstraints = critical, CA:TRUE, pathlen:1
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF

# newkey NAME ALG → $work/NAME.key (plain PKCS#8)
newkey() {
    case "$2" in
    p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/$1.key" ;;
    p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$work/$1.key" ;;
    p521) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$work/$1.key" ;;
    rsa2048) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -quiet -out "$work/$1.key" ;;
    rsa4096) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -quiet -out "$work/$1.key" ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$work/$1.key" ;;
    esac
}

# selfsign NAME CN PROFILE → $work/NAME.crt
selfsign() {
    openssl req -x509 -new -key "$work/$1.key" -subj "/O=fulcio-rs test/CN=$2" -days "$DAYS" \
        -config "$work/x509.cnf" -extensions "$3" -out "$work/$1.crt"
}

# sign NAME CN PROFILE ISSUER → $work/NAME.crt, issued by $work/ISSUER.{crt,key}
sign() {
    openssl req -new -key "$work/$1.key" -subj "/O=fulcio-rs test/CN=$2" \
        -config "$work/x509.cnf" -out "$work/$1.csr"
    openssl x509 -req -in "$work/$1.csr" -CA "$work/$4.crt" -CAkey "$work/$4.key" \
        -days "$DAYS" -extfile "$work/x509.cnf" -extensions "$3" -out "$work/$1.crt" 2>/dev/null
}

# Key file writers. Each reads the plain key $work/NAME.key and writes OUT.
legacy_ec() { # NAME CIPHER OUT: RFC 1423 "EC PRIVATE KEY", openssl's own implementation
    openssl ec -in "$work/$1.key" "-$2" -passout "pass:$PASS" -out "$3" \
        -provider legacy -provider default 2>/dev/null
}
legacy_rsa() { # NAME CIPHER OUT: RFC 1423 "RSA PRIVATE KEY"
    openssl rsa -in "$work/$1.key" -traditional "-$2" -passout "pass:$PASS" -out "$3" 2>/dev/null
}
pkcs8_encrypted() { # NAME OUT OPENSSL-PKCS8-ARGS...
    local name=$1 out=$2
    shift 2
    openssl pkcs8 -topk8 -in "$work/$name.key" -passout "pass:$PASS" -out "$out" "$@"
}
sec1() { openssl ec -in "$work/$1.key" -out "$2" 2>/dev/null; }
pkcs1() { openssl rsa -in "$work/$1.key" -traditional -out "$2" 2>/dev/null; }
pkcs8() { openssl pkey -in "$work/$1.key" -out "$2"; }
# openssl pkey -outform DER writes EC keys as SEC1, not PKCS#8: ask for PKCS#8 explicitly.
der() { openssl pkcs8 -topk8 -nocrypt -in "$work/$1.key" -outform DER -out "$work/$1.der"; }

# The formats openssl cannot write: the sigstore/cosign envelope, RFC 1423 around a PKCS#8
# "PRIVATE KEY", and step-cli's PBES2 encoding. Written by Python from the key's PKCS#8 DER.
cat >"$work/keyfile.py" <<'EOF'
import base64, hashlib, json, os, subprocess, sys

import nacl.secret


def pem(label, body, headers=""):
    b64 = base64.b64encode(body).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return f"-----BEGIN {label}-----\n{headers}" + "\n".join(lines) + f"\n-----END {label}-----\n"


def envelope(der, password, label, n):
    # securesystemslib "encrypted" format: scrypt(N, r=8, p=1) → 32-byte key; NaCl secretbox
    # (XSalsa20-Poly1305, tag first); Go's JSON for []byte is padded standard base64.
    salt = os.urandom(32)
    key = hashlib.scrypt(password, salt=salt, n=n, r=8, p=1, maxmem=512 << 20, dklen=32)
    nonce = os.urandom(24)
    sealed = nacl.secret.SecretBox(key).encrypt(der, nonce).ciphertext
    b64 = lambda b: base64.b64encode(b).decode()
    doc = {
        "kdf": {"name": "scrypt", "params": {"N": n, "r": 8, "p": 1}, "salt": b64(salt)},
        "cipher": {"name": "nacl/secretbox", "nonce": b64(nonce)},
        "ciphertext": b64(sealed),
    }
    return pem(label, json.dumps(doc, separators=(",", ":")).encode())


def legacy(der, password, label):
    # RFC 1423 with OpenSSL's EVP_BytesToKey(MD5, salt = IV[:8], count 1) and AES-256-CBC.
    iv = os.urandom(16)
    key, prev = b"", b""
    while len(key) < 32:
        prev = hashlib.md5(prev + password + iv[:8]).digest()
        key += prev
    ct = subprocess.run(
        ["openssl", "enc", "-aes-256-cbc", "-K", key[:32].hex(), "-iv", iv.hex()],
        input=der, capture_output=True, check=True).stdout
    return pem(label, ct, f"Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,{iv.hex().upper()}\n\n")


def step_style(pem_text):
    # step-cli (Go encoding/asn1) writes the PBKDF2 PRF AlgorithmIdentifier's parameters as a
    # zero-length tag-0 value instead of NULL: rewrite openssl's hmacWithSHA256 NULL to match.
    body = base64.b64decode("".join(pem_text.strip().splitlines()[1:-1]))
    prf = bytes.fromhex("06082a864886f70d0209")
    assert body.count(prf + b"\x05\x00") == 1
    return pem("ENCRYPTED PRIVATE KEY", body.replace(prf + b"\x05\x00", prf + b"\x00\x00"))


mode, src, out = sys.argv[1:4]
password = os.environ["PASS"].encode()
if mode == "step":
    text = step_style(open(src).read())
else:
    der = open(src, "rb").read()
    text = {
        "sigstore": lambda: envelope(der, password, "ENCRYPTED SIGSTORE PRIVATE KEY", 65536),
        "cosign": lambda: envelope(der, password, "ENCRYPTED COSIGN PRIVATE KEY", 32768),
        "weak-scrypt": lambda: envelope(der, password, "ENCRYPTED SIGSTORE PRIVATE KEY", 1024),
        "legacy-pkcs8": lambda: legacy(der, password, "PRIVATE KEY"),
    }[mode]()
open(out, "w").write(text)
EOF
export PASS
keyfile() { "$PY" "$work/keyfile.py" "$@"; }

# ---------------------------------------------------------------------------------------------
# CA chains, named like upstream's pkg/ca/fileca/testdata: NAME-cert.pem (issuing first, root
# last) + NAME-key.pem (the issuing key), password "password123".

# Self-signed roots.
newkey ecdsa p384 && selfsign ecdsa ecdsa self_signed_ca
cp "$work/ecdsa.crt" ecdsa-cert.pem && legacy_ec ecdsa aes256 ecdsa-key.pem

newkey ed25519 ed25519 && selfsign ed25519 ed25519 self_signed_ca
cp "$work/ed25519.crt" ed25519-cert.pem
pkcs8_encrypted ed25519 "$work/ed25519-openssl.pem" -v2 aes-256-cbc -v2prf hmacWithSHA256 -iter 100000
keyfile step "$work/ed25519-openssl.pem" ed25519-key.pem

newkey rsa4096 rsa4096 && selfsign rsa4096 rsa4096 self_signed_ca
cp "$work/rsa4096.crt" rsa4096-cert.pem && legacy_rsa rsa4096 aes256 rsa4096-key.pem

newkey openssl3des ed25519 && selfsign openssl3des openssl self_signed_ca
cp "$work/openssl3des.crt" openssl-3des-cert.pem
pkcs8_encrypted openssl3des openssl-3des-key.pem -v2 des3 -v2prf hmacWithSHA256 -iter 2048

# One P-384 root (pathlen 2) under which the intermediate chains hang.
newkey root p384 && selfsign root root root

newkey int2 p256 && sign int2 intermediate-2 issuing root
cat "$work/int2.crt" "$work/root.crt" >intermediate-2-cert.pem
der int2 && keyfile sigstore "$work/int2.der" intermediate-2-key.pem

newkey int3mid ed25519 && sign int3mid intermediate-3-mid intermediate_pathlen1 root
newkey int3 p384 && sign int3 intermediate-3 issuing int3mid
cat "$work/int3.crt" "$work/int3mid.crt" "$work/root.crt" >intermediate-3-cert.pem
der int3 && keyfile cosign "$work/int3.der" intermediate-3-key.pem

# Must not load: a leaf (CA:FALSE) as issuing certificate.
newkey notca p256 && sign notca notca leaf root
cat "$work/notca.crt" "$work/root.crt" >notca-cert.pem
pkcs8_encrypted notca notca-key.pem -v2 aes-256-cbc

# Must not load: the key is not the certificate's.
newkey mismatch p384 && selfsign mismatch mismatch self_signed_ca
newkey mismatchother p384
cp "$work/mismatch.crt" mismatch-cert.pem && legacy_ec mismatchother aes256 mismatch-key.pem

# Must not load: the middle intermediate's EKU (serverAuth only) does not allow codeSigning,
# so the codeSigning issuing certificate below it breaks EKU chaining.
newkey ekumid p384 && sign ekumid eku-violation-mid intermediate_server_auth_only root
newkey eku p384 && sign eku eku-chaining-violation issuing ekumid
cat "$work/eku.crt" "$work/ekumid.crt" "$work/root.crt" >eku-chaining-violation-cert.pem
pkcs8_encrypted eku eku-chaining-violation-key.pem -v2 aes-256-cbc

# Must not load: upstream's shape of the EKU case, the issuing intermediate has no EKU at all
# (a chain longer than one certificate needs codeSigning on the issuing certificate).
newkey ekumissingmid p384 && sign ekumissingmid eku-missing-mid intermediate_pathlen1 root
newkey ekumissing p384 && sign ekumissing eku-missing issuing_no_eku ekumissingmid
cat "$work/ekumissing.crt" "$work/ekumissingmid.crt" "$work/root.crt" >eku-missing-cert.pem
pkcs8_encrypted ekumissing eku-missing-key.pem -v2 aes-256-cbc

# ---------------------------------------------------------------------------------------------
# Key formats: one key per algorithm in every accepted encoding (keys/ALG-FORMAT.pem), all of
# the same key so the tests can check they decode to the same thing.

newkey p384 p384 && der p384
pkcs8 p384 keys/p384-pkcs8.pem
sec1 p384 keys/p384-sec1.pem
legacy_ec p384 aes128 keys/p384-sec1-aes128.pem
legacy_ec p384 aes192 keys/p384-sec1-aes192.pem
legacy_ec p384 aes256 keys/p384-sec1-aes256.pem
legacy_ec p384 des3 keys/p384-sec1-des3.pem
legacy_ec p384 des keys/p384-sec1-des.pem
keyfile legacy-pkcs8 "$work/p384.der" keys/p384-pkcs8-aes256-legacy.pem
pkcs8_encrypted p384 keys/p384-pbes2-sha256-aes256.pem -v2 aes-256-cbc -v2prf hmacWithSHA256
pkcs8_encrypted p384 keys/p384-pbes2-sha1-aes128.pem -v2 aes-128-cbc -v2prf hmacWithSHA1
pkcs8_encrypted p384 keys/p384-pbes2-sha512-aes192.pem -v2 aes-192-cbc -v2prf hmacWithSHA512
pkcs8_encrypted p384 keys/p384-pbes2-sha256-des3.pem -v2 des3 -v2prf hmacWithSHA256
pkcs8_encrypted p384 keys/p384-pbes2-scrypt-aes256.pem -v2 aes-256-cbc -scrypt
keyfile step keys/p384-pbes2-sha256-aes256.pem keys/p384-pbes2-step.pem
keyfile sigstore "$work/p384.der" keys/p384-sigstore.pem
keyfile cosign "$work/p384.der" keys/p384-cosign.pem
# Must not load: PBES1 (upstream only knows PBES2), scrypt parameters outside the allowed set.
pkcs8_encrypted p384 keys/p384-pbes1.pem -v1 PBE-SHA1-3DES
keyfile weak-scrypt "$work/p384.der" keys/p384-sigstore-weak-scrypt.pem

newkey p256 p256
pkcs8 p256 keys/p256-pkcs8.pem && sec1 p256 keys/p256-sec1.pem
newkey p521 p521
pkcs8 p521 keys/p521-pkcs8.pem && sec1 p521 keys/p521-sec1.pem

newkey rsa2048 rsa2048
pkcs8 rsa2048 keys/rsa2048-pkcs8.pem
pkcs1 rsa2048 keys/rsa2048-pkcs1.pem
legacy_rsa rsa2048 aes256 keys/rsa2048-pkcs1-aes256.pem
pkcs8_encrypted rsa2048 keys/rsa2048-pbes2-sha256-aes256.pem -v2 aes-256-cbc

newkey ed25519k ed25519
pkcs8 ed25519k keys/ed25519-pkcs8.pem
pkcs8_encrypted ed25519k keys/ed25519-pbes2-sha256-aes256.pem -v2 aes-256-cbc

# openssl silently writes an unencrypted key when a cipher is unavailable: make sure it did not.
for f in ./*-key.pem keys/*-sec1-*.pem keys/*-pkcs1-*.pem keys/*-legacy.pem; do
    grep -q -e 'DEK-Info' -e 'ENCRYPTED' "$f" || { echo "not encrypted: $f" >&2; exit 1; }
done
echo "vectors written to $(pwd)"
