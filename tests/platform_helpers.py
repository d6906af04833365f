"""Helpers of the platform tests: a [platform] profile section on fresh ports, and a run
of several cases of a platform suite through the CLI (see tests/proof.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.ocpp_helpers import free_port
from tests.proof import write_profile


def platform_section(**overrides: object) -> str:
    """``[platform]`` for the simulated reference on two free ports, with quick timers."""
    values: dict[str, object] = {
        "url": f"http://127.0.0.1:{free_port()}/evcs/v1/",
        "listen": f"127.0.0.1:{free_port()}",
        "operator_id": "VGIBENCH00000001",
        "operator_secret": "OPERATORSECRET01",
        "data_secret": "DATASECRET000001",
        "data_iv": "DATASECRETIV0001",
        "sig_secret": "SIGSECRET0000001",
        "token_ttl_s": 2,
        "ack_limit_s": 2.0,
        "max_body_bytes": 65536,
        "realtime_period_s": 0.5,
        "charge_status_period_s": 0.5,
        "check_orders_wait_s": 3.0,
        "retry_wait_s": 3.0,
        **overrides,
    }
    return "[platform]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in values.items())


def _toml(value: object) -> str:
    """A TOML value (inline table for a dict; JSON's strings and numbers are TOML's)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


#: pytest options of the proof runs: no report.pdf, and no hypothesis plugin (it costs
#: 1.6 s of CPU per run to load and no conformance case uses it).
QUICK_PYTEST = ("-p", "no:randomly", "-p", "no:hypothesispytest", "-q", "--vgi-no-pdf")


@dataclass(frozen=True)
class SuiteOutcome:
    exit_code: int
    results: dict[str, dict]  # case id -> its results.jsonl line
    output: str


def run_cases(
    tmp: Path,
    suite: str,
    selector: str,
    *,
    faults: tuple[str, ...] = (),
    section: str = "",
    simulated: bool = True,
) -> SuiteOutcome:
    """``vgi-bench run --suite SUITE -k SELECTOR`` against the simulated reference (or,
    with ``simulated`` false, against whatever serves the profile's url)."""
    profile = write_profile(tmp / "profile.toml", faults=faults, simulated=simulated,
                            extra=section or platform_section())  # fmt: skip
    out = tmp / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "vgi_bench.cli", "run", "--suite", suite, "--profile", str(profile),
         "--out", str(out), "-k", selector, "--", *QUICK_PYTEST],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    lines = (out / "results.jsonl").read_text().splitlines() if out.exists() else []
    results = {r["id"]: r for r in (json.loads(line) for line in lines if line.strip())}
    return SuiteOutcome(proc.returncode, results, proc.stdout[-3000:] + proc.stderr[-3000:])


def selector(case_ids: list[str]) -> str:
    """-k for case ids (``TCEC.T.01`` is ``test_tcec_t01_...``)."""
    names = []
    for case_id in case_ids:
        prefix, *rest = case_id.lower().split(".")
        names.append(f"test_{prefix}_{''.join(rest)}_")
    return " or ".join(names)


def cases_of(case_faults: dict[str, tuple[str, ...]], fault: str) -> list[str]:
    return [case_id for case_id, faults in case_faults.items() if fault in faults]


def assert_all_pass(tmp: Path, suite: str, case_faults: dict[str, tuple[str, ...]]) -> None:
    """Every case of the proof table passes against the conformant reference."""
    outcome = run_cases(tmp, suite, selector(list(case_faults)))
    verdicts = {cid: (r["verdict"], r["message"]) for cid, r in outcome.results.items()}
    assert set(verdicts) == set(case_faults), outcome.output
    assert all(v == "passed" for v, _ in verdicts.values()), verdicts
    assert outcome.exit_code == 0


def assert_fault_caught(
    tmp: Path, suite: str, case_faults: dict[str, tuple[str, ...]], fault: str
) -> None:
    """Every case written for ``fault`` fails against it with 'expected ...; saw ...'."""
    ids = cases_of(case_faults, fault)
    outcome = run_cases(tmp, suite, selector(ids), faults=(fault,))
    assert set(outcome.results) == set(ids), outcome.output
    for case_id in ids:
        result = outcome.results[case_id]
        assert result["verdict"] == "failed", f"{case_id} vs {fault}: {result}"
        assert result["message"].startswith("expected "), result["message"]
        assert "; saw " in result["message"], result["message"]
    assert outcome.exit_code == 1
