"""MkDocs hook: render Sphinx-style cross-reference roles as links.

Docstrings may still say ``:func:`find_peaks``` (reStructuredText) where Markdown would say
`` `find_peaks` ``. Python-Markdown renders the role as the text ``:func:`` followed by an
inline code element; this hook turns every such pair, on every page, into an autorefs
cross-reference to the object it names (a link when the object is documented on the site, the
bare code otherwise). The target is resolved against the package's objects as griffe sees them:
an exact dotted path, the path below ``laplace_inv``, or else the shortest object path that ends
with the name (``Kernel2D.compress``, ``..loss.region_mass_error``). ``~a.b.c`` shows ``c``, as
in Sphinx.

The hook also links leftover mentions of the design notes that are not in the repository
(``ALGORITHMS.md §N``, ``DESIGN.md``) to the theory page, so the built site names no file
outside it.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from mkdocs.utils import get_relative_url

PACKAGE = "laplace_inv"

ROLE_HTML = re.compile(
    r":(?:py:)?(?:func|class|meth|mod|data|attr|obj|exc|const):<code>(?P<target>[^<]*)</code>"
)
"""A role as Python-Markdown renders it: the role's name, then the inline code."""

NOTES_HTML = re.compile(
    r"(?P<open>\()?\b(?:ALGORITHMS|DESIGN)\.md"
    r"(?:\s*§\s*\d+(?:\s*,\s*§\s*\d+)*|\s*/[^,;)<]*)?(?P<close>\))?"
)
"""A mention of the out-of-repository design notes, with its section and parentheses."""


@lru_cache(maxsize=1)
def object_paths(root: str) -> tuple[str, ...]:
    """Return the canonical dotted path of every module, class, function and attribute."""
    import griffe

    package = griffe.load(PACKAGE, search_paths=[root], allow_inspection=False)
    paths: list[str] = []
    stack: list[Any] = [package]
    while stack:
        obj = stack.pop()
        paths.append(obj.path)
        stack.extend(m for m in obj.members.values() if not m.is_alias)
    return tuple(sorted(paths))


def resolve(target: str, paths: tuple[str, ...]) -> str | None:
    """Return the object path a role's target names, or None when it names none of ours."""
    name = target.strip().lstrip("~!.").removesuffix("()")
    if not name:
        return None
    known = set(paths)
    for candidate in (name, f"{PACKAGE}.{name}"):
        if candidate in known:
            return candidate
    matches = [p for p in paths if p.endswith("." + name)]
    if not matches:
        return None
    return min(matches, key=lambda p: (p.count("."), p))


def display(target: str) -> str:
    """The text Sphinx would show: the last component for ``~a.b.c``, else the target."""
    target = target.strip().lstrip("!")
    if target.startswith("~"):
        return target[1:].rsplit(".", 1)[-1]
    return target.lstrip(".")


def rewrite_roles(text: str, paths: tuple[str, ...]) -> str:
    """Replace every rendered role in ``text`` (HTML) with a code span or an autoref."""

    def replace(match: re.Match[str]) -> str:
        target = html.unescape(match["target"])
        code = f"<code>{html.escape(display(target), quote=False)}</code>"
        identifier = resolve(target, paths)
        if identifier is None:
            return code
        return f'<autoref identifier="{html.escape(identifier)}" optional>{code}</autoref>'

    return ROLE_HTML.sub(replace, text)


def rewrite_notes(text: str, theory_url: str) -> str:
    """Point mentions of ALGORITHMS.md / DESIGN.md at the theory page."""

    def replace(match: re.Match[str]) -> str:
        link = f'<a href="{theory_url}">Theory</a>'
        if match["open"] and match["close"]:
            return f"(see {link})"
        return (match["open"] or "") + f"the {link} page" + (match["close"] or "")

    return NOTES_HTML.sub(replace, text)


def _split_pre(text: str) -> list[str]:
    """Split HTML into alternating outside-``<pre>`` and ``<pre>`` chunks."""
    return re.split(r"(<pre\b.*?</pre>)", text, flags=re.DOTALL)


def on_page_content(html_text: str, page: Any, config: Any, **kwargs: Any) -> str:
    """Rewrite roles and design-note mentions outside preformatted blocks."""
    root = str(Path(config["config_file_path"]).resolve().parent)
    paths = object_paths(root)
    theory_url = get_relative_url("theory/", page.url)
    chunks = _split_pre(html_text)
    for i in range(0, len(chunks), 2):
        chunks[i] = rewrite_notes(rewrite_roles(chunks[i], paths), theory_url)
    return "".join(chunks)
