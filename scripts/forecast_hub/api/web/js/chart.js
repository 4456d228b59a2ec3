// The series chart (uPlot): actual history, the draft, its interval band and the manual values.
// Each is drawn differently (solid line, dashed line, shaded band with dotted edges, squares),
// so they are told apart without colour.

import { epochSeconds, formatQty } from "./format.js";

const uPlot = globalThis.uPlot;
const HEIGHT = 320;
const DRAFT = "#b34700";
const ACTUAL = "#1d4f91";
const MANUAL = "#6b2c91";

// Manual values as filled squares, one per period.
function squares(u, seriesIndex, first, last) {
  const size = 8 * devicePixelRatio;
  const path = new Path2D();
  const xs = u.data[0];
  const ys = u.data[seriesIndex];
  for (let i = first; i <= last; i++) {
    if (ys[i] === null || ys[i] === undefined) continue;
    const x = u.valToPos(xs[i], "x", true);
    const y = u.valToPos(ys[i], "y", true);
    path.rect(x - size / 2, y - size / 2, size, size);
  }
  return { stroke: path, fill: path };
}

const value = (u, v) => (v === null || v === undefined ? "–" : formatQty(v));

export class SeriesChart {
  constructor(container) {
    this.container = container;
    this.plot = null;
  }

  options() {
    return {
      width: Math.max(this.container.clientWidth, 320),
      height: HEIGHT,
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"),
      scales: { x: { time: true } },
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      series: [
        {},
        { label: "actual", stroke: ACTUAL, width: 1.5, value, points: { show: false } },
        { label: "draft", stroke: DRAFT, width: 2, dash: [8, 5], value, points: { show: false } },
        { label: "interval low", stroke: DRAFT, width: 1, dash: [2, 3], value, points: { show: false } },
        { label: "interval high", stroke: DRAFT, width: 1, dash: [2, 3], value, points: { show: false } },
        { label: "manual", stroke: MANUAL, fill: MANUAL, paths: squares, value, points: { show: false } },
      ],
      bands: [{ series: [4, 3], fill: "rgba(179, 71, 0, 0.14)" }],
      axes: [{}, { values: (u, ticks) => ticks.map(formatQty), size: 60 }],
    };
  }

  // history: [{period_date, qty}]; forecast: the /forecast rows; showManual: draw the manual values.
  draw(history, forecast, showManual) {
    const dates = [...history.map((row) => row.period_date), ...forecast.map((row) => row.forecast_date)];
    const past = history.length;
    const data = [
      dates.map(epochSeconds),
      dates.map((_, i) => (i < past ? history[i].qty : null)),
      dates.map((_, i) => (i < past ? null : forecast[i - past].draft_qty)),
      dates.map((_, i) => (i < past ? null : forecast[i - past].lower_qty)),
      dates.map((_, i) => (i < past ? null : forecast[i - past].upper_qty)),
      dates.map((_, i) => (i < past || !showManual ? null : forecast[i - past].manual_qty)),
    ];
    if (this.plot === null) {
      this.plot = new uPlot(this.options(), data, this.container);
      new ResizeObserver(() => {
        this.plot.setSize({ width: Math.max(this.container.clientWidth, 320), height: HEIGHT });
      }).observe(this.container);
    } else {
      this.plot.setData(data);
    }
    // What is drawn, for a reader of the page's DOM: counts, and the manual values by date.
    const manual = Object.fromEntries(dates.flatMap((date, i) => (data[5][i] === null ? [] : [[date, data[5][i]]])));
    this.container.dataset.drawn = JSON.stringify({
      actual: past,
      draft: forecast.length,
      band: data[3].filter((v) => v !== null).length,
      manual,
    });
  }
}
