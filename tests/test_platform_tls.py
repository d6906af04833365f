"""HTTPS on loopback, both roles: the bench calls the reference platform over https://
(trusting ``[platform] ca_cert``) and serves the DUT's pushes over HTTPS (``cert``/``key``),
with a throwaway CA from ``vgi_bench.ocpp.pki``. A DUT certificate from a CA the bench does not
trust gives a failed case naming the TLS problem."""

from __future__ import annotations

import dataclasses
import http.client
import signal
import ssl
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from tests.platform_helpers import platform_section, run_cases, selector
from tests.proof import write_profile
from tests.test_platform_gridplat_proof import CASE_FAULTS as GRIDPLAT_CASES
from tests.test_platform_tcec102_proof import ALGORITHM_CASES
from vgi_bench.ocpp.pki import Issued, make_ca, make_leaf
from vgi_bench.platform.link import LinkSetupError, dut_server, service_for
from vgi_bench.platform.tls import MINIMUM_VERSION, client_context
from vgi_bench.profile import PlatformConfig

#: A representative tcec102 subset over HTTPS: token, information, pushes to the bench's
#: HTTPS server, business, error paths (the whole suite runs over HTTP in the proofs).
TCEC_CASES = (*ALGORITHM_CASES, "TCEC.C.01", "TCEC.E.02", "TCEC.E.08")


def _pki(tmp: Path) -> tuple[Issued, Issued]:
    ca = make_ca(tmp / "pki")
    return ca, make_leaf(tmp / "pki", "platform", "127.0.0.1", ca)


def _https_section(tmp: Path, ca_cert: Path | None = None, **overrides: object) -> str:
    ca, leaf = _pki(tmp)
    section = platform_section(**overrides)
    url = next(line for line in section.splitlines() if line.startswith("url = "))
    https = url.replace('"http://', '"https://')
    return section.replace(url, https) + (
        f'ca_cert = "{ca_cert or ca.cert}"\ncert = "{leaf.cert}"\nkey = "{leaf.key}"\n'
    )


def test_tcec102_cases_pass_over_https(tmp_path: Path) -> None:
    outcome = run_cases(tmp_path, "tcec102.platform", selector(list(TCEC_CASES)),
                        section=_https_section(tmp_path))  # fmt: skip
    failed = {c: r["message"] for c, r in outcome.results.items() if r["verdict"] != "passed"}
    assert set(outcome.results) == set(TCEC_CASES) and not failed, failed or outcome.output
    log = (tmp_path / "out" / "platform.jsonl").read_text()
    assert "notification_stationStatus" in log  # the DUT's pushes reached the HTTPS server


def test_gridplat_suite_passes_over_https(tmp_path: Path) -> None:
    outcome = run_cases(tmp_path, "gridplat.platform", selector(list(GRIDPLAT_CASES)),
                        section=_https_section(tmp_path))  # fmt: skip
    failed = {c: r["message"] for c, r in outcome.results.items() if r["verdict"] != "passed"}
    assert set(outcome.results) == set(GRIDPLAT_CASES) and not failed, failed or outcome.output


def test_untrusted_dut_certificate_is_a_failed_case_naming_tls(tmp_path: Path) -> None:
    other = make_ca(tmp_path / "other", "a CA nobody uses")
    cases = ["TCEC.T.01", "TCEC.I.01"]
    outcome = run_cases(tmp_path, "tcec102.platform", selector(cases),
                        section=_https_section(tmp_path, ca_cert=other.cert))  # fmt: skip
    assert set(outcome.results) == set(cases), outcome.output
    for case_id in cases:
        result = outcome.results[case_id]
        assert result["verdict"] == "failed", result
        assert "TLS handshake failed: certificate verify failed" in result["message"], result
    assert outcome.exit_code == 1


def _config(tmp: Path) -> PlatformConfig:
    ca, leaf = _pki(tmp)
    return PlatformConfig(
        operator_id="VGIBENCH00000001", operator_secret="OPERATORSECRET01",
        data_secret="DATASECRET000001", data_iv="DATASECRETIV0001",
        sig_secret="SIGSECRET0000001", ca_cert=str(ca.cert), cert=str(leaf.cert),
        key=str(leaf.key),
    )  # fmt: skip


def test_bench_tls_is_1_2_or_later(tmp_path: Path) -> None:
    config = _config(tmp_path)
    assert client_context(config.ca_cert).minimum_version == MINIMUM_VERSION
    server = dut_server(config, service_for(config, {}), "127.0.0.1", 0, True).start()
    try:
        assert server.tls is not None and server.tls.minimum_version == MINIMUM_VERSION
        old = client_context(config.ca_cert)
        with warnings.catch_warnings():  # TLS 1.1 is deprecated: that is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        host, port = server.address
        conn = http.client.HTTPSConnection(host, port, timeout=5, context=old)
        with pytest.raises(ssl.SSLError):
            conn.request("POST", "/query_token", body=b"{}")
        conn.close()
        good = http.client.HTTPSConnection(host, port, timeout=5,
                                           context=client_context(config.ca_cert))  # fmt: skip
        good.request("POST", "/query_token", body=b"{}")
        assert good.getresponse().status == 200  # the server lives on after the refusal
        good.close()
    finally:
        server.stop()


def test_https_url_without_cert_is_a_setup_error(tmp_path: Path) -> None:
    config = dataclasses.replace(_config(tmp_path), cert=None, key=None)
    with pytest.raises(LinkSetupError, match="needs cert and key"):
        dut_server(config, service_for(config, {}), "127.0.0.1", 0, True)


def test_sim_in_another_process_serves_https(tmp_path: Path) -> None:
    """``vgi-bench sim tcec102-platform`` with an https url: a DUT on its own, over TLS."""
    section = _https_section(tmp_path)
    profile = write_profile(tmp_path / "sim.toml", simulated=False, extra=section)
    sim = subprocess.Popen([sys.executable, "-m", "vgi_bench.cli", "sim", "tcec102-platform",
                            "--profile", str(profile)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)  # fmt: skip
    cases = ["TCEC.T.01", "TCEC.N.01", "TCEC.C.02"]
    try:
        line = sim.stdout.readline() if sim.stdout else ""
        assert "running on https://127.0.0.1:" in line, line
        outcome = run_cases(tmp_path, "tcec102.platform", selector(cases), section=section,
                            simulated=False)  # fmt: skip
    finally:
        sim.send_signal(signal.SIGTERM)
        code = sim.wait(timeout=15)
    failed = {c: r["message"] for c, r in outcome.results.items() if r["verdict"] != "passed"}
    assert set(outcome.results) == set(cases) and not failed, failed or outcome.output
    assert code == 0
