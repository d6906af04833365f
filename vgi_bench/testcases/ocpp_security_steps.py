"""Security-profile and certificate steps shared by the OCPP 2.0.1 and 1.6J suites.

Both versions have the same three security profiles (2.0.1 A00; 1.6 through the "Improved
security for OCPP 1.6-J" whitepaper) and the same certificate messages (SignCertificate,
CertificateSigned, InstallCertificate, GetInstalledCertificateIds, DeleteCertificate), so a
case of either suite is a thin wrapper around one of these steps: the charge-point cases
(``*.cp``, the bench is the CSMS / Central System) with a :class:`~vgi_bench.rigs.ocpp_cp.CpRig`,
the CSMS cases (``*.csms``, the bench is the charge point) with a
:class:`~vgi_bench.rigs.ocpp_csms.CsmsRig`.

Each step skips its case, saying why, when the profile's ``[ocpp] security_profile`` does
not fit; failures say what the bench expected and what it saw.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from vgi_bench.cases import Measurements, check, fail
from vgi_bench.ocpp.checks import expect_call, expect_result, expect_status
from vgi_bench.ocpp.cp_role import BenchChargePoint, ScriptedReplies
from vgi_bench.ocpp.csms_role import Attempt
from vgi_bench.ocpp.frames import Kind
from vgi_bench.ocpp.log import TX, Entry
from vgi_bench.ocpp.pki import (
    Issued,
    certificate_hash_data,
    chain_problem,
    issuing_ca,
    load_chain,
    load_csr,
    make_ca,
    make_csr,
    make_leaf,
    new_key,
    same_hash_data,
    same_key,
    subject_attr,
)
from vgi_bench.ocpp.security import Security, old_tls_unavailable
from vgi_bench.rigs.ocpp_cp import DUT_CONNECT_TIMEOUT_S, SIM_CONNECT_TIMEOUT_S, CpRig
from vgi_bench.rigs.ocpp_csms import CsmsRig
from vgi_bench.timing import Latency

#: How long a charge point that must refuse the bench's CSMS is watched for a connection.
NO_CONNECTION_S = 5.0

# ---------------------------------------------------------------------------- charge point
# The bench is the CSMS; the charge point under test connects to it.


def needs(rig: CpRig, *profiles: int) -> None:
    """Skip unless the profile's security profile is one of ``profiles``."""
    if rig.security.profile not in profiles:
        pytest.skip(f"needs [ocpp] security_profile in {profiles}, "
                    f"the profile has {rig.security.profile}")  # fmt: skip


def basic_auth_sent(rig: CpRig, measurements: Measurements) -> None:
    """Profiles 1/2: the websocket upgrade carries ``Basic base64(<id>:<password>)`` with the
    charge point id of the URL and the configured password."""
    needs(rig, 1, 2)
    rig.start_dut()
    attempt = rig.wait_attempt(10)
    if attempt is None:
        fail("a websocket upgrade request within 10 s", "none")
    measurements.record("tls", attempt.tls)
    check(attempt.refused is None,
          f"Basic auth as {rig.security.charge_point_id} with the configured password",
          attempt.refused or "")  # fmt: skip


def untrusted_server_cert_refused(rig: CpRig, tmp_path: Path) -> None:
    """Profiles 2/3: the bench's CSMS presents a self-signed certificate for 127.0.0.1; no
    websocket upgrade request may come within 5 s."""
    needs(rig, 2, 3)
    rogue = make_leaf(tmp_path / "rogue", "rogue", "vgi-bench rogue CSMS")
    rig.restart_csms(rig.security.with_(cert=str(rogue.cert), key=str(rogue.key)))
    rig.start_dut()
    attempt = rig.wait_attempt(NO_CONNECTION_S)
    if attempt is not None:
        fail("no connection to a CSMS with an untrusted certificate",
             f"websocket upgrade request over {attempt.tls} ({attempt.path})")  # fmt: skip


def refuses_then_connects(rig: CpRig, measurements: Measurements, weak: Security,
                          what: str) -> None:  # fmt: skip
    """The bench's CSMS with ``weak`` settings: no upgrade request within 5 s; then with the
    profile's settings again: the charge point connects over TLS >= 1.2 (it is alive and was
    refusing ``what``, not the bench)."""
    rig.restart_csms(weak)
    rig.start_dut()
    attempt = rig.wait_attempt(NO_CONNECTION_S)
    if attempt is not None:
        measurements.record("tls", attempt.tls)
        fail(f"no connection to a CSMS with {what}",
             f"websocket upgrade request over {attempt.tls} ({attempt.path})")  # fmt: skip
    rig.restart_csms(rig.security)
    timeout = SIM_CONNECT_TIMEOUT_S if rig.sim is not None else DUT_CONNECT_TIMEOUT_S
    attempt = rig.wait_attempt(timeout)
    if attempt is None:
        fail(f"a connection within {timeout:g} s once the bench's CSMS is conformant again",
             "no websocket upgrade request")  # fmt: skip
    measurements.record("tls", attempt.tls)
    check(attempt.tls in ("TLSv1.2", "TLSv1.3"), "the reconnection over TLS 1.2 or 1.3",
          f"{attempt.tls}")  # fmt: skip


def old_tls_refused(rig: CpRig, measurements: Measurements) -> None:
    """Profiles 2/3: the bench's CSMS offers only TLS 1.0/1.1 for 5 s (refused), then TLS
    1.2/1.3 again (accepted). Skipped when this OpenSSL cannot speak TLS 1.1."""
    needs(rig, 2, 3)
    unavailable = old_tls_unavailable()
    if unavailable:
        pytest.skip(f"the bench cannot offer TLS 1.1 to the station: {unavailable}")
    refuses_then_connects(rig, measurements, rig.security.old_tls_only(), "only TLS 1.0/1.1")


def expired_server_cert_refused(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Profiles 2/3: the bench's CSMS presents a certificate of the CA that issued the
    profile's ``cert`` that expired a day ago (refused), then its own again (accepted).
    Skipped without the CA's key."""
    needs(rig, 2, 3)
    try:
        ca = issuing_ca(rig.security.cert, rig.security.ca_cert, rig.security.ca_key)
    except LookupError as exc:
        pytest.skip(f"cannot sign an expired certificate the station trusts: {exc}")
    expired = make_leaf(tmp_path / "expired", "expired", "vgi-bench expired CSMS", ca,
                        expired=True)  # fmt: skip
    measurements.record("certificate", "signed by the trusted CA, expired a day ago")
    weak = rig.security.with_(cert=str(expired.cert), key=str(expired.key))
    refuses_then_connects(rig, measurements, weak, "an expired certificate")


def client_cert_presented(rig: CpRig, measurements: Measurements) -> None:
    """Profile 3: a TLS (>= 1.2) connection with a client certificate the bench's CA
    verifies, and the websocket upgrade."""
    needs(rig, 3)
    rig.start_dut()
    attempt = rig.wait_attempt(10)
    if attempt is None:
        fail("a TLS connection with a client certificate the CA verifies, within 10 s",
             "no websocket upgrade (TLS handshake refused)")  # fmt: skip
    measurements.record("tls", attempt.tls)
    check(attempt.tls in ("TLSv1.2", "TLSv1.3"), "TLS 1.2 or 1.3", f"{attempt.tls}")


def _attempt_after(rig: CpRig, seen_before: int, timeout: float) -> Attempt | None:
    """The first websocket upgrade request after the first ``seen_before`` (None: none)."""
    deadline = time.monotonic() + timeout
    while len(rig.csms.attempts) <= seen_before and time.monotonic() < deadline:
        time.sleep(0.02)
    attempts = rig.csms.attempts
    return attempts[seen_before] if len(attempts) > seen_before else None


def _which(rig: CpRig, attempt: Attempt, new: str) -> str:
    """The password of ``attempt`` in words (never the password itself)."""
    if attempt.user is None:
        return "no Basic auth"
    if attempt.password == new:
        return "the new password"
    if attempt.password == rig.security.password:
        return "the old (configured) password"
    return f"another password ({len(attempt.password or '')} characters)"


def _switch_password(rig: CpRig, change: Callable[[str], str], password: str) -> tuple[str, float]:
    """The bench's CSMS expects ``password`` from now on; ``change`` sends it to the
    station: (its status, the monotonic time of the request)."""
    rig.csms.auth_check = rig.security.with_(password=password).check_basic_auth
    return change(password), time.monotonic()


def new_password_used(rig: CpRig, measurements: Measurements, new: str,
                      change: Callable[[str], str], what: str) -> None:  # fmt: skip
    """Profiles 1/2: after the boot, the bench's CSMS expects only ``new`` and ``change``
    sends it (``what`` names the request); expected: Accepted, then the station drops the
    connection and its next websocket upgrade carries Basic auth with ``new``. Afterwards the
    configured password is sent back the same way (best effort, so the profile still fits a
    real station; ``password_restored`` says whether it did)."""
    needs(rig, 1, 2)
    rig.boot()
    seen_before = len(rig.csms.attempts)
    status, sent = _switch_password(rig, change, new)
    check(status == "Accepted", f"{what} Accepted", f"{status}")
    timeout = SIM_CONNECT_TIMEOUT_S if rig.sim is not None else DUT_CONNECT_TIMEOUT_S
    attempt = _attempt_after(rig, seen_before, timeout)
    if attempt is None:
        still = rig.csms.session is not None
        fail(f"the station to reconnect with the new password within {timeout:g} s",
             "no new websocket upgrade request"
             + (" (the old connection is still open)" if still else ""))  # fmt: skip
    measurements.record("reconnected_after_s", round(time.monotonic() - sent, 3))
    check(attempt.password == new and attempt.user == rig.security.charge_point_id,
          f"Basic auth as {rig.security.charge_point_id} with the new password",
          f"{_which(rig, attempt, new)} as {attempt.user!r}")  # fmt: skip
    old = rig.security.password
    restored = False
    if old is not None and rig.csms.wait_session(timeout) is not None:
        seen_before = len(rig.csms.attempts)
        status, _ = _switch_password(rig, change, old)
        attempt = _attempt_after(rig, seen_before, timeout) if status == "Accepted" else None
        restored = attempt is not None and attempt.refused is None
    measurements.record("password_restored", restored)
    if not restored:
        rig.log.note("bench: the station did not take the configured password back")


# ---------------------------------------------------------------------------- CSMS
# The bench is the charge point; it connects to the CSMS under test.


def needs_csms(rig: CsmsRig, *profiles: int) -> None:
    """Skip unless the profile's security profile is one of ``profiles``."""
    profile = rig.cp.security.profile
    if profile not in profiles:
        wanted = " or ".join(str(p) for p in profiles)
        pytest.skip(f"needs [ocpp] security_profile {wanted}, the profile has {profile}")


def expect_refused(rig: CsmsRig, what: str, **security: object) -> None:
    """A second bench charge point with ``security`` changed must not get a websocket."""
    intruder = BenchChargePoint(
        rig.loop, rig.version, rig.cp.url, rig.log, security=rig.cp.security.with_(**security)
    )
    try:
        intruder.connect(timeout=5)
    except Exception as exc:  # websockets' InvalidStatus (401/403), a closed socket...
        rig.measurements.record("refusal", f"{type(exc).__name__}: {exc}")
        return
    intruder.close()
    fail(f"the CSMS to refuse a connection with {what}", "the websocket upgrade succeeded")


def then_accepted(rig: CsmsRig) -> None:
    """The CSMS accepts the bench with the profile's own settings (it refused the weak
    attempt, not everything)."""
    rig.connect()
    rig.measurements.record("then", "accepted the profile's own settings")


def wrong_username_refused(rig: CsmsRig) -> None:
    """Profiles 1/2: Basic auth with username ``VGI_OTHER`` (right password) is refused."""
    needs_csms(rig, 1, 2)
    expect_refused(rig, "username VGI_OTHER on the URL of another id",
                   charge_point_id="VGI_OTHER")  # fmt: skip


def wrong_password_refused(rig: CsmsRig) -> None:
    """Profiles 1/2: Basic auth with a wrong password is refused."""
    needs_csms(rig, 1, 2)
    expect_refused(rig, "a wrong password", password="vgi-bench-wrong-password")


def untrusted_client_cert_refused(rig: CsmsRig, tmp_path: Path) -> None:
    """Profile 3: a self-signed client certificate is refused."""
    needs_csms(rig, 3)
    rogue = make_leaf(tmp_path / "rogue", "rogue", rig.cp.security.charge_point_id)
    expect_refused(rig, "a self-signed client certificate", cert=str(rogue.cert),
                   key=str(rogue.key))  # fmt: skip


def old_tls_refused_by_csms(rig: CsmsRig) -> None:
    """Profiles 2/3: a handshake offering only TLS 1.0/1.1 is refused, the profile's own
    settings accepted. Skipped when this OpenSSL cannot speak TLS 1.1."""
    needs_csms(rig, 2, 3)
    unavailable = old_tls_unavailable()
    if unavailable:
        pytest.skip(f"the bench cannot offer TLS 1.1 to the CSMS: {unavailable}")
    old = rig.cp.security.old_tls_only()
    expect_refused(rig, "only TLS 1.0/1.1 offered", tls_min=old.tls_min, tls_max=old.tls_max)
    then_accepted(rig)


def expired_client_cert_refused(rig: CsmsRig, tmp_path: Path) -> None:
    """Profile 3: a client certificate of the trusted CA that expired a day ago is refused,
    the profile's own accepted. Skipped without the CA's key."""
    needs_csms(rig, 3)
    security = rig.cp.security
    try:
        ca = issuing_ca(security.cert, security.ca_cert, security.ca_key)
    except LookupError as exc:
        pytest.skip(f"cannot sign an expired certificate the CSMS trusts: {exc}")
    expired = make_leaf(tmp_path / "expired", "expired", security.charge_point_id, ca,
                        expired=True)  # fmt: skip
    expect_refused(rig, "an expired client certificate of the trusted CA",
                   cert=str(expired.cert), key=str(expired.key))  # fmt: skip
    then_accepted(rig)


# ---------------------------------------------------------------------------- certificates,
# charge point under test


def signing_ca(rig: CpRig, tmp_path: Path) -> Issued:
    """The CA the bench signs the charge point's certificate with: the profile's CA
    (``ca_cert`` with ``[ocpp] ca_key`` or ``ca.key`` beside it). On security profile 3 the
    charge point reconnects with that certificate, so without the CA's key the case is
    skipped; on profiles 0-2 the bench then signs with a throwaway CA made for the case."""
    sec = rig.security
    try:
        return issuing_ca(sec.cert, sec.ca_cert, sec.ca_key)
    except LookupError as exc:
        if sec.profile >= 3:
            pytest.skip(f"security profile 3: the station reconnects with the certificate the "
                        f"bench signs, so it must be the profile's CA: {exc}")  # fmt: skip
        rig.log.note(f"bench: signing with a throwaway CA ({exc})")
        return make_ca(tmp_path / "throwaway-ca", "vgi-bench throwaway CA")


def checked_csr(rig: CpRig, sign: Entry, org: str | None,
                org_source: str) -> x509.CertificateSigningRequest:  # fmt: skip
    """The CSR of a SignCertificate request: PEM (RFC 2986) with a valid signature, subject
    CN the charge point id (the bench's reading: the id of its URL) and O ``org`` (named
    by ``org_source``; when None, any non-empty O)."""
    try:
        csr = load_csr(sign.payload.get("csr", ""))
    except ValueError as exc:
        fail("a PEM CSR (RFC 2986) signed with its own key", str(exc))
    cn, station = subject_attr(csr.subject), rig.security.charge_point_id
    check(cn == station, f"CSR subject CN {station!r} (the station's identity)", f"CN {cn!r}")
    o = subject_attr(csr.subject, NameOID.ORGANIZATION_NAME)
    if org is not None:
        check(o == org, f"CSR subject O {org!r} ({org_source})", f"O {o!r}")
    else:
        check(bool(o), "CSR subject with an O (organizationName)", csr.subject.rfc4514_string())
    return csr


def answered(rig: CpRig, sign: Entry) -> None:
    """Wait until the bench's answer to the CALL ``sign`` is sent."""

    def answer(entry: Entry) -> bool:
        frame = entry.frame
        mine = frame.unique_id == sign.frame.unique_id
        return entry.direction == TX and frame.kind is Kind.RESULT and mine

    rig.log.wait_for(answer, 2.0, sign.seq)


def root(tmp_path: Path, name: str) -> x509.Certificate:
    """A throwaway root certificate made for the case."""
    ca = make_ca(tmp_path / name.replace(" ", "-"), name)
    return x509.load_pem_x509_certificate(ca.cert.read_bytes())


def find_hash(hash_data: list[dict], cert: x509.Certificate) -> dict | None:
    """The entry of ``hash_data`` (CertificateHashData) that names ``cert``, recomputed by
    the bench with the algorithm each entry says it used; None when none does."""
    for data in hash_data:
        algorithm = data.get("hashAlgorithm", "SHA256")
        if same_hash_data(data, certificate_hash_data(cert, algorithm=algorithm)):
            return data
    return None


# ---------------------------------------------------------------------------- certificates,
# CSMS under test

#: How long the CSMS has, after accepting the CSR, to send CertificateSigned.
CERTIFICATE_SIGNED_S = 30.0
#: The O of the bench charge point's CSRs.
ORGANIZATION = "vgi-bench"


def _anchor(rig: CsmsRig) -> x509.Certificate | None:
    ca_cert = rig.cp.security.ca_cert
    return x509.load_pem_x509_certificate(Path(ca_cert).read_bytes()) if ca_cert else None


def csr_signed_by_csms(rig: CsmsRig, measurements: Measurements, boot: dict,
                       certificate_type: str | None) -> None:  # fmt: skip
    """Boot (``boot`` is the BootNotification payload); SignCertificate with a fresh CSR
    (CN the charge point id, O ``vgi-bench``; with ``certificate_type`` when given, 2.0.1);
    the bench answers CertificateSigned Accepted. Expected: SignCertificate Accepted, a
    CertificateSigned within 30 s whose leaf carries the CSR's key, CN and O, the chain
    valid today, each certificate signed by the next, the last by the profile's ``ca_cert``
    (only checked in itself without one)."""
    rig.cp.handler = ScriptedReplies({"CertificateSigned": {"status": "Accepted"}},
                                     rig.cp.handler)  # fmt: skip
    rig.connect()
    expect_result(rig.call("BootNotification", boot))
    station = rig.cp.url.rstrip("/").rsplit("/", 1)[-1]
    key = new_key()
    mark = len(rig.log)
    request: dict = {"csr": make_csr(key, station, ORGANIZATION)}
    if certificate_type is not None:
        request["certificateType"] = certificate_type
    exchange = rig.call("SignCertificate", request)
    expect_status(exchange, "Accepted")
    signed = expect_call(rig.log, "CertificateSigned", since=mark, within=CERTIFICATE_SIGNED_S,
                         what="CertificateSignedRequest for the CSR")  # fmt: skip
    measurements.record("signed_after_csr", Latency.between(exchange.request.mono, signed.mono))
    if certificate_type is not None:
        kind = signed.payload.get("certificateType")
        check(kind in (None, certificate_type), f"certificateType {certificate_type} (or none)",
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
