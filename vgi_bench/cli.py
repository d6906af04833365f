"""``vgi-bench``: a thin command line over pytest (see the contract for every command).

Exit status of ``run``: 0 all selected cases passed (skips allowed), 1 a case failed or
errored, 2 bad usage or a bad profile (one-line reason on stderr).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from vgi_bench.can.node import tune_for_realtime
from vgi_bench.plugin import default_out_dir
from vgi_bench.profile import Profile, ProfileError, load_profile
from vgi_bench.suites import ALL_SUITES, Suite, SuiteError, all_suites, select_suites

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _VersionAction(argparse.Action):
    """``--version``: the package's version and, from a checkout, its git commit (asked of
    git only when the option is given)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "print the bench's version (and git commit) and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from vgi_bench.version import describe

        print(describe())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vgi-bench", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True)

    listing = sub.add_parser(
        "list", help="every suite and case: suite, id, clause, title (tab-separated)"
    )
    listing.add_argument(
        "--suite",
        action="append",
        metavar="SUITE",
        help=f"only this suite (repeatable; '{ALL_SUITES}': every suite, the default)",
    )
    listing.add_argument(
        "--json", action="store_true", help="one JSON document: suites and cases with nodeids"
    )

    run = sub.add_parser("run", help="run suites against the DUT named in the profile")
    run.add_argument(
        "--suite",
        action="append",
        required=True,
        metavar="SUITE",
        help=f"a suite to run (repeatable; '{ALL_SUITES}': every suite)",
    )
    run.add_argument("--profile", metavar="FILE")
    run.add_argument("--out", metavar="DIR")
    run.add_argument("-k", dest="keyword", metavar="EXPR")
    run.add_argument(
        "--resume",
        action="store_true",
        help="carry on an interrupted run in --out: skip the cases already in results.jsonl",
    )
    run.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: to pytest")

    sim = sub.add_parser("sim", help="run one reference DUT until SIGINT/SIGTERM")
    sim.add_argument("role", nargs="?")
    sim.add_argument("--profile", metavar="FILE")
    sim.add_argument("--fault", action="append", default=[], metavar="NAME")
    sim.add_argument("--list-faults", metavar="ROLE", dest="list_faults")

    report = sub.add_parser("report", help="rebuild the report of a run directory")
    report.add_argument("directory")

    verify = sub.add_parser(
        "verify", help="check report.sig against every file of its run directory"
    )
    verify.add_argument("file", help="report.sig, the run directory or any file in it")
    verify.add_argument("--key", metavar="PEM", help="the lab's public key the run must carry")

    campaign = sub.add_parser(
        "campaign", help="run a campaign file (suites x profiles x repetitions), resumable"
    )
    campaign.add_argument("file", help="campaign TOML (see README: Campaigns)")

    diff = sub.add_parser("diff", help="verdicts and measurement figures changed between runs")
    diff.add_argument("run_a", metavar="RUN_A")
    diff.add_argument("run_b", metavar="RUN_B")
    diff.add_argument(
        "--margin",
        type=_fraction,
        metavar="FRACTION",
        help="a figure with a limit matters when it moves by more than this fraction of "
        "the limit (default 0.05; vgi_bench/reports/data/diff.toml has the other rules)",
    )
    diff.add_argument(
        "--rel",
        type=_fraction,
        metavar="FRACTION",
        help="instead: report every figure but the counts that moved by more than this "
        "fraction of the larger value, limits and floors aside",
    )
    diff.add_argument("--json", action="store_true", help="one JSON document")

    dbc = sub.add_parser("dbc", help="export a GB/T 27930 message table as DBC")
    dbc.add_argument("file", nargs="?", default="gbt27930-2015.dbc")
    _edition_option(dbc)

    trace = sub.add_parser(
        "trace", help="decode a CAN log into GB/T 27930 messages, phases and violations"
    )
    trace.add_argument("file", help="a .asc, .blf, .log, .trc or .csv log (or .gz of one)")
    trace.add_argument("--format", choices=("text", "json"), default="text")
    trace.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAMES",
        help="comma-separated message names to print (TP: the transport frames)",
    )
    trace.add_argument("--limit", type=_count, metavar="N", help="print at most N messages")
    _edition_option(trace)
    trace.add_argument(
        "--jitter",
        type=float,
        default=0.0,
        metavar="MS",
        help="timestamp jitter allowed on top of each late-frame limit (default 0)",
    )

    check = sub.add_parser("check", help="passive GB/T 27930 checks on a recorded session")
    check.add_argument("file", help="a .asc, .blf, .log, .trc or .csv log (or .gz of one)")
    check.add_argument("--json", action="store_true", help="one JSON document")
    _edition_option(check)

    schema = sub.add_parser(
        "schema", help="print the profile's JSON Schema (for editors that validate TOML)"
    )
    schema.add_argument(
        "--path", action="store_true", help="print where the installed copy is instead"
    )

    load = sub.add_parser("load", help="N simulated OCPP charge points against the CSMS")
    load.add_argument("--cp", type=_count, required=True, metavar="N")
    load.add_argument("--profile", metavar="FILE")
    load.add_argument("--duration", type=float, default=10.0, metavar="S")
    load.add_argument("--interval", type=float, default=1.0, metavar="S", help="per charge point")
    load.add_argument("--id-prefix", default="VGI_LOAD_", help="charge point ids: PREFIX00000..")
    load.add_argument("--json", action="store_true", help="one JSON document")
    return parser


def _edition_option(parser: argparse.ArgumentParser) -> None:
    from vgi_bench.gbt27930.editions import DEFAULT_EDITION, EDITIONS

    parser.add_argument(
        "--edition",
        choices=sorted(EDITIONS),
        default=DEFAULT_EDITION,
        help=f"GB/T 27930 message set (default {DEFAULT_EDITION}; as [gbt27930] edition)",
    )


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("run", "sim"):
        tune_for_realtime()
    handler = COMMANDS[args.command]
    try:
        return handler(args)
    except ProfileError as exc:
        print(f"vgi-bench: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `vgi-bench list | head`
        sys.stderr.close()
        return EXIT_OK


def _suites_or_usage(names: list[str] | None) -> list[Suite] | None:
    """The suites named on the command line (``all``: every one), or None after printing
    the one-line reason."""
    try:
        return select_suites(names or [ALL_SUITES])
    except SuiteError as exc:
        print(f"vgi-bench: {exc}", file=sys.stderr)
        return None


def cmd_list(args: argparse.Namespace) -> int:
    """Tab-separated rows (suite, id, clause, title), or with ``--json`` one document."""
    suites = _suites_or_usage(args.suite)
    if suites is None:
        return EXIT_USAGE
    cases = collect_listed([s.path() for s in suites])
    if not args.json:
        for case in cases:
            print(f"{case.suite}\t{case.id}\t{case.clause}\t{case.title}")
        return EXIT_OK
    from vgi_bench.results import bench_identity

    doc = {
        "bench": bench_identity(),
        "suites": [
            {"name": s.name, "title": s.title, "bench_role": s.bench_role, "dut_role": s.dut_role}
            for s in suites
        ],
        "cases": [dataclasses.asdict(case) for case in cases],
    }
    print(json.dumps(doc, indent=2, ensure_ascii=False))
    return EXIT_OK


@dataclasses.dataclass(frozen=True)
class ListedCase:
    """One case as ``vgi-bench list`` shows it. ``nodeid`` is pytest's node id relative to
    the directory that holds the suite's top-level package (the repository root in a
    checkout, ``site-packages`` when installed): ``vgi_bench/testcases/.../test_x.py::test_y``."""

    suite: str
    id: str
    clause: str
    title: str
    nodeid: str


class _Collector:
    """A pytest plugin that keeps the case markers of collected items."""

    def __init__(self) -> None:
        self.cases: list[ListedCase] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        from vgi_bench.cases import case_info
        from vgi_bench.suites import suite_for_path

        suites = all_suites()
        for item in session.items:
            info = case_info(item)
            if info is None:
                continue
            path = Path(str(item.path))
            suite = suite_for_path(path)
            root = suites[suite].root() if suite else path.parent
            try:
                where = path.resolve().relative_to(root.resolve()).as_posix()
            except ValueError:
                where = path.as_posix()
            name = item.nodeid.split("::", 1)[1] if "::" in item.nodeid else item.name
            self.cases.append(
                ListedCase(suite, info.id, info.clause, info.title, f"{where}::{name}")
            )


def collect_listed(paths: list[Path]) -> list[ListedCase]:
    """Collect (not run) the cases under ``paths``, in collection order."""
    collector = _Collector()
    pytest.main(
        ["--collect-only", "-p", "no:terminal", "-p", "no:cacheprovider", *map(str, paths)],
        plugins=[collector],
    )
    return collector.cases


def collect_cases(paths: list[Path]) -> list[tuple[str, str, str, str]]:
    """(suite, id, clause, title) of every case under ``paths``."""
    return [(c.suite, c.id, c.clause, c.title) for c in collect_listed(paths)]


def cmd_run(args: argparse.Namespace) -> int:
    suites = _suites_or_usage(args.suite)
    if suites is None:
        return EXIT_USAGE
    profile = load_profile(args.profile)  # refuse a bad profile before pytest starts
    if not _signing_key_ok(profile.report.signing_key, profile.report.signature):
        return EXIT_USAGE
    if not _pdf_key_ok(profile):
        return EXIT_USAGE
    if args.resume and not args.out:
        print("vgi-bench: --resume needs --out (the run to carry on)", file=sys.stderr)
        return EXIT_USAGE
    out_dir = Path(args.out) if args.out else default_out_dir()
    extra = list(args.pytest_args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    pytest_args = [
        *(str(s.path()) for s in suites),
        "--vgi-out",
        str(out_dir),
        "--alluredir",
        str(out_dir / "allure-results"),
        f"--junitxml={out_dir / 'junit.xml'}",
        "-p",
        "no:cacheprovider",
        "-v",
    ]
    if args.profile:
        pytest_args += ["--vgi-profile", args.profile]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    if args.resume:
        pytest_args.append("--vgi-resume")
    code = pytest.main([*pytest_args, *extra])
    if args.resume and (out_dir / "results.jsonl").exists():
        return _resumed_status(int(code), out_dir)
    return _exit_status(int(code))


def _resumed_status(code: int, out_dir: Path) -> int:
    """A resumed run's verdict covers the earlier attempts' cases too."""
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:  # all done before: finish the report
        if cmd_report(argparse.Namespace(directory=str(out_dir))) != EXIT_OK:
            return EXIT_USAGE
    elif code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERRUPTED):
        return _exit_status(code)
    path = out_dir / "summary.json"
    if not path.exists():
        return _exit_status(code)
    totals = json.loads(path.read_text(encoding="utf-8")).get("totals", {})
    return EXIT_FAILED if totals.get("failed") or totals.get("error") else EXIT_OK


def _pdf_key_ok(profile: Profile) -> bool:
    """A lab's PDF key and certificate named in the profile must load before the run too
    (the bench's own, made on first use, and a missing pyHanko only leave the PDF unsigned)."""
    report = profile.report
    if not (report.pdf_signing_key or report.pdf_certificate or report.pdf_chain):
        return True
    from vgi_bench.reports.pades import PdfSigningError, load_pdf_signer, pyhanko_available

    if not pyhanko_available():
        return True  # the run says so at the end and keeps the unsigned PDF
    try:
        load_pdf_signer(report.pdf_signing_key, report.pdf_certificate, report.pdf_chain)
    except PdfSigningError as exc:
        print(f"vgi-bench: profile: {exc}", file=sys.stderr)
        return False
    return True


def _signing_key_ok(signing_key: str | None, algorithm: str) -> bool:
    """A lab key named in the profile must load before the run, not after it."""
    from vgi_bench.reports.signing import SignatureError, load_signer

    if not signing_key:
        return True
    try:
        load_signer(signing_key, algorithm=algorithm)
    except SignatureError as exc:
        print(f"vgi-bench: profile: {exc}", file=sys.stderr)
        return False
    return True


def _exit_status(code: int) -> int:
    if code == pytest.ExitCode.OK:
        return EXIT_OK
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
        if code == pytest.ExitCode.NO_TESTS_COLLECTED:
            print("vgi-bench: no case selected", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_FAILED


def cmd_sim(args: argparse.Namespace) -> int:
    from vgi_bench.reference.registry import SimError, sim_faults, start_sim

    if args.list_faults:
        try:
            faults = sim_faults(args.list_faults)
        except SimError as exc:
            print(f"vgi-bench: {exc}", file=sys.stderr)
            return EXIT_USAGE
        for name, doc in faults.items():
            print(f"{name:<26} {doc}")
        return EXIT_OK
    if not args.role:
        print("vgi-bench: sim needs a ROLE (or --list-faults ROLE)", file=sys.stderr)
        return EXIT_USAGE
    profile = load_profile(args.profile)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s"
    )
    logging.getLogger("can").setLevel(logging.WARNING)
    try:
        running = start_sim(args.role, profile, faults=tuple(args.fault))
    except SimError as exc:
        print(f"vgi-bench: {exc}", file=sys.stderr)
        return EXIT_USAGE
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(
        f"vgi-bench sim {args.role}: running on {running.where} (faults: "
        f"{', '.join(args.fault) or 'none'}); SIGINT/SIGTERM to stop",
        flush=True,
    )
    try:
        while not stop.wait(0.2):
            pass
    finally:
        running.stop()
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild summary.json, report.html and report.pdf, then sign the run again."""
    from vgi_bench.junit import relabel as relabel_junit
    from vgi_bench.reports.build import build_reports
    from vgi_bench.results import build_summary, read_results, write_summary

    out_dir = Path(args.directory)
    cases = read_results(out_dir / "results.jsonl")
    old: dict[str, Any] = {}
    if (out_dir / "summary.json").exists():
        old = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    if not cases and not old:
        print(f"vgi-bench: {out_dir} holds no results.jsonl or summary.json", file=sys.stderr)
        return EXIT_USAGE
    summary = build_summary(
        cases or old.get("cases", []),
        profile=old.get("profile", {}),
        dut=old.get("dut", {}),
        started=old.get("started", ""),
        finished=old.get("finished", ""),
    )
    if isinstance(old.get("bench"), dict):  # the bench that ran the cases, not this one
        summary["bench"] = old["bench"]
    if not summary["clocks"] and isinstance(old.get("clocks"), list):
        summary["clocks"] = old["clocks"]  # rebuilt from summary.json alone
    write_summary(out_dir, summary)
    if (out_dir / "junit.xml").exists():  # a run from before the suite/case names
        relabel_junit(out_dir / "junit.xml")
    built = build_reports(summary, out_dir)
    for path in (built.html, built.pdf, built.sig):
        if path is not None:
            print(path)
    for problem in built.problems:
        print(f"vgi-bench: {problem}", file=sys.stderr)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    """Exit 0 signature and every file intact, 1 anything altered/missing/added, 2 usage."""
    from vgi_bench.reports.signing import SIG_NAME, SignatureError, load_public_key, verify_run

    target = Path(args.file)
    sig = target / SIG_NAME if target.is_dir() else target
    if sig.name != SIG_NAME:
        sig = sig.with_name(SIG_NAME)
    if not sig.is_file():
        print(f"vgi-bench: no {SIG_NAME} at {sig}", file=sys.stderr)
        return EXIT_USAGE
    try:
        expected = load_public_key(args.key) if args.key else None
        result = verify_run(sig, expected)
    except SignatureError as exc:
        print(f"vgi-bench: {exc}", file=sys.stderr)
        return EXIT_USAGE
    signed = result.signed
    signer = signed.get("signer") or {}
    for name in result.altered:
        print(f"altered: {name}")
    for name in result.missing:
        print(f"missing: {name}")
    for name in result.added:
        print(f"added: {name}")
    if not result.signature_valid:
        print(f"bad signature: {SIG_NAME} itself was changed or is not signed by its key")
    if result.key_mismatch:
        print(f"wrong key: signed by {signed.get('fingerprint')}, not by {args.key}")
    lab = signer.get("lab") or "the lab"
    who = "self-signed by bench key" if signer.get("self_signed") else f"lab key of {lab}"
    files = len(signed.get("files", {}))
    pdf_ok = _verify_standard_files(result, sig.parent)
    verdict = "OK" if result.ok and pdf_ok else "FAILED"
    print(
        f"{sig}: {verdict}: {files} files, {signed.get('algorithm')} {signed.get('fingerprint')} "
        f"({who}), signed {signed.get('signed_at')}"
    )
    return EXIT_OK if result.ok and pdf_ok else EXIT_FAILED


def _verify_standard_files(result: Any, run_dir: Path) -> bool:
    """Print what ``sha256sum -c``/``openssl`` and a PDF reader would find (the files
    for checking a run without the bench). SHA256SUMS counts in ``result.ok``; the
    return value is whether the PDF's own signature holds (or it has none)."""
    from vgi_bench.reports.checksums import SUMS_NAME
    from vgi_bench.reports.pades import check_pdf
    from vgi_bench.reports.pdf import PDF_NAME

    if result.checksums is not None:
        for problem in result.checksums.problems():
            print(f"{SUMS_NAME}: {problem}")
        print(f"{SUMS_NAME}: {result.checksums.summary()}")
    if not (run_dir / PDF_NAME).is_file():
        return True
    pdf = check_pdf(run_dir / PDF_NAME)
    print(f"{PDF_NAME}: {pdf.describe()}")
    return pdf.ok


def cmd_campaign(args: argparse.Namespace) -> int:
    """Exit 0 every repetition complete and passed with the same verdicts, 1 not, 2 usage."""
    from vgi_bench.campaign import CampaignError, load_campaign, run_campaign
    from vgi_bench.reports.repeatability import repeatability

    try:
        campaign = load_campaign(args.file)
        for run in campaign.runs:
            load_profile(run.profile)  # refuse a bad profile before hours of running
        result = run_campaign(campaign)
    except CampaignError as exc:
        print(f"vgi-bench: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"\nvgi-bench: interrupted; run `vgi-bench campaign {args.file}` to resume")
        return EXIT_FAILED
    consistent = True
    for run in campaign.runs:
        dirs = [job.out_dir for job, _ in result.jobs if job.run is run]
        if len(dirs) < 2:
            continue
        rep = repeatability(dirs)
        rep.write(campaign.out / run.name / "repeatability.json")
        consistent &= not rep.inconsistent
        print(
            f"{run.name}: {len(rep.runs)} repetitions, {len(rep.cases)} cases, "
            f"{len(rep.inconsistent)} with differing verdicts"
            + "".join(f"\n  differs: {c.id} {c.verdicts}" for c in rep.inconsistent)
        )
        for case, spread in rep.widest(3):
            print(
                f"  spread: {case.id} {spread.path} mean {spread.mean:g} stdev "
                f"{spread.stdev:.3g} (CV {spread.cv:.2%})"
            )
    print(f"campaign: {campaign.out / 'campaign.json'}")
    return EXIT_OK if result.ok and consistent else EXIT_FAILED


def cmd_diff(args: argparse.Namespace) -> int:
    """Exit 0 no verdict changed, 1 a verdict changed (or a case ran in one run only), 2 usage."""
    from vgi_bench.reports.diff import RunError, diff_runs, format_diff

    try:
        result = diff_runs(Path(args.run_a), Path(args.run_b), rel=args.rel, margin=args.margin)
    except RunError as exc:
        print(f"vgi-bench: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(format_diff(result, Path(args.run_a), Path(args.run_b))))
    return EXIT_FAILED if result.verdict_changed else EXIT_OK


def cmd_dbc(args: argparse.Namespace) -> int:
    from vgi_bench.gbt27930.dbc import export_dbc
    from vgi_bench.gbt27930.messages import MessageTable

    export_dbc(MessageTable.edition(args.edition), Path(args.file))
    print(args.file)
    return EXIT_OK


def cmd_trace(args: argparse.Namespace) -> int:
    """One line per message (or JSON Lines); exit 0 once the log was read, 2 if not."""
    import itertools

    from vgi_bench.gbt27930 import trace as tr
    from vgi_bench.gbt27930.messages import MessageTable

    table = MessageTable.edition(args.edition)
    try:
        entries = tr.decode_log(tr.read_log(args.file), table, jitter_s=args.jitter / 1000)
    except tr.TraceError as exc:
        print(f"vgi-bench: {exc}", file=sys.stderr)
        return EXIT_USAGE
    only = {n.strip().upper() for arg in args.only for n in arg.split(",") if n.strip()}
    shown = (e for e in entries if not only or e.name.upper() in only or ("TP" in only and e.tp))
    shown = itertools.islice(shown, args.limit)
    if args.format == "json":
        for e in shown:
            print(json.dumps(tr.entry_dict(e, table), ensure_ascii=False))
        return EXIT_OK
    for e in shown:
        line = (
            f"{'!' if e.violations else ' '} +{e.time:.6f}  {e.direction}  {e.name:<8}  "
            f"{tr.format_values(e, table)}  [{e.phase}]"
        )
        if e.violations:
            line += "  ! " + "; ".join(f"{v.rule}: {v.reason}" for v in e.violations)
        print(line)
    s = tr.summarise(entries)
    phases = " > ".join(s["phases"][:12]) + (" > ..." if len(s["phases"]) > 12 else "")
    print(
        f"# {s['frames']} frames, {s['messages']} messages, {s['transport_frames']} transport "
        f"frames, {s['foreign_frames']} foreign, {s['decode_errors']} undecodable, "
        f"{s['sessions']} session(s) over {s['duration_s']:.3f} s, phases {phases or 'none'}, "
        f"{s['violations']} violation(s)"
    )
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """One line per passive check and a summary; exit 1 if any applicable check failed."""
    from vgi_bench.gbt27930 import trace as tr
    from vgi_bench.gbt27930.messages import MessageTable

    try:
        table = MessageTable.edition(args.edition)
        results = tr.run_checks(tr.decode_log(tr.read_log(args.file), table), table)
    except tr.TraceError as exc:
        print(f"vgi-bench: {exc}", file=sys.stderr)
        return EXIT_USAGE
    counts = tr.overall(results)
    failed = counts[tr.Verdict.FAILED.value] > 0
    verdict = "failed" if failed else "passed"
    if args.json:
        doc = {
            "file": str(args.file),
            "verdict": verdict,
            "totals": counts,
            "checks": [r.as_dict() for r in results],
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        words = {tr.Verdict.PASSED: "pass", tr.Verdict.FAILED: "FAIL"}
        for r in results:
            print(f"{words.get(r.verdict, 'n/a'):<4}  {r.name:<28}  {r.message}")
        print(
            f"{args.file}: {verdict.upper()} ({counts['passed']} passed, {counts['failed']} "
            f"failed, {counts['not applicable']} not applicable)"
        )
    return EXIT_FAILED if failed else EXIT_OK


def cmd_load(args: argparse.Namespace) -> int:
    """N simulated OCPP charge points against the profile's CSMS (vgi_bench/ocpp/load_cli.py)."""
    from vgi_bench.ocpp.load_cli import cmd_load as run_load_command

    return run_load_command(args)


def cmd_schema(args: argparse.Namespace) -> int:
    """The profile's JSON Schema, built from the loader's own tables (or its file's path)."""
    from vgi_bench.profile import profile_schema_text, shipped_schema_path

    if args.path:
        print(shipped_schema_path())
    else:
        sys.stdout.write(profile_schema_text())
    return EXIT_OK


COMMANDS = {
    "list": cmd_list,
    "run": cmd_run,
    "sim": cmd_sim,
    "report": cmd_report,
    "verify": cmd_verify,
    "diff": cmd_diff,
    "campaign": cmd_campaign,
    "dbc": cmd_dbc,
    "trace": cmd_trace,
    "check": cmd_check,
    "load": cmd_load,
    "schema": cmd_schema,
}

if __name__ == "__main__":
    sys.exit(main())
