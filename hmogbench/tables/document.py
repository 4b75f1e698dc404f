"""The tables' files as blocks (headings, paragraphs, tables, preformatted text), rendered two ways from the
same blocks: Markdown (``.md``, ``.diff.md``) and a self-contained HTML page (``.html``, ``.diff.html``: inline
CSS, no script, nothing fetched) that the Snakemake report shows inline.

Inline markup in a paragraph or caption: ``**bold**`` only.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from tabulate import tabulate


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2  # 1: the page's title


@dataclass(frozen=True)
class Paragraph:
    text: str  # may hold **bold** spans
    italic: bool = False


@dataclass(frozen=True)
class Table:
    """Rows of strings under ``headers``; ``align``: 'left' or 'right' per column (None: all left);
    ``caption``: above the table (Markdown: a paragraph; HTML: its <caption>)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: tuple[str, ...] | None = None
    caption: str = ""


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]  # each may hold **bold** spans


@dataclass(frozen=True)
class Preformatted:
    text: str


Block = Heading | Paragraph | Bullets | Table | Preformatted


def _markdown(block: Block) -> str:
    if isinstance(block, Heading):
        return f"{'#' * block.level} {block.text}"
    if isinstance(block, Paragraph):
        return f"_{block.text}_" if block.italic else block.text
    if isinstance(block, Bullets):
        return "\n".join(f"- {item}" for item in block.items)
    if isinstance(block, Preformatted):
        return f"```\n{block.text.rstrip()}\n```"
    rows = [[cell.replace("|", "\\|") for cell in row] for row in block.rows]  # a bare | would end the cell
    grid = tabulate(rows, headers=[h.replace("|", "\\|") for h in block.headers], tablefmt="github",
                    disable_numparse=True, colalign=block.align)
    return f"{block.caption}\n\n{grid}" if block.caption else grid


def to_markdown(blocks: list[Block]) -> str:
    """GitHub Markdown, blocks separated by blank lines, ending in one newline."""
    return "\n\n".join(map(_markdown, blocks)).rstrip() + "\n"


STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1e293b; margin: 1.5em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; margin-top: 2em; } h3 { font-size: 1.05em; margin-top: 1.5em; }
p { max-width: 75em; }
table { border-collapse: collapse; margin: 0.5em 0 2em; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; padding: 0.4em 0; max-width: 75em; }
th, td { border: 1px solid #cbd5e1; padding: 0.25em 0.6em; vertical-align: top; }
th { position: sticky; top: 0; background: #e2e8f0; text-align: left; }
.r { text-align: right; white-space: nowrap; }
tbody tr:nth-child(even) { background: #f8fafc; }
pre { background: #f1f5f9; border: 1px solid #cbd5e1; padding: 1em; overflow-x: auto; font-size: 12px; }
"""


def _inline(text: str) -> str:
    """Escaped text with **bold** spans as <strong>."""
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text, quote=False))


def _html_table(table: Table) -> str:
    align = table.align or ("left",) * len(table.headers)
    cls = [' class="r"' if a == "right" else "" for a in align]
    head = "".join(f"<th{c}>{html.escape(h)}</th>" for c, h in zip(cls, table.headers))
    body = "\n".join("<tr>" + "".join(f"<td{c}>{html.escape(v)}</td>" for c, v in zip(cls, row)) + "</tr>"
                     for row in table.rows)
    caption = f"<caption>{_inline(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"


def _html(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{_inline(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        text = _inline(block.text)
        return f"<p><em>{text}</em></p>" if block.italic else f"<p>{text}</p>"
    if isinstance(block, Bullets):
        return "<ul>\n" + "\n".join(f"<li>{_inline(item)}</li>" for item in block.items) + "\n</ul>"
    if isinstance(block, Preformatted):
        return f"<pre>{html.escape(block.text.rstrip())}</pre>"
    return _html_table(block)


def to_html(blocks: list[Block], title: str) -> str:
    """A self-contained UTF-8 HTML page of ``blocks`` (inline CSS, no script, no external resource)."""
    body = "\n".join(map(_html, blocks))
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
            f"<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
