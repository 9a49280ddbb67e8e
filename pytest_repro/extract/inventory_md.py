"""``papers/<id>/inventory.md``: the paper's ``inventory:`` as a page."""

from __future__ import annotations

from pytest_repro.report.escape import md_code, md_text, utf8_text
from pytest_repro.spec.schema import PaperSpec


def _link(url: str | None) -> str:
    if not url:
        return ""
    if url.startswith(("https://", "http://")) and not any(c in url for c in " <>()[]"):
        return f"<{url}>"
    return md_text(url)


def render(spec: PaperSpec) -> str | None:
    """The text of inventory.md; None where the spec has no ``inventory:``."""
    inv = spec.inventory
    if inv is None:
        return None
    upstream = {u.name: u for u in spec.upstream}
    out = [f"# Inventory: {md_text(spec.paper.title)}", "", f"From {md_code(spec.display)}.", ""]
    out += ["## Code", ""]
    if inv.code:
        out += ["| URL | Official | Commit | License | Run here as | Notes |"]
        out.append("| --- | --- | --- | --- | --- | --- |")
        for c in inv.code:
            used = ""
            if c.upstream and c.upstream in upstream:
                u = upstream[c.upstream]
                what = f"{u.package}=={u.version}" if u.package else (u.path or "")
                used = f"upstream {md_code(c.upstream, cell=True)} ({md_text(what)})"
            out.append(
                f"| {_link(c.url)} | {'yes' if c.official else 'no'} "
                f"| {md_code(c.commit, cell=True) if c.commit else ''} | {md_text(c.license or '')} "
                f"| {used} | {md_text(c.notes or '')} |"
            )
    else:
        out.append("No code release is listed.")
    out += ["", "## Checkpoints", ""]
    if inv.checkpoints:
        out += ["| Name | URL | SHA-256 | Notes |", "| --- | --- | --- | --- |"]
        for k in inv.checkpoints:
            out.append(
                f"| {md_text(k.name)} | {_link(k.url)} | {md_code(k.sha256, cell=True) if k.sha256 else ''} "
                f"| {md_text(k.notes or '')} |"
            )
    else:
        out.append("No checkpoint is listed.")
    out += ["", "## Missing", ""]
    out += [f"- {md_text(m)}" for m in inv.missing] or ["Nothing is listed as missing."]
    if inv.notes:
        out += ["", f"Notes: {md_text(inv.notes)}"]
    return utf8_text("\n".join(out) + "\n")


def summary(spec: PaperSpec) -> list[str]:
    """The lines results.md gives the inventory (empty without one)."""
    inv = spec.inventory
    if inv is None:
        return []
    official = [c for c in inv.code if c.official]
    parts: list[str] = []
    if official:
        c = official[0]
        used = " (run here as upstream " + md_code(c.upstream) + ")" if c.upstream else ""
        commit = f" at {md_code(c.commit)}" if c.commit else ""
        parts.append(f"official code {_link(c.url)}{commit}{used}")
    else:
        parts.append("no official code")
    parts.append(
        f"{len(inv.checkpoints)} released checkpoint{'s' if len(inv.checkpoints) != 1 else ''}"
    )
    if inv.missing:
        parts.append("missing: " + "; ".join(md_text(m) for m in inv.missing))
    return ["## Inventory", "", "; ".join(parts) + ". Details: [inventory.md](inventory.md).", ""]
