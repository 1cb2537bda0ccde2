"""Check a built documentation site for text that did not render, and for network loads.

Usage: ``python scripts/check_site.py SITE_DIR`` (after ``mkdocs build --site-dir SITE_DIR``).
Exits with status 1 and lists every finding (file, line, excerpt) when the HTML has

* a raw Sphinx role (``:func:``, ``:class:``, ``:meth:`` ...) outside code blocks;
* a raw TeX delimiter (``\\(``, ``\\[``, ``$$``) outside code blocks, i.e. maths that was not
  typeset at build time;
* a ``<script>`` or ``<link>`` tag that loads anything over http(s) (a CDN, web fonts), since
  the site must work offline.

Code (``<pre>``, ``<code>``), scripts, styles and MathML are left out of the text checks: a
role or a delimiter shown as code is deliberate.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

HIDDEN = re.compile(
    r"<(?P<tag>pre|code|script|style|math|textarea)\b[^>]*>.*?</(?P=tag)>",
    flags=re.DOTALL | re.IGNORECASE,
)
"""Elements whose content is code or markup, not prose."""

RAW_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|obj|exc|const|ref):(?=[`<\0])")
RAW_TEX = re.compile(r"\\[(\[]|\\[)\]]|\$\$")
NETWORK_TAG = re.compile(
    r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//[^>]*>",
    flags=re.IGNORECASE,
)


def _blank(match: re.Match[str]) -> str:
    """Replace a hidden element by a marker and its newlines (keeps line numbers)."""
    return "\0" + "\n" * match.group().count("\n")


def check_page(text: str) -> list[tuple[int, str, str]]:
    """Return ``(line, kind, excerpt)`` for every problem in one HTML page."""
    problems: list[tuple[int, str, str]] = []
    for match in NETWORK_TAG.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        problems.append((line, "network load", match.group()[:160]))
    prose = HIDDEN.sub(_blank, text)
    for kind, pattern in (("raw role", RAW_ROLE), ("raw TeX", RAW_TEX)):
        for match in pattern.finditer(prose):
            line = prose.count("\n", 0, match.start()) + 1
            excerpt = prose[max(0, match.start() - 40) : match.end() + 40].replace("\n", " ")
            problems.append((line, kind, excerpt))
    return problems


def check_site(site: Path) -> list[str]:
    """Return one message per problem in every HTML file under ``site``."""
    if not site.is_dir():
        raise FileNotFoundError(f"{site} is not a folder; build the site first (mkdocs build)")
    pages = sorted(site.rglob("*.html"))
    if not pages:
        raise FileNotFoundError(f"no HTML pages under {site}; build the site first")
    messages = []
    for page in pages:
        for line, kind, excerpt in check_page(page.read_text(encoding="utf-8")):
            messages.append(f"{page.relative_to(site)}:{line}: {kind}: {excerpt}")
    return messages


def main(argv: list[str] | None = None) -> int:
    """Run the checks; print the findings; return 1 when there are any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="folder of the built site (mkdocs --site-dir)")
    args = parser.parse_args(argv)
    messages = check_site(args.site)
    for message in messages:
        print(message)
    n_pages = len(list(args.site.rglob("*.html")))
    if messages:
        print(f"{len(messages)} problem(s) in the built site", file=sys.stderr)
        return 1
    print(f"site OK: {n_pages} pages, no raw roles, no raw TeX, no network loads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
