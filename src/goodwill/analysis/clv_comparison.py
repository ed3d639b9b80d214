"""The count models side by side in the report: log-likelihood, holdout error, and which to use.

Each model is fitted on the calibration period; its predicted holdout repeat transactions are
compared with what happened. The recommended model is the one ``domain.btyd.choice`` would pick
(closest on the holdout, ties to the higher log-likelihood); a model that failed or ended at an
edge of its parameters is listed with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from goodwill.domain.btyd.choice import Candidate, choose

TITLES = {"bg-nbd": "BG/NBD", "pareto-nbd": "Pareto/NBD", "mbg-nbd": "MBG/NBD"}


def comparison_lines(candidates: Sequence[Candidate]) -> list[str]:
    """One line a model, for the terminal: "BG/NBD  log-likelihood -9582.4  holdout +1.2%"."""
    best = choose(list(candidates))
    lines = []
    for c in candidates:
        title = TITLES.get(c.model, c.model)
        if c.fit is None or c.reason is not None:
            lines.append(f"{title}: not used: {c.reason}")
            continue
        error = c.holdout_error
        held = "" if error is None else f", holdout {error:+.1%}"
        mark = " (best)" if best is not None and best.model == c.model else ""
        lines.append(f"{title}: log-likelihood {c.fit.log_likelihood:,.1f}{held}{mark}")
    return lines


def comparison_section(candidates: Sequence[Candidate]) -> str:
    """The comparison as an HTML section (a table with data-labels, as the report's others)."""
    if not candidates:
        return ""
    best = choose(list(candidates))
    rows = []
    for c in candidates:
        title = escape(TITLES.get(c.model, c.model))
        if c.fit is None or c.reason is not None:
            rows.append(
                f'<tr><td data-label="Model">{title}</td>'
                f'<td data-label="Log-likelihood" colspan="3">not used: {escape(str(c.reason))}'
                "</td></tr>"
            )
            continue
        error = c.holdout_error
        predicted = "" if c.predicted_holdout is None else f"{c.predicted_holdout:,.0f}"
        held = "" if error is None else f"{error:+.1%}"
        mark = " (best)" if best is not None and best.model == c.model else ""
        rows.append(
            f'<tr><td data-label="Model">{title}{mark}</td>'
            f'<td data-label="Log-likelihood">{c.fit.log_likelihood:,.1f}</td>'
            f'<td data-label="Predicted holdout">{predicted}</td>'
            f'<td data-label="Holdout error">{held}</td></tr>'
        )
    return f"""<section>
<h2>The models compared</h2>
<p class="note">Every count model fitted on the calibration period. The best predicts the holdout's
repeat transactions most closely (within one point, the higher log-likelihood); a model at an
edge of its parameters is not an estimate and is not used.</p>
<table class="cards">
<thead><tr><th>Model</th><th>Log-likelihood</th><th>Predicted holdout</th><th>Holdout error</th>
</tr></thead>
<tbody>{"".join(rows)}</tbody>
</table>
</section>"""


__all__ = ["comparison_lines", "comparison_section"]
