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

from vgi_bench.cases import Measurements, case
from vgi_bench.rigs.ocpp_csms import CsmsRig
from vgi_bench.testcases.ocpp_security_steps import csr_signed_by_csms

STATION = {"model": "VGI-BENCH-CS", "vendorName": "vgi-bench"}
CS_CERTIFICATE = "ChargingStationCertificate"


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
    boot = {"reason": "PowerUp", "chargingStation": STATION}
    csr_signed_by_csms(rig, measurements, boot, CS_CERTIFICATE)
