"""The hostile-input report keeps working: a few probes of every category, the page writer."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import hostile_probes as hp  # noqa: E402
import reliability_report as rr  # noqa: E402


@pytest.fixture(scope="module")
def quick_categories(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("probes")
    with hp.local_server() as url:
        yield hp.categories(tmp, quick=True, url=url)


def _sample(probes: list[hp.Probe], k: int) -> list[hp.Probe]:
    """``k`` probes spread over the list (the expensive CLI ones come first and last)."""
    if len(probes) <= k:
        return probes
    step = len(probes) / k
    return [probes[int(i * step)] for i in range(k)]


CATEGORIES = [
    "probe: cli outputs",
    "probe: weights/records/downloads",
    "probe: readers and .par",
    "probe: determinism",
    "probe: load",
]


@pytest.mark.parametrize("name", CATEGORIES)
def test_every_category_runs_and_handles_its_probes(quick_categories, name):
    probes = quick_categories[name]
    assert probes, f"{name} has no probes"
    keep = [p for p in probes if "killed" not in p.label]  # a subprocess: covered elsewhere
    downloads = [p for p in keep if p.label.startswith("download")]
    chosen = _sample([p for p in keep if p not in downloads], 8) + downloads
    tally = rr.Tally(name)
    hp.run_probes(chosen, tally, rr.normalise_message)
    assert tally.tried == len(chosen) > 0
    assert tally.unhandled == 0, tally.failures
    assert tally.handled == tally.tried


def test_a_silently_accepted_input_counts_as_unhandled():
    tally = rr.Tally("probe: self-check")
    probes = [
        hp.Probe("accepts", lambda: hp.expect_error(lambda: None, "anything")),
        hp.Probe("bare error", lambda: hp.expect_error(lambda: 1 / 0, "x")),
        hp.Probe("unclear", lambda: hp.expect_error(_raise_value, "the key 'nx'")),
        hp.Probe("clear", lambda: hp.expect_error(_raise_value, "nothing")),
        hp.Probe("blocks", lambda: (__import__("time").sleep(5), ("ok", ""))[1], timeout=0.2),
    ]
    hp.run_probes(probes, tally, rr.normalise_message)
    assert (tally.tried, tally.errors, tally.unhandled) == (5, 1, 4)
    assert any("blocked" in f for f in tally.failures)


def _raise_value() -> None:
    raise ValueError("nothing to see")


def test_page_has_probe_categories_tallies_and_defect_table():
    tallies = [rr.Tally("KernelAxis", tried=3, ok=3), rr.Tally("probe: load", tried=2, ok=2)]
    node = rr.DEFECTS[0][2][0]
    page = rr.render(tallies, [], 10, 1.0, {node: "passed"}, "python scripts/x.py --quick")
    assert "`python scripts/x.py --quick`" in page
    assert "## Hand-written probes per category" in page
    assert re.search(r"\| `load` \| 2 \| 2 \| 0 \| 0 \| 0 \|", page)
    assert "**5 of 5** hostile inputs" in page
    assert all(f"| {n} | " in page for n, _, _ in rr.DEFECTS)


def test_every_defect_names_existing_tests():
    numbers = [n for n, _, _ in rr.DEFECTS]
    assert numbers == list(range(1, 21))
    for _, _, nodes in rr.DEFECTS:
        for node in nodes:
            path, _, name = node.partition("::")
            assert re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M), node
