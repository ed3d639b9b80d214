// The insights page's charts: uPlot draws each chart from the numbers embedded in the page
// (#insights-data); the same numbers are in the table under every chart.
(function () {
  "use strict";
  // A series' colour is a goodwill.css variable named by the page, so a meaning has one colour
  // on every chart (the incidents page's columns use the same variables).
  function colourOf(name) {
    var value = getComputedStyle(document.documentElement).getPropertyValue("--" + name).trim();
    return value || "#56656c";
  }

  // Large numbers compactly ("12k", "1.5M"), so an axis label fits beside the chart.
  function compact(v) {
    var size = Math.abs(v);
    if (size >= 1e6) { return trim(v / 1e6) + "M"; }
    if (size >= 1e4) { return trim(v / 1e3) + "k"; }
    return Math.round(v).toLocaleString("en");
  }

  function trim(v) {
    return (Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 10) / 10).toString();
  }

  function ticks(unit, currency) {
    if (unit === "money") {
      return function (_u, values) { return values.map(function (v) { return v == null ? "" : compact(v) + " " + currency; }); };
    }
    if (unit === "share") {
      return function (_u, values) { return values.map(function (v) { return v == null ? "" : Math.round(v * 100) + "%"; }); };
    }
    return function (_u, values) { return values.map(function (v) { return v == null ? "" : compact(v); }); };
  }

  // A legend's value in full: "1,384 EUR", "83%", "2.5".
  function legendValue(unit, currency) {
    return function (_u, v) {
      if (v == null) { return "--"; }
      if (unit === "money") { return Math.round(v).toLocaleString("en") + " " + currency; }
      if (unit === "share") { return Math.round(v * 100) + "%"; }
      return (Math.round(v * 10) / 10).toLocaleString("en");
    };
  }

  // The axis is as wide as its longest label (about 7 px a character at 12 px) and the tick.
  function axisSize(u, values) {
    var longest = (values || []).reduce(function (n, v) { return Math.max(n, String(v).length); }, 0);
    return Math.max(40, longest * 7 + 24);
  }

  // Counts go up in whole steps: a tick of half an incident would read as "0, 0, 1, 2, 2".
  var WHOLE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

  function draw(element, data, chart) {
    var times = data.weeks.map(function (w) { return Date.parse(w + "T00:00:00Z") / 1000; });
    var n = times.length;
    var running = data.running && n > 1;
    var lines = chart.kind !== "bars";
    var columns = [times];
    var series = [{ label: "Week", value: "{YYYY}-{MM}-{DD}" }];
    var tails = [];
    chart.series.forEach(function (s, i) {
      var values = data.series[s.key].slice();
      var colour = colourOf(s.colour);
      var spec = { label: s.label, stroke: colour, width: 2, spanGaps: false, points: { show: n < 30 }, value: legendValue(s.unit, data.currency) };
      if (running) {
        // The week still running is no whole week: dashed after the last whole one, no bar.
        if (lines) {
          var tail = values.map(function (v, k) { return k >= n - 2 ? v : null; });
          tails.push({ label: s.label + ", week so far", stroke: colour, width: 2, dash: [5, 5], points: { show: false }, values: tail });
        }
        values[n - 1] = null;
      }
      columns.push(values);
      if (!lines) {
        spec.fill = colour + "33";
        spec.paths = uPlot.paths.bars({ size: [0.8 / chart.series.length, 40], align: 0 });
        spec.points = { show: false };
      }
      series.push(spec);
    });
    tails.forEach(function (t) { columns.push(t.values); delete t.values; series.push(t); });
    var unit = chart.series[0].unit;
    var y = { range: function (_u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.1 : 1]; } };
    var axis = { values: ticks(unit, data.currency), size: axisSize };
    if (unit === "count") {
      y.range = function (_u, min, max) { return [Math.min(0, min), Math.max(Math.ceil(max * 1.1), 1)]; };
      axis.incrs = WHOLE;
    }
    var latest = running ? n - 2 : n - 1;
    var options = {
      width: widthOf(element),
      height: 220,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      series: series,
      scales: { x: { time: true }, y: y },
      axes: [{}, axis],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      hooks: {
        // Without a pointer on the chart the legend gives the latest whole week, not "--".
        setCursor: [function (u) { if (u.cursor.idx == null) { u.setLegend({ idx: latest }); } }]
      }
    };
    var plot = new uPlot(options, columns, element);
    var rows = plot.root.querySelectorAll(".u-legend .u-series");
    for (var k = series.length - tails.length; k < series.length; k++) {
      if (rows[k]) { rows[k].style.display = "none"; }
    }
    plot.setLegend({ idx: latest });
    return plot;
  }

  // A chart is as wide as its card: never wider than the screen, redrawn when the card changes.
  function widthOf(element) {
    return Math.max(Math.floor(element.clientWidth), 160);
  }

  function follow(element, plot) {
    function fit() {
      var width = widthOf(element);
      if (width !== plot.width) { plot.setSize({ width: width, height: 220 }); }
    }
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(fit).observe(element);
    } else {
      window.addEventListener("resize", fit);
    }
  }

  var drawn = {};
  window.goodwillInsights = { plots: drawn, compact: compact };

  function start() {
    var source = document.getElementById("insights-data");
    if (!source || typeof uPlot === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    data.charts.forEach(function (chart) {
      var element = document.querySelector('.insights-chart[data-chart="' + chart.key + '"]');
      if (element) {
        drawn[chart.key] = draw(element, data, chart);
        follow(element, drawn[chart.key]);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
