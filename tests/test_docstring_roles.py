"""No Sphinx roles in the package's docstrings: the site renders Markdown, so write backticks.

``:func:`x``` and its kin show as raw text in the built site (mkdocstrings does not read
them); write `` `x` `` instead.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROLE = re.compile(r":(?:func|class|meth|data|mod|attr|exc|obj|ref):`")

# Files that other branches were editing while this test was written (their owners remove
# the roles there); the lead empties this set once those branches are merged.
BEING_EDITED = {
    "laplace_inv/classical/robust.py",
    "laplace_inv/kernels.py",
    "laplace_inv/peak_table.py",
    "laplace_inv/result.py",
    "laplace_inv/solvers/l1_cvxpy.py",
}


def roles_in(path: Path) -> list[str]:
    """``line: text`` for every Sphinx role in one file."""
    return [
        f"{number}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ROLE.search(line)
    ]


def test_no_sphinx_roles_in_docstrings():
    found = {}
    for path in sorted((ROOT / "laplace_inv").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name not in BEING_EDITED and (hits := roles_in(path)):
            found[name] = hits
    assert not found, f"Sphinx roles (write Markdown backticks instead): {found}"


def test_the_pattern_finds_roles(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text('"""See :func:`f` and :class:`~a.B`, not `g`."""\n')
    assert roles_in(sample) == ['1: """See :func:`f` and :class:`~a.B`, not `g`."""']
