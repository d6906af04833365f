"""OCPP 2.0.1 charging station, the edges of its own certificate: A02 when the CSMS answers
the SignCertificateRequest Rejected, and M04 when the CSMS asks it to delete its
ChargingStationCertificate.

The A02 steps (trigger, CSR checks, signing) are those of ``test_a_certificates``. For
TC_A_15_CS the bench's CSMS answers SignCertificate with Rejected: its handlers are
swapped for the case, on the connection already open and on any later one.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from ocpp.routing import on
from ocpp.v201.enums import Action

from vgi_bench.cases import Measurements, case, check
from vgi_bench.ocpp.checks import expect_call, expect_no_call, expect_status, is_call
from vgi_bench.ocpp.csms_handlers import Csms201Handlers
from vgi_bench.ocpp.frames import Kind
from vgi_bench.ocpp.log import TX, Entry
from vgi_bench.ocpp.pki import certificate_hash_data, sign_csr
from vgi_bench.ocpp.session import RouteHandler
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp201.cp.steps import (
    ANSWER_S,
    boot_accepted,
    clause,
    set_variable_if_implemented,
)
from vgi_bench.testcases.ocpp201.cp.test_a_certificates import (
    USE_CASE,
    certificate_signed,
    requested_csr,
    signing_ca,
)

M04 = "M04 Delete a specific certificate from a Charging Station"
#: How long the station is watched for a repeated SignCertificateRequest after Rejected.
NO_RETRY_S = 5.0
#: SecurityCtrlr.CertSigningWaitMinimum the bench sets (if implemented): a station that
#: retries by that configuration waits a minute, far beyond the case's watch.
WAIT_MINIMUM_S = "60"


class _SignRejected(Csms201Handlers):
    """The bench's CSMS, answering SignCertificateRequest with Rejected."""

    @on(Action.sign_certificate)
    def on_sign_certificate(self, **_: object) -> dict[str, str]:
        return {"status": "Rejected"}


def reject_sign_certificate(rig: CpRig) -> None:
    """From now on the bench's CSMS answers SignCertificate with Rejected."""
    rig.csms.handlers = _SignRejected
    session = rig.csms.session
    if session is not None:
        session.handler = RouteHandler(_SignRejected(rig.script))


def _answer_to(rig: CpRig, call: Entry) -> Entry | None:
    """The bench's answer to the station's ``call``, once sent (2 s at most)."""

    def answer(entry: Entry) -> bool:
        frame = entry.frame
        mine = frame.unique_id == call.frame.unique_id
        return entry.direction == TX and frame.kind in (Kind.RESULT, Kind.ERROR) and mine

    return rig.log.wait_for(answer, 2.0, call.seq)


@case("TC_A_15_CS", clause(f"{USE_CASE}; B09 SecurityCtrlr.CertSigningWaitMinimum",
                           "TC_A_15_CS"),
      "Update Charging Station Certificate by request of CSMS - SignCertificateRequest "
      "Rejected")  # fmt: skip
def test_tc_a_15_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the station takes a Rejected SignCertificateResponse in its stride: it does
    not send its CSR again at once, and it stays in service.

    Steps: SecurityCtrlr.CertSigningWaitMinimum set to 60 s (if implemented); TriggerMessage
    requestedMessage SignChargingStationCertificate; the bench answers the
    SignCertificateRequest with Rejected; then TriggerMessage Heartbeat.
    Expected:
    1. TriggerMessageResponse Accepted; a SignCertificateRequest follows (A02, F06).
    2. No further SignCertificateRequest within 5 s of the Rejected answer. OCTT checks only
       step 1 (no requirement covers Rejected); the bench reads "the station handles it"
       as: no immediate resend, since A02 retries a CSR only after CertSigningWaitMinimum.
    3. The station still answers: TriggerMessage Heartbeat Accepted, then a Heartbeat.
    OCTT runs this on security profile 3; the messages are the same on any profile.
    """
    mark = boot_accepted(rig)
    set_variable_if_implemented(rig, "SecurityCtrlr", "CertSigningWaitMinimum", WAIT_MINIMUM_S)
    reject_sign_certificate(rig)
    trigger = {"requestedMessage": "SignChargingStationCertificate"}
    expect_status(rig.call("TriggerMessage", trigger), "Accepted")
    sign = expect_call(rig.log, "SignCertificate", since=mark, within=ANSWER_S,
                       what="SignCertificateRequest after TriggerMessage "
                       "SignChargingStationCertificate")  # fmt: skip
    answer = _answer_to(rig, sign)
    status = answer.payload.get("status") if answer is not None else None
    check(status == "Rejected", "the bench's SignCertificateResponse Rejected sent",
          f"{answer.frame.describe() if answer is not None else 'no answer'}")  # fmt: skip
    assert answer is not None
    expect_no_call(rig.log, is_call("SignCertificate"), since=answer.seq + 1, during=NO_RETRY_S,
                   what=f"no SignCertificateRequest again within {NO_RETRY_S:g} s of the "
                   "Rejected answer")  # fmt: skip
    mark = rig.mark()
    expect_status(rig.call("TriggerMessage", {"requestedMessage": "Heartbeat"}), "Accepted",
                  what="TriggerMessageResponse (Heartbeat) after the Rejected CSR")  # fmt: skip
    expect_call(rig.log, "Heartbeat", since=mark, within=ANSWER_S,
                what="Heartbeat after TriggerMessage Heartbeat")  # fmt: skip


@case("TC_M_23_CS", clause(f"{M04} (M04.FR.06); {USE_CASE}", "TC_M_23_CS"),
      "Delete a certificate from a Charging Station - Unable to delete the Charging Station "
      "Certificate")  # fmt: skip
def test_tc_m_23_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the station does not let the CSMS delete its own ChargingStationCertificate.

    Steps: renew the ChargingStationCertificate as TC_A_11_CS does (trigger, CSR, the bench
    signs it, CertificateSigned Accepted); DeleteCertificate with the hash data of that
    certificate (SHA256, issuer the bench's signing CA, as the bench computes it).
    Expected:
    1. CertificateSignedResponse Accepted (A02).
    2. DeleteCertificateResponse Failed or NotFound, never Accepted (M04.FR.06; OCTT
       TC_M_23_CS accepts either).
    """
    ca = signing_ca(rig, tmp_path)
    csr = requested_csr(rig, measurements)
    chain = sign_csr(csr, ca)
    expect_status(rig.call("CertificateSigned", certificate_signed(chain)), "Accepted")
    leaf, issuer = x509.load_pem_x509_certificates(chain.encode())[:2]
    hash_data = certificate_hash_data(leaf, issuer)
    exchange = rig.call("DeleteCertificate", {"certificateHashData": hash_data})
    what = "DeleteCertificateResponse for its own ChargingStationCertificate"
    expect_status(exchange, "Failed", "NotFound", what=what)
