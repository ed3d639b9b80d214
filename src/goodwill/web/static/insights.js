// The insights page's charts: uPlot draws each chart from the numbers embedded in the page
// (#insights-data); the same numbers are in the table under every chart.
(function () {
  "use strict";
  var COLOURS = ["#1f5f5b", "#a2412d", "#9a6b12", "#56656c"];

  function money(currency) {
    return function (_u, values) {
      return values.map(function (v) { return v == null ? "" : Math.round(v).toLocaleString() + " " + currency; });
    };
  }

  function format(unit, currency) {
    if (unit === "money") { return money(currency); }
    if (unit === "share") {
      return function (_u, values) { return values.map(function (v) { return v == null ? "" : Math.round(v * 100) + "%"; }); };
    }
    return function (_u, values) { return values.map(function (v) { return v == null ? "" : v.toLocaleString(); }); };
  }

  function draw(element, data, chart) {
    var times = data.weeks.map(function (w) { return Date.parse(w + "T00:00:00Z") / 1000; });
    var columns = [times];
    var series = [{ label: "Week", value: "{YYYY}-{MM}-{DD}" }];
    chart.series.forEach(function (s, i) {
      columns.push(data.series[s.key]);
      var colour = COLOURS[i % COLOURS.length];
      var spec = { label: s.label, stroke: colour, width: 2, spanGaps: false, points: { show: data.weeks.length < 30 } };
      if (chart.kind === "bars") {
        spec.fill = colour + "33";
        spec.paths = uPlot.paths.bars({ size: [0.8 / chart.series.length, 40], align: 0 });
        spec.points = { show: false };
      }
      series.push(spec);
    });
    var unit = chart.series[0].unit;
    var options = {
      width: widthOf(element),
      height: 220,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      series: series,
      scales: { x: { time: true }, y: { range: function (_u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.1 : 1]; } } },
      axes: [{}, { values: format(unit, data.currency), size: 70 }],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } }
    };
    return new uPlot(options, columns, element);
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

  function start() {
    var source = document.getElementById("insights-data");
    if (!source || typeof uPlot === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    data.charts.forEach(function (chart) {
      var element = document.querySelector('.insights-chart[data-chart="' + chart.key + '"]');
      if (element) { follow(element, draw(element, data, chart)); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
