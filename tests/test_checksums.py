"""SHA256SUMS: a run checked with ``sha256sum -c`` and ``openssl pkeyutl``, no bench needed."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_report_html import sample_summary
from tests.test_signing import SM2_PRIVATE, fake_run
from vgi_bench.cli import main
from vgi_bench.reports.build import build_reports
from vgi_bench.reports.checksums import (
    SUMS_KEY_NAME,
    SUMS_NAME,
    SUMS_SIG_NAME,
    parse_sums,
    sums_text,
)
from vgi_bench.reports.signing import SIG_NAME, load_signer, sign_run, write_checksums

OPENSSL_SM2 = ["-digest", "sm3", "-pkeyopt", "distid:1234567812345678"]


@pytest.fixture(autouse=True)
def _own_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def built_run(tmp_path: Path, *, sm2: bool = False) -> Path:
    summary = sample_summary()
    if sm2:
        (tmp_path / "lab-sm2.key").write_text(SM2_PRIVATE + "\n")
        summary["profile"]["report"] = {
            "signature": "sm2",
            "signing_key": str(tmp_path / "lab-sm2.key"),
        }
    run = fake_run(tmp_path)
    built = build_reports(summary, run, pdf=False)
    assert built.sig and not built.problems
    assert built.sums == [run / SUMS_NAME, run / SUMS_SIG_NAME, run / SUMS_KEY_NAME]
    return run


def sha256sum_check(run: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("sha256sum") is None:
        pytest.skip("no sha256sum command (GNU coreutils)")
    return subprocess.run(
        ["sha256sum", "--strict", "-c", SUMS_NAME], cwd=run, capture_output=True, text=True,
        check=False,
    )  # fmt: skip


def openssl_verify(run: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command")
    return subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", SUMS_KEY_NAME, "-rawin",
         "-in", SUMS_NAME, "-sigfile", SUMS_SIG_NAME, *extra],
        cwd=run, capture_output=True, text=True, check=False,
    )  # fmt: skip


def skip_without_openssl_sm2() -> None:
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command")
    made = subprocess.run(
        ["openssl", "genpkey", "-algorithm", "SM2"], capture_output=True, text=True, check=False
    )
    if made.returncode != 0:
        pytest.skip(f"this OpenSSL has no SM2: {made.stderr.strip()[:80]}")


def test_sums_list_every_file_but_the_signatures(tmp_path: Path) -> None:
    run = built_run(tmp_path)
    entries = parse_sums((run / SUMS_NAME).read_text())
    assert set(entries) == {
        "allure-results/x-result.json", "can.asc", "junit.xml", "report.html",
        "results.jsonl", "summary.json",
    }  # fmt: skip
    signed = json.loads((run / SIG_NAME).read_text())["files"]
    assert {SUMS_NAME, SUMS_SIG_NAME, SUMS_KEY_NAME} <= set(signed)  # report.sig covers them
    assert all(signed[name] == digest for name, digest in entries.items())
    line = (run / SUMS_NAME).read_text().splitlines()[0]
    assert re.fullmatch(r"[0-9a-f]{64}  allure-results/x-result\.json", line)


def test_sha256sum_passes_then_fails_after_tampering(tmp_path: Path) -> None:
    run = built_run(tmp_path)
    checked = sha256sum_check(run)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "can.asc: OK" in checked.stdout
    (run / "can.asc").write_text("forged")
    checked = sha256sum_check(run)
    assert checked.returncode == 1 and "can.asc: FAILED" in checked.stdout


def test_names_sha256sum_must_escape(tmp_path: Path) -> None:
    """GNU's escape for a backslash or newline in a name, read back by sha256sum itself."""
    run = tmp_path / "run"
    run.mkdir()
    for name in ("back\\slash.log", "new\nline.log", "plain space.log"):
        (run / name).write_text(name)
    write_checksums(run, None)
    text = (run / SUMS_NAME).read_text()
    assert text.count("\n") == 3  # one line each: the newline in a name is escaped
    assert sum(line.startswith("\\") for line in text.splitlines()) == 2
    assert set(parse_sums(text)) == {"back\\slash.log", "new\nline.log", "plain space.log"}
    checked = sha256sum_check(run)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    "bad",
    [
        "0" * 63 + "  x",
        "z" * 64 + "  x",
        "0" * 64 + " x",
        "0" * 64 + "  ",
        "\\" + "0" * 64 + "  a\\q",
    ],
)
def test_parse_refuses_bad_lines(bad: str) -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_sums(sums_text({"a": "1" * 64}) + bad + "\n")


def test_openssl_verifies_ed25519_sums(tmp_path: Path) -> None:
    run = built_run(tmp_path)
    assert len((run / SUMS_SIG_NAME).read_bytes()) == 64  # raw Ed25519
    checked = openssl_verify(run)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Signature Verified Successfully" in checked.stdout
    (run / SUMS_NAME).write_text((run / SUMS_NAME).read_text().replace("can.asc", "can.blf"))
    assert openssl_verify(run).returncode != 0


def test_openssl_verifies_sm2_sums(tmp_path: Path) -> None:
    skip_without_openssl_sm2()
    run = built_run(tmp_path, sm2=True)
    assert (run / SUMS_SIG_NAME).read_bytes()[:1] == b"\x30"  # DER SEQUENCE {r, s}
    text = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", SUMS_KEY_NAME, "-text", "-noout"],
        cwd=run, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "SM2" in text
    checked = openssl_verify(run, *OPENSSL_SM2)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (run / SUMS_NAME).write_text((run / SUMS_NAME).read_text().replace("can.asc", "can.blf"))
    assert openssl_verify(run, *OPENSSL_SM2).returncode != 0


def test_sm2_public_pem_is_what_openssl_writes(tmp_path: Path) -> None:
    """The hand-built SM2 SubjectPublicKeyInfo is byte for byte OpenSSL's own."""
    skip_without_openssl_sm2()
    key = tmp_path / "k.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "SM2", "-out", key], check=True)
    theirs = subprocess.run(
        ["openssl", "pkey", "-in", key, "-pubout"], capture_output=True, check=True
    ).stdout
    text = subprocess.run(
        ["openssl", "pkey", "-in", key, "-text", "-noout"], capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    found = re.search(r"priv:\s*([0-9a-f:\s]+?)\s*pub:", text)
    assert found, text
    (tmp_path / "lab.key").write_text(re.sub(r"[^0-9a-f]", "", found.group(1)).rjust(64, "0"))
    ours = load_signer(str(tmp_path / "lab.key"), algorithm="sm2").key.public.pem()
    assert ours == theirs


@pytest.mark.parametrize(("sm2", "raw_bytes"), [(False, 32), (True, 64)], ids=["ed25519", "sm2"])
def test_fingerprint_from_the_pem_with_openssl(tmp_path: Path, sm2: bool, raw_bytes: int) -> None:
    """The README's recipe: the PEM's raw key hashed gives the report's fingerprint."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command")
    if sm2:
        skip_without_openssl_sm2()
    run = built_run(tmp_path, sm2=sm2)
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", SUMS_KEY_NAME, "-outform", "DER"],
        cwd=run, capture_output=True, check=True,
    ).stdout  # fmt: skip
    fingerprint = json.loads((run / SIG_NAME).read_text())["fingerprint"]
    assert fingerprint == "SHA256:" + hashlib.sha256(der[-raw_bytes:]).hexdigest()[:32]


def test_verify_fails_on_an_edited_sums_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = built_run(tmp_path)
    sums = run / SUMS_NAME
    sums.write_text(sums.read_text().replace("can.asc", "can.blf"))
    assert main(["verify", str(run)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "altered: SHA256SUMS" in out  # report.sig covers it
    assert "SHA256SUMS: missing: can.blf" in out and "SHA256SUMS: not listed: can.asc" in out
    assert f"SHA256SUMS: bad signature: {SUMS_SIG_NAME} is not the run's key's over it" in out


def test_sums_checked_even_when_report_sig_is_renewed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tool that re-signs report.sig over an edited SHA256SUMS does not make it pass:
    SHA256SUMS.sig and the file hashes are checked on their own."""
    run = built_run(tmp_path)
    sums = run / SUMS_NAME
    digest = parse_sums(sums.read_text())["can.asc"]
    sums.write_text(sums.read_text().replace(digest, "0" * 64))
    sign_run(run, load_signer(None))
    assert main(["verify", str(run)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "SHA256SUMS: altered: can.asc" in out
    assert any(line.startswith("SHA256SUMS: bad signature") for line in out)
    assert "SHA256SUMS: FAILED: 6 files, bad signature" in out


def test_foreign_public_key_file_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = built_run(tmp_path)
    other = load_signer(None, algorithm="sm2").key.public.pem()
    (run / SUMS_KEY_NAME).write_bytes(other)
    sign_run(run, load_signer(None))
    assert main(["verify", str(run)]) == 1
    assert f"SHA256SUMS: {SUMS_KEY_NAME} is not the key that signed the run" in (
        capsys.readouterr().out.splitlines()
    )


def test_unreadable_sums_file_fails_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = built_run(tmp_path)
    (run / SUMS_NAME).write_bytes(b"\xff\xfe not sums\n")
    sign_run(run, load_signer(None))
    assert main(["verify", str(run)]) == 1
    assert "SHA256SUMS: unreadable" in capsys.readouterr().out


def test_unsigned_run_still_gets_sums(tmp_path: Path) -> None:
    """A signing key that cannot load leaves SHA256SUMS, and no stale signature of it."""
    run = built_run(tmp_path)
    summary = sample_summary()
    summary["profile"]["report"] = {"signing_key": str(tmp_path / "missing.pem")}
    built = build_reports(summary, run, pdf=False)
    assert built.sums == [run / SUMS_NAME] and built.sig is None
    assert not (run / SUMS_SIG_NAME).exists() and not (run / SUMS_KEY_NAME).exists()
    assert sha256sum_check(run).returncode == 0


def test_rebuild_writes_matching_sums(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = built_run(tmp_path)
    (run / "results.jsonl").write_text(
        json.dumps({"id": "DP.1001", "suite": "gbt27930.charger", "verdict": "failed"}) + "\n"
    )
    assert sha256sum_check(run).returncode == 1
    assert main(["report", str(run)]) == 0
    assert sha256sum_check(run).returncode == 0
    assert openssl_verify(run).returncode == 0
    assert main(["verify", str(run)]) == 0
    assert "SHA256SUMS: OK" in capsys.readouterr().out
