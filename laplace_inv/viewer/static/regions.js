/* Regions: drawn boxes and polygons, typed cut-offs, the region table, region files.
   Regions are kept in the region-file format (SI units), exactly what the CLI reads. */
"use strict";

LV.regionCount = 0;

LV.regionShapes = function (xr, yr) {
  const shapes = [];
  const annotations = [];
  const line = { color: "#c8382b", width: 1.6 };
  const fill = "rgba(200,56,43,0.06)";
  const lg = (v) => Math.log10(v);
  LV.regions.forEach((reg, i) => {
    const base = { name: `region:${i}`, xref: "x", yref: "y", line: line, fillcolor: fill, editable: false, layer: "above" };
    let at = null;
    if (reg.type === "box" && reg.x2) {
      shapes.push(Object.assign({ type: "rect", x0: lg(reg.x2[0]), x1: lg(reg.x2[1]), y0: lg(reg.x1[0]), y1: lg(reg.x1[1]) }, base));
      at = [lg(reg.x2[0]), lg(reg.x1[1])];
    } else if (reg.type === "box") {
      shapes.push(Object.assign({ type: "rect", x0: xr[0], x1: xr[1], y0: lg(reg.x1[0]), y1: lg(reg.x1[1]) }, base));
      at = [xr[0], lg(reg.x1[1])];
    } else if (reg.type === "polygon") {
      const pts = reg.vertices.map((v) => `${lg(v[1])},${lg(v[0])}`);
      shapes.push(Object.assign({ type: "path", path: `M${pts.join("L")}Z` }, base));
      at = [Math.min(...reg.vertices.map((v) => lg(v[1]))), Math.max(...reg.vertices.map((v) => lg(v[0])))];
    } else if (reg.type === "cutoff") {
      const v = lg(reg.value);
      const onX = reg.axis === 2;
      const range = onX ? xr : yr;
      const [a, b] = reg.side === "below" ? [range[0], v] : [v, range[1]];
      const dashed = Object.assign({}, base, { line: Object.assign({}, line, { dash: "dash" }) });
      shapes.push(Object.assign(onX ? { type: "rect", x0: a, x1: b, y0: yr[0], y1: yr[1] } : { type: "rect", x0: xr[0], x1: xr[1], y0: a, y1: b }, dashed));
      at = onX ? [a, yr[1]] : [xr[0], b];
    }
    if (at) {
      annotations.push({ x: at[0], y: at[1], xref: "x", yref: "y", text: reg.name, showarrow: false,
        xanchor: "left", yanchor: "bottom", font: { size: 10, color: "#8a1c13" }, bgcolor: "rgba(255,255,255,0.7)" });
    }
  });
  return { shapes, annotations };
};

LV.nextName = function (kind) {
  const names = new Set(LV.regions.map((r) => r.name));
  let n = LV.regions.length + 1;
  while (names.has(`${kind} ${n}`)) n += 1;
  return `${kind} ${n}`;
};

/* Turn a shape drawn with Plotly's draw tools into a region entry (SI units). */
LV.shapeToRegion = function (shape) {
  if (shape.xref !== "x" || shape.yref !== "y") return null;
  const p10 = (v) => Math.pow(10, v);
  if (shape.type === "rect") {
    const x = [shape.x0, shape.x1].sort((a, b) => a - b).map(p10);
    const y = [shape.y0, shape.y1].sort((a, b) => a - b).map(p10);
    return { name: LV.nextName("box"), type: "box", x1: y, x2: x };
  }
  if (shape.type === "path" && shape.path) {
    const pts = [...shape.path.matchAll(/(-?[\d.]+(?:e[-+]?\d+)?),(-?[\d.]+(?:e[-+]?\d+)?)/gi)];
    const vertices = pts.map((m) => [p10(parseFloat(m[2])), p10(parseFloat(m[1]))]);
    if (vertices.length < 3) return null;
    return { name: LV.nextName("polygon"), type: "polygon", vertices: vertices };
  }
  return null;
};

LV.onRelayout = LV.guard(async function (plot, ev) {
  if (!ev || !Array.isArray(ev.shapes)) return;
  const drawn = ev.shapes.filter((s) => !(s.name || "").startsWith("region:"));
  const kept = new Set(ev.shapes.filter((s) => (s.name || "").startsWith("region:")).map((s) => s.name));
  let regions = LV.regions.filter((r, i) => kept.has(`region:${i}`));
  for (const shape of drawn) {
    const reg = LV.shapeToRegion(shape);
    if (reg) regions = regions.concat([reg]);
  }
  await LV.sendRegions(regions);
});

LV.sendRegions = async function (regions) {
  try {
    const data = await LV.post("/api/regions", { regions });
    LV.regions = data.regions;
    LV.table = Object.assign({}, LV.table || {}, data.table);
  } finally {
    LV.renderMaps();
    LV.renderRegions();
  }
};

LV.describe = function (reg) {
  const kinds = LV.results.length ? LV.results[0].kinds : (LV.acq ? LV.acq.kernel_kinds : ["T1_IR", "T2"]);
  const [k1, k2] = kinds;
  const rng = (r, k) => `${LV.fmtPos(r[0], k)} – ${LV.fmtPos(r[1], k)}`;
  if (reg.type === "box") {
    return `${LV.axisName(k1)} ${rng(reg.x1, k1)}` + (reg.x2 ? `, ${LV.axisName(k2)} ${rng(reg.x2, k2)}` : "");
  }
  if (reg.type === "polygon") return `${reg.vertices.length} vertices`;
  const k = reg.axis === 1 ? k1 : k2;
  return `${LV.axisName(k)} ${reg.side} ${LV.fmtPos(reg.value, k)}`;
};

LV.cell = function (tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
};

LV.header = function (table, names) {
  const tr = document.createElement("tr");
  names.forEach((n) => { const th = document.createElement("th"); th.textContent = n; tr.appendChild(th); });
  table.appendChild(tr);
};

LV.renderRegionList = function () {
  const list = document.getElementById("region-list");
  list.innerHTML = "";
  if (!LV.regions.length) return;
  LV.header(list, ["region", "type", "definition", ""]);
  LV.regions.forEach((reg, i) => {
    const tr = document.createElement("tr");
    const name = document.createElement("input");
    name.type = "text"; name.value = reg.name; name.className = "region-name";
    name.addEventListener("change", LV.guard(async () => {
      const regions = LV.regions.map((r, j) => (j === i ? Object.assign({}, r, { name: name.value }) : r));
      await LV.sendRegions(regions);
    }));
    const td = document.createElement("td"); td.className = "text"; td.appendChild(name); tr.appendChild(td);
    LV.cell(tr, reg.type, "text");
    LV.cell(tr, LV.describe(reg), "text");
    const del = document.createElement("button");
    del.type = "button"; del.textContent = "delete";
    del.addEventListener("click", LV.guard(() => LV.sendRegions(LV.regions.filter((r, j) => j !== i))));
    const tdd = document.createElement("td"); tdd.appendChild(del); tr.appendChild(tdd);
    list.appendChild(tr);
  });
};

/* The bootstrap row of one region for one method, when the uncertainty was computed. */
LV.uncertaintyRow = function (region, method) {
  const rows = ((LV.table && LV.table.uncertainty) || {})[method] || [];
  return rows.find((r) => r.kind === "region" && r.name === region) || null;
};

/* "108 ± 0.4 ms": a position with the 68 % half-width of its log10 turned into its unit. */
LV.fmtPosPm = function (value, logPm, kind) {
  if (logPm === undefined || logPm === null) return LV.fmtPos(value, kind);
  const f = LV.factor(kind);
  const pm = value * Math.LN10 * logPm * f;
  return `${LV.fmt(value * f)} ± ${LV.fmt(pm, 2)} ${LV.unit(kind)}`;
};

LV.fmtFraction = (value, pm) =>
  (pm === undefined || pm === null ? `${(100 * value).toFixed(1)} %` : `${(100 * value).toFixed(1)} ± ${(100 * pm).toFixed(1)} %`);

LV.renderRegionStats = function () {
  const table = document.getElementById("region-table");
  table.innerHTML = "";
  const info = LV.table || {};
  const msg = document.getElementById("region-msg");
  msg.textContent = info.message || (LV.regions.length ? "" : "Draw a box or polygon on a map, or add a cut-off.");
  if (!info.rows || !info.rows.length) return;
  const [k1, k2] = LV.results.length ? LV.results[0].kinds : ["T1_IR", "T2"];
  const n1 = LV.axisName(k1);
  const n2 = LV.axisName(k2);
  LV.header(table, ["region", "method", "fraction", n1, n2, `${n1} width (dec)`, `${n2} width (dec)`, "T1/T2"]);
  info.rows.forEach((row) => {
    const unc = LV.uncertaintyRow(row.region, row.method) || {};
    const tr = document.createElement("tr");
    tr.dataset.region = row.region;
    tr.dataset.method = row.method;
    LV.cell(tr, row.region, "text");
    LV.cell(tr, row.method, "text");
    LV.cell(tr, LV.fmtFraction(row.fraction, unc.fraction_pm68), "fraction");
    LV.cell(tr, row.position.length > 0 ? LV.fmtPosPm(row.position[0], unc.log_position1_pm68, k1) : "—");
    LV.cell(tr, row.position.length > 1 ? LV.fmtPosPm(row.position[1], unc.log_position2_pm68, k2) : "—");
    LV.cell(tr, row.log_width.length > 0 ? LV.fmt(row.log_width[0], 2) : "—");
    LV.cell(tr, row.log_width.length > 1 ? LV.fmt(row.log_width[1], 2) : "—");
    LV.cell(tr, row.ratio === null ? "—" : LV.fmt(row.ratio));
    table.appendChild(tr);
  });
};

LV.uncertaintyCells = function (row, kinds) {
  const [k1, k2] = kinds;
  const pct = (v) => (100 * v).toFixed(1);
  const range = (lo, hi, k) => `${LV.fmt(lo * LV.factor(k))} – ${LV.fmt(hi * LV.factor(k))} ${LV.unit(k)}`;
  const cells = [row.kind, row.name, LV.fmtFraction(row.fraction, row.fraction_pm68),
    `${pct(row.fraction_lo95)} – ${pct(row.fraction_hi95)} %`];
  cells.push(LV.fmtPosPm(row.position1, row.log_position1_pm68, k1), range(row.position1_lo95, row.position1_hi95, k1));
  if (row.position2 !== undefined) {
    cells.push(LV.fmtPosPm(row.position2, row.log_position2_pm68, k2), range(row.position2_lo95, row.position2_hi95, k2));
  } else {
    cells.push("—", "—");
  }
  cells.push(row.calibrated ? "yes" : "no");
  return cells;
};

LV.renderUncertainty = function () {
  const box = document.getElementById("uncertainty");
  box.innerHTML = "";
  const unc = (LV.table && LV.table.uncertainty) || {};
  const kinds = LV.results.length ? LV.results[0].kinds : ["T1_IR", "T2"];
  const [n1, n2] = kinds.map(LV.axisName);
  Object.keys(unc).forEach((label) => {
    const rows = unc[label];
    if (!rows.length) return;
    const h = document.createElement("h4");
    h.textContent = `Uncertainty of ${label} (bootstrap; ± is the 68 % interval)`;
    box.appendChild(h);
    const table = document.createElement("table");
    table.className = "grid uncertainty";
    table.dataset.method = label;
    LV.header(table, ["kind", "name", "fraction", "fraction 95 %", n1, `${n1} 95 %`, n2, `${n2} 95 %`, "calibrated"]);
    rows.forEach((row) => {
      const tr = document.createElement("tr");
      LV.uncertaintyCells(row, kinds).forEach((text, i) => LV.cell(tr, text, i < 2 ? "text" : ""));
      table.appendChild(tr);
    });
    box.appendChild(table);
  });
};

LV.renderRegions = function () {
  LV.renderRegionList();
  LV.renderRegionStats();
  LV.renderUncertainty();
};

LV.addCutoff = async function () {
  const axis = parseInt(document.getElementById("cutoff-axis").value, 10);
  const side = document.getElementById("cutoff-side").value;
  const raw = parseFloat(document.getElementById("cutoff-value").value);
  if (!(raw > 0)) throw new Error("enter a positive cut-off value in the display unit");
  const kinds = LV.results.length ? LV.results[0].kinds : (LV.acq ? LV.acq.kernel_kinds : ["T1_IR", "T2"]);
  const value = raw / LV.factor(kinds[axis - 1]);
  const reg = { name: LV.nextName("cutoff"), type: "cutoff", axis: axis, value: value, side: side };
  await LV.sendRegions(LV.regions.concat([reg]));
};

LV.loadRegions = async function (input) {
  const file = input.files[0];
  input.value = "";
  if (!file) return;
  const content = await file.text();
  try {
    const data = await LV.post("/api/regions/load", { filename: file.name, content });
    LV.regions = data.regions;
    LV.table = Object.assign({}, LV.table || {}, data.table);
    LV.setStatus(`loaded ${data.regions.length} region(s) from ${file.name}`);
  } finally {
    LV.renderMaps();
    LV.renderRegions();
  }
};
