"""OCPP 2.0.1 charging station, functional block M: installing CA certificates (M05),
listing them (M03, GetInstalledCertificateIds) and deleting them (M04, DeleteCertificate).

The bench installs throwaway root certificates made for the case and recomputes their
CertificateHashData itself (RFC 6960 CertID: hash of the DER issuer name, hash of the
issuer's public key bits, serial number in hex; :func:`vgi_bench.ocpp.pki.certificate_hash_data`)
to judge what the station reports. A certificate a case installed is deleted again at the
end of the case, whatever its verdict.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509

from vgi_bench.cases import Measurements, case, check, fail
from vgi_bench.ocpp.checks import expect_result, expect_status
from vgi_bench.ocpp.pki import certificate_hash_data, pem
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp201.cp.steps import boot_accepted, clause
from vgi_bench.testcases.ocpp_security_steps import find_hash, root

M03 = "M03 Retrieve list of available certificates from a Charging Station"
M04 = "M04 Delete a specific certificate from a Charging Station"
M05 = "M05 Install CA certificate in a Charging Station"


def listed(rig: CpRig, kind: str) -> tuple[str, list[dict]]:
    """GetInstalledCertificateIds for ``kind``: (status, its certificateHashDataChain)."""
    payload = expect_result(rig.call("GetInstalledCertificateIds", {"certificateType": [kind]}))
    return payload.get("status", ""), payload.get("certificateHashDataChain") or []


def find(chain: list[dict], kind: str, cert: x509.Certificate) -> dict | None:
    """The hash data in ``chain`` that names ``cert`` (recomputed with the algorithm each
    entry says it used), None when no entry does."""
    of_kind = [e for e in chain if e.get("certificateType") == kind]
    return find_hash([e.get("certificateHashData") or {} for e in of_kind], cert)


def describe(chain: list[dict]) -> str:
    if not chain:
        return "no certificate"
    return "; ".join(f"{e.get('certificateType')} {e.get('certificateHashData')}" for e in chain)


@contextlib.contextmanager
def installed(rig: CpRig, kind: str, cert: x509.Certificate) -> Iterator[None]:
    """InstallCertificate ``kind`` Accepted (M05.FR.02); deleted again at the end."""
    request = {"certificateType": kind, "certificate": pem(cert)}
    expect_status(rig.call("InstallCertificate", request), "Accepted",
                  what=f"InstallCertificateResponse to a {kind}")  # fmt: skip
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            hash_data = certificate_hash_data(cert)
            rig.call("DeleteCertificate", {"certificateHashData": hash_data})


def expect_listed(rig: CpRig, kind: str, cert: x509.Certificate) -> dict:
    """GetInstalledCertificateIds for ``kind`` Accepted, listing ``cert`` with the right
    hash data (M03.FR.01/03/04); that hash data."""
    status, chain = listed(rig, kind)
    ours = certificate_hash_data(cert)
    check(status == "Accepted", f"GetInstalledCertificateIds {kind} Accepted",
          f"status {status!r}")  # fmt: skip
    found = find(chain, kind, cert)
    if found is None:
        fail(f"the installed {kind} listed with hash data {ours}", describe(chain))
    return found


def _install_and_list(rig: CpRig, tmp_path: Path, kind: str) -> None:
    boot_accepted(rig)
    cert = root(tmp_path, f"vgi-bench test {kind}")
    with installed(rig, kind, cert):
        expect_listed(rig, kind, cert)


@case("TC_M_01_CS", clause(f"{M05}; {M03}", "TC_M_01_CS"),
      "Install CA certificate - CSMSRootCertificate")  # fmt: skip
def test_tc_m_01_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the station installs a CSMS root certificate and reports it.

    Steps: InstallCertificate certificateType CSMSRootCertificate (a throwaway root);
    GetInstalledCertificateIds certificateType [CSMSRootCertificate].
    Expected:
    1. InstallCertificateResponse Accepted (M05.FR.02).
    2. GetInstalledCertificateIdsResponse Accepted listing it as CSMSRootCertificate with
       hashAlgorithm, issuerNameHash, issuerKeyHash and serialNumber as the bench computes
       them (M03.FR.03/04).
    """
    _install_and_list(rig, tmp_path, "CSMSRootCertificate")


@case("TC_M_02_CS", clause(f"{M05}; {M03}", "TC_M_02_CS"),
      "Install CA certificate - ManufacturerRootCertificate")  # fmt: skip
def test_tc_m_02_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the station installs a manufacturer root certificate and reports it.

    Steps and expected results as TC_M_01_CS with certificateType
    ManufacturerRootCertificate.
    """
    _install_and_list(rig, tmp_path, "ManufacturerRootCertificate")


@case("TC_M_20_CS", clause(f"{M04}; {M03}", "TC_M_20_CS"),
      "Delete a certificate from a Charging Station - Success")  # fmt: skip
def test_tc_m_20_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the station deletes an installed certificate named by its hash data.

    Steps: install a throwaway CSMSRootCertificate; GetInstalledCertificateIds; DeleteCertificate
    with the hash data the station reported; GetInstalledCertificateIds again.
    Expected:
    1. The certificate is listed before (M03).
    2. DeleteCertificateResponse Accepted (M04.FR.02).
    3. It is no longer listed afterwards; with nothing left the status is NotFound (M03).
    """
    kind = "CSMSRootCertificate"
    boot_accepted(rig)
    cert = root(tmp_path, "vgi-bench test CSMS root")
    with installed(rig, kind, cert):
        reported = expect_listed(rig, kind, cert)
        expect_status(rig.call("DeleteCertificate", {"certificateHashData": reported}), "Accepted")
        status, chain = listed(rig, kind)
        check(find(chain, kind, cert) is None, f"the deleted {kind} no longer listed",
              describe(chain))  # fmt: skip
        if not chain:
            check(status == "NotFound", f"GetInstalledCertificateIds {kind} NotFound "
                  "(none left)", f"status {status!r}")  # fmt: skip


@case("TC_M_22_CS", clause(M04, "TC_M_22_CS"),
      "Delete a certificate from a Charging Station - No matching certificate found")  # fmt: skip
def test_tc_m_22_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the station says so when no installed certificate matches the hash data.

    Steps: DeleteCertificate with the hash data of a throwaway root never installed.
    Expected: DeleteCertificateResponse NotFound (M04.FR.04).
    """
    boot_accepted(rig)
    unknown = certificate_hash_data(root(tmp_path, "vgi-bench never installed"))
    expect_status(rig.call("DeleteCertificate", {"certificateHashData": unknown}), "NotFound")
