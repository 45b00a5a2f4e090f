"""Tables for the HTML report: every cell escaped, numbers formatted one way (`format_cell`)."""

from __future__ import annotations

import html

import pandas as pd

from offramp.report.words import format_cell


def html_table(frame: pd.DataFrame, text_columns: tuple[str, ...] = ()) -> str:
    """A DataFrame as an HTML table; its index is the first column."""
    head = "".join(
        f'<th class="{"text" if c in text_columns else ""}">{html.escape(str(c))}</th>'
        for c in [frame.index.name or "", *frame.columns]
    )
    rows = []
    for label, row in frame.iterrows():
        cells = [f'<td class="text">{html.escape(str(label))}</td>']
        for column, value in row.items():
            css = "text" if column in text_columns else ""
            cells.append(f'<td class="{css}">{html.escape(format_cell(value))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def text_table(rows: list[dict], index: str) -> str:
    """Rows of text (policies, parameters with their sources) as an HTML table."""
    frame = pd.DataFrame(rows).set_index(index)
    return html_table(frame, text_columns=tuple(frame.columns))
