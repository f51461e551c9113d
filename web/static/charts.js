/* Two small SVG charts drawn at the container's real width, so text stays readable on a phone. */
"use strict";

window.Dash = window.Dash || {};

const SVG = "http://www.w3.org/2000/svg";

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/* A round top for the axis: 1, 2 or 5 times a power of ten, at least `max`. */
function niceMax(max) {
  if (max <= 5) return 5;
  const power = Math.pow(10, Math.floor(Math.log10(max)));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

/* Tokens earned and spent per day: two lines with a point for each day. */
Dash.drawDays = function (box, days) {
  clear(box);
  const W = Math.max(260, Math.floor(box.clientWidth || 320));
  const H = W < 480 ? 190 : 280;
  const pad = { l: 40, r: 12, t: 12, b: 28 };
  const max = niceMax(Math.max(0, ...days.map((d) => Math.max(d.earned, d.spent))));
  const x = (i) => pad.l + (i * (W - pad.l - pad.r)) / Math.max(1, days.length - 1);
  const y = (v) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
    "aria-label": Dash.t("per_day") });
  for (const v of [0, max / 2, max]) {
    svg.appendChild(el("line", { class: "grid", x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v) }));
    svg.appendChild(el("text", { class: "axis", x: pad.l - 6, y: y(v) + 4, "text-anchor": "end" },
      Dash.number(Math.round(v))));
  }
  const ticks = [0, Math.floor((days.length - 1) / 2), days.length - 1];
  ticks.forEach((i, n) => {
    const anchor = n === 0 ? "start" : n === 2 ? "end" : "middle";
    svg.appendChild(el("text", { class: "axis", x: x(i), y: H - 8, "text-anchor": anchor }, Dash.day(days[i].day)));
  });
  for (const series of ["earned", "spent"]) {
    const points = days.map((d, i) => `${x(i).toFixed(1)},${y(d[series]).toFixed(1)}`).join(" ");
    svg.appendChild(el("polyline", { class: `line ${series}`, points }));
    const dots = el("g", { class: `points ${series}` });
    days.forEach((d, i) => {
      const dot = el("circle", { class: `pt ${series}`, cx: x(i).toFixed(1), cy: y(d[series]).toFixed(1),
        r: W < 480 ? 2.5 : 3, "data-day": d.day, "data-value": d[series] });
      dot.appendChild(el("title", {}, `${Dash.day(d.day)}: ${Dash.number(d[series])}`));
      dots.appendChild(dot);
    });
    svg.appendChild(dots);
  }
  box.appendChild(svg);
};

/* Tokens spent per shop item: a labelled bar per item, the label above its bar. */
Dash.drawItems = function (box, spent) {
  clear(box);
  const codes = Object.keys(spent);
  const W = Math.max(260, Math.floor(box.clientWidth || 320));
  const row = 38;
  const H = codes.length * row + 4;
  const max = Math.max(1, ...codes.map((c) => spent[c]));
  const total = codes.reduce((sum, c) => sum + spent[c], 0);
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
    "aria-label": Dash.t("by_item") });
  codes.forEach((code, i) => {
    const top = i * row;
    const share = total ? Math.round((100 * spent[code]) / total) : 0;
    svg.appendChild(el("text", { class: "label", x: 0, y: top + 13 }, Dash.t(`item_${code}`)));
    svg.appendChild(el("text", { class: "label value", x: W, y: top + 13, "text-anchor": "end" },
      `${Dash.number(spent[code])} · ${share}%`));
    svg.appendChild(el("rect", { class: "track", x: 0, y: top + 19, width: W, height: 10, rx: 5 }));
    svg.appendChild(el("rect", { class: "bar", x: 0, y: top + 19, height: 10, rx: 5,
      width: spent[code] ? Math.max(4, (W * spent[code]) / max) : 0, "data-item": code, "data-value": spent[code] }));
  });
  box.appendChild(svg);
};
