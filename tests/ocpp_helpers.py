"""Helpers of the OCPP tests: free local ports and profiles that use them."""

from __future__ import annotations

import socket

#: pytest options for proof runs: no PDF, no hypothesis plugin, no assertion rewriting
#: (cases fail through CaseFailure, not bare asserts); halves a CLI run's start-up.
FAST = ("--vgi-no-pdf", "-p", "no:hypothesispytest", "--assert=plain")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on now (each test takes its own)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ocpp_section(
    version: str = "2.0.1", port: int | None = None, csms_port: int | None = None,
    *, wss: bool = False,
) -> str:  # fmt: skip
    """An ``[ocpp]`` profile section on fresh ports: the bench as CSMS listens on ``port``,
    the CSMS under test (``url``) on ``csms_port`` (the same port unless given)."""
    port = port or free_port()
    scheme = "wss" if wss else "ws"
    return (
        f'[ocpp]\nversion = "{version}"\nlisten = "127.0.0.1:{port}"\n'
        f'url = "{scheme}://127.0.0.1:{csms_port or port}/CP_1"\ncharge_point_id = "CP_1"\n'
    )


def run_ocpp_case(
    tmp_path, suite: str, case_id: str, version: str, faults: tuple[str, ...] = (),
    security: str = "",
):  # fmt: skip
    """One case of an OCPP suite through the CLI, on its own ports (see tests/proof.py);
    ``security``: more ``[ocpp]`` keys (security_profile, password, certificates)."""
    from tests.proof import run_case

    section = ocpp_section(version, csms_port=free_port(), wss="security_profile = 2" in security
                           or "security_profile = 3" in security)  # fmt: skip
    return run_case(
        tmp_path, suite, "test_" + case_id.lower(), faults=faults, timeout=120,
        extra=section + security, pytest_args=FAST,
    )  # fmt: skip


def security_keys(directory, profile: int, password: str = "vgi-test-password-0001") -> str:
    """``[ocpp]`` keys for security ``profile`` with a throwaway PKI made in ``directory``."""
    from vgi_bench.ocpp.pki import make_ca, make_leaf

    ca = make_ca(directory)
    leaf = make_leaf(directory, "leaf", "CP_1", ca)
    return (
        f'security_profile = {profile}\npassword = "{password}"\nca_cert = "{ca.cert}"\n'
        f'cert = "{leaf.cert}"\nkey = "{leaf.key}"\n'
    )


def run_ocpp_suite(tmp_path, suite: str, version: str) -> tuple[int, dict[str, dict], str]:
    """A whole OCPP suite through the CLI against the conformant reference DUT, once:
    (exit code, case id -> result line, output). One run proves every case's passing side
    (each verdict is its own line in results.jsonl) at the cost of one CLI start."""
    import json
    import subprocess
    import sys

    from tests.proof import write_profile

    profile = write_profile(
        tmp_path / "profile.toml", extra=ocpp_section(version, csms_port=free_port())
    )
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "vgi_bench.cli", "run", "--suite", suite, "--profile", str(profile),
         "--out", str(out), "--", "-p", "no:randomly", "-q", *FAST],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    lines = (out / "results.jsonl").read_text().splitlines() if out.exists() else []
    results = {r["id"]: r for r in (json.loads(line) for line in lines if line.strip())}
    return proc.returncode, results, proc.stdout[-3000:] + proc.stderr[-3000:]


def assert_suite_passes(tmp_path, suite: str, version: str, case_ids) -> None:
    """Every case of ``case_ids`` passes in one CLI run of ``suite``, which exits 0."""
    code, results, output = run_ocpp_suite(tmp_path, suite, version)
    unproven = {c for c in case_ids if results.get(c, {}).get("verdict") != "passed"}
    details = {c: results.get(c, {}).get("message", "no result") for c in unproven}
    assert not unproven, f"not passed: {details}\n{output}"
    assert code == 0, output
