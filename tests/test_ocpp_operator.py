"""Operator actions at a CSMS under test (``vgi_bench/ocpp/operator.py``): the profile's
``[ocpp.operator]`` table, the command path and its verdicts, and the skip without one.

The end-to-end tests run a case through the CLI against an *external* CSMS (the reference
CSMS started here, ``simulated = false``): an operator command the bench runs writes its
arguments to a file, and a watcher here plays the CSMS's operator console, so the case
passes only if the command got the right parameters.
"""

from __future__ import annotations

import json
import shlex
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.ocpp_helpers import FAST, free_port, ocpp_section
from tests.proof import run_case, write_profile
from vgi_bench.ocpp.log import MessageLog
from vgi_bench.ocpp.operator import (
    ACTIONS,
    CommandOperator,
    OperatorError,
    perform,
    placeholders,
    skip_reason,
)
from vgi_bench.profile import ProfileError, load_profile
from vgi_bench.reference.ocpp.csms_operator import ReferenceOperator
from vgi_bench.reference.ocpp.csms_ref import ReferenceCsms

WRITE_ARGS = "import json, sys; open(sys.argv[1], 'w').write(json.dumps(sys.argv[2:]))"
FAIL = "import sys; sys.stderr.write('csms refused: no such charge point'); sys.exit(3)"


def _python(code: str, *args: str) -> str:
    return shlex.join([sys.executable, "-c", code, *args])


def _profile(tmp_path: Path, operator: dict[str, str], port: int | None = None) -> Path:
    table = "".join(f"{name} = {json.dumps(command)}\n" for name, command in operator.items())
    section = ocpp_section("2.0.1", csms_port=port or free_port())
    return write_profile(tmp_path / "profile.toml", simulated=False,
                         extra=section + "[ocpp.operator]\n" + table)  # fmt: skip


# ---------------------------------------------------------------------- the profile key


def test_profile_takes_operator_commands(tmp_path: Path) -> None:
    command = _python(WRITE_ARGS, "out.json", "{charge_point_id}", "{reset_type}")
    profile = load_profile(_profile(tmp_path, {"reset": command}))
    assert profile.ocpp is not None
    assert profile.ocpp.operator == {"reset": command}
    assert placeholders(command) == {"charge_point_id", "reset_type"}


@pytest.mark.parametrize(
    ("table", "reason"),
    [
        ({"rest": "true"}, "'ocpp.operator' has unknown action 'rest' (did you mean 'reset'?"),
        ({"reset": "echo {limit_a}"}, "'ocpp.operator' entry 'reset' uses {limit_a}"),
        ({"reset": "  "}, "'ocpp.operator' entry 'reset' must be a command"),
        ({"reset": 'echo "unclosed'}, "'ocpp.operator' entry 'reset' is not a valid command"),
    ],
)
def test_profile_refuses_bad_operator_table(tmp_path: Path, table: dict, reason: str) -> None:
    with pytest.raises(ProfileError) as err:
        load_profile(_profile(tmp_path, table))
    assert reason in str(err.value)


def test_every_action_names_the_call_of_both_versions() -> None:
    for action in ACTIONS.values():
        assert set(action.sends) == {"2.0.1", "1.6"}
        assert "charge_point_id" in action.all_params


# ---------------------------------------------------------------------- the command path


def test_command_gets_its_parameters_as_arguments(tmp_path: Path) -> None:
    out = tmp_path / "args.json"
    log = MessageLog()
    operator = CommandOperator(
        {"remote_start": _python(WRITE_ARGS, str(out), "--token={id_token}", "{evse_id}")},
        message_log=log,
    )
    perform(operator, "remote_start", charge_point_id="CP 1", version="2.0.1",
            id_token="TOKEN WITH SPACES", evse_id=1)  # fmt: skip
    assert json.loads(out.read_text()) == ["--token=TOKEN WITH SPACES", "1"]
    notes = [e.note for e in log.entries]
    assert any("operator remote_start: running" in n for n in notes)
    assert any("operator remote_start: exit 0" in n for n in notes)


def test_secrets_come_from_the_environment_and_stay_out_of_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VGI_TEST_CSMS_TOKEN", "s3cr3t-token")
    out = tmp_path / "args.json"
    log = MessageLog()
    operator = CommandOperator(
        {"reset": _python(WRITE_ARGS, str(out), "--auth=$VGI_TEST_CSMS_TOKEN", "{reset_type}")},
        message_log=log,
    )
    perform(operator, "reset", charge_point_id="CP_1", version="2.0.1", reset_type="Immediate")
    assert json.loads(out.read_text()) == ["--auth=s3cr3t-token", "Immediate"]
    notes = " ".join(e.note for e in log.entries)
    assert "$VGI_TEST_CSMS_TOKEN" in notes and "s3cr3t-token" not in notes


def test_failing_command_raises_with_its_stderr() -> None:
    operator = CommandOperator({"reset": _python(FAIL)})
    with pytest.raises(OperatorError, match="exited with 3: csms refused: no such charge point"):
        perform(operator, "reset", charge_point_id="CP_1", version="1.6", reset_type="Hard")


def test_command_timeout_and_missing_program() -> None:
    slow = CommandOperator({"reset": _python("import time; time.sleep(5)")}, timeout_s=0.3)
    with pytest.raises(OperatorError, match=r"did not finish within 0\.3 s"):
        perform(slow, "reset", charge_point_id="CP_1", version="1.6", reset_type="Hard")
    missing = CommandOperator({"reset": "/nonexistent/vgi-csms-cli {reset_type}"})
    with pytest.raises(OperatorError, match="cannot run /nonexistent/vgi-csms-cli Hard"):
        perform(missing, "reset", charge_point_id="CP_1", version="1.6", reset_type="Hard")


def test_missing_action_skips_naming_the_key() -> None:
    with pytest.raises(pytest.skip.Exception, match=r"set \[ocpp.operator\] reset"):
        perform(CommandOperator({}), "reset", charge_point_id="CP_1", version="1.6",
                reset_type="Hard")  # fmt: skip
    assert skip_reason("reset") == (
        "needs operator action reset at the CSMS: set [ocpp.operator] reset"
    )


# ---------------------------------------------------------------------- through the CLI


@pytest.fixture
def external_csms():
    """The reference CSMS as an external DUT on a free port: (port, csms)."""
    port = free_port()
    csms = ReferenceCsms("2.0.1", f"127.0.0.1:{port}")
    csms.start()
    try:
        yield port, csms
    finally:
        csms.stop()


def _console(csms: ReferenceCsms, args_file: Path, action: str, names: list[str]) -> None:
    """The CSMS's operator console: once the bench's command wrote its arguments, perform
    ``action`` with them at the reference CSMS."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if args_file.exists() and args_file.read_text():
                values = json.loads(args_file.read_text())
                ReferenceOperator(csms).perform(action, dict(zip(names, values, strict=True)))
                return
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()


def test_cli_command_drives_external_csms(tmp_path: Path, external_csms) -> None:
    port, csms = external_csms
    args_file = tmp_path / "reset-args.json"
    command = _python(WRITE_ARGS, str(args_file), "{charge_point_id}", "{reset_type}")
    _console(csms, args_file, "reset", ["charge_point_id", "reset_type"])
    table = f"[ocpp.operator]\nreset = {json.dumps(command)}\n"
    outcome = run_case(tmp_path, "ocpp201.csms", "test_vgi_b11_01_csms", simulated=False,
                       extra=ocpp_section("2.0.1", csms_port=port) + table,
                       timeout=120, pytest_args=FAST)  # fmt: skip
    assert json.loads(args_file.read_text()) == ["CP_1", "Immediate"]
    assert outcome.verdict == "passed", outcome.message
    assert outcome.exit_code == 0


def test_cli_failing_command_is_an_error_with_stderr(tmp_path: Path, external_csms) -> None:
    port, _ = external_csms
    table = f"[ocpp.operator]\nreset = {json.dumps(_python(FAIL))}\n"
    outcome = run_case(tmp_path, "ocpp201.csms", "test_vgi_b11_01_csms", simulated=False,
                       extra=ocpp_section("2.0.1", csms_port=port) + table,
                       timeout=120, pytest_args=FAST)  # fmt: skip
    assert outcome.verdict == "error", outcome.message
    assert "csms refused: no such charge point" in outcome.message
    assert outcome.exit_code == 1


def test_cli_without_command_skips_with_the_reason(tmp_path: Path, external_csms) -> None:
    port, _ = external_csms
    outcome = run_case(tmp_path, "ocpp201.csms", "test_vgi_b11_01_csms", simulated=False,
                       extra=ocpp_section("2.0.1", csms_port=port),
                       timeout=120, pytest_args=FAST)  # fmt: skip
    assert outcome.verdict == "skipped", outcome.message
    assert "needs operator action reset at the CSMS: set [ocpp.operator] reset" in outcome.message
    assert outcome.exit_code == 0
