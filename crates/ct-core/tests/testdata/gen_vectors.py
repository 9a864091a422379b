#!/usr/bin/env python3
"""Regenerates the ct-core known-answer vectors with pyca/cryptography, independently of the
Rust code: certificates are built by cryptography, the precertificate TBS comes from
cryptography's `tbs_precertificate_bytes`, and SCT signed data is packed here from RFC 6962 §3.2.

Run from this directory: python3 gen_vectors.py   (needs `cryptography` >= 41)
Keys are fresh on each run, so every output file changes; the Rust tests only check relations.
"""
import datetime
import hashlib
import struct

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

SCT_LIST_OID = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
DER = serialization.Encoding.DER
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo


def write(name, data):
    with open(name, "wb") as f:
        f.write(data)


def spki(key):
    return key.public_key().public_bytes(DER, SPKI)


def tls_opaque(width, data):
    return len(data).to_bytes(width, "big") + data


def signed_data(timestamp, entry_type, signed_entry, extensions):
    # RFC 6962 §3.2: sct_version v1, signature_type certificate_timestamp, timestamp,
    # entry_type, signed_entry, extensions<2>.
    return (bytes([0, 0]) + struct.pack(">QH", timestamp, entry_type) + signed_entry
            + tls_opaque(2, extensions))


def sign(log_key, data):
    if isinstance(log_key, rsa.RSAPrivateKey):
        return bytes([4, 1]) + tls_opaque(2, log_key.sign(data, padding.PKCS1v15(), hashes.SHA256()))
    return bytes([4, 3]) + tls_opaque(2, log_key.sign(data, ec.ECDSA(hashes.SHA256())))


def sct(log_key, timestamp, entry_type, signed_entry, extensions):
    sig = sign(log_key, signed_data(timestamp, entry_type, signed_entry, extensions))
    log_id = hashlib.sha256(spki(log_key)).digest()
    return bytes([0]) + log_id + struct.pack(">Q", timestamp) + tls_opaque(2, extensions) + sig


def der_octet_string(data):
    n = len(data)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82]) + n.to_bytes(2, "big")
    return b"\x04" + length + data


ca_key = ec.generate_private_key(ec.SECP256R1())
log_key = ec.generate_private_key(ec.SECP256R1())
rsa_log_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
leaf_key = ec.generate_private_key(ec.SECP256R1())

now = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ct-core vectors"),
                     x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
      .public_key(ca_key.public_key()).serial_number(1)
      .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365))
      .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
      .add_extension(x509.KeyUsage(False, False, False, False, False, True, False, False, False), critical=True)
      .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
      .sign(ca_key, hashes.SHA256()))


def leaf_builder():
    # Fulcio's leaf shape: empty subject, KU, EKU codeSigning, SKI, AKI, critical SAN, and a
    # Sigstore OID extension; the CT extension is appended last by the caller.
    return (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(ca_name)
            .public_key(leaf_key.public_key()).serial_number(0x1234567890abcdef)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(minutes=10))
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name("signer@example.com")]), critical=True)
            .add_extension(x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.57264.1.1"),
                                                      b"https://issuer.example"), critical=False))


precert = leaf_builder().add_extension(x509.PrecertPoison(), critical=True).sign(ca_key, hashes.SHA256())
# cryptography strips only the SCT list, so take the logged TBS from a stand-in final certificate
# with a placeholder SCT; the Rust tests check that removing the poison gives the same bytes.
def final_cert(scts):
    sct_list = tls_opaque(2, b"".join(tls_opaque(2, s) for s in scts))
    ext = x509.UnrecognizedExtension(SCT_LIST_OID, der_octet_string(sct_list))
    return leaf_builder().add_extension(ext, critical=False).sign(ca_key, hashes.SHA256())


precert_tbs = final_cert([b"placeholder"]).tbs_precertificate_bytes
issuer_key_hash = hashlib.sha256(spki(ca_key)).digest()
precert_signed_entry = issuer_key_hash + tls_opaque(3, precert_tbs)

TIMESTAMP = 1767323045123
LEAF_INDEX_EXT = bytes([0]) + tls_opaque(2, (7).to_bytes(5, "big"))  # static-ct-api leaf_index 7


sct_plain = sct(log_key, TIMESTAMP, 1, precert_signed_entry, b"")
sct_indexed = sct(log_key, TIMESTAMP + 1, 1, precert_signed_entry, LEAF_INDEX_EXT)
cert = final_cert([sct_plain])
cert_indexed = final_cert([sct_indexed])

# Independent checks that the vectors mean what the Rust tests assume.
assert cert.tbs_precertificate_bytes == precert_tbs
assert cert_indexed.tbs_precertificate_bytes == precert_tbs
parsed = cert_indexed.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps).value
assert list(parsed)[0].extension_bytes == LEAF_INDEX_EXT

cert_der = cert.public_bytes(DER)
sct_x509 = sct(log_key, TIMESTAMP + 2, 0, tls_opaque(3, cert_der), b"")
sct_rsa = sct(rsa_log_key, TIMESTAMP + 3, 1, precert_signed_entry, b"")

# RFC 6962 §3.4 MerkleTreeLeaf for the precert entry of sct_plain, and its §2.1 leaf hash.
leaf = bytes([0, 0]) + struct.pack(">QH", TIMESTAMP, 1) + precert_signed_entry + tls_opaque(2, b"")
leaf_hash = hashlib.sha256(b"\x00" + leaf).digest()

# Negative cases: a poison not marked critical, and an issuer that is a Precertificate Signing
# Certificate (EKU 1.3.6.1.4.1.11129.2.4.4), which ct-core refuses.
precert_noncritical = leaf_builder().add_extension(x509.PrecertPoison(), critical=False).sign(ca_key, hashes.SHA256())
pre_issuer = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(2)
              .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365))
              .add_extension(x509.ExtendedKeyUsage([ObjectIdentifier("1.3.6.1.4.1.11129.2.4.4")]), critical=False)
              .sign(ca_key, hashes.SHA256()))

write("precert_noncritical_poison.der", precert_noncritical.public_bytes(DER))
write("precert_signing_ca.der", pre_issuer.public_bytes(DER))
write("ca.der", ca.public_bytes(DER))
write("precert.der", precert.public_bytes(DER))
write("precert_tbs.der", precert_tbs)
write("cert.der", cert_der)
write("cert_leaf_index.der", cert_indexed.public_bytes(DER))
write("log_p256_spki.der", spki(log_key))
write("log_rsa_spki.der", spki(rsa_log_key))
write("sct_x509.bin", sct_x509)
write("sct_rsa_precert.bin", sct_rsa)
write("issuer_key_hash.hex", issuer_key_hash.hex().encode() + b"\n")
write("precert_leaf_hash.hex", leaf_hash.hex().encode() + b"\n")
print("ok")
