/* The round dashboard's charts (Apache ECharts, vendored with the dispatch pages): the
   chain's progress and sampled / not sampled per sub-unit, from screening-chart-data. */
(function () {
  "use strict";
  var node = document.getElementById("screening-chart-data");
  if (!node || !window.echarts) return;
  var data = JSON.parse(node.textContent);
  var FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
  var charts = [];
  function chart(id, option) {
    var box = document.getElementById(id);
    if (!box) return;
    var instance = window.echarts.init(box, null, { renderer: "canvas" });
    option.textStyle = { fontFamily: FONT };
    option.animation = false;
    instance.setOption(option);
    charts.push(instance);
  }
  chart("chart-chain", {
    grid: { left: 60, right: 20, top: 20, bottom: 30 },
    tooltip: {},
    xAxis: { type: "category", data: data.chain.map(function (row) { return row[0]; }) },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", data: data.chain.map(function (row) { return row[1]; }), itemStyle: { color: "#0b5cad" } }]
  });
  chart("chart-children", {
    grid: { left: 110, right: 20, top: 30, bottom: 30 },
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    yAxis: { type: "category", inverse: true, data: data.children.map(function (row) { return row[0]; }) },
    xAxis: { type: "value", minInterval: 1 },
    series: [
      { name: data.labels.sampled, type: "bar", stack: "all", data: data.children.map(function (row) { return row[1]; }), itemStyle: { color: "#2a9d8f" } },
      { name: data.labels.not_sampled, type: "bar", stack: "all", data: data.children.map(function (row) { return row[2]; }), itemStyle: { color: "#b3261e" } }
    ]
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
