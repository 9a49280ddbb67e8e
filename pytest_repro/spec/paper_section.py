"""``paper:``: the paper's id, title and bibliographic details, and paper-level options.

``multiplicity: holm | bh | none`` (default ``holm``) picks the correction the reports
apply over the gap and disagreement flags of the paper's claims
(``docs/statistics-seeds-and-papers.md``).
"""

from __future__ import annotations

from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.fields import MISSING, MapReader
from pytest_repro.spec.keys import ID_PATTERN, MULTIPLICITY_CHOICES, PAPER_KEYS
from pytest_repro.spec.schema import PaperMeta


def build_paper(ctx: SpecContext, top: MapReader) -> PaperMeta | None:
    """The ``paper:`` block; None when it is absent or has a problem (recorded on ``ctx.ck``)."""
    node = top.mapping("paper")
    if not node:
        return None
    m = MapReader(ctx.ck, node, "paper", allowed=PAPER_KEYS, required=("id", "title"))
    paper_id = m.string("id", allow_number=True)
    if isinstance(paper_id, str) and not ID_PATTERN.match(paper_id):
        paper_id = m.bad(
            "id",
            f"{paper_id!r} has characters a test id cannot hold",
            "use letters, digits, '.', '_' and '-'",
        )
    title = m.string("title")
    authors = m.strings("authors")
    year = m.integer("year", minimum=1900)
    url = m.string("url")
    venue = m.string("venue")
    multiplicity = m.choice("multiplicity", MULTIPLICITY_CHOICES, default="holm")
    if (
        MISSING in (paper_id, title, authors, year, url, venue, multiplicity)
        or paper_id is None
        or title is None
    ):
        return None
    return PaperMeta(
        id=paper_id,
        title=title,
        authors=authors,
        year=year,
        url=url,
        venue=venue,
        loc=ctx.loc(node.line),
        multiplicity=multiplicity,
    )
