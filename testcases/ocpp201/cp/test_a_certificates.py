"""OCPP 2.0.1 charging station, functional block A: A02 Update Charging Station Certificate
by request of CSMS (TriggerMessage SignChargingStationCertificate, SignCertificate,
CertificateSigned).

The bench signs the station's CSR with the CA of the profile (``ca_cert`` with its key,
``[ocpp] ca_key`` or ``ca.key`` beside it; see :func:`bench.ocpp.pki.issuing_ca`): on
security profile 3 the station connects with the new certificate afterwards, so only that
CA will do and without its key the cases are skipped, saying so. On profiles 0-2, without
that key, the bench signs with a throwaway CA made for the case (a station that checks
the chain against its own CSMS root then answers Rejected: give the profile ``ca_key``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from bench.cases import Measurements, case, check, fail
from bench.ocpp.checks import expect_call, expect_status
from bench.ocpp.frames import Kind
from bench.ocpp.log import TX, Entry
from bench.ocpp.pki import Issued, issuing_ca, load_csr, make_ca, new_key, sign_csr, subject_attr
from bench.timing import Latency
from fixtures.ocpp.rig import CpRig
from testcases.ocpp201.cp.steps import ANSWER_S, boot_accepted, clause, expect_status_list

USE_CASE = "A02 Update Charging Station Certificate by request of CSMS"
CS_CERTIFICATE = "ChargingStationCertificate"


def signing_ca(rig: CpRig, tmp_path: Path) -> Issued:
    """The CA the bench signs the station's certificate with (see the module's text)."""
    sec = rig.security
    try:
        return issuing_ca(sec.cert, sec.ca_cert, sec.ca_key)
    except LookupError as exc:
        if sec.profile >= 3:
            pytest.skip(f"security profile 3: the station reconnects with the certificate the "
                        f"bench signs, so it must be the profile's CA: {exc}")  # fmt: skip
        rig.log.note(f"bench: signing with a throwaway CA ({exc})")
        return make_ca(tmp_path / "throwaway-ca", "vgi-bench throwaway CA")


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
    try:
        csr = load_csr(sign.payload.get("csr", ""))
    except ValueError as exc:
        fail("a PEM CSR (RFC 2986) signed with its own key", str(exc))
    cn, station = subject_attr(csr.subject), rig.security.charge_point_id
    check(cn == station, f"CSR subject CN {station!r} (the station's identity)", f"CN {cn!r}")
    o = subject_attr(csr.subject, NameOID.ORGANIZATION_NAME)
    if org is not None:
        check(o == org, f"CSR subject O {org!r} (SecurityCtrlr.OrganizationName)", f"O {o!r}")
    else:
        check(bool(o), "CSR subject with an O (organizationName)", csr.subject.rfc4514_string())
    _answered(rig, sign)
    return csr


def _answered(rig: CpRig, sign: Entry) -> None:
    """Wait until the bench's SignCertificateResponse (Accepted) is sent."""

    def answer(entry: Entry) -> bool:
        frame = entry.frame
        mine = frame.unique_id == sign.frame.unique_id
        return entry.direction == TX and frame.kind is Kind.RESULT and mine

    rig.log.wait_for(answer, 2.0, sign.seq)


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
