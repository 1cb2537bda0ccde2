"""Printing and saving a benchmark's Markdown output, shared by the benchmark scripts."""

from __future__ import annotations

from pathlib import Path


def emit_table(lines: list[str], markdown: str | Path | None) -> None:
    """Print the Markdown ``lines`` and, if ``markdown`` is a path, write them there too.

    The folder of ``markdown`` is created when missing; the file ends with a newline.
    """
    table = "\n".join(lines)
    print()
    print(table)
    if markdown:
        path = Path(markdown)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(table + "\n")
