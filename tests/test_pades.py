"""report.pdf signed inside (PAdES B-B): a PDF reader shows who signed it and whether it
changed; a PDF that cannot be signed is kept unsigned, never lost."""

from __future__ import annotations

import asyncio
import datetime
import io
import json
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tests.test_report_html import sample_summary
from tests.test_signing import fake_run
from vgi_bench.cli import main
from vgi_bench.profile import parse_profile
from vgi_bench.reports.build import build_reports
from vgi_bench.reports.pades import (
    FIELD_NAME,
    PdfSigningError,
    bench_pdf_paths,
    check_pdf,
    load_pdf_signer,
    sign_pdf,
)

pytest.importorskip("pyhanko.sign", reason="pyhanko not installed (the report extra)")

LAB = "CVC test lab"
NOW = datetime.datetime.now(datetime.timezone.utc)


@pytest.fixture(autouse=True)
def _own_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def small_pdf(tmp_path: Path) -> Path:
    """A one-page PDF from WeasyPrint, as report.pdf is made (no full report: faster)."""
    try:
        import weasyprint

        data = weasyprint.HTML(string="<h1>report</h1>").write_pdf()
    except (ImportError, OSError) as exc:
        pytest.skip(f"WeasyPrint cannot run here: {exc}")
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return path


def validate(path: Path, trust: Any = None) -> Any:
    """pyHanko's own validation of the PDF's one signature (its status object)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(path.read_bytes()))
    (embedded,) = reader.embedded_signatures
    roots = [asn1_certificate(trust) if trust else embedded.signer_cert]
    status = validate_pdf_signature(embedded, ValidationContext(trust_roots=roots))
    return embedded, status


def asn1_certificate(certificate: x509.Certificate) -> Any:
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def assert_whole_file_signed(path: Path, common_name: str) -> Any:
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    embedded, status = validate(path)
    assert embedded.field_name == FIELD_NAME
    assert status.intact and status.valid
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signing_cert.subject.native["common_name"] == common_name
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    return embedded


def flip_signed_byte(path: Path) -> None:
    """Change one byte the signature covers (in the header's binary comment, so the file
    still parses)."""
    data = bytearray(path.read_bytes())
    assert data[9:10] == b"%"
    data[10] ^= 0x01
    path.write_bytes(bytes(data))


# --------------------------------------------------------------------------- a lab's PKI


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, LAB),
        ]
    )


def _certificate(subject: str, key: Any, issuer: str, issuer_key: Any, *, ca: bool,
                 days: int = 365) -> x509.Certificate:  # fmt: skip
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=not ca, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=2))
        .not_valid_after(NOW + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def _pem(path: Path, *items: Any) -> str:
    chunks = []
    for item in items:
        if isinstance(item, x509.Certificate):
            chunks.append(item.public_bytes(serialization.Encoding.PEM))
        else:
            chunks.append(
                item.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
    path.write_bytes(b"".join(chunks))
    return str(path)


def lab_pki(folder: Path, *, rsa_key: bool = False, days: int = 365) -> dict[str, Any]:
    """A CA and a report-signing certificate it issued, as PEM files for the profile."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("CVC Test Root CA", ca_key, "CVC Test Root CA", ca_key, ca=True)
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if rsa_key
        else ec.generate_private_key(ec.SECP256R1())
    )
    leaf = _certificate("CVC report signing", key, "CVC Test Root CA", ca_key, ca=False, days=days)
    return {
        "pdf_signing_key": _pem(folder / "pdf-key.pem", key),
        "pdf_certificate": _pem(folder / "pdf-cert.pem", leaf),
        "pdf_chain": _pem(folder / "chain.pem", ca),
        "ca": ca,
    }


def lab_signer(pki: dict[str, Any]) -> Any:
    return load_pdf_signer(
        pki["pdf_signing_key"], pki["pdf_certificate"], pki["pdf_chain"], lab=LAB
    )


# --------------------------------------------------------------------------- the bench's key


def test_run_pdf_signed_by_bench_self_signed_certificate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = sample_summary()
    summary["profile"]["report"] = {"lab": LAB}
    run = fake_run(tmp_path)
    built = build_reports(summary, run)
    assert built.pdf and built.pdf_signed and not built.problems
    embedded = assert_whole_file_signed(built.pdf, f"vgi-bench self-signed ({LAB})")
    assert "self-signed" in str(embedded.sig_object["/Reason"])
    assert main(["verify", str(run)]) == 0
    out = capsys.readouterr().out
    assert (
        f"report.pdf: OK: PAdES signature intact, whole file, by vgi-bench self-signed ({LAB}) "
        "(self-signed certificate)" in out
    )
    html = (run / "report.html").read_text(encoding="utf-8")
    assert "PDF signature (PAdES)" in html and "self-signed bench certificate" in html


def test_run_refuses_an_unusable_lab_pdf_key_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "key.pem").write_text("not a key")
    (tmp_path / "cert.pem").write_text("not a certificate")
    profile = tmp_path / "p.toml"
    profile.write_text(
        '[dut]\nvendor="a"\nmodel="b"\nserial="s"\nfirmware="f"\nsimulated=true\n'
        '[report]\npdf_signing_key="key.pem"\npdf_certificate="cert.pem"\n'
    )
    out = tmp_path / "out"
    code = main(["run", "--suite", "gbt27930.bms", "--profile", str(profile), "--out", str(out)])
    assert code == 2
    assert "profile:" in capsys.readouterr().err
    assert not out.exists()  # refused before any case ran


def test_changed_byte_breaks_the_pdf_signature(small_pdf: Path) -> None:
    sign_pdf(small_pdf, load_pdf_signer(lab=LAB))
    assert check_pdf(small_pdf).ok
    flip_signed_byte(small_pdf)
    _, status = validate(small_pdf)
    assert not status.intact
    check = check_pdf(small_pdf)
    assert not check.ok and check.describe().startswith("FAILED: the PDF signature")


def test_bytes_appended_after_signing_are_found(small_pdf: Path) -> None:
    sign_pdf(small_pdf, load_pdf_signer(lab=LAB))
    with small_pdf.open("ab") as fh:
        fh.write(b"\n% a line someone added\n")
    check = check_pdf(small_pdf)
    assert check.intact and check.valid and not check.whole_file
    assert not check.ok and "changed after" in check.describe()


def test_bench_pdf_key_made_once_and_certificate_follows_the_lab(tmp_path: Path) -> None:
    first = load_pdf_signer(lab=LAB)
    key_path, _ = bench_pdf_paths()
    assert key_path.is_relative_to(tmp_path / "config")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert first.self_signed and first.subject == f"vgi-bench self-signed ({LAB})"
    assert isinstance(first.key, ec.EllipticCurvePrivateKey) and first.key.curve.name == "secp256r1"
    again = load_pdf_signer(lab=LAB)
    assert again.certificate == first.certificate  # the same certificate, run after run
    other = load_pdf_signer(lab="Another lab")
    assert other.subject == "vgi-bench self-signed (Another lab)"
    assert other.certificate.public_key() == first.certificate.public_key()  # same key
    long_name = load_pdf_signer(lab="L" * 100).subject
    assert len(long_name) == 64 and long_name.endswith("L...)")
    chinese = load_pdf_signer(lab="新能源汽车检测实验室" * 3).subject
    assert len(chinese.encode()) <= 64 and chinese.startswith("vgi-bench self-signed (新能源")


def test_bench_certificate_near_its_end_is_renewed(tmp_path: Path) -> None:
    first = load_pdf_signer(lab=LAB)
    _, cert_path = bench_pdf_paths()
    ending = _certificate(
        f"vgi-bench self-signed ({LAB})", first.key, f"vgi-bench self-signed ({LAB})",
        first.key, ca=False, days=3,
    )  # fmt: skip
    _pem(cert_path, ending)
    renewed = load_pdf_signer(lab=LAB)
    assert renewed.certificate.not_valid_after_utc > NOW + datetime.timedelta(days=365)


def test_sign_inside_a_running_event_loop(small_pdf: Path) -> None:
    """pyHanko's sync API calls asyncio.run: the bench signs from async code too."""

    async def sign() -> None:
        sign_pdf(small_pdf, load_pdf_signer(lab=LAB))

    asyncio.run(sign())
    assert check_pdf(small_pdf).ok


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils not installed")
def test_poppler_pdfsig_verifies(small_pdf: Path) -> None:
    """poppler's pdfsig (the library behind Okular and Evince) reads the signature."""
    sign_pdf(small_pdf, load_pdf_signer(lab=LAB))
    out = subprocess.run(["pdfsig", small_pdf], capture_output=True, text=True, check=True).stdout
    assert f"vgi-bench self-signed ({LAB})" in out
    assert "Signature is Valid." in out and "Total document signed" in out
    flip_signed_byte(small_pdf)
    out = subprocess.run(["pdfsig", small_pdf], capture_output=True, text=True, check=False).stdout
    assert "Signature is Valid." not in out


# --------------------------------------------------------------------------- the lab's key


@pytest.mark.parametrize("rsa_key", [False, True], ids=["ecdsa-p256", "rsa-2048"])
def test_lab_certificate_signs_with_its_chain(
    small_pdf: Path, tmp_path: Path, rsa_key: bool
) -> None:
    pki = lab_pki(tmp_path, rsa_key=rsa_key)
    signer = lab_signer(pki)
    assert not signer.self_signed and signer.subject == "CVC report signing"
    sign_pdf(small_pdf, signer)
    embedded = assert_whole_file_signed(small_pdf, "CVC report signing")
    assert "self-signed" not in str(embedded.sig_object["/Reason"])
    _, status = validate(small_pdf, trust=pki["ca"])
    assert status.trusted  # the chain to the lab's CA is in the signature
    check = check_pdf(small_pdf)
    assert check.ok and not check.self_signed


def test_lab_pdf_keys_from_the_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pki = lab_pki(tmp_path)
    summary = sample_summary()
    summary["profile"]["report"] = {"lab": LAB, **{k: v for k, v in pki.items() if k != "ca"}}
    run = fake_run(tmp_path)
    built = build_reports(summary, run)
    assert built.pdf_signed and not built.problems
    assert_whole_file_signed(built.pdf, "CVC report signing")
    assert not bench_pdf_paths()[0].exists()  # a lab certificate needs no bench PDF key
    assert main(["verify", str(run)]) == 0
    assert "by CVC report signing (certificate)" in capsys.readouterr().out


def test_profile_pdf_keys_resolve_beside_the_profile(tmp_path: Path) -> None:
    dut = {"vendor": "a", "model": "b", "serial": "s", "firmware": "f"}
    report = {"pdf_signing_key": "k.pem", "pdf_certificate": "c.pem", "pdf_chain": "ca.pem"}
    profile = parse_profile({"dut": dut, "report": report}, "x.toml", base_dir=tmp_path)
    assert profile.report.pdf_signing_key == str(tmp_path / "k.pem")
    assert profile.report.pdf_certificate == str(tmp_path / "c.pem")
    assert profile.to_dict()["report"]["pdf_chain"] == str(tmp_path / "ca.pem")
    assert parse_profile({"dut": dut}).report.pdf_certificate is None


def _bad_settings(tmp_path: Path) -> dict[str, tuple[dict[str, Any], str]]:
    pki = lab_pki(tmp_path)
    for folder in ("other", "expired"):
        (tmp_path / folder).mkdir()
    other = lab_pki(tmp_path / "other")
    expired = lab_pki(tmp_path / "expired", days=-1)
    (tmp_path / "junk.pem").write_text("not a key")
    small = _pem(tmp_path / "rsa1024.pem", rsa.generate_private_key(65537, 1024))
    key, cert = pki["pdf_signing_key"], pki["pdf_certificate"]
    return {
        "missing key": ({"pdf_signing_key": str(tmp_path / "nope.pem"), "pdf_certificate": cert},
                        "nope.pem"),
        "junk key": ({"pdf_signing_key": str(tmp_path / "junk.pem"), "pdf_certificate": cert},
                     "junk.pem"),
        "junk certificate": ({"pdf_signing_key": key,
                              "pdf_certificate": str(tmp_path / "junk.pem")},
                             "not a PEM certificate"),
        "another key's certificate": ({"pdf_signing_key": key,
                                       "pdf_certificate": other["pdf_certificate"]},
                                      "not the certificate of pdf_signing_key"),
        "expired": ({"pdf_signing_key": expired["pdf_signing_key"],
                     "pdf_certificate": expired["pdf_certificate"]}, "not now"),
        "key only": ({"pdf_signing_key": key}, "pdf_signing_key needs pdf_certificate"),
        "certificate only": ({"pdf_certificate": cert}, "pdf_certificate needs pdf_signing_key"),
        "weak RSA": ({"pdf_signing_key": small, "pdf_certificate": cert}, "RSA 1024 bits"),
    }  # fmt: skip


def test_unusable_lab_pdf_keys_are_named(tmp_path: Path) -> None:
    for settings, message in _bad_settings(tmp_path).values():
        with pytest.raises(PdfSigningError, match=message):
            load_pdf_signer(
                settings.get("pdf_signing_key"), settings.get("pdf_certificate"), lab=LAB
            )


def test_bad_pdf_key_keeps_the_unsigned_pdf(tmp_path: Path) -> None:
    summary = sample_summary()
    summary["profile"]["report"] = {
        "pdf_signing_key": str(tmp_path / "nope.pem"),
        "pdf_certificate": str(tmp_path / "nope.crt"),
    }
    run = fake_run(tmp_path)
    built = build_reports(summary, run)
    assert built.pdf and built.pdf.stat().st_size > 1000 and not built.pdf_signed
    assert built.sig and built.html
    assert len(built.problems) == 1 and built.problems[0].startswith("report.pdf not signed: ")
    assert "nope.pem" in built.problems[0]
    check = check_pdf(built.pdf)
    assert check.ok and not check.signed  # unsigned is said, not failed: it was logged


def test_no_pyhanko_keeps_the_unsigned_pdf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("vgi_bench.reports.build.pyhanko_available", lambda: False)
    run = fake_run(tmp_path)
    built = build_reports(sample_summary(), run)
    assert built.pdf and not built.pdf_signed
    assert built.problems == [
        "report.pdf not signed: pyhanko is not installed (pip install 'vgi-bench[report]')"
    ]
    assert main(["verify", str(run)]) == 0
    assert "report.pdf: not signed (no PDF signature)" in capsys.readouterr().out


def test_signing_failure_inside_pyhanko_keeps_the_pdf(
    small_pdf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = small_pdf.read_bytes()

    def broken(*_: Any) -> bytes:
        raise RuntimeError("some pyHanko failure")

    monkeypatch.setattr("vgi_bench.reports.pades._signed_bytes", broken)
    with pytest.raises(PdfSigningError, match=r"report\.pdf: some pyHanko failure"):
        sign_pdf(small_pdf, load_pdf_signer(lab=LAB))
    assert small_pdf.read_bytes() == before


def test_unreadable_pdf_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.7\ntruncated")
    check = check_pdf(tmp_path / "report.pdf")
    assert not check.ok and check.describe().startswith("signature not checked: ")


def test_verify_without_pyhanko_still_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A core install (no report extra) verifies a run: report.sig covers the PDF's bytes."""
    run = fake_run(tmp_path)
    build_reports(sample_summary(), run)
    monkeypatch.setattr("vgi_bench.reports.pades.pyhanko_available", lambda: False)
    assert main(["verify", str(run)]) == 0
    assert "report.pdf: signature not checked: pyhanko is not installed" in (
        capsys.readouterr().out.splitlines()
    )


# --------------------------------------------------------------------------- rebuild


def test_rebuild_signs_the_pdf_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = sample_summary()
    summary["profile"]["report"] = {"lab": LAB}
    run = fake_run(tmp_path)
    first = build_reports(summary, run)
    certificate = validate(first.pdf)[1].signing_cert
    (run / "summary.json").write_text(json.dumps(summary))
    assert main(["report", str(run)]) == 0
    embedded = assert_whole_file_signed(run / "report.pdf", f"vgi-bench self-signed ({LAB})")
    assert (
        embedded.signer_cert.dump() == certificate.dump()
    )  # the same bench certificate signs again
    assert main(["verify", str(run)]) == 0
    assert "report.pdf: OK" in capsys.readouterr().out
