"""The PKI helpers of the certificate messages (vgi_bench/ocpp/pki.py): CSRs, signing them,
chain checks and CertificateHashData, the last against the OCSP CertID ``cryptography``
builds (RFC 6960), which is what OCPP's hash data is."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from vgi_bench.ocpp import pki


def test_csr_round_trip_and_signing(tmp_path: Path) -> None:
    key = pki.new_key()
    csr = pki.load_csr(pki.make_csr(key, "CP_1", "vgi-bench"))
    assert pki.subject_attr(csr.subject) == "CP_1"
    assert pki.subject_attr(csr.subject, NameOID.ORGANIZATION_NAME) == "vgi-bench"
    ca = pki.make_ca(tmp_path)
    chain = pki.load_chain(pki.sign_csr(csr, ca))
    assert len(chain) == 2
    assert pki.same_key(chain[0].public_key(), key.public_key())
    assert chain[0].subject == csr.subject
    anchor = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    assert pki.chain_problem(chain) is None
    assert pki.chain_problem(chain, anchor) is None
    assert pki.chain_problem(chain[:1], anchor) is None


def test_chain_problems(tmp_path: Path) -> None:
    csr = pki.load_csr(pki.make_csr(pki.new_key(), "CP_1", "vgi-bench"))
    ca, other = pki.make_ca(tmp_path / "a"), pki.make_ca(tmp_path / "b", "other CA")
    chain = pki.load_chain(pki.sign_csr(csr, ca))
    other_cert = x509.load_pem_x509_certificate(other.cert.read_bytes())
    assert "not signed by the trusted CA" in (pki.chain_problem(chain, other_cert) or "")
    mixed = [*chain[:1], other_cert]
    assert "not signed by certificate 1" in (pki.chain_problem(mixed) or "")
    assert pki.chain_problem([]) == "no certificate in it"


def test_bad_csr_refused() -> None:
    with pytest.raises(ValueError, match="not a PEM certificate signing request"):
        pki.load_csr("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----")
    with pytest.raises(ValueError):
        pki.load_chain("no certificate here")


@pytest.mark.parametrize("algorithm", ["SHA256", "SHA384", "SHA512"])
def test_hash_data_is_the_ocsp_cert_id(tmp_path: Path, algorithm: str) -> None:
    ca = pki.make_ca(tmp_path)
    leaf = pki.make_leaf(tmp_path, "leaf", "CP_1", ca)
    ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    leaf_cert = x509.load_pem_x509_certificate(leaf.cert.read_bytes())
    algo = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}[algorithm]
    for cert, issuer in ((leaf_cert, ca_cert), (ca_cert, ca_cert)):
        request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algo()).build()
        data = pki.certificate_hash_data(cert, issuer if cert is not issuer else None, algorithm)
        assert data["hashAlgorithm"] == algorithm
        assert data["issuerNameHash"] == request.issuer_name_hash.hex()
        assert data["issuerKeyHash"] == request.issuer_key_hash.hex()
        assert int(data["serialNumber"], 16) == request.serial_number
        assert len(data["serialNumber"]) <= 40


def test_same_hash_data_ignores_case_and_leading_zeros() -> None:
    a = {"hashAlgorithm": "SHA256", "issuerNameHash": "ab", "issuerKeyHash": "cd",
         "serialNumber": "0f1"}  # fmt: skip
    assert pki.same_hash_data(a, {**a, "issuerNameHash": "AB", "serialNumber": "F1"})
    assert not pki.same_hash_data(a, {**a, "serialNumber": "f2"})
