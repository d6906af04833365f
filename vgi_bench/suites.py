"""The registry of conformance suites: suite name -> the package holding its cases.

Like python-can's interface registry, built-in suites are listed here and third-party
ones are added through the ``vgi_bench.suites`` entry-point group (value: package name).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path


@dataclass(frozen=True)
class Suite:
    """A suite: its contract name, the package of its cases, and what the bench plays."""

    name: str
    package: str
    bench_role: str
    dut_role: str
    title: str

    def path(self) -> Path:
        return Path(str(resources.files(self.package)))

    def root(self) -> Path:
        """The directory holding the suite's top-level package (node ids are relative to
        it): the repository root in a checkout, ``site-packages`` when installed."""
        return Path(str(resources.files(self.package.split(".")[0]))).parent


BUILTIN_SUITES: tuple[Suite, ...] = (
    Suite(
        "gbt27930.charger",
        "vgi_bench.testcases.gbt27930.charger",
        bench_role="bms",
        dut_role="gbt-charger",
        title="GB/T 27930-2015 charger conformance (GB/T 34658-2017 §7.5), bench as BMS",
    ),
    Suite(
        "gbt27930.bms",
        "vgi_bench.testcases.gbt27930.bms",
        bench_role="charger",
        dut_role="gbt-bms",
        title="GB/T 27930-2015 BMS conformance (GB/T 34658-2017 §7.4), bench as charger",
    ),
    Suite(
        "gbt27930.v2g-draft",
        "vgi_bench.testcases.gbt27930.v2g_draft",
        bench_role="bms",
        dut_role="gbt-charger",
        title="DRAFT (not a standard): V2G discharge over GB/T 27930-2015, bench as BMS",
    ),
    Suite(
        "power.charger",
        "vgi_bench.testcases.power",
        bench_role="bms",
        dut_role="gbt-charger",
        title="Charger power stage (GB/T 34657.1, NB/T 33001) with supply and analyzer",
    ),
    Suite(
        "ocpp201.cp",
        "vgi_bench.testcases.ocpp201.cp",
        bench_role="csms",
        dut_role="ocpp201-cp",
        title="OCPP 2.0.1 charging station conformance (OCA OCTT ids), bench as CSMS",
    ),
    Suite(
        "ocpp16.cp",
        "vgi_bench.testcases.ocpp16.cp",
        bench_role="csms",
        dut_role="ocpp16-cp",
        title="OCPP 1.6J charge point conformance (OCA OCTT 1.6 ids), bench as central system",
    ),
    Suite(
        "tcec102.platform",
        "vgi_bench.testcases.tcec102.platform",
        bench_role="calling platform",
        dut_role="tcec102-platform",
        title="T/CEC 102 interconnection (互联互通), bench as calling platform",
    ),
    Suite(
        "gridplat.platform",
        "vgi_bench.testcases.gridplat.platform",
        bench_role="grid platform",
        dut_role="gridplat-platform",
        title="Grid-level interaction access (bench interpretation), bench as grid platform",
    ),
    Suite(
        "ocpp201.csms",
        "vgi_bench.testcases.ocpp201.csms",
        bench_role="ocpp201-cp",
        dut_role="ocpp-csms",
        title="OCPP 2.0.1 CSMS conformance (OCA OCTT ids), bench as charging station",
    ),
    Suite(
        "ocpp16.csms",
        "vgi_bench.testcases.ocpp16.csms",
        bench_role="ocpp16-cp",
        dut_role="ocpp-csms",
        title="OCPP 1.6J central system conformance (OCA OCTT 1.6 ids), bench as charge point",
    ),
)


#: The name that selects every suite (``vgi-bench run --suite all``).
ALL_SUITES = "all"


class SuiteError(ValueError):
    """An unknown suite name; ``str(err)`` is one line listing the known ones."""


def select_suites(names: list[str]) -> list[Suite]:
    """The suites called ``names`` in the order given, once each; ``all`` is every suite
    in registry order (the built-in ones first)."""
    suites = all_suites()
    chosen: dict[str, Suite] = {}
    for name in names:
        if name == ALL_SUITES:
            chosen.update((n, s) for n, s in suites.items() if n not in chosen)
        elif name in suites:
            chosen.setdefault(name, suites[name])
        else:
            known = ", ".join([ALL_SUITES, *sorted(suites)])
            raise SuiteError(f"unknown suite {name!r} (known: {known})")
    return list(chosen.values())


def all_suites() -> dict[str, Suite]:
    suites = {s.name: s for s in BUILTIN_SUITES}
    for ep in metadata.entry_points(group="vgi_bench.suites"):
        if ep.name != ALL_SUITES:  # the name is taken by "every suite"
            suites.setdefault(ep.name, Suite(ep.name, ep.value, "?", "?", ep.name))
    return suites


def suite_for_path(path: Path) -> str:
    """The suite a test file belongs to (by package directory); '' if none."""
    resolved = path.resolve()
    for suite in all_suites().values():
        try:
            resolved.relative_to(suite.path().resolve())
        except (ValueError, ModuleNotFoundError):
            continue
        return suite.name
    return ""
