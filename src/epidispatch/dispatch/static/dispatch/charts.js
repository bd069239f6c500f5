/* The dispatch pages' charts (Apache ECharts, vendored): the dashboard reads the JSON that
   selectors.dashboard produced, the rankings page that of its snapshot. A bar of a
   sub-unit opens that unit's dashboard (drill-down county → town → village → grid). */
(function () {
  "use strict";

  var BLUE = "#0b5cad", TEAL = "#2a9d8f", GOLD = "#e9a23b", RED = "#b3261e", GREY = "#9aa5b1";
  var FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';

  function json(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  function pct(rate) { return rate === null || rate === undefined ? "—" : (rate * 100).toFixed(1) + "%"; }
  function num(value) { return (value || 0).toLocaleString("zh-CN"); }
  function rate(part, whole) { return whole ? part / whole : null; }

  var charts = [];
  function chart(id, option, onClick) {
    var node = document.getElementById(id);
    if (!node || !window.echarts) { return; }
    var instance = window.echarts.init(node, null, { renderer: "canvas" });
    option.textStyle = { fontFamily: FONT };
    option.animation = false;
    instance.setOption(option);
    if (onClick) { instance.on("click", onClick); }
    charts.push(instance);
  }
  window.addEventListener("resize", function () {
    charts.forEach(function (instance) { instance.resize(); });
  });

  function drill(code) {
    var box = document.querySelector("[data-drill-url]");
    if (box && code) { window.location.href = box.getAttribute("data-drill-url").replace("CODE", code); }
  }

  /* A horizontal bar chart of units, first at the top, tall enough for every name. */
  function unitBars(id, units, series, axis) {
    var node = document.getElementById(id);
    if (!node) { return; }
    node.style.height = Math.max(220, 60 + units.length * 30) + "px";
    chart(id, {
      grid: { left: 8, right: 56, top: series.length > 1 ? 28 : 8, bottom: 8, containLabel: true },
      legend: series.length > 1 ? { top: 0 } : undefined,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: axis,
      yAxis: { type: "category", inverse: true, data: units.map(function (u) { return u.name; }),
               axisLabel: { interval: 0 } },
      series: series
    }, function (params) { drill(units[params.dataIndex].code); });
  }

  function dashboard(data, labels) {
    var bands = data.bands.filter(function (b) { return b.target > 0; });
    chart("chart-bands", {
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: "axis", valueFormatter: pct },
      xAxis: { type: "category", data: bands.map(function (b) { return b.label; }) },
      yAxis: { type: "value", max: 1, axisLabel: { formatter: function (v) { return v * 100 + "%"; } } },
      series: [
        { name: labels.coverage, type: "bar", color: BLUE,
          label: { show: true, position: "top", formatter: function (p) { return pct(p.value); } },
          data: bands.map(function (b) { return rate(b.first_dose, b.target); }) },
        { name: labels.series, type: "bar", color: TEAL,
          data: bands.map(function (b) { return rate(b.series_complete, b.target); }) },
        { name: labels.booster, type: "bar", color: GOLD,
          data: bands.map(function (b) { return rate(b.booster, b.target); }) }
      ]
    });

    var trend = data.trend;
    chart("chart-trend", {
      grid: { left: 8, right: 8, top: 28, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: trend.map(function (p) {
        return p.live ? labels.today : p.day.slice(5);
      }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [{
        name: labels.doses, type: "bar",
        label: { show: trend.length <= 16, position: "top" },
        data: trend.map(function (p) {
          return { value: p.doses, itemStyle: { color: p.live ? GOLD : BLUE } };
        })
      }]
    });

    var byCoverage = data.children.slice().sort(function (a, b) {
      return (b.coverage || 0) - (a.coverage || 0);
    });
    unitBars("chart-children", byCoverage, [{
      name: labels.coverage, type: "bar", cursor: "pointer",
      label: { show: true, position: "right", formatter: function (p) { return pct(p.value); } },
      data: byCoverage.map(function (c) {
        return { value: c.coverage, itemStyle: { color: c.kind === "department" ? TEAL : BLUE } };
      })
    }], { type: "value", max: 1, axisLabel: { formatter: function (v) { return v * 100 + "%"; } } });

    var byToClear = data.children.slice().sort(function (a, b) { return b.to_clear - a.to_clear; });
    unitBars("chart-to-clear", byToClear, [{
      name: labels.toClear, type: "bar", cursor: "pointer",
      label: { show: true, position: "right", formatter: function (p) { return num(p.value); } },
      data: byToClear.map(function (c) { return { value: c.to_clear, itemStyle: { color: RED } }; })
    }], { type: "value", minInterval: 1 });
  }

  function rankings(charts) {
    charts.forEach(function (item) {
      unitBars(item.id, item.units, [{
        type: "bar", cursor: "pointer",
        label: { show: true, position: "right", formatter: function (p) { return pct(p.value); } },
        data: item.units.map(function (u) {
          return { value: u.rate, itemStyle: { color: u.bottom ? RED : BLUE } };
        })
      }], { type: "value", axisLabel: { formatter: function (v) { return Math.round(v * 100) + "%"; } } });
    });
  }

  function start() {
    var labels = json("chart-labels") || {};
    var dashboardData = json("dashboard-data");
    if (dashboardData) { dashboard(dashboardData, labels); }
    var rankingData = json("ranking-data");
    if (rankingData) { rankings(rankingData); }
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
