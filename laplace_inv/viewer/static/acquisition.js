/* Data-space views: the acquisition (decay curves along both axes) and the residuals. */
"use strict";

LV.plotConfig = { displaylogo: false, responsive: true };

LV.renderSummary = function () {
  const acq = LV.acq;
  const box = document.getElementById("acq-summary");
  if (!acq) { box.innerHTML = ""; return; }
  const [k1, k2] = acq.kinds;
  const items = [
    ["source", acq.source],
    ["format", acq.format || "—"],
    ["size", `${acq.shape[0]} × ${acq.shape[1]}`],
    ["kinds", `${k1} – ${k2}`],
    ["axis 1", `${LV.fmtTau(acq.tau1[0], k1)} … ${LV.fmtTau(acq.tau1[acq.tau1.length - 1], k1)}`],
    ["axis 2", `${LV.fmtTau(acq.tau2[0], k2)} … ${LV.fmtTau(acq.tau2[acq.tau2.length - 1], k2)}`],
    ["noise σ", acq.noise_std === null ? "estimated per method" : LV.fmt(acq.noise_std)],
    ["grid", `${acq.n_grid} × ${acq.n_grid}, kinds ${acq.kernel_kinds.join(" – ")}`],
  ];
  box.innerHTML = "<dl>" + items.map(([k, v]) => `<dt>${k}</dt><dd></dd>`).join("") + "</dl>";
  box.querySelectorAll("dd").forEach((dd, i) => { dd.textContent = items[i][1]; });
  document.getElementById("source-name").textContent = acq.source;
};

/* tau values of a relaxation axis in the display unit (b-values stay in s/m²). */
LV.tauAxis = function (values, kind) {
  const f = kind === "D" ? 1 : LV.factor(kind);
  return values.map((v) => v * f);
};

/* An acquisition value: a delay in the display unit, or a b-value in s/m². */
LV.fmtTau = (value, kind) => (kind === "D" ? `${LV.fmt(value)} s/m²` : LV.fmtPos(value, kind));

LV.tauTitle = function (kind) {
  const what = { T1_IR: "inversion delay", T1_SR: "recovery delay", T2: "echo time" }[kind];
  return kind === "D" ? "b (s/m²)" : `${what || "time"} (${LV.opts.units})`;
};

LV.renderAcquisition = function () {
  const acq = LV.acq;
  document.getElementById("acq-empty").classList.toggle("hidden", !!acq);
  if (!acq) return;
  const [k1, k2] = acq.kinds;
  const x2 = LV.tauAxis(acq.tau2, k2);
  const rows = acq.rows.map((r, i) => ({
    type: "scatter", mode: "lines", x: x2, y: acq.row_curves[i],
    name: `row ${r + 1}: ${LV.fmtTau(acq.tau1[r], k1)}`,
  }));
  Plotly.react("acq-rows", rows, {
    title: { text: "Decays along axis 2 (one per row)", font: { size: 14 }, x: 0.02, xanchor: "left" },
    xaxis: { type: "log", title: { text: LV.tauTitle(k2) } }, yaxis: { title: { text: "signal" } },
    margin: { l: 60, r: 10, t: 40, b: 50 }, legend: { font: { size: 10 } },
  }, LV.plotConfig);
  const x1 = LV.tauAxis(acq.tau1, k1);
  const cols = acq.cols.map((c, i) => ({
    type: "scatter", mode: "lines+markers", marker: { size: 4 }, x: x1, y: acq.col_curves[i],
    name: `echo ${c + 1}`,
  }));
  Plotly.react("acq-cols", cols, {
    title: { text: "Axis-1 curves (one per echo)", font: { size: 14 }, x: 0.02, xanchor: "left" },
    xaxis: { type: "log", title: { text: LV.tauTitle(k1) } }, yaxis: { title: { text: "signal" } },
    margin: { l: 60, r: 10, t: 40, b: 50 }, legend: { font: { size: 10 } },
  }, LV.plotConfig);
};

LV.renderResidual = async function () {
  const select = document.getElementById("res-label");
  const label = select.value;
  const box = document.getElementById("res-summary");
  if (!label) {
    box.textContent = "Run a method to see its residual.";
    Plotly.purge("res-map");
    Plotly.purge("res-rows");
    return;
  }
  const r = await LV.post("/api/residual", { label });
  const flags = r.flags.length ? r.flags.map((f) => `<li class="flag"></li>`).join("") : "<li>none</li>";
  box.innerHTML = `<dl><dt>relative residual</dt><dd>${LV.fmt(r.relative_residual)}</dd>` +
    `<dt>residual/noise</dt><dd>${LV.fmt(r.residual_to_noise)}</dd>` +
    `<dt>noise σ</dt><dd>${LV.fmt(r.noise_std)}${r.noise_estimated ? " (from the residual)" : ""}</dd>` +
    `<dt>flags</dt><dd><ul class="flags">${flags}</ul></dd></dl>`;
  box.querySelectorAll("li.flag").forEach((li, i) => { li.textContent = r.flags[i]; });
  const acq = LV.acq;
  const [k1, k2] = acq ? acq.kinds : ["T1_IR", "T2"];
  Plotly.react("res-map", [{
    type: "heatmap", x: LV.tauAxis(r.tau2_binned, k2), y: LV.tauAxis(r.tau1, k1),
    z: r.residual_over_noise, zmid: 0, zmin: -4, zmax: 4, colorscale: "RdBu", reversescale: true,
    colorbar: { title: { text: "residual/σ" }, thickness: 12 },
  }], {
    title: { text: `Residual of ${label} in noise units`, font: { size: 14 }, x: 0.02, xanchor: "left" },
    xaxis: { type: "log", title: { text: LV.tauTitle(k2) } },
    yaxis: { type: "log", title: { text: LV.tauTitle(k1) } },
    margin: { l: 60, r: 10, t: 40, b: 50 },
  }, LV.plotConfig);
  const x2 = LV.tauAxis(r.tau2, k2);
  const traces = [];
  r.rows.forEach((row, i) => {
    traces.push({ type: "scatter", mode: "markers", marker: { size: 3 }, x: x2, y: r.data_rows[i], name: `data, row ${row + 1}` });
    traces.push({ type: "scatter", mode: "lines", line: { width: 2 }, x: x2, y: r.fit_rows[i], name: `fit, row ${row + 1}` });
  });
  Plotly.react("res-rows", traces, {
    title: { text: "Data and fit (first, middle, last row)", font: { size: 14 }, x: 0.02, xanchor: "left" },
    xaxis: { type: "log", title: { text: LV.tauTitle(k2) } }, yaxis: { title: { text: "signal" } },
    margin: { l: 60, r: 10, t: 40, b: 50 }, legend: { font: { size: 10 } },
  }, LV.plotConfig);
};
