"""OCPP 1.6J charge point: certificate management ("Improved security for OCPP 1.6-J").

The charge point's own certificate renewed on the Central System's request
(ExtendedTriggerMessage SignChargePointCertificate, SignCertificate, CertificateSigned)
and CA certificates installed, listed and deleted (InstallCertificate,
GetInstalledCertificateIds, DeleteCertificate), as the 2.0.1 cases TC_A_11/14_CS and
TC_M_01/02/20/22_CS do, with the steps they share (:mod:`vgi_bench.testcases.ocpp_security_steps`).

The bench signs the CSR with the profile's CA (``ca_cert`` with its key); on security
profiles 0-2 without that key, with a throwaway CA made for the case (security profile 3
without it: skipped, saying so). It installs throwaway root certificates and recomputes
their CertificateHashData itself (RFC 6960 CertID) to judge what the charge point
reports; a certificate a case installed is deleted again at the end of the case.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509

from vgi_bench.cases import Measurements, case, check, fail
from vgi_bench.ocpp.checks import expect_call, expect_result, expect_status
from vgi_bench.ocpp.pki import certificate_hash_data, new_key, pem, sign_csr
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp16.cp.steps import OCTT, clause
from vgi_bench.testcases.ocpp_security_steps import (
    answered,
    checked_csr,
    find_hash,
    root,
    signing_ca,
)
from vgi_bench.testcases.ocpp_steps import ANSWER_S, boot_accepted
from vgi_bench.timing import Latency

WHITEPAPER = "security whitepaper (Improved security for OCPP 1.6-J)"
RENEW = f"{WHITEPAPER}, Update Charge Point Certificate by request of Central System"
INSTALL = f"{WHITEPAPER}, Install CA certificate in a Charge Point"
LIST = f"{WHITEPAPER}, Retrieve list of available certificates from a Charge Point"
DELETE = f"{WHITEPAPER}, Delete a specific certificate from a Charge Point"
CS_ROOT = "CentralSystemRootCertificate"
MANUFACTURER_ROOT = "ManufacturerRootCertificate"


def cpo_name(rig: CpRig) -> str | None:
    """The CpoName configuration key (the O of the charge point's CSRs), None when the
    charge point does not report it."""
    payload = expect_result(rig.call("GetConfiguration", {"key": ["CpoName"]}))
    for item in payload.get("configurationKey") or []:
        if item.get("key") == "CpoName":
            return item.get("value") or None
    return None


def requested_csr(rig: CpRig, measurements: Measurements) -> x509.CertificateSigningRequest:
    """ExtendedTriggerMessage SignChargePointCertificate: Accepted, then a SignCertificate.req
    whose CSR has CN the charge point id and O its CpoName (when reported). The bench
    answers it Accepted; returns the CSR once that answer is out."""
    mark = boot_accepted(rig)
    org = cpo_name(rig)
    request = {"requestedMessage": "SignChargePointCertificate"}
    exchange = rig.call("ExtendedTriggerMessage", request)
    expect_status(exchange, "Accepted")
    sign = expect_call(rig.log, "SignCertificate", since=mark, within=ANSWER_S,
                       what="SignCertificate.req after ExtendedTriggerMessage "
                       "SignChargePointCertificate")  # fmt: skip
    measurements.record("csr_after_trigger", Latency.between(exchange.request.mono, sign.mono))
    csr = checked_csr(rig, sign, org, "CpoName")
    answered(rig, sign)
    return csr


@case("TC_074_CS", clause(RENEW, "TC_074_CS"),
      "Update Charge Point Certificate by request of Central System")  # fmt: skip
def test_tc_074_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the charge point renews its certificate when the Central System asks it to.

    Steps: ExtendedTriggerMessage requestedMessage SignChargePointCertificate; the bench
    answers the SignCertificate.req Accepted, signs the CSR with its CA and sends
    CertificateSigned (leaf, then the CA).
    Expected:
    1. ExtendedTriggerMessage.conf Accepted.
    2. SignCertificate.req with a PEM CSR (RFC 2986) that verifies, subject CN the charge
       point id (the id of its URL) and O its CpoName.
    3. CertificateSigned.conf Accepted.
    The reconnection with the new certificate (security profile 3) is not checked here.
    """
    ca = signing_ca(rig, tmp_path)
    csr = requested_csr(rig, measurements)
    chain = sign_csr(csr, ca)
    expect_status(rig.call("CertificateSigned", {"certificateChain": chain}), "Accepted")


@case("TC_077_CS", clause(f"{RENEW}; security events", "TC_077_CS"),
      "Invalid ChargePointCertificate Security Event")  # fmt: skip
def test_tc_077_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the charge point discards a certificate that is not for its key and reports
    it.

    Steps: as TC_074_CS, but the CertificateSigned carries a certificate from the same CA
    with the CSR's subject and another public key (one the charge point does not hold).
    Expected:
    1. CertificateSigned.conf Rejected.
    2. SecurityEventNotification.req type InvalidChargePointCertificate.
    """
    ca = signing_ca(rig, tmp_path)
    csr = requested_csr(rig, measurements)
    mark = rig.mark()
    foreign = sign_csr(csr, ca, public_key=new_key().public_key())
    expect_status(rig.call("CertificateSigned", {"certificateChain": foreign}), "Rejected")
    event = "InvalidChargePointCertificate"
    expect_call(rig.log, "SecurityEventNotification", since=mark, within=ANSWER_S,
                where=lambda e: e.payload.get("type") == event,
                what=f"SecurityEventNotification type {event}")  # fmt: skip


# ---------------------------------------------------------------------------- CA certificates


def listed(rig: CpRig, kind: str) -> tuple[str, list[dict]]:
    """GetInstalledCertificateIds for ``kind``: (status, its certificateHashData)."""
    payload = expect_result(rig.call("GetInstalledCertificateIds", {"certificateType": kind}))
    return payload.get("status", ""), payload.get("certificateHashData") or []


def describe(hash_data: list[dict]) -> str:
    return "; ".join(str(d) for d in hash_data) if hash_data else "no certificate"


@contextlib.contextmanager
def installed(rig: CpRig, kind: str, cert: x509.Certificate) -> Iterator[None]:
    """InstallCertificate ``kind`` Accepted; deleted again at the end."""
    request = {"certificateType": kind, "certificate": pem(cert)}
    expect_status(rig.call("InstallCertificate", request), "Accepted",
                  what=f"InstallCertificate.conf to a {kind}")  # fmt: skip
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            rig.call("DeleteCertificate", {"certificateHashData": certificate_hash_data(cert)})


def expect_listed(rig: CpRig, kind: str, cert: x509.Certificate) -> dict:
    """GetInstalledCertificateIds for ``kind`` Accepted, listing ``cert`` with the hash data
    the bench computes; that hash data."""
    status, hash_data = listed(rig, kind)
    check(status == "Accepted", f"GetInstalledCertificateIds {kind} Accepted",
          f"status {status!r}")  # fmt: skip
    found = find_hash(hash_data, cert)
    if found is None:
        fail(f"the installed {kind} listed with hash data {certificate_hash_data(cert)}",
             describe(hash_data))  # fmt: skip
    return found


def _install_and_list(rig: CpRig, tmp_path: Path, kind: str) -> None:
    boot_accepted(rig)
    cert = root(tmp_path, f"vgi-bench test {kind}")
    with installed(rig, kind, cert):
        expect_listed(rig, kind, cert)


@case("TC_075_1_CS", clause(f"{INSTALL}; {LIST}", "TC_075_1_CS"),
      "Install a certificate on the Charge Point - ManufacturerRootCertificate")  # fmt: skip
def test_tc_075_1_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the charge point installs a manufacturer root certificate and reports it.

    Steps: InstallCertificate certificateType ManufacturerRootCertificate (a throwaway
    root); GetInstalledCertificateIds certificateType ManufacturerRootCertificate.
    Expected:
    1. InstallCertificate.conf Accepted.
    2. GetInstalledCertificateIds.conf Accepted with certificateHashData naming it
       (hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber as the bench computes
       them).
    """
    _install_and_list(rig, tmp_path, MANUFACTURER_ROOT)


@case("VGI_SEC_04_CS",
      f"OCPP 1.6 {INSTALL}; {LIST}; as {OCTT} TC_075_1_CS with a CentralSystemRootCertificate",
      "Install a certificate on the Charge Point - CentralSystemRootCertificate")  # fmt: skip
def test_vgi_sec_04_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the charge point installs a Central System root certificate and reports it.

    Steps and expected results as TC_075_1_CS with certificateType
    CentralSystemRootCertificate.
    """
    _install_and_list(rig, tmp_path, CS_ROOT)


@case("TC_076_CS", clause(f"{DELETE}; {LIST}", "TC_076_CS"),
      "Delete a specific certificate from the Charge Point")  # fmt: skip
def test_tc_076_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the charge point deletes an installed certificate named by its hash data.

    Steps: install a throwaway CentralSystemRootCertificate; GetInstalledCertificateIds;
    DeleteCertificate with the hash data the charge point reported; GetInstalledCertificateIds
    again.
    Expected:
    1. The certificate is listed before.
    2. DeleteCertificate.conf Accepted.
    3. It is no longer listed afterwards; with nothing left the status is NotFound.
    """
    boot_accepted(rig)
    cert = root(tmp_path, "vgi-bench test Central System root")
    with installed(rig, CS_ROOT, cert):
        reported = expect_listed(rig, CS_ROOT, cert)
        expect_status(rig.call("DeleteCertificate", {"certificateHashData": reported}), "Accepted")
        status, hash_data = listed(rig, CS_ROOT)
        check(find_hash(hash_data, cert) is None, f"the deleted {CS_ROOT} no longer listed",
              describe(hash_data))  # fmt: skip
        if not hash_data:
            check(status == "NotFound", f"GetInstalledCertificateIds {CS_ROOT} NotFound "
                  "(none left)", f"status {status!r}")  # fmt: skip


@case("VGI_SEC_05_CS",
      f"OCPP 1.6 {DELETE}; as {OCTT} TC_076_CS with a certificate never installed",
      "Delete a specific certificate from the Charge Point - No matching certificate")  # fmt: skip
def test_vgi_sec_05_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the charge point says so when no installed certificate matches the hash
    data.

    Steps: DeleteCertificate with the hash data of a throwaway root never installed.
    Expected: DeleteCertificate.conf NotFound.
    """
    boot_accepted(rig)
    unknown = certificate_hash_data(root(tmp_path, "vgi-bench never installed"))
    expect_status(rig.call("DeleteCertificate", {"certificateHashData": unknown}), "NotFound")
