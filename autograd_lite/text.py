"""Plain-text tables for the terminal (gradcheck reports, the walkthrough, the CLI)."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["format_table", "html_table", "Markdown"]


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns separated by two spaces, with a dashed rule under the header."""
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def html_table(header: Sequence[str], rows: Sequence[Sequence[object]], caption: str | None = None) -> str:
    """The same table as HTML (for Jupyter's rich display); every cell is escaped."""
    import html

    def row(cells: Sequence[object], tag: str) -> str:
        return "<tr>" + "".join(f"<{tag}>{html.escape(str(c))}</{tag}>" for c in cells) + "</tr>"

    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    body = "".join(row(r, "td") for r in rows)
    return f"<table>{cap}<thead>{row(header, 'th')}</thead><tbody>{body}</tbody></table>"


class Markdown(str):
    """A ``str`` holding a Markdown table: prints and compares as the text, and Jupyter
    renders it as a table (``_repr_markdown_``, ``_repr_html_``)."""

    __slots__ = ()

    def _repr_markdown_(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        lines = [ln.strip() for ln in str(self).splitlines() if ln.strip().startswith("|")]
        if len(lines) < 2:
            import html

            return f"<pre>{html.escape(str(self))}</pre>"

        def cells(line: str) -> list[str]:
            parts = re.split(r"(?<!\\)\|", line.strip()[1:-1])
            return [p.strip().replace("\\|", "|").strip("`") for p in parts]

        return html_table(cells(lines[0]), [cells(ln) for ln in lines[2:]])
