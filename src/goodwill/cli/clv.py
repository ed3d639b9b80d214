"""`goodwill clv summarize|fit|predict|report`: the population models for analysts, on CSV files."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from goodwill.cli.context import out
from goodwill.cli.terminal import shown
from goodwill.domain.dates import DateError, parse_date
from goodwill.errors import InvalidInput

# goodwill.analysis.clv_report.REPORT_MODELS, written out so that --help does not load numpy
# and scipy (a test holds them equal).
REPORT_MODELS = ("bg-nbd", "pareto-nbd", "mbg-nbd")

app = typer.Typer(
    help="Customer lifetime value: BG/NBD, Pareto/NBD, MBG/NBD and Gamma-Gamma.",
    no_args_is_help=True,
)
MODELS = ("bg-nbd", "pareto-nbd", "mbg-nbd", "gamma-gamma")


@app.callback()
def _one_thread_per_sum() -> None:
    """The models' sums over clients are memory-bound: BLAS threads only queue for a core.

    On a busy machine a fit with the default thread pool took ten times as long as with one
    thread; numpy reads these settings when it is first imported, which every command here
    does after this.
    """
    if "numpy" not in sys.modules:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, "1")


def _date(text: str, option: str) -> date:
    try:
        return parse_date(text)
    except DateError as exc:
        raise InvalidInput(f"{option}: {exc}", option=option) from exc


def _model(name: str) -> str:
    if name not in MODELS:
        raise InvalidInput(f"--model must be one of {', '.join(MODELS)}", option="--model")
    return name


@app.command("summarize")
def summarize(
    transactions: Annotated[Path, typer.Option(metavar="FILE", help="customer_id,date[,amount]")],
    period: Annotated[str, typer.Option(help="day, week or month.")],
    calibration_end: Annotated[str, typer.Option(metavar="DATE", help="End of calibration.")],
    out_file: Annotated[Path, typer.Option("--out", metavar="FILE", help="Summary CSV to write.")],
    observation_end: Annotated[
        str | None, typer.Option(metavar="DATE", help="End of the holdout period.")
    ] = None,
) -> None:
    """Turn transactions into the per-customer summary (frequency, recency, T, monetary value).

    Example: goodwill clv summarize --transactions tx.csv --period week \\
        --calibration-end 1997-09-30 --out summary.csv
    """
    from goodwill.analysis.clv_files import summarize_command

    count = summarize_command(
        transactions,
        period=period,
        calibration_end=_date(calibration_end, "--calibration-end"),
        observation_end=_date(observation_end, "--observation-end") if observation_end else None,
        out=out_file,
    )
    out.print(f"{count} customers written to {shown(out_file)}")


@app.command("fit")
def fit(
    model: Annotated[str, typer.Option(help=", ".join(MODELS))],
    summary: Annotated[Path, typer.Option(metavar="FILE", help="A summary CSV.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fit a model by maximum likelihood; parameters are named as in the papers.

    Example: goodwill clv fit --model bg-nbd --summary summary.csv --json
    """
    from goodwill.analysis.clv_files import fit_command

    result = fit_command(_model(model), summary)
    if as_json:
        out.print_json(json.dumps(result))
        return
    params = result["params"]
    assert isinstance(params, dict)
    named = ", ".join(f"{k} = {v:.4g}" for k, v in params.items())
    likelihood = result["log_likelihood"]
    fitted = "" if likelihood is None else f"; log-likelihood {likelihood:.1f}"
    out.print(f"{result['model']}: {named}{fitted} over {result['n_customers']} customers")
    notes = result.get("notes")
    for note in notes if isinstance(notes, list) else []:
        out.print(f"note: {note}")


@app.command("predict")
def predict(
    model: Annotated[str, typer.Option(help=", ".join(m for m in MODELS if m != "gamma-gamma"))],
    summary: Annotated[Path, typer.Option(metavar="FILE", help="A summary CSV.")],
    t: Annotated[float, typer.Option("--t", metavar="PERIODS", help="Periods ahead.")],
    out_file: Annotated[Path, typer.Option("--out", metavar="FILE", help="Predictions CSV.")],
    discount_rate: Annotated[float, typer.Option(help="Per period, for CLV.")] = 0.01,
) -> None:
    """Per-customer P(alive), expected purchases, expected spend and CLV.

    Example: goodwill clv predict --model bg-nbd --summary summary.csv --t 52 --out predictions.csv
    """
    from goodwill.analysis.clv_files import predict_command

    count = predict_command(_model(model), summary, t, out_file, discount_rate=discount_rate)
    out.print(f"{count} predictions written to {shown(out_file)}")


@app.command("report")
def report(
    transactions: Annotated[Path, typer.Option(metavar="FILE", help="customer_id,date[,...]")],
    calibration_end: Annotated[str, typer.Option(metavar="DATE", help="End of calibration.")],
    observation_end: Annotated[str, typer.Option(metavar="DATE", help="End of the holdout.")],
    out_file: Annotated[Path, typer.Option("--out", metavar="FILE", help="HTML report to write.")],
    model: Annotated[str, typer.Option(help=", ".join(REPORT_MODELS))] = "bg-nbd",
    period: Annotated[str, typer.Option(help="day, week or month.")] = "week",
) -> None:
    """Write an HTML report: the model's predictions against the holdout, as charts and tables.

    Example: goodwill clv report --transactions tx.csv --calibration-end 1997-09-30 \\
        --observation-end 1998-06-30 --out report.html
    """
    from goodwill.analysis.clv_report import write_report

    if model not in REPORT_MODELS:
        raise InvalidInput(f"--model must be one of {', '.join(REPORT_MODELS)}", option="--model")
    summary = write_report(
        transactions,
        out=out_file,
        model=model,
        period=period,
        calibration_end=_date(calibration_end, "--calibration-end"),
        observation_end=_date(observation_end, "--observation-end"),
    )
    error = summary.relative_error
    off = "" if error is None else f" ({abs(error):.1%} {'under' if error < 0 else 'over'})"
    out.print(
        f"report written to {shown(out_file)}: {summary.predicted_holdout:,.0f} holdout repeat "
        f"purchases predicted, {summary.actual_holdout:,} happened{off}"
    )
    from goodwill.analysis.clv_comparison import comparison_lines

    for line in comparison_lines(summary.comparison):
        out.print(f"  {line}")
