"""Griffe extension for the docs site: greenopt's docstrings cite code with Sphinx roles
(``:class:`~greenopt.result.Plan```, ``:func:`solar_kw```); this turns each into a link to the
object's API entry when the site documents it, and into plain code when it does not (an
*optional* autorefs reference: no warning, so ``mkdocs build --strict`` stays meaningful for the
references written by hand in the pages).
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|mod|data|meth|attr|exc|obj|const):`(~?)([^`]+)`")


def _target(obj: griffe.Object, name: str) -> str:
    """The full path of ``name`` as seen from ``obj`` (``Plan.unit``, ``solar_kw``, full paths)."""
    name = name.strip().lstrip(".")
    if name.startswith("greenopt."):
        return name
    head, _, rest = name.partition(".")
    scope: Any = obj
    while scope is not None:
        try:
            path = scope.resolve(head)
        except (griffe.NameResolutionError, AttributeError, KeyError, ValueError):
            scope = scope.parent
            continue
        return f"{path}.{rest}" if rest else path
    return name


def _rewrite(obj: griffe.Object, text: str) -> str:
    def link(m: re.Match[str]) -> str:
        tilde, name = m.groups()
        title = name.split(".")[-1] if tilde else name
        identifier = html.escape(_target(obj, name), quote=True)
        code = f"<code>{html.escape(title)}</code>"
        return f'<autoref identifier="{identifier}" optional>{code}</autoref>'

    return ROLE.sub(link, text)


class SphinxRoles(griffe.Extension):
    """Rewrite the roles of every docstring once the package is loaded (names then resolve)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        stack: list[griffe.Object] = [pkg]
        seen: set[str] = set()
        while stack:
            obj = stack.pop()
            if obj.path in seen:
                continue
            seen.add(obj.path)
            if obj.docstring is not None:
                obj.docstring.value = _rewrite(obj, obj.docstring.value)
            stack.extend(m for m in obj.members.values() if not m.is_alias)
