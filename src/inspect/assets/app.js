// hookbench listen: the inspector page. Plain JS, no dependency, served by the binary.
// Captured requests are untrusted input: everything is inserted with textContent, never as
// HTML.
"use strict";

const PAGE = 100;
const $ = (id) => document.getElementById(id);
const state = { cursors: [], before: null, total: 0, selected: null, shown: [] };
// The per-process token `POST api/requests/{id}/resend` requires (X-Hookbench-Token).
const TOKEN = (document.querySelector('meta[name="hookbench-token"]') || {}).content || "";

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function clock(ns) {
  const d = new Date(Number(BigInt(ns) / 1000000n));
  const p = (n, w) => String(n).padStart(w || 2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function size(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

function filters() {
  return { path: $("f-path").value, status: $("f-status").value.trim(), verdict: $("f-verdict").value };
}

// The same rules as the server's `api/summaries` filters, for rows pushed live.
function matches(s, f) {
  if (f.path && !s.path.includes(f.path)) return false;
  if (f.status) {
    const m = /^(\d)xx$/i.exec(f.status);
    if (m ? Math.floor(s.status / 100) !== Number(m[1]) : String(s.status) !== f.status) return false;
  }
  const vs = Object.values(s.verdicts || {});
  if (f.verdict === "valid" && !(vs.length && vs.every((v) => v === "valid"))) return false;
  if (f.verdict === "invalid" && !vs.some((v) => v !== "valid")) return false;
  if (f.verdict === "none" && vs.length) return false;
  return true;
}

function verdictSpans(verdicts) {
  const td = el("td", null, "verdicts");
  for (const [scheme, v] of Object.entries(verdicts || {})) {
    const span = el("span", `${scheme}: ${v}`, `v ${v === "valid" ? "valid" : "invalid"}`);
    td.appendChild(span);
  }
  return td;
}

// The forward column: where a forwarded or resent request went and what came back.
function forwardCell(s) {
  const f = s.forward;
  let text = s.resend_of ? `↻ #${s.resend_of} ` : "";
  let cls = "forward";
  if (f) {
    if (f.status !== undefined && f.status !== null) {
      text += `→ ${f.status} · ${f.latency_ms} ms`;
      cls += ` status-${Math.floor(f.status / 100)}`;
    } else {
      text += `→ ${f.error || "no answer"}`;
      cls += " status-5";
    }
  }
  const td = el("td", text, cls);
  if (f) td.title = f.to;
  return td;
}

function row(s, fresh) {
  const tr = el("tr", null, "req" + (fresh ? " fresh" : ""));
  tr.dataset.id = s.id;
  tr.appendChild(el("td", s.id));
  tr.appendChild(el("td", clock(s.received_unix_ns)));
  tr.appendChild(el("td", s.method));
  const path = el("td", s.path, "path");
  path.title = s.path;
  tr.appendChild(path);
  tr.appendChild(el("td", size(s.size)));
  tr.appendChild(el("td", s.status, `status status-${Math.floor(s.status / 100)}`));
  tr.appendChild(el("td", s.provider || ""));
  tr.appendChild(verdictSpans(s.verdicts));
  tr.appendChild(forwardCell(s));
  if (state.selected === s.id) tr.classList.add("selected");
  tr.addEventListener("click", () => openDetail(s.id));
  return tr;
}

function renderInfo() {
  $("empty").hidden = state.total > 0;
  $("count").textContent = `${state.total.toLocaleString()} request${state.total === 1 ? "" : "s"}`;
  $("failures").hidden = !state.failures;
  $("failures").textContent = `${(state.failures || 0).toLocaleString()} NOT captured (disk full?): answered 503`;
  const first = state.before === null;
  $("newest").disabled = first;
  const shown = state.shown.length;
  $("older").disabled = shown === 0 || (first && state.total <= shown) || shown < PAGE;
  $("page-info").textContent = first ? "live: newest first" : "older page (paused)";
}

async function load() {
  const f = filters();
  const q = new URLSearchParams({ limit: PAGE });
  for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
  if (state.before !== null) q.set("before", state.before);
  const resp = await fetch(`api/summaries?${q}`);
  const page = await resp.json();
  state.total = page.total;
  state.failures = page.capture_failures;
  state.shown = page.items;
  const body = $("rows");
  body.replaceChildren(...page.items.map((s) => row(s, false)));
  renderInfo();
}

function pushLive(s) {
  if (!matches(s, filters())) return;
  state.total += 1;
  if (state.before !== null) return renderInfo(); // an older page stays still
  state.shown.unshift(s);
  const body = $("rows");
  body.insertBefore(row(s, true), body.firstChild);
  while (state.shown.length > PAGE) {
    state.shown.pop();
    body.removeChild(body.lastChild);
  }
  renderInfo();
}

function b64bytes(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function openDetail(id) {
  state.selected = id;
  for (const tr of document.querySelectorAll("#rows tr")) tr.classList.toggle("selected", Number(tr.dataset.id) === id);
  const resp = await fetch(`api/requests/${id}`);
  if (!resp.ok) return;
  const r = await resp.json();
  if (state.selected !== id) return;
  $("detail").hidden = false;
  $("d-title").textContent = `#${r.id} ${r.method} ${r.path}`;
  const meta = $("d-meta");
  meta.replaceChildren();
  const body = b64bytes(r.body_b64);
  for (const [k, v] of [["received", `${new Date(Number(BigInt(r.received_unix_ns) / 1000000n)).toISOString()}`],
                        ["status answered", r.status], ["provider", r.provider || "not recognised"],
                        ["size", size(body.length)]]) {
    meta.appendChild(el("dt", k));
    meta.appendChild(el("dd", v));
  }
  const f = r.forward;
  const extra = [];
  if (r.resend_of) extra.push(["resend of", `#${r.resend_of}`]);
  if (f) {
    extra.push(["forwarded to", f.to]);
    extra.push(["app answered", f.status !== undefined && f.status !== null ? f.status : `nothing: ${f.error}`]);
    extra.push(["forward latency", `${f.latency_ms} ms`]);
  }
  for (const [k, v] of extra) {
    meta.appendChild(el("dt", k));
    meta.appendChild(el("dd", v, k === "forwarded to" ? "d-forward" : undefined));
  }
  $("resend-to").value = "";
  $("resend-to").placeholder = f ? `blank: ${f.to}` : "http://127.0.0.1:3000 (path appended)";
  $("resend-result").textContent = "";
  const vs = $("d-verdicts");
  vs.replaceChildren();
  const entries = Object.entries(r.verdicts || {});
  if (!entries.length) vs.appendChild(el("li", "not verified (start listen with --verify SCHEME:SECRET)", "muted"));
  for (const [scheme, v] of entries) vs.appendChild(el("li", `${scheme}: ${v}`, `verdict v ${v === "valid" ? "valid" : "invalid"}`));
  const hb = $("d-headers").tBodies[0];
  hb.replaceChildren(...r.headers.map(([n, v]) => {
    const tr = el("tr");
    tr.appendChild(el("td", n));
    tr.appendChild(el("td", v));
    return tr;
  }));
  $("d-size").textContent = size(body.length);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(body);
  $("d-raw").textContent = text;
  let pretty = null;
  try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { pretty = null; }
  $("d-json").hidden = pretty === null;
  $("d-json").textContent = pretty || "";
  $("d-raw-box").open = pretty === null;
  // Built and quoted by the server (one place, POSIX shell words): never assembled here.
  $("curl-text").value = r.curl;
  $("copied").textContent = "";
}

async function copyCurl() {
  const text = $("curl-text").value;
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {
    const t = $("curl-text");
    t.hidden = false;
    t.select();
    document.execCommand("copy");
    t.hidden = true;
  }
  $("copied").textContent = "copied";
}

// Sends the open request again: to the URL typed in (its path appended), else to where it
// was forwarded. The resend comes back over the event stream as a new row.
async function resend(e) {
  if (e) e.preventDefault();
  const id = state.selected;
  if (id === null) return;
  const to = $("resend-to").value.trim();
  const out = $("resend-result");
  out.textContent = "sending…";
  let resp;
  try {
    resp = await fetch(`api/requests/${id}/resend`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hookbench-token": TOKEN },
      body: JSON.stringify(to ? { to } : {}),
    });
  } catch (err) {
    out.textContent = `failed: ${err}`;
    return;
  }
  let r = {};
  try { r = await resp.json(); } catch (_) { r = {}; }
  if (r.id === undefined) out.textContent = `refused (${resp.status}): ${r.error || "no answer"}`;
  else if (r.status !== null && r.status !== undefined) out.textContent = `→ ${r.status} in ${r.latency_ms} ms, captured as #${r.id}`;
  else out.textContent = `→ ${r.error}, captured as #${r.id}`;
}

function connect() {
  const es = new EventSource("events");
  es.onopen = () => { $("conn").textContent = "live"; $("conn").className = "pill on"; };
  es.onerror = () => { $("conn").textContent = "disconnected"; $("conn").className = "pill off"; };
  es.addEventListener("request", (e) => pushLive(JSON.parse(e.data)));
  es.addEventListener("capture-failure", (e) => { state.failures = JSON.parse(e.data).capture_failures; renderInfo(); });
  es.addEventListener("lagged", () => { if (state.before === null) load(); });
}

let debounce = null;
function refilter() {
  clearTimeout(debounce);
  debounce = setTimeout(() => { state.before = null; state.cursors = []; load(); }, 150);
}

$("f-path").addEventListener("input", refilter);
$("f-status").addEventListener("input", refilter);
$("f-verdict").addEventListener("change", refilter);
$("filters").addEventListener("submit", (e) => e.preventDefault());
$("older").addEventListener("click", () => {
  if (!state.shown.length) return;
  state.cursors.push(state.before);
  state.before = state.shown[state.shown.length - 1].id;
  load();
});
$("newest").addEventListener("click", () => { state.before = null; state.cursors = []; load(); });
$("copy-curl").addEventListener("click", copyCurl);
$("resend-box").addEventListener("submit", resend);
$("endpoint").textContent = `send webhooks to ${location.origin}/ (any path)`;
$("example").textContent = `curl -d '{"hello":"world"}' ${location.origin}/webhook`;
load();
connect();
