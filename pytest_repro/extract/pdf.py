"""A PDF's text layer → a Document, through pypdf.

The text is taken in pypdf's layout mode, which keeps the horizontal gaps between a
table's columns: a caption line (``Table 2: ...``) followed by lines that split into
two or more cells at runs of spaces is read as a table, a repeated header row (a table
continued on the next page) is dropped. Numbered lines (``4.1 Setup``, ``A Hyperparameters``)
open sections; the first lines of page one are the title and the authors. A scanned
PDF has no text layer, and an encrypted one cannot be read without its password: both
are said in the document's problems.
"""

from __future__ import annotations

import re
from pathlib import Path

from pytest_repro.extract.model import Document, Section, Table

MAX_PAGES = 200
_HEADING = re.compile(
    r"^(?P<number>\d{1,2}(?:\.\d{1,2}){0,2}|[A-H](?:\.\d{1,2}){0,2})\.?\s{1,4}"
    r"(?P<title>[A-Z][A-Za-z][\w ,:&()'/-]{0,70})$"
)
_NAMED = re.compile(r"^(?P<title>Abstract|References|Acknowledg(?:e)?ments|Appendix)$", re.I)
_CAPTION = re.compile(r"^Table\s+(?P<number>[A-Z]?\d{1,3}(?:\.\d+)?)\s*[:.]\s*(?P<caption>.*)$")
_CELLS = re.compile(r"\s{2,}")


def read_pdf(path: Path) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    source = str(path)
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (NotImplementedError, PdfReadError, ValueError) as exc:
                return _failed(source, f"is encrypted and could not be opened ({exc})")
            if not opened:
                return _failed(
                    source,
                    "is encrypted with a password; save a copy without the password "
                    "(or give the LaTeX source or the HTML page)",
                )
        pages = list(reader.pages)
    except (PdfReadError, OSError, ValueError, KeyError, TypeError) as exc:
        return _failed(source, f"is not a readable PDF ({type(exc).__name__}: {exc})")
    problems: list[str] = []
    if len(pages) > MAX_PAGES:
        problems.append(f"only the first {MAX_PAGES} of {len(pages)} pages were read")
    texts: list[str] = []
    for number, page in enumerate(pages[:MAX_PAGES], start=1):
        try:
            texts.append(page.extract_text(extraction_mode="layout"))
        except Exception as exc:  # pypdf raises many kinds on a damaged page
            problems.append(f"page {number} could not be read ({type(exc).__name__})")
    text = "\n".join(texts)
    if not text.strip():
        return _failed(
            source,
            "has no text layer (a scan?); run OCR on it first, or give the LaTeX source "
            "or the HTML page",
            problems,
        )
    return parse_pdf_text(text, source=source, problems=problems)


def _failed(source: str, why: str, problems: list[str] | None = None) -> Document:
    return Document(source=source, format="pdf", problems=(*(problems or []), f"{source} {why}"))


def parse_pdf_text(
    text: str, *, source: str = "<pdf>", problems: list[str] | None = None
) -> Document:
    """Read the layout-mode text of a PDF into a :class:`Document`."""
    lines = [line.rstrip() for line in text.splitlines()]
    reader = _Lines()
    reader.front(lines)
    reader.body(lines)
    problems = list(problems or [])
    if not reader.sections and not reader.tables:
        problems.append("no numbered section and no table was found: is this a paper?")
    return Document(
        source=source,
        format="pdf",
        title=reader.title,
        authors=tuple(reader.authors),
        sections=tuple(reader.sections),
        tables=tuple(reader.tables),
        problems=tuple(problems),
    )


def _join(lines: list[str]) -> str:
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if out.endswith("-") and line[:1].islower() and not out.endswith(" -"):
            out = out[:-1] + line
        else:
            out = f"{out} {line}" if out else line
    return " ".join(out.split())


class _Lines:
    def __init__(self) -> None:
        self.title = ""
        self.authors: list[str] = []
        self.sections: list[Section] = []
        self.tables: list[Table] = []
        self.start = 0

    def front(self, lines: list[str]) -> None:
        """Title and authors: the first lines before the abstract or the first heading."""
        head: list[str] = []
        for i, line in enumerate(lines[:40]):
            stripped = line.strip()
            if _NAMED.match(stripped) or _HEADING.match(stripped):
                self.start = i
                break
            if stripped:
                head.append(stripped)
        else:
            self.start = 0
            return
        if head:
            self.title = head[0]
            names = " , ".join(head[1:4])
            parts = re.split(r"\s*,\s*|\s+and\s+", names)
            self.authors = [p for p in (" ".join(x.split()) for x in parts) if 2 < len(p) < 60]

    def body(self, lines: list[str]) -> None:
        current = ("", "")
        buffer: list[str] = []

        def flush() -> None:
            text = _join(buffer)
            if text or current[0] or current[1]:
                self.sections.append(Section(number=current[0], title=current[1], text=text))
            buffer.clear()

        i = self.start
        while i < len(lines):
            stripped = lines[i].strip()
            caption = _CAPTION.match(stripped)
            if caption:
                i = self.table(
                    lines, i, caption, Section(number=current[0], title=current[1], text="").ref
                )
                continue
            named = _NAMED.match(stripped)
            heading = _HEADING.match(stripped)
            if named or (heading and not stripped.endswith(".") and len(stripped) < 80):
                flush()
                if named:
                    current = ("", named.group("title"))
                elif heading:
                    current = (heading.group("number"), heading.group("title").strip())
            else:
                buffer.append(lines[i])
            i += 1
        flush()

    def table(self, lines: list[str], i: int, caption: re.Match[str], section: str) -> int:
        """Read the table whose caption is line ``i``; return the line after it."""
        text = [caption.group("caption")]
        i += 1
        while i < len(lines) and lines[i].strip() and len(_CELLS.split(lines[i].strip())) < 2:
            if _HEADING.match(lines[i].strip()):
                break
            text.append(lines[i])  # the caption goes on
            i += 1
        rows: list[tuple[str, ...]] = []
        while i < len(lines):
            stripped = lines[i].strip()
            if not stripped:
                if i + 1 < len(lines) and len(_CELLS.split(lines[i + 1].strip())) >= 2 and rows:
                    i += 1
                    continue
                break
            cells = tuple(_CELLS.split(stripped))
            if len(cells) < 2 or _CAPTION.match(stripped):
                break
            if not (rows and cells == rows[0]):
                rows.append(cells)
            i += 1
        if rows:
            self.tables.append(
                Table(
                    number=caption.group("number"),
                    caption=_join(text),
                    section=section,
                    header=tuple(rows[:1]) if len(rows) > 1 else (),
                    rows=tuple(rows[1:]) if len(rows) > 1 else tuple(rows),
                )
            )
        return i
