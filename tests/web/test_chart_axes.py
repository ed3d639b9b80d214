"""The server-drawn charts' axes: counts go up in whole steps."""

from __future__ import annotations

from goodwill.web.charts import column_chart, nice_step


def test_a_count_axis_never_ticks_at_half_an_incident() -> None:
    chart = column_chart(["Oct", "Nov"], [("Recovered", "recovered", [1.0, 2.0])])
    assert [t.text for t in chart.ticks] == ["0", "1", "2"]
    assert nice_step(2.0, whole=True) == 1.0 and nice_step(2.0) == 0.5
    assert nice_step(40.0, whole=True) == 10.0
