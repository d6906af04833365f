"""report.sig: every file of a run signed; ``vgi-bench verify`` names what changed."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.test_report_html import sample_summary
from vgi_bench.cli import main
from vgi_bench.profile import ProfileError, load_profile, parse_profile
from vgi_bench.reports.build import build_reports
from vgi_bench.reports.signing import (
    SIG_NAME,
    SignatureError,
    bench_key_path,
    load_signer,
    sign_run,
)


@pytest.fixture(autouse=True)
def _own_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own bench key, never the user's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def fake_run(root: Path) -> Path:
    """A run directory as a run leaves it, before the report is built."""
    run = root / "run"
    (run / "allure-results").mkdir(parents=True)
    (run / "can.asc").write_text("date Mon Nov 23 2026\n 0.000 1 1826F456x Rx d 3 01 01 00\n")
    (run / "results.jsonl").write_text(json.dumps({"id": "DP.1001", "verdict": "passed"}) + "\n")
    (run / "summary.json").write_text(json.dumps(sample_summary()))
    (run / "junit.xml").write_text("<testsuites/>")
    (run / "allure-results" / "x-result.json").write_text("{}")
    return run


def lab_key(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return key


def test_signed_run_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = fake_run(tmp_path)
    built = build_reports(sample_summary(), run, pdf=False)
    assert built.sig == run / SIG_NAME and not built.problems
    doc = json.loads(built.sig.read_text())
    assert set(doc["files"]) == {
        "can.asc",
        "results.jsonl",
        "summary.json",
        "junit.xml",
        "allure-results/x-result.json",
        "report.html",
        "SHA256SUMS",  # and its signature and key: report.sig covers them
        "SHA256SUMS.sig",
        "SHA256SUMS.pub.pem",
    }
    assert doc["signer"]["self_signed"] is True
    for target in (run, run / SIG_NAME, run / "report.html"):
        assert main(["verify", str(target)]) == 0
    out = capsys.readouterr().out
    assert "OK: 9 files" in out and "self-signed by bench key" in out
    assert "SHA256SUMS: OK: 6 files, signature OK" in out
    html = (run / "report.html").read_text()
    assert "self-signed by bench key" in html and doc["fingerprint"] in html


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (lambda run: (run / "can.asc").write_text("forged"), "altered: can.asc"),
        (lambda run: (run / "results.jsonl").unlink(), "missing: results.jsonl"),
        (
            lambda run: (run / "allure-results" / "y.json").write_text("{}"),
            "added: allure-results/y.json",
        ),
        (lambda run: (run / "summary.json").write_text("{}"), "altered: summary.json"),
    ],
)
def test_tampered_run_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, line: str
) -> None:
    run = fake_run(tmp_path)
    sign_run(run, load_signer(None))
    change(run)
    assert main(["verify", str(run)]) == 1
    out = capsys.readouterr().out
    assert line in out.splitlines() and "FAILED" in out


def test_forged_manifest_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Editing the file and its hash in report.sig breaks the signature."""
    run = fake_run(tmp_path)
    sig = sign_run(run, load_signer(None))
    (run / "can.asc").write_text("forged")
    doc = json.loads(sig.read_text())
    doc["files"]["can.asc"] = hashlib.sha256(b"forged").hexdigest()
    sig.write_text(json.dumps(doc))
    assert main(["verify", str(sig)]) == 1
    assert "bad signature" in capsys.readouterr().out


def test_lab_key_from_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = lab_key(tmp_path / "lab.pem")
    pub = tmp_path / "lab.pub"
    pub.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    summary = sample_summary()
    summary["profile"]["report"] = {
        "lab": "CVC test lab",
        "operator": "Li Wei",
        "signing_key": str(tmp_path / "lab.pem"),
        "language": "en",
    }
    run = fake_run(tmp_path)
    built = build_reports(summary, run, pdf=False)
    doc = json.loads(built.sig.read_text())
    assert doc["signer"] == {
        "key": "lab",
        "self_signed": False,
        "lab": "CVC test lab",
        "operator": "Li Wei",
    }
    assert main(["verify", str(run), "--key", str(pub)]) == 0
    assert "lab key of CVC test lab" in capsys.readouterr().out
    other = tmp_path / "other.pem"
    lab_key(other)
    assert main(["verify", str(run), "--key", str(other)]) == 1
    assert "wrong key" in capsys.readouterr().out
    assert not bench_key_path().exists()  # a lab key needs no bench key


def test_bench_key_made_once_and_private(tmp_path: Path) -> None:
    first = load_signer(None)
    path = bench_key_path()
    assert path.is_relative_to(tmp_path / "config")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_signer(None).fingerprint == first.fingerprint


def test_bad_keys(tmp_path: Path) -> None:
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(SignatureError, match=r"junk\.pem"):
        load_signer(str(tmp_path / "junk.pem"))
    with pytest.raises(SignatureError, match=r"missing\.pem"):
        load_signer(str(tmp_path / "missing.pem"))
    summary = sample_summary()
    summary["profile"]["report"] = {"signing_key": str(tmp_path / "missing.pem")}
    run = fake_run(tmp_path)
    built = build_reports(summary, run, pdf=False)
    assert built.html and built.sig is None
    assert any("report.sig not written" in p for p in built.problems)


def test_verify_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(tmp_path)]) == 2
    (tmp_path / SIG_NAME).write_text("{}")
    assert main(["verify", str(tmp_path)]) == 2
    assert "not a vgi-bench-signature/1 file" in capsys.readouterr().err


def test_report_command_rebuilds_and_resigns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = fake_run(tmp_path)
    sign_run(run, load_signer(None))
    (run / "results.jsonl").write_text(
        json.dumps({"id": "DP.1001", "suite": "gbt27930.charger", "verdict": "failed"}) + "\n"
    )
    assert main(["verify", str(run)]) == 1
    assert main(["report", str(run)]) == 0
    assert main(["verify", str(run)]) == 0


def test_profile_report_section(tmp_path: Path) -> None:
    dut = {"vendor": "a", "model": "b", "serial": "s", "firmware": "f"}
    profile = parse_profile(
        {"dut": dut, "report": {"lab": "L", "signing_key": "k.pem", "language": "zh-CN"}},
        "x.toml",
        base_dir=tmp_path,
    )
    assert profile.report.signing_key == str(tmp_path / "k.pem")
    assert profile.to_dict()["report"]["language"] == "zh-CN"
    assert load_profile(None).report.signing_key is None
    with pytest.raises(ProfileError, match=r"'report.language' must be one of"):
        parse_profile({"dut": dut, "report": {"language": "fr"}})
    with pytest.raises(ProfileError, match=r"did you mean 'report.operator'"):
        parse_profile({"dut": dut, "report": {"operater": "x"}})


def test_run_refuses_an_unreadable_lab_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(
        '[dut]\nvendor="a"\nmodel="b"\nserial="s"\nfirmware="f"\n[report]\nsigning_key="nope.pem"\n'
    )
    code = main(["run", "--suite", "gbt27930.charger", "--profile", str(profile)])
    assert code == 2
    assert "nope.pem" in capsys.readouterr().err


def test_unwritable_bench_key_keeps_the_reports(tmp_path: Path) -> None:
    (tmp_path / "config").write_text("a file where the config directory should be")
    run = fake_run(tmp_path)
    built = build_reports(sample_summary(), run, pdf=False)
    assert built.html and built.sig is None
    assert built.problems and built.problems[0].startswith("report.sig not written: bench key")


# --------------------------------------------------------------------------- SM2 by profile

#: GM/T 0003.5's example private key (a public test vector, never a real key).
SM2_PRIVATE = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"


def test_sm2_lab_key_signs_and_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "lab-sm2.key").write_text(SM2_PRIVATE + "\n")
    summary = sample_summary()
    summary["profile"]["report"] = {"lab": "CVC test lab", "signature": "sm2",
                                    "signing_key": str(tmp_path / "lab-sm2.key")}  # fmt: skip
    run = fake_run(tmp_path)
    built = build_reports(summary, run, pdf=False)
    doc = json.loads(built.sig.read_text())
    assert doc["algorithm"] == "sm2" and doc["signer"]["key"] == "lab"
    assert len(base64.b64decode(doc["signature"])) == 64  # r || s
    assert "sm2" in (run / "report.html").read_text()
    public = load_signer(str(tmp_path / "lab-sm2.key"), algorithm="sm2").key.public
    (tmp_path / "lab-sm2.pub").write_text("04" + public.raw.hex().upper() + "\n")
    assert main(["verify", str(run), "--key", str(tmp_path / "lab-sm2.pub")]) == 0
    assert "OK: " in capsys.readouterr().out
    (run / "can.asc").write_text("forged")
    assert main(["verify", str(run)]) == 1
    assert "altered: can.asc" in capsys.readouterr().out


def test_sm2_wrong_key_and_forged_signature(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = fake_run(tmp_path)
    sig = sign_run(run, load_signer(None, algorithm="sm2"))  # the bench's own SM2 key
    assert bench_key_path("sm2").is_file() and bench_key_path("sm2") != bench_key_path()
    (tmp_path / "other.key").write_text(SM2_PRIVATE)
    assert main(["verify", str(run), "--key", str(tmp_path / "other.key")]) == 1
    assert "wrong key" in capsys.readouterr().out
    doc = json.loads(sig.read_text())
    doc["signer"]["lab"] = "someone else"
    sig.write_text(json.dumps(doc))
    assert main(["verify", str(run)]) == 1
    assert "bad signature" in capsys.readouterr().out


def test_sm2_key_file_must_be_hex(tmp_path: Path) -> None:
    (tmp_path / "bad.key").write_text("not a key")
    with pytest.raises(SignatureError, match="not an SM2 key"):
        load_signer(str(tmp_path / "bad.key"), algorithm="sm2")
    profile = load_profile(None)
    assert profile.report.signature == "ed25519"
    with pytest.raises(ProfileError, match="signature"):
        parse_profile({**profile.raw, "report": {"signature": "rsa"}})
