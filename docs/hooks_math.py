"""MkDocs hook: typeset maths at build time, as MathML, so the site needs no network.

``pymdownx.arithmatex`` (generic mode) wraps each formula of the Markdown (``$...$``,
``$$...$$``, ``\\(...\\)``, ``\\[...\\]``) in ``<span class="arithmatex">`` or
``<div class="arithmatex">`` and leaves the TeX inside. This hook converts that TeX to MathML
with the pure-Python ``latex2mathml`` package; browsers render MathML natively, so no
JavaScript and no CDN is involved. A formula that does not convert cleanly (an exception, or a
TeX command left over in the output) fails the build with its page and source.
"""

from __future__ import annotations

import html
import re
from typing import Any

from mkdocs.exceptions import PluginError

ARITHMATEX = re.compile(r'<(?P<tag>span|div) class="arithmatex">(?P<tex>.*?)</(?P=tag)>', re.DOTALL)
DELIMITERS = {r"\(": r"\)", r"\[": r"\]", "$$": "$$", "$": "$"}
LEFTOVER_COMMAND = re.compile(r"\\[A-Za-z]+")


def strip_delimiters(tex: str) -> str:
    """Return the formula inside its ``\\(``/``\\[``/``$`` delimiters."""
    tex = tex.strip()
    for opening, closing in DELIMITERS.items():
        if tex.startswith(opening) and tex.endswith(closing) and len(tex) >= 2 * len(opening):
            return tex[len(opening) : len(tex) - len(closing)].strip()
    return tex


def tex_to_mathml(tex: str, display: bool) -> str:
    """Convert one TeX formula to a ``<math>`` element.

    Raises
    ------
    ValueError
        When latex2mathml fails or leaves a TeX command in the text of the result (an
        unsupported command, such as ``\\arg``).
    """
    from latex2mathml.converter import convert

    try:
        mathml = convert(tex, display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises several kinds
        raise ValueError(f"latex2mathml cannot convert {tex!r}: {exc}") from exc
    text = html.unescape(re.sub(r"<[^>]+>", "", mathml))
    leftover = LEFTOVER_COMMAND.search(text)
    if leftover:
        raise ValueError(f"unsupported TeX command {leftover.group()} in {tex!r}")
    return mathml


def render_maths(text: str) -> str:
    """Replace every arithmatex element of an HTML page with its MathML."""

    def replace(match: re.Match[str]) -> str:
        display = match["tag"] == "div"
        mathml = tex_to_mathml(strip_delimiters(html.unescape(match["tex"])), display)
        if display:
            return f'<div class="arithmatex">{mathml}</div>'
        return f'<span class="arithmatex">{mathml}</span>'

    return ARITHMATEX.sub(replace, text)


def on_page_content(html_text: str, page: Any, **kwargs: Any) -> str:
    """Typeset the page's maths; fail the build on a formula that does not convert."""
    try:
        return render_maths(html_text)
    except ValueError as exc:
        raise PluginError(f"{page.file.src_uri}: {exc}") from exc
