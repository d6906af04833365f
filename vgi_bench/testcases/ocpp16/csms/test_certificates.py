"""OCPP 1.6J central system: the charge point's certificate signed on its own request
("Improved security for OCPP 1.6-J": SignCertificate, CertificateSigned), as the 2.0.1
case VGI_A_02_CSMS does, with the step they share
(:func:`vgi_bench.testcases.ocpp_security_steps.csr_signed_by_csms`).

The bench, as charge point, makes a new key pair and CSR (CN its charge point id, O
``vgi-bench``) and judges the chain the Central System sends back: the leaf must carry the
CSR's key and subject, every certificate must be valid today and signed by the next one,
and the last by the profile's ``ca_cert`` (without ``ca_cert`` the chain is only checked
in itself).
"""

from __future__ import annotations

from vgi_bench.cases import Measurements, case
from vgi_bench.rigs.ocpp_csms import CsmsRig
from vgi_bench.testcases.ocpp16.csms.test_csms import BOOT
from vgi_bench.testcases.ocpp_security_steps import csr_signed_by_csms


@case("VGI_SEC_06_CSMS",
      "OCPP 1.6 security whitepaper (Improved security for OCPP 1.6-J), Update Charge Point "
      "Certificate initiated by the Charge Point (SignCertificate, CertificateSigned)",
      "CSR signed: CertificateSigned with its key and subject, chaining to the CA")  # fmt: skip
def test_vgi_sec_06_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the Central System has the charge point's CSR signed and sends the
    certificate back.

    Steps: boot; SignCertificate.req with a fresh CSR; the bench answers the
    CertificateSigned.req Accepted.
    Expected:
    1. SignCertificate.conf Accepted.
    2. A CertificateSigned.req within 30 s.
    3. Its leaf (the first certificate) carries the CSR's public key, CN and O.
    4. The chain is valid today, each certificate signed by the next, the last by the
       profile's ca_cert (not checked when the profile has no ca_cert).
    """
    csr_signed_by_csms(rig, measurements, BOOT, None)
