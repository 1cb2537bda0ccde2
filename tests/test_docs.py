"""The documentation tells the truth and renders offline.

* Every public class and function on the API pages (``docs/api/*.md``) documents each
  parameter in its own numpydoc entry, and every default its docstring states equals the
  signature's.
* Every formula in the Markdown pages converts to MathML (``docs/hooks_math.py``), roles
  become links (``docs/hooks_xref.py``), and ``scripts/check_site.py`` finds raw roles, raw TeX
  and network loads in HTML.
* The whole site builds strictly and passes ``scripts/check_site.py``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import math
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# Docstrings that other branches are rewriting while this test was written: each key is an
# object path whose docstring fails the test below on this branch (value: the branch that owns
# its module). The lead empties this list once those branches are merged; a case that passes
# meanwhile is reported as XPASS.
DOCSTRINGS_BEING_REWRITTEN: dict[str, str] = {}


def _load(path: Path) -> ModuleType:
    """Import a file that is not in a package (the MkDocs hooks, scripts/check_site.py)."""
    spec = importlib.util.spec_from_file_location(f"_docs_test_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------------------
# numpydoc parameters and their defaults

SECTION = re.compile(r"^(?P<indent>\s*)(?P<title>[A-Z][A-Za-z ]+)\n(?P=indent)-{3,}\s*$", re.M)
ENTRY = re.compile(r"^(?P<names>\*{0,2}[A-Za-z_][\w, *]*?)\s*(?::\s*(?P<type>.*))?$")
DEFAULT = re.compile(
    r"(?:\bby default\b|\bdefaults? to\b|\bdefault is\b|\bdefault\s*[:=]?)\s*"
    r"(?P<value>\"[^\"]*\"|'[^']*'|``[^`]*``|`[^`]*`|[-+]?\.?\d[\w.+-]*|None\b|True\b|False\b)",
    re.IGNORECASE,
)


def parameter_entries(doc: str) -> list[tuple[str, str]]:
    """Return ``(names, text)`` for every entry of a docstring's ``Parameters`` section.

    ``names`` is the entry's name part as written (``"a, b"`` for a shared entry); ``text``
    is its type part and description, joined.
    """
    doc = inspect.cleandoc(doc)
    sections = list(SECTION.finditer(doc))
    for i, match in enumerate(sections):
        if match["title"].strip() != "Parameters":
            continue
        end = sections[i + 1].start() if i + 1 < len(sections) else len(doc)
        body = doc[match.end() : end].splitlines()
        entries: list[tuple[str, str]] = []
        for line in body:
            if not line.strip():
                continue
            if not line.startswith((" ", "\t")):
                entry = ENTRY.match(line.strip())
                if entry is None:
                    continue
                entries.append((entry["names"].strip(), entry["type"] or ""))
            elif entries:
                names, text = entries[-1]
                entries[-1] = (names, f"{text} {line.strip()}")
        return entries
    return []


def documented_default(text: str) -> str | None:
    """The default an entry states (``"default 64"``, ``"by default 1e-4"``, ``default=...``)."""
    match = DEFAULT.search(text)
    if match is None:
        return None
    return match["value"].strip("`").rstrip(".,;)")


def _literal(text: str) -> Any:
    """Parse a documented default; raise ValueError when it is prose, not a value."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        if re.fullmatch(r"[A-Za-z_][\w-]*", text):  # a backticked option, e.g. ``brd``
            return text
        raise ValueError(text) from None


def defaults_agree(documented: str, actual: Any) -> bool:
    """Whether a documented default names the signature's default."""
    try:
        value = _literal(documented)
    except ValueError:
        return True  # prose ("17 values from ..."): nothing to compare
    if isinstance(actual, bool) or isinstance(value, bool):
        return value is actual
    if isinstance(actual, (int, float)) and isinstance(value, (int, float)):
        return math.isclose(float(value), float(actual), rel_tol=1e-12, abs_tol=0.0)
    if isinstance(actual, (tuple, list)) and isinstance(value, (tuple, list)):
        return tuple(value) == tuple(actual)
    if isinstance(actual, str) or isinstance(value, str):
        return str(value) == str(actual)
    return value == actual


def docstring_problems(obj: Any) -> list[str]:
    """What is wrong with one object's ``Parameters`` section.

    A section, when there is one, has one entry per parameter (``*args``/``**kwargs`` may be
    left out) and no entry for a parameter the signature lacks; no entry names several
    parameters; and a default it states (other than for a ``None`` default, which stands for
    a computed value the text may describe) equals the signature's.
    """
    doc = inspect.getdoc(obj) or ""
    if inspect.isclass(obj) and not parameter_entries(doc):
        doc = inspect.getdoc(obj.__init__) or ""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    params = signature.parameters
    entries = parameter_entries(doc)
    problems = []
    if entries:  # a Parameters section documents every parameter, and only those
        named = {n.strip().lstrip("*") for names, _ in entries for n in names.split(",")}
        variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        problems += [
            f"{p.name}: no entry"
            for p in params.values()
            if p.name not in named and p.kind not in variadic and p.name not in ("self", "cls")
        ]
        problems += [f"{n}: entry for no parameter" for n in sorted(named - set(params))]
    for names, text in entries:
        if "," in names:
            problems.append(f"one entry for several parameters: {names!r}")
            continue
        name = names.lstrip("*")
        stated = documented_default(text)
        param = params.get(name)
        if stated is None or param is None or param.default is inspect.Parameter.empty:
            continue
        if param.default is None:
            continue  # None means "computed"; the entry may say how
        module = inspect.getmodule(obj)
        if module is not None and hasattr(module, stated) and stated.isidentifier():
            # A named constant (``default `NNT_CHANNELS` ``): compare its value.
            if getattr(module, stated) != param.default:
                problems.append(f"{name}: documented default {stated!r} differs from the signature")
            continue
        if not defaults_agree(stated, param.default):
            problems.append(f"{name}: documented default {stated!r}, signature {param.default!r}")
    return problems


def _api_targets() -> list[str]:
    """The objects that the API pages render (``::: dotted.path`` lines)."""
    targets = []
    for page in sorted((DOCS / "api").glob("*.md")):
        targets += re.findall(r"^::: (\S+)", page.read_text(encoding="utf-8"), flags=re.M)
    return targets


def _import(path: str) -> Any:
    """Import a module, or a module's attribute, by dotted path."""
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        module, _, name = path.rpartition(".")
        return getattr(importlib.import_module(module), name)


def _public_members(obj: Any) -> list[tuple[str, Any]]:
    """``(path, object)`` of a rendered object and its public classes, functions, methods."""
    found: list[tuple[str, Any]] = []
    if inspect.ismodule(obj):
        names = getattr(obj, "__all__", None)
        if names is None:
            names = [
                n
                for n, v in vars(obj).items()
                if not n.startswith("_") and getattr(v, "__module__", None) == obj.__name__
            ]
        for name in names:
            value = getattr(obj, name, None)
            if inspect.isclass(value) or inspect.isfunction(value):
                found += _public_members(value) if inspect.isclass(value) else []
                if inspect.isfunction(value):
                    found.append((f"{obj.__name__}.{name}", value))
        return found
    if inspect.isclass(obj):
        found.append((f"{obj.__module__}.{obj.__qualname__}", obj))
        for name, value in vars(obj).items():
            if name.startswith("_"):
                continue
            func = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
            if inspect.isfunction(func):
                found.append((f"{obj.__module__}.{obj.__qualname__}.{name}", func))
        return found
    if callable(obj):
        found.append((f"{getattr(obj, '__module__', '')}.{obj.__qualname__}", obj))
    return found


def _documented_objects() -> list[tuple[str, Any]]:
    seen: dict[str, Any] = {}
    for target in _api_targets():
        for path, obj in _public_members(_import(target)):
            seen.setdefault(path, obj)
    return sorted(seen.items())


def _cases() -> list[Any]:
    cases = []
    for path, obj in _documented_objects():
        marks = []
        if path in DOCSTRINGS_BEING_REWRITTEN:
            reason = f"docstring being rewritten on branch {DOCSTRINGS_BEING_REWRITTEN[path]}"
            marks.append(pytest.mark.xfail(strict=False, reason=reason))
        cases.append(pytest.param(obj, id=path, marks=marks))
    return cases


@pytest.mark.parametrize("obj", _cases())
def test_documented_defaults_match_the_signature(obj):
    assert docstring_problems(obj) == []


def test_the_parser_reads_numpydoc_defaults():
    def f(a: int = 64, b: float = 1e-4, c: str = "brd", d: bool = False, e=None, g=3):
        """Summary.

        Parameters
        ----------
        a : int, default 64
            Size.
        b : float
            Tolerance, by default 1e-4.
        c : {"brd", "fista"}, default="brd"
            Solver.
        d : bool, optional
            Flag (default: True).
        e : array_like, optional
            Grid; default 17 values from 0.1·L.
        g, h : int
            Shared.
        """

    entries = parameter_entries(f.__doc__)
    assert [n for n, _ in entries] == ["a", "b", "c", "d", "e", "g, h"]
    assert [documented_default(t) for _, t in entries[:4]] == ["64", "1e-4", '"brd"', "True"]
    assert docstring_problems(f) == [
        "h: entry for no parameter",
        "d: documented default 'True', signature False",
        "one entry for several parameters: 'g, h'",
    ]

    def g(x, y=2, *args, **kwargs):
        """Summary.

        Parameters
        ----------
        x : float
            Value.
        """

    assert docstring_problems(g) == ["y: no entry"]


def test_the_api_pages_render_objects():
    objects = dict(_documented_objects())
    assert "laplace_inv.classical.tikhonov.TikhonovInverter" in objects
    assert len(objects) > 50


# --------------------------------------------------------------------------------------
# maths, roles and the site checker

MATH = re.compile(r"\$\$(?P<block>.+?)\$\$|(?<![\\$])\$(?P<inline>[^$\n]+?)\$", re.DOTALL)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def _formulas() -> list[Any]:
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        text = CODE_SPAN.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))
        for match in MATH.finditer(text):
            tex = match["block"] if match["block"] is not None else match["inline"]
            found.append(pytest.param(tex.strip(), match["block"] is not None, id=page.name))
    return found


@pytest.fixture(scope="module")
def hooks_math() -> ModuleType:
    pytest.importorskip("latex2mathml", reason="the docs extra is not installed")
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    return _load(DOCS / "hooks_math.py")


@pytest.fixture(scope="module")
def hooks_xref() -> ModuleType:
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    pytest.importorskip("griffe", reason="the docs extra is not installed")
    return _load(DOCS / "hooks_xref.py")


@pytest.fixture(scope="module")
def check_site() -> ModuleType:
    return _load(ROOT / "scripts" / "check_site.py")


def test_the_pages_have_formulas():
    assert len(_formulas()) > 100


@pytest.mark.parametrize(("tex", "display"), _formulas())
def test_every_formula_converts_to_mathml(hooks_math, tex, display):
    mathml = hooks_math.tex_to_mathml(tex, display)
    assert mathml.startswith("<math") and mathml.endswith("</math>")


def test_math_hook_replaces_arithmatex_and_rejects_unknown_commands(hooks_math):
    page = (
        '<p>Data <span class="arithmatex">\\(S \\in \\mathbb{R}^{n}\\)</span> and</p>\n'
        '<div class="arithmatex">\\[\n\\|K F - S\\|^2 &lt; \\epsilon\n\\]</div>'
    )
    html = hooks_math.render_maths(page)
    assert "arithmatex" in html and "\\(" not in html and "\\[" not in html
    assert html.count("<math") == 2 and 'display="block"' in html
    assert "&#x0003C;" in html or "&lt;" in html  # the escaped < survived as an operator
    with pytest.raises(ValueError, match=r"\\arg"):
        hooks_math.tex_to_mathml(r"\arg\min_x f", display=False)


def test_xref_hook_links_roles_and_notes(hooks_xref):
    paths = hooks_xref.object_paths(str(ROOT))
    assert hooks_xref.resolve("~laplace_inv.kernels.Kernel2D", paths) == (
        "laplace_inv.kernels.Kernel2D"
    )
    assert hooks_xref.resolve("Kernel2D.compress", paths) == "laplace_inv.kernels.Kernel2D.compress"
    assert hooks_xref.resolve("numpy.ndarray", paths) is None
    html = hooks_xref.rewrite_roles(
        "<p>See :func:<code>~laplace_inv.kernels.default_grid</code> and "
        ":class:<code>numpy.ndarray</code>.</p>",
        paths,
    )
    assert ":func:" not in html and ":class:" not in html
    assert '<autoref identifier="laplace_inv.kernels.default_grid" optional>' in html
    assert "<code>default_grid</code>" in html and "<code>numpy.ndarray</code>" in html
    notes = hooks_xref.rewrite_notes("<p>the model (ALGORITHMS.md §1, §4).</p>", "../theory/")
    assert notes == '<p>the model (see <a href="../theory/">Theory</a>).</p>'


def test_site_checker_finds_raw_roles_tex_and_network_loads(check_site):
    bad = (
        '<script src="https://unpkg.com/mathjax@3/es5/tex-mml-chtml.js"></script>\n'
        '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">\n'
        "<p>Use :func:<code>find_peaks</code>.</p>\n"
        "<p>The map \\(F\\) and $$x$$.</p>\n"
    )
    kinds = [kind for _, kind, _ in check_site.check_page(bad)]
    assert kinds.count("network load") == 2
    assert kinds.count("raw role") == 1
    assert kinds.count("raw TeX") == 4  # each delimiter: \\( \\) $$ $$
    good = (
        '<script src="../assets/javascripts/bundle.js"></script>\n'
        "<p>Write <code>:func:`x`</code> or <code>\\(x\\)</code>.</p>\n"
        "<pre><code>$$ raw $$</code></pre>\n"
        '<p><math display="inline"><mi>x</mi></math></p>\n'
    )
    assert check_site.check_page(good) == []


def test_site_checker_command_line(tmp_path, check_site, capsys):
    (tmp_path / "index.html").write_text("<p>:class:<code>Kernel2D</code></p>", encoding="utf-8")
    assert check_site.main([str(tmp_path)]) == 1
    assert "index.html:1: raw role" in capsys.readouterr().out
    (tmp_path / "index.html").write_text("<p><code>Kernel2D</code></p>", encoding="utf-8")
    assert check_site.main([str(tmp_path)]) == 0
    with pytest.raises(FileNotFoundError, match="build the site first"):
        check_site.check_site(tmp_path / "missing")


# --------------------------------------------------------------------------------------
# the built site


def test_the_site_builds_offline_with_nothing_raw(tmp_path, check_site):
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    pytest.importorskip("mkdocstrings", reason="the docs extra is not installed")
    pytest.importorskip("latex2mathml", reason="the docs extra is not installed")
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert check_site.check_site(site) == []
    theory = (site / "theory" / "index.html").read_text(encoding="utf-8")
    assert theory.count("<math") > 50
