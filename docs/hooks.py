"""MkDocs hooks: pages generated at build time.

* ``benchmarks.md`` — the benchmark harness's ``benchmarks/results/report.md`` (written by
  ``python -m benchmarks --suite all --quick --out benchmarks/results``), with its figures
  copied next to it. When the report is absent the page says how to generate it, so
  ``mkdocs build --strict`` passes either way.
* ``reliability.md`` — a placeholder, only while that page (owned separately) is missing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

REPORT_DIR = Path("benchmarks") / "results"
FIGURE_URI = "benchmark-figures"
REAL_FIGURES = {
    "dlemlr_cement_t1t2.png": "white cement, IR-CPMG T1-T2",
    "dlemlr_maastricht_t2t2.png": "Maastricht sample, T2-T2",
    "dlemlr_sse_dt2.png": "SSE, D-T2",
    "dlemlr_spinsolve_dt2.png": "Spinsolve D-T2 export (water)",
}
"""Real-data comparisons written by ``python -m benchmarks.bench_figures``, shown after the
report."""

_MISSING = """# Benchmark results

The benchmark report has not been generated in this checkout. Run the harness, then rebuild
the site:

```bash
LAPLACE_INV_DATA=../shared/data python -m benchmarks --suite all --quick --out benchmarks/results
mkdocs build --strict
```

`laplace-inv bench --help` lists the options (suites, methods, repeats, seed). The build copies
`benchmarks/results/report.md` and its figures into this page.
"""

_INTRO = """# Benchmark results

This page is `benchmarks/results/report.md`, written by the benchmark harness
(`laplace_inv.bench`; see `benchmarks/README.md`) and copied here when the site is built.
Regenerate it with
`python -m benchmarks --suite all --quick --out benchmarks/results` (add
`LAPLACE_INV_DATA=../shared/data` for the real datasets; drop `--quick` for the full suite).

"""

_PLACEHOLDER_RELIABILITY = """# Reliability

This page is being written. It will describe how far each method's maps can be trusted:
uncertainty, failure modes and the checks the package runs.
"""

_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")


def _repo_root(config: Any) -> Path:
    return Path(config["config_file_path"]).resolve().parent


def _benchmark_page(root: Path, files: Files, config: Any) -> str:
    report = root / REPORT_DIR / "report.md"
    if not report.is_file():
        return _MISSING
    text = report.read_text(encoding="utf-8")
    # The page has its own title: push every heading of the report one level down.
    text = re.sub(r"^(#{1,5}) ", r"#\1 ", text, flags=re.MULTILINE)

    def image(match: re.Match) -> str:
        alt, target = match.group(1), match.group(2)
        src = report.parent / target
        if "://" in target or not src.is_file():
            return f"*(figure {target} not available)*"
        uri = f"{FIGURE_URI}/{Path(target).name}"
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, abs_src_path=str(src)))
        return f"![{alt}]({uri})"

    real = "\n\n## Real datasets, every method\n\nThe raw DLEMLR network, DLEMLR's default output\n"
    real += "(with its data-consistency step), UPEN and L1 on one colour scale\n"
    real += "(`python -m benchmarks.bench_figures`).\n"
    for name, title in REAL_FIGURES.items():
        real += f"\n### {title}\n\n![{title}]({name})\n"
    return _INTRO + _IMAGE.sub(image, text + real)


def on_files(files: Files, config: Any, **kwargs: Any) -> Files:
    """Add the generated pages (and the benchmark figures) to the site's files."""
    root = _repo_root(config)
    if files.get_file_from_path("benchmarks.md") is None:
        files.append(
            File.generated(config, "benchmarks.md", content=_benchmark_page(root, files, config))
        )
    if files.get_file_from_path("reliability.md") is None:
        files.append(File.generated(config, "reliability.md", content=_PLACEHOLDER_RELIABILITY))
    return files
