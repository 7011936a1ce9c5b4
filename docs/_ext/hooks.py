"""MkDocs hooks: the site shows files that live outside ``docs/`` (the MILP's formulation sits
beside its code in ``greenopt/formulations/MODEL.md``), and the pages link to them by their
repository paths so that the links also work when the Markdown is read on a fresh clone. Here
each such link is pointed at the file's page on the site instead. The tutorial notebook links
the pages by their ``.md`` names (as they work in Jupyter); MkDocs does not rewrite links inside
a notebook, so they are pointed at the pages' URLs here too.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.greenopt")
ROOT = Path(__file__).resolve().parents[2]

#: repository file → the page that shows it on the site
PAGES = {"greenopt/formulations/MODEL.md": "formulation.md"}
#: the page whose body is the file (the Markdown page itself only points at it, for GitHub)
INCLUDES = {page: source for source, page in PAGES.items()}

LINK = re.compile(r"(\]\()([^)\s#]+)((?:#[^)\s]*)?\))")


def _relink(markdown: str, source: str, page: str) -> str:
    """Rewrite the relative links of ``markdown`` (written at repository path ``source``) for the
    site page ``page``: repository files shown by a page link to that page; others (images,
    docs pages) keep their path, recomputed from the page's place in ``docs/``."""

    def fix(m: re.Match[str]) -> str:
        target = m.group(2)
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
            return m.group(0)
        repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
        repo_path = PAGES.get(repo_path, repo_path)
        if repo_path.startswith("docs/"):
            repo_path = repo_path[len("docs/") :]
        new = posixpath.relpath(repo_path, posixpath.dirname(page) or ".")
        return f"{m.group(1)}{new}{m.group(3)}"

    return LINK.sub(fix, markdown)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    src = page.file.src_uri
    if src in INCLUDES:
        source = INCLUDES[src]
        return _relink((ROOT / source).read_text(encoding="utf-8"), source, src)
    return _relink(markdown, f"docs/{src}", src)


HREF = re.compile(r'href="([^"#:/]+\.md)(#[^"]*)?"')


def on_page_content(html: str, page: Any, files: Any, **kwargs: Any) -> str:
    if not page.file.src_uri.endswith(".ipynb"):
        return html

    def fix(m: re.Match[str]) -> str:
        target = files.get_file_from_path(m.group(1))
        if target is None:  # a warning fails `mkdocs build --strict`
            log.warning("%s links %r, which is not a page of the site", page.file.src_uri, m[1])
            return m.group(0)
        return f'href="{target.url_relative_to(page.file)}{m.group(2) or ""}"'

    return HREF.sub(fix, html)
