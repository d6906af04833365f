"""The VISA implementation is the profile's choice (``[instruments] visa_library``):
validated in the profile, handed to pyvisa by the rack, and a library that does not load
is a case error naming the key and what to install, never a crash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.proof import run_case
from tests.test_power_cases_proof import INSTRUMENTS
from vgi_bench.instruments.link import InstrumentError
from vgi_bench.instruments.rack import InstrumentRack, open_resource_manager
from vgi_bench.instruments.sim.plant import PowerStagePlant
from vgi_bench.profile import DEFAULT_VISA_LIBRARY, ProfileError, load_profile, parse_profile

DUT = {"vendor": "a", "model": "b", "serial": "c", "firmware": "d"}


def profile_with(instruments: dict[str, Any]):
    return parse_profile({"dut": DUT, "instruments": instruments})


def test_default_is_pyvisa_py() -> None:
    assert DEFAULT_VISA_LIBRARY == "@py"
    assert load_profile(None).rack.visa_library == "@py"
    assert parse_profile({"dut": DUT}).rack.visa_library == "@py"
    assert load_profile(None).to_dict()["rack"] == {"visa_library": "@py"}


@pytest.mark.parametrize(
    "library",
    [
        "@py",
        "@ivi",
        "@sim",
        "instruments.yaml@sim",
        "/usr/lib/x86_64-linux-gnu/libvisa.so.0",  # NI-VISA on Linux, by path
        "/opt/keysight/iolibs/libktvisa32.so@ivi",
        r"C:\Windows\System32\visa64.dll",
        "@rs_visa",
    ],
)
def test_accepted_libraries(library: str) -> None:
    profile = profile_with({"visa_library": library, "supply": {"driver": "ea-psb"}})
    assert profile.rack.visa_library == library
    assert list(profile.instruments) == ["supply"]  # the setting is not an instrument


@pytest.mark.parametrize(
    ("instruments", "reason"),
    [
        ({"visa_library": ""}, "'instruments.visa_library' must not be empty"),
        ({"visa_library": "@"}, "'instruments.visa_library' must be '@py', '@ivi'"),
        ({"visa_library": "@p y"}, "'instruments.visa_library' must be '@py', '@ivi'"),
        ({"visa_library": "@ni"}, "backend '@ni' is now '@ivi'"),
        ({"visa_library": 1}, "'instruments.visa_library' must be a string, got int"),
        ({"visa_library": {"driver": "x"}}, "'instruments.visa_library' must be a string"),
        (
            {"visa_libary": "@ivi"},
            "unknown key 'instruments.visa_libary' (did you mean 'instruments.visa_library'?)",
        ),
        (
            {"supply": "ea-psb"},
            "'instruments.supply' must be a table (an instrument), got str",
        ),
    ],
)
def test_refused_libraries(instruments: dict[str, Any], reason: str) -> None:
    with pytest.raises(ProfileError) as caught:
        profile_with(instruments)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_rack_opens_pyvisa_with_the_profiles_library(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyvisa

    asked: list[str] = []
    real = pyvisa.ResourceManager

    def recording(library: str) -> Any:
        asked.append(library)
        return real("@py")  # the simulated instruments speak TCPIP SOCKET through pyvisa-py

    monkeypatch.setattr(pyvisa, "ResourceManager", recording)
    profile = profile_with(
        {"visa_library": "@ivi", "analyzer": {"driver": "yokogawa-wt", "resource": "sim"}}
    )
    rack = InstrumentRack(profile.instruments, PowerStagePlant(), profile.rack.visa_library)
    rack.open()
    try:
        assert rack.analyzer().link.query("*IDN?")
    finally:
        rack.close()
    assert asked == ["@ivi"]


@pytest.mark.parametrize(
    ("library", "hint"),
    [("@no_such_backend", "pyvisa_no_such_backend"), ("/nonexistent/libvisa.so", "NI-VISA")],
)
def test_a_library_that_does_not_load(library: str, hint: str) -> None:
    with pytest.raises(InstrumentError) as caught:
        open_resource_manager(library)
    message = str(caught.value)
    assert "[instruments] visa_library" in message and hint in message
    assert "\n" not in message


def test_power_case_errors_on_a_missing_visa_library(tmp_path: Path) -> None:
    """The whole way: profile -> power rig -> rack; the case errors, the run ends cleanly."""
    extra = '[instruments]\nvisa_library = "@no_such_backend"\n' + INSTRUMENTS
    outcome = run_case(tmp_path, "power.charger", "test_ps4103_", extra=extra)
    assert outcome.exit_code == 1, outcome.output
    assert outcome.verdict == "error"
    assert "visa_library" in outcome.message and "@no_such_backend" in outcome.message
    assert "Traceback" not in outcome.output.split("short test summary")[-1]
    assert (tmp_path / "out" / "report.html").is_file()
