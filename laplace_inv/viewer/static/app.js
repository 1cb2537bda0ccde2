/* Page start-up, controls and background jobs. */
"use strict";

LV.fillSelect = function (id, values, selected) {
  const select = document.getElementById(id);
  select.innerHTML = "";
  values.forEach((v) => {
    const opt = document.createElement("option");
    opt.value = v; opt.textContent = v;
    select.appendChild(opt);
  });
  if (selected !== undefined) select.value = selected;
};

LV.showTab = function (name) {
  document.querySelectorAll(".tab").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".tab-page").forEach((p) => p.classList.toggle("hidden", p.id !== `tab-${name}`));
  window.dispatchEvent(new Event("resize"));
  if (name === "res") LV.guard(LV.renderResidual)();
};

LV.applyAcquisition = function (acq) {
  LV.acq = acq;
  LV.results = [];
  LV.fillSelect("kind1", LV.info.kinds, acq.kernel_kinds[0]);
  LV.fillSelect("kind2", LV.info.kinds, acq.kernel_kinds[1]);
  document.getElementById("n-grid").value = acq.n_grid;
  LV.renderSummary();
  LV.renderAcquisition();
};

LV.openPath = async function () {
  const path = document.getElementById("path").value.trim();
  const payload = { path };
  const tau1 = document.getElementById("tau1-path").value.trim();
  if (tau1) {
    payload.tau1_path = tau1;
    payload.tau2_path = document.getElementById("tau2-path").value.trim();
    payload.kinds = [document.getElementById("table-kind1").value, document.getElementById("table-kind2").value];
    payload.time_unit = parseFloat(document.getElementById("time-unit").value) || 1;
  }
  LV.setStatus(`opening ${path} …`);
  LV.applyAcquisition(await LV.post("/api/open", payload));
  await LV.refreshResults();
  LV.setStatus(`opened ${path}`);
  LV.showTab("acq");
};

LV.openDataset = async function () {
  const name = document.getElementById("dataset").value;
  LV.setStatus(`loading ${name} …`);
  LV.applyAcquisition(await LV.post("/api/dataset", { name }));
  await LV.refreshResults();
  LV.setStatus(`loaded ${name}`);
  LV.showTab("acq");
};

LV.applySettings = async function () {
  const payload = {
    kinds: [document.getElementById("kind1").value, document.getElementById("kind2").value],
    n_grid: parseInt(document.getElementById("n-grid").value, 10),
    fit_model: document.getElementById("fit-model").checked,
  };
  const acq = await LV.post("/api/settings", payload);
  LV.acq = acq;
  LV.renderSummary();
  await LV.refreshResults();
  LV.setStatus("kernel settings applied; earlier maps were cleared");
};

LV.methodParams = function (method) {
  if (method === "tikhonov") return { alpha: document.getElementById("tikhonov-alpha").value };
  if (method === "l1") return { alpha: document.getElementById("l1-alpha").value };
  if (method === "dlemlr") return document.getElementById("dlemlr-refine").checked ? { refine: true } : {};
  return {};
};

LV.jobRow = function (job) {
  const row = document.createElement("div");
  row.className = "job";
  row.dataset.job = job.id;
  row.innerHTML = '<div class="label"></div><div class="bar"><span></span></div>';
  document.getElementById("jobs").prepend(row);
  return row;
};

LV.updateJobRow = function (row, job) {
  const label = row.querySelector(".label");
  const bar = row.querySelector(".bar");
  row.dataset.status = job.status;
  const state = job.status === "error" ? `failed: ${job.message}` : job.status === "done" ? "done" : job.message || job.status;
  label.textContent = `${job.title}: ${state} (${job.elapsed.toFixed(1)} s)`;
  row.classList.toggle("error", job.status === "error");
  bar.classList.toggle("indeterminate", job.status === "running" && job.progress === null);
  bar.querySelector("span").style.width = `${100 * (job.progress || 0)}%`;
  if (job.status === "done" || job.status === "error") bar.classList.add("hidden");
};

/* Follow a job until it ends; the page stays usable meanwhile. */
LV.follow = async function (job) {
  const row = LV.jobRow(job);
  LV.updateJobRow(row, job);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    job = await LV.post("/api/job", { id: job.id });
    LV.updateJobRow(row, job);
    if (job.status === "done") return job;
    if (job.status === "error") throw new Error(`${job.title} failed: ${job.message}`);
  }
};

LV.runMethods = async function () {
  const methods = [...document.querySelectorAll("input.method:checked")].map((c) => c.value);
  if (!methods.length) throw new Error("tick at least one method");
  const jobs = [];
  for (const method of methods) {
    jobs.push(await LV.post("/api/run", { method, params: LV.methodParams(method) }));
  }
  LV.showTab("maps");
  LV.setStatus(`running ${methods.join(", ")} …`);
  const errors = [];
  await Promise.all(jobs.map(async (job) => {
    try {
      await LV.follow(job);
      await LV.refreshResults();
    } catch (err) {
      errors.push(err.message);
    }
  }));
  LV.setStatus(errors.length ? "finished with errors" : `finished ${methods.join(", ")}`);
  if (errors.length) throw new Error(errors.join("; "));
};

LV.runUncertainty = async function () {
  const label = document.getElementById("unc-label").value;
  if (!label) throw new Error("run a method first");
  const n = document.getElementById("n-draws").value;
  const job = await LV.post("/api/uncertainty", { label, n_draws: n ? parseInt(n, 10) : null });
  await LV.follow(job);
  await LV.refreshResults();
};

LV.exportFile = async function (what, withLabel) {
  const payload = { what };
  if (withLabel) payload.label = document.getElementById("export-label").value;
  const out = await LV.download("/api/export", payload);
  if (what.startsWith("snippet")) {
    const pre = document.getElementById("snippet");
    pre.textContent = await out.blob.text();
    pre.classList.remove("hidden");
  }
  LV.setStatus(`saved ${out.filename}`);
};

LV.saveRegions = async function (format) {
  const out = await LV.download("/api/regions/save", { format });
  LV.setStatus(`saved ${out.filename}`);
};

LV.bind = function (id, event, fn) {
  document.getElementById(id).addEventListener(event, LV.guard(fn));
};

LV.init = async function () {
  const info = await LV.post("/api/session", {});
  LV.sid = info.session;
  LV.info = info;
  LV.fillSelect("dataset", info.datasets);
  LV.fillSelect("table-kind1", info.kinds, "T1_IR");
  LV.fillSelect("table-kind2", info.kinds, "T2");
  LV.fillSelect("kind1", info.kinds, "T1_IR");
  LV.fillSelect("kind2", info.kinds, "T2");
  document.getElementById("region-msg").textContent = info.regions_message;
  document.getElementById("uncertainty-box").classList.toggle("hidden", !info.uncertainty_available);
  document.querySelectorAll(".tab").forEach((b) => b.addEventListener("click", () => LV.showTab(b.dataset.tab)));
  document.getElementById("error-close").addEventListener("click", LV.clearError);
  LV.bind("open-path", "click", LV.openPath);
  document.getElementById("path").addEventListener("keydown", (ev) => { if (ev.key === "Enter") LV.guard(LV.openPath)(); });
  LV.bind("open-dataset", "click", LV.openDataset);
  LV.bind("apply-settings", "click", LV.applySettings);
  LV.bind("run", "click", LV.runMethods);
  LV.bind("run-uncertainty", "click", LV.runUncertainty);
  LV.bind("intensity", "change", () => { LV.opts.intensity = document.getElementById("intensity").value; LV.renderMaps(); });
  LV.bind("units", "change", () => {
    LV.opts.units = document.getElementById("units").value;
    LV.renderSummary(); LV.renderAcquisition(); LV.renderMaps(); LV.renderRegions();
  });
  LV.bind("res-label", "change", LV.renderResidual);
  LV.bind("mode-box", "click", () => LV.setDragmode("drawrect"));
  LV.bind("mode-polygon", "click", () => LV.setDragmode("drawclosedpath"));
  LV.bind("mode-zoom", "click", () => LV.setDragmode("zoom"));
  LV.bind("add-cutoff", "click", LV.addCutoff);
  LV.bind("save-toml", "click", () => LV.saveRegions("toml"));
  LV.bind("save-json", "click", () => LV.saveRegions("json"));
  LV.bind("load-regions", "change", () => LV.loadRegions(document.getElementById("load-regions")));
  LV.bind("clear-regions", "click", () => LV.sendRegions([]));
  LV.bind("export-png", "click", () => LV.exportFile("figure-png"));
  LV.bind("export-svg", "click", () => LV.exportFile("figure-svg"));
  LV.bind("export-npz", "click", () => LV.exportFile("map-npz", true));
  LV.bind("export-csv", "click", () => LV.exportFile("map-csv", true));
  LV.bind("export-regions", "click", () => LV.exportFile("regions-csv"));
  LV.bind("export-python", "click", () => LV.exportFile("snippet-python"));
  LV.bind("export-cli", "click", () => LV.exportFile("snippet-cli"));
  const open = new URLSearchParams(window.location.search).get("open");
  if (open) {
    document.getElementById("path").value = open;
    await LV.openPath();
  }
  document.body.dataset.ready = "1";
  LV.setStatus("ready");
};

window.addEventListener("DOMContentLoaded", LV.guard(LV.init));
