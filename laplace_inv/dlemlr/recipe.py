"""Training recipes: the options of ``laplace-inv train`` as a TOML file.

A recipe has a ``[train]`` table whose keys are the long options of ``laplace-inv train``
with underscores (``n_train``, ``time_limit``, ``w_phys``, ...), and may have a
``[provenance]`` table of free-form strings (where an ``init`` file came from, which commit
trained it) that training ignores. Options given on the command line override the recipe.
The recipes of the shipped models live in ``laplace_inv/dlemlr/recipes``.

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser()
>>> _ = p.add_argument("--n-train", type=int, default=8000)
>>> parse_recipe('[train]\\nn_train = 512\\n', "r.toml", p)
{'n_train': 512}
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

#: Folder of the recipes of the shipped models.
RECIPES_DIR = Path(__file__).resolve().parent / "recipes"

#: Options a recipe may not set (they say where a run writes, not what it trains).
NOT_IN_RECIPES = frozenset({"recipe", "out", "overwrite", "help"})

#: Largest recipe file read (bytes).
MAX_RECIPE_BYTES = 1 << 20


def _check_value(key: str, value: Any, action: argparse.Action, where: str) -> Any:
    kind = action.type
    if kind is None and action.const is not None and action.nargs == 0:  # store_true
        kind = bool
    if kind in (int, float):
        ok = isinstance(value, int) if kind is int else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok:
            raise ValueError(f"{where}: [train] {key} must be a {kind.__name__}, got {value!r}")
        value = kind(value)
    elif kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{where}: [train] {key} must be true or false, got {value!r}")
    elif not isinstance(value, str):
        raise ValueError(f"{where}: [train] {key} must be a string, got {value!r}")
    if action.choices is not None and value not in action.choices:
        raise ValueError(
            f"{where}: [train] {key} must be one of {sorted(action.choices)}, got {value!r}"
        )
    return value


def parse_recipe(text: str, where: str, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The ``[train]`` options of a recipe, checked against ``parser``'s options.

    Parameters
    ----------
    text : str
        TOML text.
    where : str
        The recipe's file (for error messages).
    parser : argparse.ArgumentParser
        The training command's parser (known options, types and choices).

    Returns
    -------
    dict
        Option values by ``argparse`` destination.

    Raises
    ------
    ValueError
        Invalid TOML, unknown tables or keys, or values of the wrong type.
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise ImportError("reading a recipe on Python 3.10 needs `pip install tomli`") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{where}: not valid TOML ({exc})") from None
    unknown = set(doc) - {"train", "provenance"}
    if unknown:
        raise ValueError(f"{where}: unknown tables {sorted(unknown)}; use [train], [provenance]")
    table = doc.get("train")
    if not isinstance(table, dict):
        raise ValueError(f"{where}: a recipe needs a [train] table")
    actions = {a.dest: a for a in parser._actions}
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key in NOT_IN_RECIPES or key not in actions:
            raise ValueError(
                f"{where}: unknown [train] option {key!r}; recipes take the options of "
                "`laplace-inv train --help` with underscores, except recipe/out/overwrite"
            )
        out[key] = _check_value(key, value, actions[key], where)
    return out


def read_recipe(path: str | Path, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """Read a recipe file (a bare name is looked up in `RECIPES_DIR` too).

    Parameters
    ----------
    path : str or Path
        The ``.toml`` file.
    parser : argparse.ArgumentParser
        The training command's parser.

    Returns
    -------
    dict
        Option values by ``argparse`` destination (`parse_recipe`).
    """
    from laplace_inv.dlemlr.persistence import read_regular_file

    path = Path(path)
    if not path.exists() and path.name == str(path) and (RECIPES_DIR / path).exists():
        path = RECIPES_DIR / path
    data = read_regular_file(path, MAX_RECIPE_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: a recipe must be UTF-8 text") from None
    return parse_recipe(text, str(path), parser)


def format_recipe(options: dict[str, Any], provenance: dict[str, str] | None = None) -> str:
    """A recipe's TOML text for ``options`` (what a run actually used).

    Parameters
    ----------
    options : dict
        Option values by destination; None values are left out.
    provenance : dict of str, optional
        Free-form notes for the ``[provenance]`` table.

    Returns
    -------
    str
        TOML text that `parse_recipe` reads back.

    Examples
    --------
    >>> print(format_recipe({"n_train": 512, "lr": 0.001, "family": "all"}), end="")
    [train]
    n_train = 512
    lr = 0.001
    family = "all"
    """
    lines = ["[train]"]
    for key, value in options.items():
        if value is None or key in NOT_IN_RECIPES:
            continue
        lines.append(f"{key} = {_toml_value(value)}")
    if provenance:
        lines += ["", "[provenance]"]
        lines += [f"{k} = {_toml_value(str(v))}" for k, v in provenance.items()]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
