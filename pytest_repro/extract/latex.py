"""LaTeX source → :class:`~pytest_repro.extract.model.Document`, through pylatexenc.

A folder is read from its main file (the one with ``\\begin{document}``), with
``\\input``/``\\include`` files of the same folder put in place. Zero-argument
``\\newcommand``s are expanded; other macros the parser does not know keep their
arguments' text and drop the macro, and the document's problems say which were met.
Tables are read from ``tabular`` environments cell by cell (``&``, ``\\\\``,
``\\multicolumn``), never from their text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pytest_repro.extract.model import Document, Section, Table

#: The most characters read from one source; a bigger file is read up to here.
MAX_CHARS = 4_000_000
_INPUT = re.compile(r"\\(?:input|include)\s*\{([^{}]+)\}")
_NEWCOMMAND = re.compile(
    r"\\(?:re)?newcommand\*?\s*\{?\\([A-Za-z]+)\}?\s*\{((?:[^{}]|\{[^{}]*\})*)\}"
)
_DEF = re.compile(r"\\def\\([A-Za-z]+)\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_RULES = re.compile(
    r"\\(?:cmidrule|cline)\s*(?:\([^)]*\))?\s*(?:\{[^{}]*\})?|\\addlinespace(?:\[[^\]]*\])?"
)
_COMMENT = re.compile(r"(?<!\\)%.*")
_SECTIONS = {"section": 1, "subsection": 2, "subsubsection": 3}
_TABULARS = ("tabular", "tabular*", "tabularx", "longtable", "tabulary")
_SKIP_ENVS = ("figure", "figure*", "thebibliography", "comment", "tikzpicture")
_RULE_MACROS = ("toprule", "midrule", "bottomrule", "hline", "specialrule")


def read_latex(path: Path) -> Document:
    """Read a ``.tex`` file, or the main file of a folder of them."""
    problems: list[str] = []
    if path.is_dir():
        main = _main_file(path)
        if main is None:
            return Document(
                source=str(path),
                format="latex",
                problems=(f"{path} holds no .tex file with \\begin{{document}}",),
            )
        root = path
    else:
        main, root = path, path.parent
    text = _read(main, problems)
    text = _inline_inputs(text, root, problems)
    return parse_latex(text, source=str(path), problems=problems)


def _main_file(folder: Path) -> Path | None:
    candidates = sorted(folder.glob("*.tex"))
    for file in candidates:
        try:
            head = file.read_text(encoding="utf-8", errors="replace")[:MAX_CHARS]
        except OSError:
            continue
        if "\\begin{document}" in head:
            return file
    return candidates[0] if len(candidates) == 1 else None


def _read(file: Path, problems: list[str]) -> str:
    try:
        data = file.read_bytes()[:MAX_CHARS]
    except OSError as exc:
        problems.append(f"{file} could not be read ({exc.strerror or exc})")
        return ""
    text = data.decode("utf-8", errors="replace")
    if "\ufffd" in text:
        problems.append(f"{file} is not all UTF-8; unreadable bytes were replaced")
    return text


def _inline_inputs(text: str, root: Path, problems: list[str], depth: int = 0) -> str:
    if depth > 5:
        return text

    def put(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        file = (root / name).resolve()
        if file.suffix != ".tex":
            file = file.with_name(file.name + ".tex")
        if not file.is_relative_to(root.resolve()) or not file.is_file():
            problems.append(f"\\input{{{name}}} was not found beside the main file; skipped")
            return ""
        return _inline_inputs(_read(file, problems), root, problems, depth + 1)

    return _INPUT.sub(put, _COMMENT.sub("", text))


def _expand_simple_macros(text: str) -> str:
    """Put the body of each argument-free ``\\newcommand``/``\\def`` where it is used."""
    definitions: dict[str, str] = {}
    for pattern in (_NEWCOMMAND, _DEF):
        for match in pattern.finditer(text):
            name, body = match.group(1), match.group(2)
            if "#" not in body and len(body) < 200:
                definitions.setdefault(name, body)
        text = pattern.sub("", text)
    if not definitions:
        return text
    use = re.compile(r"\\(" + "|".join(map(re.escape, definitions)) + r")(?![A-Za-z])\s?")
    for _ in range(3):  # definitions that use others, a few levels deep
        text = use.sub(lambda m: definitions[m.group(1)], text)
    return text


def parse_latex(
    text: str, *, source: str = "<text>", problems: list[str] | None = None
) -> Document:
    """Read LaTeX ``text`` (one whole document) into a :class:`Document`."""
    from pylatexenc.latex2text import LatexNodes2Text
    from pylatexenc.latexwalker import LatexWalker, LatexWalkerError

    problems = list(problems or [])
    text = _expand_simple_macros(_RULES.sub("", _COMMENT.sub("", text)))
    walker = LatexWalker(text, latex_context=_context(), tolerant_parsing=True)
    try:
        nodes, _, _ = walker.get_latex_nodes()
    except (LatexWalkerError, RecursionError, IndexError, ValueError) as exc:
        return Document(
            source=source,
            format="latex",
            problems=(*problems, f"the LaTeX could not be parsed ({type(exc).__name__})"),
        )
    reader = _Reader(LatexNodes2Text(math_mode="text", strict_latex_spaces=False))
    reader.walk(nodes)
    reader.flush()
    unknown = sorted(reader.unknown - _KNOWN_QUIET)
    if unknown:
        shown = ", ".join("\\" + name for name in unknown[:8])
        more = f" and {len(unknown) - 8} more" if len(unknown) > 8 else ""
        problems.append(
            f"{len(unknown)} macro{'s are' if len(unknown) > 1 else ' is'} defined nowhere the "
            f"reader knows ({shown}{more}): "
            "their arguments were kept as text, the macros themselves dropped"
        )
    if not reader.sections and not reader.tables:
        problems.append("no section and no table was found: is this the paper's LaTeX source?")
    return Document(
        source=source,
        format="latex",
        title=reader.title,
        authors=tuple(reader.authors),
        sections=tuple(reader.sections),
        tables=tuple(reader.tables),
        problems=tuple(problems),
    )


def _context() -> Any:
    from pylatexenc.latexwalker import get_default_latex_context_db
    from pylatexenc.macrospec import MacroSpec

    db = get_default_latex_context_db()
    db.add_context_category(
        "pytest-repro",
        prepend=True,
        macros=[
            MacroSpec("multicolumn", "{{{"),
            MacroSpec("multirow", "{[{{"),
            MacroSpec("caption", "[{"),
            MacroSpec("label", "{"),
            MacroSpec("title", "[{"),
            MacroSpec("author", "[{"),
            MacroSpec("thanks", "{"),
            MacroSpec("footnote", "[{"),
            MacroSpec("specialrule", "{{{"),
            MacroSpec("appendix", ""),
        ],
    )
    return db


#: Macros whose text is no part of the paper's prose.
_SILENT = frozenset(
    {"label", "cite", "citep", "citet", "ref", "eqref", "thanks", "footnote", "maketitle"}
    | {"date", "today", "bibliography", "bibliographystyle", "tableofcontents", "usepackage"}
    | {"documentclass", "vspace", "hspace", "newpage", "clearpage"}
)
#: Macros that are everywhere and carry no text; not reported as unknown.
_KNOWN_QUIET = frozenset(
    {
        "documentclass",
        "usepackage",
        "maketitle",
        "appendix",
        "centering",
        "small",
        "footnotesize",
        "scriptsize",
        "toprule",
        "midrule",
        "bottomrule",
        "hline",
        "resizebox",
        "vspace",
        "hspace",
        "bibliography",
        "bibliographystyle",
        "noindent",
        "newpage",
        "clearpage",
        "setlength",
        "renewcommand",
        "newcommand",
        "and",
        "label",
        "caption",
        "multicolumn",
        "multirow",
        "begin",
        "end",
        "item",
        "newline",
        "tableofcontents",
        "pagebreak",
        "linewidth",
        "textwidth",
        "columnwidth",
    }
)


class _Reader:
    """Walks the nodes once: sections, their prose, tables, title and authors."""

    def __init__(self, to_text: Any) -> None:
        self.to_text = to_text
        self.title = ""
        self.authors: list[str] = []
        self.sections: list[Section] = []
        self.tables: list[Table] = []
        self.unknown: set[str] = set()
        self.counters = [0, 0, 0]
        self.appendix = False
        self.current: tuple[str, str] = ("", "")
        self.buffer: list[str] = []
        self.table_count = 0
        self.known_cache: dict[str, bool] = {}

    def text(self, nodes: Any) -> str:
        try:
            out = str(self.to_text.nodelist_to_text(list(nodes)))
        except (RecursionError, IndexError, ValueError, KeyError, TypeError, AttributeError):
            out = ""
        return " ".join(out.replace("\xa0", " ").split())

    def flush(self) -> None:
        body = " ".join("".join(self.buffer).split())
        number, title = self.current
        if body or number or title:
            self.sections.append(Section(number=number, title=title, text=body))
        self.buffer = []

    def section_ref(self) -> str:
        number, title = self.current
        return Section(number=number, title=title, text="").ref

    def start_section(self, level: int, title: str, numbered: bool) -> None:
        self.flush()
        number = ""
        if numbered:
            self.counters[level - 1] += 1
            for i in range(level, 3):
                self.counters[i] = 0
            head = self.counters[0]
            first = chr(ord("A") + head - 1) if self.appendix and 0 < head <= 26 else str(head)
            number = ".".join([first, *(str(c) for c in self.counters[1:level])])
        self.current = (number, title)

    def walk(self, nodes: Any) -> None:
        from pylatexenc.latexwalker import (
            LatexEnvironmentNode,
            LatexGroupNode,
            LatexMacroNode,
        )

        for node in nodes or ():
            if isinstance(node, LatexMacroNode):
                self.macro(node)
            elif isinstance(node, LatexEnvironmentNode):
                self.environment(node)
            elif isinstance(node, LatexGroupNode):
                self.walk(node.nodelist)
            else:
                self.buffer.append(self.text([node]))
                self.buffer.append(" ")

    def args(self, node: Any) -> list[Any]:
        parsed = getattr(node, "nodeargd", None)
        return [a for a in (getattr(parsed, "argnlist", None) or []) if a is not None]

    def macro(self, node: Any) -> None:
        name = node.macroname
        args = self.args(node)
        if name in _SECTIONS or name.rstrip("*") in _SECTIONS:
            level = _SECTIONS[name.rstrip("*")]
            starred = name.endswith("*") or any(getattr(a, "chars", "") == "*" for a in args)
            title = self.text([args[-1]]) if args else ""
            self.start_section(level, title, numbered=not starred)
            return
        if name == "appendix":
            self.appendix = True
            self.counters = [0, 0, 0]
            return
        if name == "title" and args:
            self.title = self.text([args[-1]])
            return
        if name == "author" and args:
            self.authors = _authors(args[-1], self)
            return
        if name in _SILENT:
            return
        if not self.known(name):
            self.unknown.add(name)
        self.buffer.append(self.text([node]))
        self.buffer.append(" ")

    def known(self, name: str) -> bool:
        if name in _KNOWN_QUIET or not name.isalpha():
            return True
        if name not in self.known_cache:
            from pylatexenc import latex2text, latexwalker

            self.known_cache[name] = any(
                db.get_macro_spec(name) is not None
                for db in (
                    latex2text.get_default_latex_context_db(),
                    latexwalker.get_default_latex_context_db(),
                )
            )
        return self.known_cache[name]

    def environment(self, node: Any) -> None:
        name = node.environmentname
        if name in ("table", "table*"):
            self.table(node)
            return
        if name in _TABULARS:
            self.tables.append(self.tabular(node, caption="", number=""))
            return
        if name == "abstract":
            self.flush()
            saved = self.current
            self.current = ("", "Abstract")
            self.walk(node.nodelist)
            self.flush()
            self.current = saved
            return
        if name in _SKIP_ENVS:
            return
        self.walk(node.nodelist)

    def table(self, node: Any) -> None:
        from pylatexenc.latexwalker import LatexEnvironmentNode, LatexMacroNode

        caption = ""
        tabulars: list[Any] = []

        def find(nodes: Any) -> None:
            nonlocal caption
            for child in nodes or ():
                if isinstance(child, LatexMacroNode) and child.macroname == "caption":
                    args = self.args(child)
                    caption = self.text([args[-1]]) if args else caption
                elif isinstance(child, LatexEnvironmentNode) and child.environmentname in _TABULARS:
                    tabulars.append(child)
                else:
                    find(getattr(child, "nodelist", None))
                    for arg in self.args(child):
                        find(getattr(arg, "nodelist", None))

        find(node.nodelist)
        if not tabulars:
            return
        self.table_count += 1
        number = str(self.table_count)
        for tabular in tabulars:
            self.tables.append(self.tabular(tabular, caption=caption, number=number))

    def tabular(self, node: Any, *, caption: str, number: str) -> Table:
        from pylatexenc.latexwalker import LatexMacroNode, LatexSpecialsNode

        rows: list[list[str]] = []
        cells: list[str] = []
        current: list[Any] = []
        spans: list[int] = []
        rule_after: list[int] = []  # row counts at which a rule was drawn

        def end_cell() -> None:
            text = self.text(current)
            span = spans[-1] if spans else 1
            cells.append(text)
            cells.extend([text] * (span - 1))
            current.clear()
            spans.clear()

        def end_row() -> None:
            end_cell()
            if any(c for c in cells):
                rows.append(list(cells))
            cells.clear()

        for child in node.nodelist or ():
            if isinstance(child, LatexSpecialsNode) and child.specials_chars == "&":
                end_cell()
            elif isinstance(child, LatexMacroNode) and child.macroname == "\\":
                end_row()
            elif isinstance(child, LatexMacroNode) and child.macroname in _RULE_MACROS:
                rule_after.append(len(rows))
            elif isinstance(child, LatexMacroNode) and child.macroname == "multicolumn":
                args = self.args(child)
                try:
                    spans.append(max(1, min(50, int(self.text([args[0]])))))
                except (ValueError, IndexError):
                    spans.append(1)
                if args:
                    current.append(args[-1])
            elif isinstance(child, LatexMacroNode) and child.macroname == "multirow":
                args = self.args(child)
                if args:
                    current.append(args[-1])
            else:
                current.append(child)
        end_row()
        split = next((r for r in rule_after if 0 < r < len(rows)), 1 if len(rows) > 1 else 0)
        header = tuple(tuple(r) for r in rows[:split])
        body = tuple(tuple(r) for r in rows[split:])
        return Table(
            number=number, caption=caption, section=self.section_ref(), header=header, rows=body
        )


def _authors(node: Any, reader: _Reader) -> list[str]:
    from pylatexenc.latexwalker import LatexMacroNode

    names: list[list[Any]] = [[]]
    for child in getattr(node, "nodelist", None) or ():
        if isinstance(child, LatexMacroNode) and child.macroname in ("and", "AND", "\\"):
            names.append([])
        elif isinstance(child, LatexMacroNode) and child.macroname in ("thanks", "footnote"):
            continue
        else:
            names[-1].append(child)
    out: list[str] = []
    for parts in names:
        name = reader.text(parts).strip(" ,")
        if name and len(name) < 80:
            out.extend(n.strip() for n in name.split(",") if n.strip())
    return out
