"""``SHA256SUMS``: the run's file hashes in the format ``sha256sum -c`` reads.

Why: ``report.sig`` is the bench's own JSON; a lab's reviewer or a customer checks a run
with the tools already on their machine. ``SHA256SUMS`` lists every file of the run
(relative paths, two spaces between hash and name, GNU coreutils' backslash escape for a
name with a newline or backslash) except ``report.sig`` and the three ``SHA256SUMS*``
files; ``SHA256SUMS.sig`` is a detached signature OpenSSL verifies, and
``SHA256SUMS.pub.pem`` the signer's public key (informational: trust comes from the
fingerprint on the report or the lab's published key). ``report.sig`` covers all three.

This module is only the file format and its comparison with the files present; the
keys and signatures are :mod:`vgi_bench.reports.signing`'s. Hand-written: the format is four
lines of coreutils' documentation, no library reads or writes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "SUMS_FILES",
    "SUMS_KEY_NAME",
    "SUMS_NAME",
    "SUMS_SIG_NAME",
    "SumsCheck",
    "check_sums",
    "listed",
    "parse_sums",
    "sums_text",
]

SUMS_NAME = "SHA256SUMS"
SUMS_SIG_NAME = "SHA256SUMS.sig"
SUMS_KEY_NAME = "SHA256SUMS.pub.pem"
SUMS_FILES = frozenset({SUMS_NAME, SUMS_SIG_NAME, SUMS_KEY_NAME})
_HEX = frozenset("0123456789abcdef")


def listed(files: Mapping[str, str]) -> dict[str, str]:
    """The entries of a run's manifest that ``SHA256SUMS`` lists (not the SUMS files)."""
    return {name: digest for name, digest in files.items() if name not in SUMS_FILES}


def _escape(name: str) -> tuple[str, str]:
    """(line prefix, name) as GNU ``sha256sum`` writes a name with ``\\`` or a newline."""
    if "\\" not in name and "\n" not in name and "\r" not in name:
        return "", name
    escaped = name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return "\\", escaped


def _unescape(name: str) -> str:
    out, chars = [], iter(name)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        code = next(chars, "")
        if code not in ("\\", "n", "r"):
            raise ValueError(f"bad escape \\{code}")
        out.append({"\\": "\\", "n": "\n", "r": "\r"}[code])
    return "".join(out)


def sums_text(files: Mapping[str, str]) -> str:
    """``SHA256SUMS`` for a manifest (relative POSIX path -> hex SHA-256), in path order."""
    lines = []
    for name in sorted(listed(files)):
        prefix, shown = _escape(name)
        lines.append(f"{prefix}{files[name]}  {shown}\n")
    return "".join(lines)


def parse_sums(text: str) -> dict[str, str]:
    """The entries of a ``SHA256SUMS`` text; ValueError naming the first bad line."""
    entries: dict[str, str] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line:
            continue
        escaped = line.startswith("\\")
        body = line[1:] if escaped else line
        digest, sep, name = body[:64], body[64:66], body[66:]
        if len(digest) != 64 or not set(digest.lower()) <= _HEX or sep not in ("  ", " *"):
            raise ValueError(f"line {number} is not '<sha256>  <file>'")
        try:
            name = _unescape(name) if escaped else name
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from None
        if not name or name in entries:
            raise ValueError(f"line {number}: {'no file name' if not name else 'listed twice'}")
        entries[name] = digest.lower()
    return entries


@dataclass
class SumsCheck:
    """``SHA256SUMS`` against the files present, and its detached signature.

    ``signature_valid`` is ``None`` when there is no ``SHA256SUMS.sig`` (a run signed
    before SHA256SUMS existed has neither); ``key_matches`` is ``None`` without a
    ``SHA256SUMS.pub.pem``."""

    entries: int = 0
    altered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    signature_valid: bool | None = None
    key_matches: bool | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return (
            not (self.error or self.altered or self.missing or self.added)
            and self.signature_valid is not False
            and self.key_matches is not False
        )

    def summary(self) -> str:
        """The closing line of ``vgi-bench verify``'s check of SHA256SUMS."""
        signature = {True: "signature OK", False: "bad signature", None: "not signed"}
        verdict = "OK" if self.ok else "FAILED"
        return f"{verdict}: {self.entries} files, {signature[self.signature_valid]}"

    def problems(self) -> list[str]:
        """One line per thing wrong, as ``vgi-bench verify`` prints them."""
        lines = [self.error] if self.error else []
        lines += [f"altered: {n}" for n in self.altered]
        lines += [f"missing: {n}" for n in self.missing]
        lines += [f"not listed: {n}" for n in self.added]
        if self.signature_valid is False:
            lines.append(f"bad signature: {SUMS_SIG_NAME} is not the run's key's over it")
        if self.key_matches is False:
            lines.append(f"{SUMS_KEY_NAME} is not the key that signed the run")
        return lines


def check_sums(
    run_dir: Path,
    present: Mapping[str, str],
    verify: Callable[[bytes, bytes], bool] | None,
    public_pem: bytes | None,
) -> SumsCheck | None:
    """Compare ``run_dir/SHA256SUMS`` with ``present`` (the run's manifest) and check its
    signature with ``verify(signature, message)`` (the key that signed report.sig).
    ``None`` when the run has no ``SHA256SUMS``."""
    path = Path(run_dir) / SUMS_NAME
    if not path.is_file():
        return None
    data = path.read_bytes()
    check = SumsCheck()
    try:
        entries = parse_sums(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        check.error = f"unreadable: {exc}"
        entries = {}
    files = listed(present)
    check.entries = len(entries)
    check.altered = sorted(n for n in entries if n in files and files[n] != entries[n])
    check.missing = sorted(n for n in entries if n not in files)
    check.added = sorted(n for n in files if n not in entries) if not check.error else []
    sig_path = path.with_name(SUMS_SIG_NAME)
    if sig_path.is_file():
        check.signature_valid = verify is not None and verify(sig_path.read_bytes(), data)
    key_path = path.with_name(SUMS_KEY_NAME)
    if key_path.is_file() and public_pem is not None:
        check.key_matches = key_path.read_bytes().strip() == public_pem.strip()
    return check
