"""OCPP 2.0.1 CSMS under test, certificates: the station's certificate signed on its own
request (A03, the SignCertificate / CertificateSigned half that A02 shares).

The bench, as charging station, makes a new key pair and CSR (CN its charge point id, O
``vgi-bench``) and judges the chain the CSMS sends back: the leaf must carry the CSR's key
and subject, every certificate must be valid today and signed by the next one, and the
last by the profile's ``ca_cert`` (the CSMS's CA, which the station trusts). A profile
without ``ca_cert`` names no CA: then the chain is only checked in itself (against the
reference CSMS, which signs with a throwaway CA of its own in that case).
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from bench.cases import Measurements, case, check, fail
from bench.ocpp.checks import expect_call, expect_result, expect_status
from bench.ocpp.cp_role import ScriptedReplies
from bench.ocpp.pki import chain_problem, load_chain, make_csr, new_key, same_key, subject_attr
from bench.timing import Latency
from fixtures.ocpp.csms_rig import CsmsRig

STATION = {"model": "VGI-BENCH-CS", "vendorName": "vgi-bench"}
ORGANIZATION = "vgi-bench"
CS_CERTIFICATE = "ChargingStationCertificate"
#: How long the CSMS has, after accepting the CSR, to send CertificateSigned.
CERTIFICATE_SIGNED_S = 30.0


def _anchor(rig: CsmsRig) -> x509.Certificate | None:
    ca_cert = rig.cp.security.ca_cert
    return x509.load_pem_x509_certificate(Path(ca_cert).read_bytes()) if ca_cert else None


@case("VGI_A_02_CSMS",
      "OCPP 2.0.1 Part 2 A03 Update Charging Station Certificate initiated by the Charging "
      "Station; A02 (SignCertificate, CertificateSigned)",
      "CSR signed: CertificateSigned with its key and subject, chaining to the CA")  # fmt: skip
def test_vgi_a_02_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the CSMS has the station's CSR signed and sends the certificate back.

    Steps: boot; SignCertificateRequest with a fresh CSR, certificateType
    ChargingStationCertificate; the bench answers the CertificateSignedRequest Accepted.
    Expected:
    1. SignCertificateResponse Accepted (A03).
    2. A CertificateSignedRequest within 30 s, certificateType ChargingStationCertificate
       when present (A03).
    3. Its leaf (the first certificate) carries the CSR's public key, CN and O (A03).
    4. The chain is valid today, each certificate signed by the next, the last by the
       profile's ca_cert (not checked when the profile has no ca_cert).
    """
    rig.cp.handler = ScriptedReplies({"CertificateSigned": {"status": "Accepted"}},
                                     rig.cp.handler)  # fmt: skip
    rig.connect()
    expect_result(rig.call("BootNotification", {"reason": "PowerUp", "chargingStation": STATION}))
    station = rig.cp.url.rstrip("/").rsplit("/", 1)[-1]
    key = new_key()
    mark = len(rig.log)
    request = {"csr": make_csr(key, station, ORGANIZATION), "certificateType": CS_CERTIFICATE}
    exchange = rig.call("SignCertificate", request)
    expect_status(exchange, "Accepted")
    signed = expect_call(rig.log, "CertificateSigned", since=mark, within=CERTIFICATE_SIGNED_S,
                         what="CertificateSignedRequest for the CSR")  # fmt: skip
    measurements.record("signed_after_csr", Latency.between(exchange.request.mono, signed.mono))
    kind = signed.payload.get("certificateType")
    check(kind in (None, CS_CERTIFICATE), f"certificateType {CS_CERTIFICATE} (or none)",
          f"certificateType {kind!r}")  # fmt: skip
    try:
        chain = load_chain(signed.payload.get("certificateChain", ""))
    except ValueError as exc:
        fail("certificateChain a PEM X.509 certificate chain", str(exc))
    leaf = chain[0]
    check(same_key(leaf.public_key(), key.public_key()),
          "the leaf certificate for the CSR's public key",
          f"a certificate for another key ({leaf.subject.rfc4514_string()})")  # fmt: skip
    cn, o = subject_attr(leaf.subject), subject_attr(leaf.subject, NameOID.ORGANIZATION_NAME)
    check((cn, o) == (station, ORGANIZATION),
          f"the leaf's subject CN {station!r}, O {ORGANIZATION!r} (the CSR's)",
          f"CN {cn!r}, O {o!r}")  # fmt: skip
    anchor = _anchor(rig)
    measurements.record("chain_length", len(chain))
    measurements.record("checked_against_ca_cert", anchor is not None)
    problem = chain_problem(chain, anchor)
    check(problem is None,
          "a chain valid today, each certificate signed by the next"
          + (", the last by the profile's ca_cert" if anchor is not None else ""),
          problem or "")  # fmt: skip
