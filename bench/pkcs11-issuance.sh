#!/usr/bin/env bash
# Issuance throughput with the CA key in memory and in a SoftHSM2 token, P-256 and P-384, no CT
# (one CA signature per certificate): docs/performance.md, "CA keys in a PKCS#11 token".
#
#   cargo build --release -p fulcio-cli -p fulcio-loadgen && bench/pkcs11-issuance.sh
#
# Needs softhsm2 (scripts/ensure-test-deps installs it). Uses ports 18080/18081/12112 and a
# private SoftHSM2 installation in a temporary directory.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
B="${CARGO_TARGET_DIR:-$repo_root/target}/release"
W="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
mkdir -p "$W/tokens"
cat >"$W/softhsm2.conf" <<CONF
directories.tokendir = $W/tokens
objectstore.backend = file
log.level = ERROR
CONF
export SOFTHSM2_CONF="$W/softhsm2.conf"

for kind in p256 p384; do
  softhsm2-util --init-token --free --label "bench-$kind" --so-pin 1234 --pin 5678 >/dev/null
  printf '{"Path": "/usr/lib/softhsm/libsofthsm2.so", "TokenLabel": "bench-%s", "Pin": "5678"}\n' \
    "$kind" >"$W/c-$kind.json"
  "$B/fulcio" createca --pkcs11-config-path "$W/c-$kind.json" --hsm-caroot-id "root-$kind" \
    --generate-key --key-type "$kind" --out "$W/root-$kind.pem" >/dev/null
done

"$B/fulcio-loadgen" issuer --write-config "$W/config.json" --write-token "$W/token" \
  >"$W/issuer.log" 2>&1 &
sleep 1

# run NAME CA-KEY-KIND SERVE-ARGS...
run() {
  local name=$1 kind=$2
  shift 2
  "$B/fulcio" serve --ct-log-url "" --config-path "$W/config.json" \
    --port 18080 --grpc-port 18081 --metrics-port 12112 "$@" >"$W/serve-$name.log" 2>&1 &
  local server=$!
  echo "=== $name"
  "$B/fulcio-loadgen" run --url http://127.0.0.1:18080 --token-file "$W/token" \
    --concurrency 1,32 --duration 10s --server-pid "$server" --ca-key "$kind"
  kill "$server"
  wait "$server" 2>/dev/null || true
}
run memory-p256 p256 --ca ephemeralca
run softhsm-p256 p256 --ca pkcs11ca --pkcs11-config-path "$W/c-p256.json" --hsm-caroot-id root-p256
run memory-p384 p384 --ca ephemeralca --ephemeralca-key-type p384
run softhsm-p384 p384 --ca pkcs11ca --pkcs11-config-path "$W/c-p384.json" --hsm-caroot-id root-p384
