"""An HTML page of a paper (arXiv's LaTeXML style, or plain HTML) → a Document.

Read with the standard library's :mod:`html.parser`: headings (``h1``–``h6``) open
sections (``4.1 Setup``, ``Appendix A``), ``<table>`` elements are read row by row and
cell by cell (``colspan`` repeated across its columns; ``<thead>`` or leading rows of
``<th>`` cells as the header), a table's caption comes from ``<caption>`` or its
``<figure>``'s ``<figcaption>``, and math is read from its ``alttext`` (LaTeXML's
MathML carries the LaTeX it came from there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from pytest_repro.extract.model import Document, Section, Table

MAX_CHARS = 8_000_000
_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "nav", "button"})
_BLOCKS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "section", "article", "blockquote", "dd", "dt"}
)
_HEADING = re.compile(
    r"^(?:Appendix\s+)?(?P<number>[A-Z]|\d+)(?P<rest>(?:\.\d+)*)\.?\s+(?P<title>\S.*)$"
)
_MATH_WORDS = {
    r"\times": "×",
    r"\cdot": "·",
    r"\pm": "±",
    r"\beta": "β",
    r"\eta": "η",
    r"\lambda": "λ",
    r"\alpha": "α",
    r"\gamma": "γ",
    r"\%": "%",
    r"\,": " ",
}


def latex_math_text(alttext: str) -> str:
    """LaTeX math as plain text: ``5\\times 10^{-4}`` → ``5×10^-4``."""
    text = alttext
    for word, char in _MATH_WORDS.items():
        text = text.replace(word, char)
    text = re.sub(r"\\(?:mathbf|mathrm|textbf|text|mathit|bm|boldsymbol)\s*", "", text)
    text = re.sub(r"([_^])\{([^{}]*)\}", r"\1\2", text)
    text = text.replace("{", "").replace("}", "")
    return re.sub(r"\\([A-Za-z]+)", r"\1", text)


def _first_last(name: str) -> str:
    """``Quill, Ada`` (the citation_author form) → ``Ada Quill``."""
    parts = [p.strip() for p in name.split(",")]
    if len(parts) == 2 and all(parts):
        return " ".join(f"{parts[1]} {parts[0]}".split())
    return " ".join(name.split())


@dataclass
class _Cell:
    text: list[str] = field(default_factory=list)
    span: int = 1
    header: bool = False


@dataclass
class _Table:
    rows: list[list[_Cell]] = field(default_factory=list)
    head_rows: int = 0
    in_head: bool = False
    caption: str = ""
    section: str = ""


def read_html(path: Path) -> Document:
    try:
        data = path.read_bytes()[:MAX_CHARS]
    except OSError as exc:
        return Document(
            source=str(path),
            format="html",
            problems=(f"{path} could not be read ({exc.strerror or exc})",),
        )
    return parse_html(data.decode("utf-8", errors="replace"), source=str(path))


def parse_html(text: str, *, source: str = "<html>") -> Document:
    """Read an HTML page into a :class:`Document`."""
    parser = _Parser()
    try:
        parser.feed(text)
        parser.close()
    except (AssertionError, ValueError, RecursionError) as exc:  # html.parser is lenient
        parser.problems.append(f"the HTML could not be read to its end ({type(exc).__name__})")
    parser.flush()
    problems = list(parser.problems)
    if not parser.sections and not parser.tables:
        problems.append("no heading, paragraph or table was found: is this a paper's HTML page?")
    title = parser.meta_title or parser.title
    return Document(
        source=source,
        format="html",
        title=" ".join(title.split()),
        authors=tuple(parser.meta_authors or parser.authors),
        sections=tuple(parser.sections),
        tables=tuple(parser.tables),
        problems=tuple(problems),
    )


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.title = ""
        self.meta_title = ""
        self.meta_authors: list[str] = []
        self.authors: list[str] = []
        self.sections: list[Section] = []
        self.tables: list[Table] = []
        self.skip = 0
        self.math = 0
        self.heading: list[str] | None = None
        self.heading_level = 0
        self.heading_is_title = False
        self.author: list[str] | None = None
        self.author_depth = 0
        self.caption: list[str] | None = None
        self.figure_captions: list[str] = []
        self.figure_tables: list[list[_Table]] = []
        self.stack: list[_Table] = []
        self.cell: _Cell | None = None
        self.current = ("", "")
        self.buffer: list[str] = []
        self.count = 0
        self.in_title_tag = False
        self.title_tag: list[str] = []
        self.depth = 0

    # -- text sinks ---------------------------------------------------------------------
    def sink(self, text: str) -> None:
        if self.in_title_tag:
            self.title_tag.append(text)
        elif self.author is not None:
            self.author.append(text)
        elif self.caption is not None:
            self.caption.append(text)
        elif self.heading is not None:
            self.heading.append(text)
        elif self.cell is not None:
            self.cell.text.append(text)
        elif self.stack:
            return  # text between cells
        else:
            self.buffer.append(text)

    def handle_data(self, data: str) -> None:
        if self.skip or self.math:
            return
        self.sink(data)

    # -- tags ---------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: (v or "") for k, v in attrs}
        classes = attr.get("class", "").split()
        if self.skip:
            if tag in _SKIP:
                self.skip += 1
            return
        if tag in _SKIP:
            self.skip = 1
            return
        if tag == "math":
            if not self.math:
                alt = attr.get("alttext", "")
                if alt:
                    self.sink(" " + latex_math_text(alt) + " ")
            self.math += 1
            return
        if self.math:
            return
        if tag == "meta":
            name = attr.get("name", "").lower()
            if name == "citation_title" and attr.get("content"):
                self.meta_title = attr["content"]
            elif name == "citation_author" and attr.get("content"):
                self.meta_authors.append(_first_last(attr["content"]))
            return
        if tag == "title":
            self.in_title_tag = True
            return
        if "ltx_personname" in classes or "author" in classes:
            self.author = []
            self.author_depth = 1
            return
        if self.author is not None:
            self.author_depth += 1
            if tag == "br":
                self.author.append("\n")
            return
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6") and not self.stack:
            self.heading = []
            self.heading_level = int(tag[1])
            self.heading_is_title = "ltx_title_document" in classes or (
                tag == "h1" and not self.title and not self.sections
            )
            return
        if tag == "figure":
            self.figure_captions.append("")
            self.figure_tables.append([])
            return
        if tag in ("figcaption", "caption"):
            self.caption = []
            return
        if tag == "table":
            self.stack.append(_Table(section=self.ref()))
            return
        if self.stack:
            table = self.stack[-1]
            if tag == "thead":
                table.in_head = True
            elif tag == "tr":
                table.rows.append([])
                if table.in_head:
                    table.head_rows = len(table.rows)
            elif tag in ("td", "th"):
                try:
                    span = max(1, min(50, int(attr.get("colspan", "1") or "1")))
                except ValueError:
                    span = 1
                if not table.rows:
                    table.rows.append([])
                self.cell = _Cell(span=span, header=tag == "th")
                table.rows[-1].append(self.cell)
            elif tag == "br" and self.cell is not None:
                self.cell.text.append(" ")
            return
        if tag in _BLOCKS:
            self.sink(" ")

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            if tag in _SKIP:
                self.skip -= 1
            return
        if tag == "math":
            self.math = max(0, self.math - 1)
            return
        if self.math:
            return
        if tag == "title":
            self.in_title_tag = False
            if not self.title:
                self.title = "".join(self.title_tag)
            return
        if self.author is not None:
            self.author_depth -= 1
            if self.author_depth <= 0:
                name = " ".join("".join(self.author).split())
                if name and len(name) < 80 and name not in self.authors:
                    self.authors.append(name)
                self.author = None
            return
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6") and self.heading is not None:
            text = " ".join("".join(self.heading).split())
            self.heading = None
            if self.heading_is_title:
                self.title = text
            elif text:
                self.start_section(text)
            return
        if tag in ("figcaption", "caption") and self.caption is not None:
            text = " ".join("".join(self.caption).split())
            self.caption = None
            if tag == "caption" and self.stack:
                self.stack[-1].caption = text
            elif self.figure_captions:
                self.figure_captions[-1] = text
            return
        if tag == "table" and self.stack:
            self.cell = None
            table = self.stack.pop()
            if self.figure_tables:
                self.figure_tables[-1].append(table)
            else:
                self.finish(table, table.caption)
            return
        if tag == "figure" and self.figure_captions:
            caption = self.figure_captions.pop()
            for table in self.figure_tables.pop():
                self.finish(table, table.caption or caption)
            return
        if self.stack:
            if tag in ("td", "th"):
                self.cell = None
            elif tag == "thead":
                self.stack[-1].in_head = False
            return
        if tag in _BLOCKS:
            self.sink(" ")

    # -- sections and tables --------------------------------------------------------------
    def ref(self) -> str:
        return Section(number=self.current[0], title=self.current[1], text="").ref

    def flush(self) -> None:
        body = " ".join("".join(self.buffer).split())
        number, title = self.current
        if body or number or title:
            self.sections.append(Section(number=number, title=title, text=body))
        self.buffer = []

    def start_section(self, text: str) -> None:
        self.flush()
        match = _HEADING.match(text)
        if match and (
            match.group("number").isdigit()
            or text.startswith("Appendix")
            or match.group("rest")
            or len(match.group("number")) == 1
        ):
            self.current = (match.group("number") + match.group("rest"), match.group("title"))
        else:
            self.current = ("", text)

    def finish(self, table: _Table, caption: str) -> None:
        rows = []
        header_flags = []
        for row in table.rows:
            cells: list[str] = []
            for cell in row:
                text = " ".join("".join(cell.text).split())
                cells.extend([text] * cell.span)
            if any(cells):
                rows.append(tuple(cells))
                header_flags.append(all(c.header for c in row) and bool(row))
        if not rows:
            return
        split = table.head_rows
        if not split:
            while split < len(header_flags) - 1 and header_flags[split]:
                split += 1
            split = split or (1 if len(rows) > 1 else 0)
        self.count += 1
        number = str(self.count)
        match = re.match(r"^Table\s+([A-Z]?\d+(?:\.\d+)?)\s*[:.]?\s*", caption)
        if match:
            number, caption = match.group(1), caption[match.end() :]
        self.tables.append(
            Table(
                number=number,
                caption=caption,
                section=table.section,
                header=tuple(rows[:split]),
                rows=tuple(rows[split:]),
            )
        )
