/* OpinionOps: draws the dashboard charts with the vendored ECharts from JSON the server wrote
   into <script type="application/json"> tags; redrawn after each htmx refresh. */
(function () {
  "use strict";
  var charts = [];
  function element(tag, className, text) {
    var el = document.createElement(tag);
    el.className = className;
    if (text !== undefined) { el.textContent = text; }
    return el;
  }
  /* The tooltip built as elements: ECharts' own is HTML with style attributes, which the
     Content-Security-Policy blocks; a colour set through el.style is allowed. */
  function tooltip(params) {
    var items = Array.isArray(params) ? params : [params];
    var box = element("div", "chart-tooltip-body");
    if (items.length) { box.appendChild(element("div", "chart-tooltip-title", items[0].axisValueLabel || items[0].name)); }
    items.forEach(function (item) {
      var row = element("div", "chart-tooltip-row"), mark = element("span", "chart-tooltip-mark");
      mark.style.backgroundColor = item.color;
      row.appendChild(mark);
      row.appendChild(element("span", "chart-tooltip-name", item.seriesName));
      row.appendChild(element("strong", "chart-tooltip-value", String(item.value)));
      box.appendChild(row);
    });
    return box;
  }
  function draw() {
    if (!window.echarts) { return; }
    charts.forEach(function (c) { c.dispose(); });
    charts = [];
    var nodes = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i], source = document.getElementById(el.getAttribute("data-chart"));
      if (!source) { continue; }
      var data = JSON.parse(source.textContent);
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption({
        animation: false,
        tooltip: { trigger: "axis", className: "chart-tooltip", formatter: tooltip },
        legend: { type: "scroll", bottom: 0 },
        grid: { left: 36, right: 12, top: 16, bottom: 48 },
        xAxis: { type: "category", data: data.days, axisLabel: { color: "#4e5969" } },
        yAxis: { type: "value", minInterval: 1, axisLabel: { color: "#4e5969" } },
        series: data.series.map(function (s) {
          return { name: s.name, type: "bar", stack: "total", data: s.data, itemStyle: s.color ? { color: s.color } : undefined };
        })
      });
      charts.push(chart);
    }
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.querySelector && event.target.querySelector("[data-chart]")) { draw(); }
  });
})();
