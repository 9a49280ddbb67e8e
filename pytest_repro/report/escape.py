"""Making text from a spec or a run inert where a report shows it.

Claim ids and texts, sources, metrics, hypotheses, paper titles, notes, errors, config
values and run ids come from files anyone can edit, so every report treats them as
hostile: a claim text must not break a Markdown table, open an HTML tag, move the
terminal cursor or forge a GitHub workflow command. One function per output:

- Markdown: :func:`md_text` for inline text and table cells, :func:`md_line` for text
  that starts a line, :func:`md_heading`, :func:`md_code` (a code span),
  :func:`md_fence` (a fenced block), :func:`anchor` (the fragment of a claim's id).
- Terminal: :func:`plain` shows control characters as escapes; :func:`terminal_line`
  also keeps a line from being read as a GitHub workflow command.
- GitHub workflow commands: :func:`workflow_property` and :func:`workflow_message`.
- HTML: :func:`html_text` (text and attribute values alike).
- Files: :func:`utf8_text`, which every writer applies last.

Every function is total: any ``str`` (lone surrogates such as ``os.fsdecode(b"\\xff")``
gives, NUL, control characters) yields text that encodes as UTF-8. A lone surrogate is
shown as its escape, ``\\udcff``, in every output.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote


def utf8_text(text: object) -> str:
    """``text`` with each lone surrogate (which UTF-8 cannot encode) as its escape
    ``\\udcff``; everything else as it is.

    >>> utf8_text("train-\\udcff.csv")
    'train-\\\\udcff.csv'
    """
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


# -- Markdown ---------------------------------------------------------------------------------
#: Line endings as CommonMark and Python see them; inline text is kept on one line.
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
#: What could start markup inside a line: emphasis, code, table pipes, strikethrough, math,
#: a link or image (``](``, ``][``, ``]:``), an HTML tag or comment, an entity reference.
_MD_INLINE = re.compile(r"[\\`*_|~$]|\](?=[(\[:])|<(?=[A-Za-z/!?])|&(?=[#A-Za-z])")
#: The same, and every bracket (the text of a link).
_MD_LINK_TEXT = re.compile(r"[\\`*_|~$\[\]]|<(?=[A-Za-z/!?])|&(?=[#A-Za-z])")
#: What makes a line a heading, quote, list, table rule or setext underline.
_MD_BLOCK = re.compile(r"[#>+=-]|\d{1,9}(?=[.)])")
_BACKTICKS = re.compile(r"`+")
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def one_line(text: object) -> str:
    """Line breaks as spaces, other control characters shown as escapes (:func:`plain`)."""
    return plain(_LINE_BREAKS.sub(" ", str(text)))


def md_text(text: object, *, brackets: bool = False) -> str:
    """``text`` as literal Markdown inside a line or a table cell.

    Line breaks become spaces and other control characters escapes (``\\x1b``);
    characters that would start markup are backslash-escaped.
    ``brackets``: escape every ``[`` and ``]`` (for the text of a link).

    >>> md_text("a | b <script>")
    'a \\\\| b \\\\<script>'
    """
    pattern = _MD_LINK_TEXT if brackets else _MD_INLINE
    return pattern.sub(lambda m: "\\" + m.group(), one_line(text))


def md_line(text: object) -> str:
    """Like :func:`md_text`, for text that starts a line (a quote, a heading)."""
    escaped = md_text(text).lstrip()
    found = _MD_BLOCK.match(escaped)
    if found is None:
        return escaped
    if found.group().isdigit():  # "1. " would start an ordered list
        end = found.end()
        return escaped[:end] + "\\" + escaped[end:]
    return "\\" + escaped


def md_heading(text: object) -> str:
    """Text of an ATX heading (a trailing ``#`` would be read as its closing sequence)."""
    return md_line(text).replace("#", "\\#")


def md_code(text: object, *, cell: bool = False) -> str:
    """``text`` as a code span, fenced with more backticks than it contains.

    In a table ``cell`` a pipe would end the cell even inside a code span, and a backslash
    before it would change what the cell holds: such text is written as plain text.
    """
    flat = one_line(text)
    if cell and ("|" in flat or "\\" in flat):
        return md_text(flat)
    longest = max((len(run) for run in _BACKTICKS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    if not flat or flat[0] in "` " or flat[-1] in "` ":
        flat = f" {flat} "
    return f"{fence}{flat}{fence}"


def md_fence(text: str) -> list[str]:
    """``text`` as a fenced code block, its fence longer than any run of backticks in it."""
    body = [plain(line) for line in text.rstrip().splitlines()]
    longest = max((len(run) for line in body for run in _BACKTICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, *body, fence]


def anchor(claim_id: str) -> str:
    """The fragment of a claim's section: its id when that is a plain name (``acc``),
    percent-encoded otherwise, so it is safe in an ``id`` attribute and an ``href``."""
    if _SAFE_ID.fullmatch(claim_id):
        return claim_id
    return quote(claim_id, safe="-._~", errors="backslashreplace")


# -- terminal ---------------------------------------------------------------------------------
#: Control characters (tab excepted), line and paragraph separators, bidirectional overrides,
#: and lone surrogates (which no UTF-8 terminal or file can take).
_CONTROL = re.compile(
    r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
#: The same, less the line breaks and tab that a ``<pre>`` block keeps.
_HTML_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escaped(found: re.Match[str]) -> str:
    return found.group().encode("unicode_escape").decode("ascii")


def plain(text: object) -> str:
    """``text`` with control characters shown as escapes (``\\n``, ``\\x1b``), so it cannot
    add lines, colour or move the cursor.

    >>> plain("ok\\x1b[2J\\nrerun: rm -rf")
    'ok\\\\x1b[2J\\\\nrerun: rm -rf'
    """
    return _CONTROL.sub(_escaped, str(text))


def terminal_line(text: object) -> str:
    """One line for the terminal: :func:`plain`, and a line that would start with ``::``
    (which GitHub Actions reads as a workflow command) gets a backslash in front."""
    line = plain(text)
    body = line.lstrip()
    if body.startswith("::"):
        return line[: len(line) - len(body)] + "\\" + body
    return line


# -- GitHub workflow commands -----------------------------------------------------------------
def workflow_message(text: object) -> str:
    """The message of ``::error ...::message``: ``%``, CR and LF escaped (GitHub shows
    them as they were), other control characters as :func:`plain` shows them."""
    return plain(str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def workflow_property(text: object) -> str:
    """A property value of a workflow command (``file=``, ``title=``): as the message,
    and ``:`` and ``,`` too, which would end the value."""
    return workflow_message(text).replace(":", "%3A").replace(",", "%2C")


# -- HTML -------------------------------------------------------------------------------------
def html_text(text: object) -> str:
    """``text`` as HTML text or an attribute value: :func:`html.escape`, and control
    characters (line breaks and tabs kept) and lone surrogates shown as escapes.

    >>> html_text('</td><script>x</script>\\x00')
    '&lt;/td&gt;&lt;script&gt;x&lt;/script&gt;\\\\x00'
    """
    return html.escape(_HTML_CONTROL.sub(_escaped, str(text)))
