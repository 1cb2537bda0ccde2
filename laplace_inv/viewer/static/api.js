/* Talking to the viewer server, errors, status and units. Every request carries this tab's
   session id, so tabs never share state. */
"use strict";

const LV = {
  sid: null,
  info: null,
  acq: null,
  results: [],
  zmax: 1,
  regions: [],
  table: null,
  opts: { units: "ms", intensity: "linear", dragmode: "zoom" },
};

LV.post = async function (path, payload) {
  const reply = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Session": LV.sid || "" },
    body: JSON.stringify(payload || {}),
  });
  let data = null;
  try {
    data = await reply.json();
  } catch (err) {
    throw new Error(`the server answered ${reply.status} without JSON`);
  }
  if (!reply.ok) throw new Error(data.error || reply.statusText);
  return data;
};

/* POST, then save the reply as a file in the browser's download folder. */
LV.download = async function (path, payload) {
  const reply = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Session": LV.sid || "" },
    body: JSON.stringify(payload || {}),
  });
  if (!reply.ok) {
    const data = await reply.json().catch(() => ({}));
    throw new Error(data.error || reply.statusText);
  }
  const disposition = reply.headers.get("Content-Disposition") || "";
  const match = /filename="([^"]+)"/.exec(disposition);
  const filename = match ? match[1] : "download";
  const blob = await reply.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
  return { filename, blob };
};

LV.showError = function (message) {
  document.getElementById("error-text").textContent = message;
  document.getElementById("error").classList.remove("hidden");
};

LV.clearError = function () {
  document.getElementById("error").classList.add("hidden");
  document.getElementById("error-text").textContent = "";
};

LV.setStatus = function (message) {
  document.getElementById("status").textContent = message;
};

/* Wrap an async handler: its errors are shown in the page, never lost in the console. */
LV.guard = function (fn) {
  return async function (...args) {
    try {
      LV.clearError();
      return await fn.apply(this, args);
    } catch (err) {
      LV.showError(err.message || String(err));
      return undefined;
    }
  };
};

LV.axisName = (kind) => ({ T1_IR: "T1", T1_SR: "T1", T2: "T2", D: "D" }[kind] || kind);
LV.factor = (kind) => (kind === "D" ? 1 : LV.opts.units === "ms" ? 1e3 : 1);
LV.unit = (kind) => (kind === "D" ? "m²/s" : LV.opts.units);
LV.axisTitle = (kind) => `${LV.axisName(kind)} (${LV.unit(kind)})`;

LV.fmt = function (value, digits) {
  if (value === null || value === undefined || !isFinite(value)) return "—";
  const d = digits || 3;
  const a = Math.abs(value);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return value.toExponential(d - 1);
  return Number(value.toPrecision(d)).toString();
};

/* A position in SI units shown in the display unit of its axis. */
LV.fmtPos = (value, kind) =>
  (value === null || value === undefined ? "—" : `${LV.fmt(value * LV.factor(kind))} ${LV.unit(kind)}`);

/* Tick values (log10 of SI) and labels (display unit) for the decades in [lo, hi]. */
LV.decadeTicks = function (lo, hi, kind) {
  const vals = [];
  const text = [];
  for (let v = Math.ceil(lo - 1e-9); v <= Math.floor(hi + 1e-9); v += 1) {
    vals.push(v);
    text.push(LV.fmt(Math.pow(10, v) * LV.factor(kind), 2));
  }
  return { tickvals: vals, ticktext: text };
};

LV.log10 = (arr) => arr.map((v) => Math.log10(v));
