"""From a paper's text to the workspace: the extract, the draft spec, the gap audit.

``read_document(path)`` reads a LaTeX source (a ``.tex`` file or a folder), an HTML page
or a PDF's text layer; :func:`~pytest_repro.extract.facts.extract` reads its candidate
facts. The parsing libraries (pylatexenc, pypdf; the ``extract`` extra) are imported only
when a document of their format is read.
"""

from __future__ import annotations

from pathlib import Path

from pytest_repro.extract.model import Document, Extract

__all__ = ["Document", "Extract", "read_document", "read_paper", "sniff"]

_MISSING_EXTRA = "install the extract extra: pip install 'pytest-repro[extract]'"


def sniff(path: Path) -> str | None:
    """``latex``, ``html`` or ``pdf`` from the name, else from the first bytes; None: neither."""
    if path.is_dir():
        return "latex"
    suffix = path.suffix.lower()
    if suffix in (".tex", ".ltx"):
        return "latex"
    if suffix in (".html", ".htm", ".xhtml"):
        return "html"
    if suffix == ".pdf":
        return "pdf"
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    if head.startswith(b"%PDF"):
        return "pdf"
    low = head.lower()
    if b"<html" in low or b"<!doctype html" in low:
        return "html"
    if b"\\documentclass" in head or b"\\begin{document}" in head or b"\\section" in head:
        return "latex"
    return None


def read_document(path: Path) -> Document:
    """The :class:`Document` of ``path``; what could not be read is in its ``problems``."""
    if not path.exists():
        return Document(source=str(path), format="latex", problems=(f"{path} does not exist",))
    kind = sniff(path)
    try:
        if kind == "latex":
            from pytest_repro.extract.latex import read_latex

            return read_latex(path)
        if kind == "html":
            from pytest_repro.extract.html import read_html

            return read_html(path)
        if kind == "pdf":
            from pytest_repro.extract.pdf import read_pdf

            return read_pdf(path)
    except ImportError as exc:
        return Document(
            source=str(path),
            format="latex" if kind is None else kind,  # type: ignore[arg-type]
            problems=(f"{exc.name or 'a parser'} is not installed; {_MISSING_EXTRA}",),
        )
    return Document(
        source=str(path),
        format="latex",
        problems=(
            f"{path} is not a LaTeX source, an HTML page or a PDF; give the paper's .tex "
            "file or folder, its HTML page, or its PDF",
        ),
    )


def read_paper(path: Path) -> Extract:
    """Read ``path`` and every candidate fact in it."""
    from pytest_repro.extract.facts import extract

    return extract(read_document(path))
