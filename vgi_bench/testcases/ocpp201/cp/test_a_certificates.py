"""OCPP 2.0.1 charging station, functional block A: A02 Update Charging Station Certificate
by request of CSMS (TriggerMessage SignChargingStationCertificate, SignCertificate,
CertificateSigned).

The bench signs the station's CSR with the CA of the profile (``ca_cert`` with its key,
``[ocpp] ca_key`` or ``ca.key`` beside it; see :func:`vgi_bench.ocpp.pki.issuing_ca`): on
security profile 3 the station connects with the new certificate afterwards, so only that
CA will do and without its key the cases are skipped, saying so. On profiles 0-2, without
that key, the bench signs with a throwaway CA made for the case (a station that checks
the chain against its own CSMS root then answers Rejected: give the profile ``ca_key``).
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from vgi_bench.cases import Measurements, case, check
from vgi_bench.ocpp.checks import expect_call, expect_status
from vgi_bench.ocpp.pki import new_key, sign_csr
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp201.cp.steps import ANSWER_S, boot_accepted, clause, expect_status_list
from vgi_bench.testcases.ocpp_security_steps import answered, checked_csr, signing_ca
from vgi_bench.timing import Latency

USE_CASE = "A02 Update Charging Station Certificate by request of CSMS"
CS_CERTIFICATE = "ChargingStationCertificate"


def organization_name(rig: CpRig) -> str | None:
    """SecurityCtrlr.OrganizationName (the O of the station's CSRs), None when the station
    does not report it."""
    item = {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "OrganizationName"}}
    exchange = rig.call("GetVariables", {"getVariableData": [item]})
    result = expect_status_list(exchange, "getVariableResult")[0]
    if result.get("attributeStatus") != "Accepted":
        return None
    return result.get("attributeValue")


def requested_csr(rig: CpRig, measurements: Measurements) -> x509.CertificateSigningRequest:
    """TriggerMessage SignChargingStationCertificate: Accepted, then a SignCertificateRequest
    with a CSR for a ChargingStationCertificate whose CN is the station's identity and
    whose O is its SecurityCtrlr.OrganizationName (when reported). The bench answers it
    Accepted; returns the CSR once that answer is out."""
    mark = boot_accepted(rig)
    org = organization_name(rig)
    exchange = rig.call("TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"})
    expect_status(exchange, "Accepted")
    sign = expect_call(rig.log, "SignCertificate", since=mark, within=ANSWER_S,
                       what="SignCertificateRequest after TriggerMessage "
                       "SignChargingStationCertificate")  # fmt: skip
    measurements.record("csr_after_trigger", Latency.between(exchange.request.mono, sign.mono))
    kind = sign.payload.get("certificateType")
    check(kind == CS_CERTIFICATE, f"SignCertificateRequest certificateType {CS_CERTIFICATE}",
          f"certificateType {kind!r}")  # fmt: skip
    csr = checked_csr(rig, sign, org, "SecurityCtrlr.OrganizationName")
    answered(rig, sign)
    return csr


def certificate_signed(chain: str) -> dict:
    return {"certificateChain": chain, "certificateType": CS_CERTIFICATE}


@case("TC_A_11_CS", clause(f"{USE_CASE}; A00 certificate properties", "TC_A_11_CS"),
      "Update Charging Station Certificate by request of CSMS - Success - Charging Station "
      "Certificate")  # fmt: skip
def test_tc_a_11_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the station renews its certificate when the CSMS asks it to.

    Steps: TriggerMessage requestedMessage SignChargingStationCertificate; the bench answers
    the SignCertificateRequest Accepted, signs the CSR with its CA and sends
    CertificateSigned (leaf, then the CA) with certificateType ChargingStationCertificate.
    Expected:
    1. TriggerMessageResponse Accepted (F06).
    2. SignCertificateRequest certificateType ChargingStationCertificate with a PEM CSR
       (RFC 2986) that verifies, subject CN the station's identity (the charge point id
       of its URL) and O its SecurityCtrlr.OrganizationName (A02, A00).
    3. CertificateSignedResponse Accepted (A02).
    The reconnection with the new certificate (security profile 3) is not checked here.
    """
    ca = signing_ca(rig, tmp_path)
    csr = requested_csr(rig, measurements)
    expect_status(rig.call("CertificateSigned", certificate_signed(sign_csr(csr, ca))),
                  "Accepted")  # fmt: skip


@case("TC_A_14_CS", clause(f"{USE_CASE} (A02.FR.07); Appendix security events", "TC_A_14_CS"),
      "Update Charging Station Certificate by request of CSMS - Invalid certificate")  # fmt: skip
def test_tc_a_14_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the station discards a certificate that is not for its key and reports it.

    Steps: as TC_A_11_CS, but the CertificateSigned carries a certificate from the same CA
    with the CSR's subject and another public key (one the station does not hold).
    Expected:
    1. CertificateSignedResponse Rejected (A02.FR.07).
    2. SecurityEventNotification type InvalidChargingStationCertificate (A02.FR.07, the
       security events list).
    """
    ca = signing_ca(rig, tmp_path)
    csr = requested_csr(rig, measurements)
    mark = rig.mark()
    foreign = sign_csr(csr, ca, public_key=new_key().public_key())
    expect_status(rig.call("CertificateSigned", certificate_signed(foreign)), "Rejected")
    event = "InvalidChargingStationCertificate"
    expect_call(rig.log, "SecurityEventNotification", since=mark, within=ANSWER_S,
                where=lambda e: e.payload.get("type") == event,
                what=f"SecurityEventNotification type {event}")  # fmt: skip
