/* Maps: filled contours on log axes with projections, a shared colour scale, region shapes. */
"use strict";

LV.colorscale = [
  [0, "#ffffff"], [0.08, "#d9ecf7"], [0.25, "#7fb8da"], [0.45, "#3a86b9"],
  [0.65, "#47a36d"], [0.82, "#e0c23a"], [1, "#c8382b"],
];
LV.LOG_RANGE = 3; /* decades shown below the maximum in log intensity */

LV.mapZ = function (map, zmax) {
  if (LV.opts.intensity !== "log") return { z: map, zmin: 0, zmax: zmax, title: "amplitude" };
  const floor = zmax * Math.pow(10, -LV.LOG_RANGE);
  const z = map.map((row) => row.map((v) => Math.log10(Math.max(v, floor))));
  return { z: z, zmin: Math.log10(floor), zmax: Math.log10(zmax), title: "log10 amplitude" };
};

LV.hoverText = function (res) {
  const [k1, k2] = res.kinds;
  const n1 = LV.axisName(k1);
  const n2 = LV.axisName(k2);
  return res.map.map((row, i) => row.map((v, j) =>
    `${n1} = ${LV.fmtPos(res.grid1[i], k1)}<br>${n2} = ${LV.fmtPos(res.grid2[j], k2)}<br>amplitude = ${LV.fmt(v)}`));
};

LV.mapTraces = function (res) {
  const x = LV.log10(res.grid2);
  const y = LV.log10(res.grid1);
  const zz = LV.mapZ(res.map, LV.zmax);
  const traces = [{
    type: "contour", x: x, y: y, z: zz.z, zmin: zz.zmin, zmax: zz.zmax, zauto: false,
    text: LV.hoverText(res), hoverinfo: "text", colorscale: LV.colorscale,
    contours: { coloring: "fill", showlines: false }, ncontours: 24, line: { width: 0 },
    colorbar: { title: { text: zz.title, side: "right" }, thickness: 10, len: 0.72, y: 0.39, x: 1.02 },
    xaxis: "x", yaxis: "y",
  }, {
    type: "scatter", mode: "lines", x: x, y: res.proj2, fill: "tozeroy", line: { color: "#24415f", width: 1.5 },
    xaxis: "x2", yaxis: "y2", hoverinfo: "skip",
  }, {
    type: "scatter", mode: "lines", x: res.proj1, y: y, fill: "tozerox", line: { color: "#24415f", width: 1.5 },
    xaxis: "x3", yaxis: "y3", hoverinfo: "skip",
  }];
  const [k1, k2] = res.kinds;
  if (k1 !== "D" && k2 !== "D") {
    const lo = Math.max(x[0], y[0]);
    const hi = Math.min(x[x.length - 1], y[y.length - 1]);
    if (hi > lo) {
      traces.push({ type: "scatter", mode: "lines", x: [lo, hi], y: [lo, hi], line: { color: "#777", dash: "dot", width: 1 },
        xaxis: "x", yaxis: "y", hoverinfo: "skip" });
    }
  }
  return traces;
};

LV.mapLayout = function (res) {
  const [k1, k2] = res.kinds;
  const x = LV.log10(res.grid2);
  const y = LV.log10(res.grid1);
  const xr = [x[0], x[x.length - 1]];
  const yr = [y[0], y[y.length - 1]];
  const main = 0.76;
  const shapes = LV.regionShapes(xr, yr);
  return {
    title: { text: res.label, font: { size: 14 }, x: 0.02 },
    showlegend: false, dragmode: LV.opts.dragmode,
    margin: { l: 58, r: 8, t: 34, b: 46 },
    xaxis: Object.assign({ domain: [0, main], range: xr, title: { text: LV.axisTitle(k2) }, zeroline: false },
      LV.decadeTicks(xr[0], xr[1], k2)),
    yaxis: Object.assign({ domain: [0, main], range: yr, title: { text: LV.axisTitle(k1) }, zeroline: false },
      LV.decadeTicks(yr[0], yr[1], k1)),
    /* Projection axes sit on the outer sides, so their drag handles stay off the map. */
    xaxis2: { domain: [0, main], matches: "x", showticklabels: false, anchor: "y2", side: "top" },
    yaxis2: { domain: [main + 0.02, 1], showticklabels: false, rangemode: "tozero", anchor: "x2", side: "right" },
    xaxis3: { domain: [main + 0.02, 0.98], showticklabels: false, rangemode: "tozero", anchor: "y3", side: "top" },
    yaxis3: { domain: [0, main], matches: "y", showticklabels: false, anchor: "x3", side: "right" },
    shapes: shapes.shapes, annotations: shapes.annotations,
    newshape: { line: { color: "#c8382b", width: 2 }, fillcolor: "rgba(200,56,43,0.08)" },
  };
};

LV.mapConfig = function (res) {
  return {
    displaylogo: false, responsive: true,
    modeBarButtonsToAdd: ["drawrect", "drawclosedpath"],
    toImageButtonOptions: { filename: res.label.replace(/\W+/g, "_") },
  };
};

LV.cardMeta = function (res) {
  const bits = [`residual ${LV.fmt(res.relative_residual)}`];
  if (res.residual_to_noise !== null) bits.push(`residual/noise ${LV.fmt(res.residual_to_noise)}`);
  if (res.alpha !== null) bits.push(`α ${LV.fmt(res.alpha)}`);
  if (res.efficiency) bits.push(`efficiency ${LV.fmt(res.efficiency)}`);
  return bits.join(" · ");
};

LV.renderMaps = function () {
  const box = document.getElementById("maps");
  document.getElementById("maps-empty").classList.toggle("hidden", LV.results.length > 0);
  const wanted = new Set(LV.results.map((r) => r.label));
  box.querySelectorAll(".map-card").forEach((card) => {
    if (!wanted.has(card.dataset.label)) { Plotly.purge(card.querySelector(".map-plot")); card.remove(); }
  });
  LV.results.forEach((res) => {
    let card = box.querySelector(`.map-card[data-label="${CSS.escape(res.label)}"]`);
    if (!card) {
      card = document.createElement("div");
      card.className = "map-card";
      card.dataset.label = res.label;
      card.innerHTML = '<button type="button" class="remove" title="remove this map">remove</button>' +
        '<div class="map-plot"></div><div class="meta"></div><ul class="meta flags"></ul>';
      card.querySelector(".remove").addEventListener("click", LV.guard(async () => {
        LV.applyResults(await LV.post("/api/remove", { label: res.label }));
      }));
      box.appendChild(card);
    }
    card.querySelector("div.meta").textContent = LV.cardMeta(res);
    const flags = card.querySelector("ul.flags");
    flags.innerHTML = "";
    res.flags.forEach((f) => { const li = document.createElement("li"); li.className = "flag"; li.textContent = f; flags.appendChild(li); });
    const plot = card.querySelector(".map-plot");
    Plotly.react(plot, LV.mapTraces(res), LV.mapLayout(res), LV.mapConfig(res));
    if (!plot.dataset.bound) {
      plot.dataset.bound = "1";
      plot.on("plotly_relayout", (ev) => LV.onRelayout(plot, ev));
    }
  });
};

/* Apply the reply of /api/results (or /api/remove): maps, colour scale, regions, table. */
LV.applyResults = function (data) {
  LV.results = data.results;
  LV.zmax = data.zmax > 0 ? data.zmax : 1;
  LV.regions = data.regions;
  LV.table = data.table;
  LV.renderMaps();
  LV.renderRegions();
  LV.fillResultSelects();
};

LV.refreshResults = async function () {
  LV.applyResults(await LV.post("/api/results", {}));
};

LV.fillResultSelects = function () {
  ["export-label", "res-label", "unc-label"].forEach((id) => {
    const select = document.getElementById(id);
    const old = select.value;
    select.innerHTML = "";
    LV.results.forEach((r) => {
      const opt = document.createElement("option");
      opt.value = r.label; opt.textContent = r.label;
      select.appendChild(opt);
    });
    if (LV.results.some((r) => r.label === old)) select.value = old;
  });
};

LV.setDragmode = function (mode) {
  LV.opts.dragmode = mode;
  document.querySelectorAll("button.mode").forEach((b) => b.classList.remove("active"));
  const id = { drawrect: "mode-box", drawclosedpath: "mode-polygon", zoom: "mode-zoom" }[mode];
  document.getElementById(id).classList.add("active");
  document.querySelectorAll(".map-plot").forEach((plot) => Plotly.relayout(plot, { dragmode: mode }));
};
