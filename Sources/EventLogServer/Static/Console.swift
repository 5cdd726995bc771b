extension StaticFiles {
    /// The web console at `/console`: plain HTML, CSS and JavaScript on `logd.js` and the HTTP
    /// API (Docs/HTTP-API.md, "Web console").
    static let consoleHTML = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>logd console</title>
<style>
  :root { --bg: #f6f7f9; --panel: #fff; --ink: #1d2433; --dim: #687085; --line: #e2e5eb; --accent: #2f6fde; --bad: #c53030; --good: #2f855a; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--ink); }
  header { display: flex; gap: 12px; align-items: center; padding: 10px 16px; background: var(--ink); color: #fff; flex-wrap: wrap; }
  header h1 { font-size: 16px; margin: 0 8px 0 0; }
  header input { width: 220px; max-width: 100%; }
  .dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; background: var(--dim); margin-right: 6px; }
  .dot.open { background: #48bb78; } .dot.reconnecting, .dot.connecting { background: #ecc94b; } .dot.closed { background: var(--bad); }
  main { display: grid; grid-template-columns: minmax(260px, 360px) 1fr; gap: 12px; padding: 12px; }
  main > div { min-width: 0; }
  @media (max-width: 760px) {
    main { grid-template-columns: 1fr; padding: 6px; gap: 6px; }
    header { padding: 8px; gap: 6px; } header input { width: 100%; }
    section { padding: 8px; }
    th, td { padding: 3px 4px; }
    .wide { display: none; }
  }
  section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px; margin-bottom: 12px; overflow-x: auto; }
  h2 { font-size: 14px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em; color: var(--dim); }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { color: var(--dim); font-weight: 600; font-size: 12px; }
  td.num { font-variant-numeric: tabular-nums; text-align: right; white-space: nowrap; }
  td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
  tr.topic, tr.group { cursor: pointer; } tr.topic.selected, tr.group.selected { background: #eaf1fd; }
  pre { margin: 0; white-space: pre-wrap; word-break: break-word; font: 12px/1.35 ui-monospace, SFMono-Regular, Menlo, monospace; max-height: 12em; overflow: auto; }
  form, .row { display: flex; gap: 6px; flex-wrap: wrap; align-items: center; margin: 6px 0; }
  input, select, textarea, button { font: inherit; padding: 4px 6px; border: 1px solid var(--line); border-radius: 4px; max-width: 100%; }
  textarea { width: 100%; min-height: 4em; font-family: ui-monospace, monospace; }
  button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
  button.secondary { background: #fff; color: var(--ink); border-color: var(--line); }
  button.danger { background: var(--bad); border-color: var(--bad); }
  .error { color: var(--bad); min-height: 1.2em; }
  .dim { color: var(--dim); }
  svg.spark { width: 90px; height: 20px; }
  svg.spark polyline { fill: none; stroke: var(--accent); stroke-width: 1.5; }
  .notice td { color: var(--bad); font-style: italic; }
</style>
</head>
<body>
<header>
  <h1>logd console</h1>
  <span title="the live tail's connection"><span id="dot" class="dot"></span><span id="state">idle</span> <span id="reconnects" class="dim"></span></span>
  <label>token <input id="token" type="password" placeholder="(none)" autocomplete="off"></label>
</header>
<main>
  <div>
    <section>
      <h2>Topics</h2>
      <table><thead><tr><th>name</th><th>parts</th><th>records</th><th>size</th><th>rec/s</th></tr></thead><tbody id="topics"></tbody></table>
      <form id="create">
        <input name="name" placeholder="new topic" required pattern="[A-Za-z0-9._-]{1,249}" size="12">
        <input name="partitions" type="number" min="1" max="10000" value="1" title="partitions" style="width:5em">
        <select name="compression"><option>none</option><option>lz4</option><option>zstd</option></select>
        <input name="retention" placeholder="retention ms" size="10">
        <button>create</button>
      </form>
      <div id="topicsError" class="error"></div>
    </section>
    <section>
      <h2>Consumer groups</h2>
      <table><thead><tr><th>group</th><th>state</th><th>members</th><th>partitions</th></tr></thead><tbody id="groups"></tbody></table>
      <form id="groupForm"><input name="group" placeholder="group name" required><button>show</button></form>
      <div id="groupPanel" hidden>
        <div class="row"><strong id="groupTitle"></strong> <span id="groupSummary" class="dim"></span></div>
        <table><thead><tr><th>member</th><th>topics</th><th>assignment</th></tr></thead><tbody id="members"></tbody></table>
        <table><thead><tr><th>topic/partition</th><th>member</th><th>committed</th><th>end</th><th>lag</th><th>lag history</th></tr></thead><tbody id="lag"></tbody></table>
      </div>
      <div id="groupError" class="error"></div>
    </section>
  </div>
  <div>
    <section id="topicPanel" hidden>
      <h2 id="topicTitle">Topic</h2>
      <table><thead><tr><th>partition</th><th>start</th><th>end</th><th>size</th><th>rec/s</th></tr></thead><tbody id="partitions"></tbody></table>
      <div class="row"><span id="config" class="dim"></span></div>
      <form id="alter" title="Change retention, cleanup policy, durability or grow the partitions (compression and segment size are fixed)">
        <label>partitions <input name="partitions" type="number" min="1" max="10000" step="1" style="width:6em" title="more partitions (never fewer)"></label>
        <label>retention ms <input name="retention_ms" type="number" min="-1" step="1" style="width:9em" title="-1: keep records whatever their age"></label>
        <label>retention bytes <input name="retention_bytes" type="number" min="-1" step="1" style="width:9em" title="-1: no limit"></label>
        <select name="cleanup_policy" title="cleanup policy"><option>delete</option><option>compact</option><option>compact,delete</option></select>
        <select name="durability" title="durability"><option>fsync</option><option>interval</option><option>none</option></select>
        <input name="durability_interval_ms" type="number" min="1" max="86400000" step="1" placeholder="interval ms" title="with interval durability: ms between syncs" style="width:7em">
        <button>alter</button> <span id="altered" class="dim"></span>
      </form>
      <div id="alterError" class="error"></div>
      <div class="row"><button id="delete" class="danger">delete topic</button></div>
    </section>
    <section id="producePanel" hidden>
      <h2>Produce</h2>
      <form id="produce">
        <input name="key" placeholder="key (optional)">
        <input name="type" placeholder="type (optional)">
        <textarea name="value" placeholder='value: JSON ({"total": 12.5}) or text'></textarea>
        <button>append</button> <span id="produced" class="dim"></span>
      </form>
      <div id="produceError" class="error"></div>
    </section>
    <section id="tailPanel" hidden>
      <h2>Live tail</h2>
      <div class="row">
        <button id="pause" class="secondary">pause</button>
        <select id="filterField" title="what the filter matches"><option value="any">key, type or value</option><option value="key">key</option><option value="type">type</option></select>
        <input id="filter" placeholder="filter" size="12">
        <span id="tailCount" class="dim"></span>
      </div>
      <form id="resume" title="Restart the tail from an offset (on every partition) or from a time">
        <select id="fromKind"><option value="latest">from now</option><option value="earliest">from the start</option><option value="offset">from offset</option><option value="time">from time</option></select>
        <input id="from" placeholder="offset, or 2026-12-01T09:00:00Z" size="22">
        <button id="restart" class="secondary">restart tail</button>
        <span id="fromError" class="error"></span>
      </form>
      <table><thead><tr><th>partition/offset</th><th>time</th><th>key</th><th>type</th><th>value</th></tr></thead><tbody id="tail"></tbody></table>
    </section>
  </div>
</main>
<script src="/logd.js"></script>
<script>
"use strict";
const $ = id => document.getElementById(id);
// The token is typed once: kept in this browser's local storage, sent with every call.
const tokenInput = $("token");
tokenInput.value = localStorage.getItem("logd-token") || "";
tokenInput.addEventListener("change", () => { localStorage.setItem("logd-token", tokenInput.value); refreshTopics(); refreshGroups(); restartTail(true); });
const token = () => tokenInput.value || undefined;

async function api(method, path, body) {
  const headers = {};
  if (token()) headers.Authorization = "Bearer " + token();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 204) return null;
  const answer = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((answer.error || r.status) + ": " + (answer.message || r.statusText));
  return answer;
}
const topicPath = name => "/v1/topics/" + encodeURIComponent(name);
const groupPath = name => "/v1/groups/" + encodeURIComponent(name);
const text = (tag, value, cls) => { const e = document.createElement(tag); e.textContent = value; if (cls) e.className = cls; return e; };
const bytes = n => n < 1024 ? n + " B" : n < 1048576 ? (n / 1024).toFixed(1) + " KiB" : n < 1073741824 ? (n / 1048576).toFixed(1) + " MiB" : (n / 1073741824).toFixed(2) + " GiB";

// Topics, refreshed every 2 s; the append rate is the change of the end offsets between two readings.
let selected = null, lastEnds = {}, lastTime = 0;
const rate = (key, end, now) => {
  const r = lastTime && lastEnds[key] !== undefined ? ((end - lastEnds[key]) * 1000 / (now - lastTime)).toFixed(1) : "";
  lastEnds[key] = end;
  return r;
};
async function refreshTopics() {
  try {
    const { topics } = await api("GET", "/v1/topics");
    const now = Date.now(), body = $("topics");
    body.replaceChildren();
    const names = new Set(topics.map(t => t.name));
    for (const key of Object.keys(lastEnds)) if (!names.has(key.split("#")[0])) delete lastEnds[key];
    for (const t of topics.sort((a, b) => a.name.localeCompare(b.name))) {
      const records = t.partitions.reduce((n, p) => n + p.end_offset - p.start_offset, 0);
      const end = t.partitions.reduce((n, p) => n + p.end_offset, 0);
      const size = t.partitions.reduce((n, p) => n + p.size_bytes, 0);
      const row = document.createElement("tr");
      row.className = "topic" + (t.name === selected ? " selected" : "");
      row.dataset.topic = t.name;
      row.append(text("td", t.name), text("td", t.partitions.length, "num"), text("td", records, "num"),
                 text("td", bytes(size), "num"), text("td", rate(t.name, end, now), "num"));
      row.addEventListener("click", () => select(t.name));
      body.append(row);
      if (t.name === selected) showTopic(t, now);
    }
    lastTime = now;
    $("topicsError").textContent = "";
  } catch (e) { $("topicsError").textContent = e.message; }
}

function showTopic(t, now) {
  $("topicTitle").textContent = "Topic " + t.name;
  const body = $("partitions");
  body.replaceChildren();
  for (const p of t.partitions) {
    const row = document.createElement("tr");
    row.append(text("td", p.partition), text("td", p.start_offset, "num"), text("td", p.end_offset, "num"),
               text("td", bytes(p.size_bytes), "num"), text("td", rate(t.name + "#" + p.partition, p.end_offset, now), "num"));
    body.append(row);
  }
  $("config").textContent = Object.entries(t.config || {}).map(([k, v]) => k + "=" + v).join("  ");
  if (alterFormTopic !== t.name) fillAlterForm(t);
}

// The alter form shows the selected topic's settings; it is filled when another topic is
// shown or after a change, never while someone edits it (the list refreshes every 2 s).
let alterFormTopic = null, alterFormPartitions = 0;
function fillAlterForm(t) {
  const f = $("alter"), c = t.config || {};
  f.partitions.value = c.partitions; f.partitions.min = c.partitions; alterFormPartitions = c.partitions;
  f.retention_ms.value = c.retention_ms; f.retention_bytes.value = c.retention_bytes;
  f.cleanup_policy.value = c.cleanup_policy; f.durability.value = c.durability;
  f.durability_interval_ms.value = c.durability_interval_ms || "";
  alterFormTopic = t.name;
  $("altered").textContent = ""; $("alterError").textContent = "";
}

function select(name) {
  selected = name;
  alterFormTopic = null;
  for (const id of ["topicPanel", "producePanel", "tailPanel"]) $(id).hidden = false;
  refreshTopics();
  restartTail(false);
}

// The live tail: newest first, at most 500 rows kept; whole records (format=envelope), so
// each row has its key and time as well as its value.
let sub = null, paused = false, buffered = [], count = 0, reconnects = 0;
function setState(s) {
  if (s === "reconnecting") reconnects++;
  $("dot").className = "dot " + s; $("state").textContent = s;
  $("reconnects").textContent = reconnects ? "(" + reconnects + (reconnects === 1 ? " reconnect)" : " reconnects)") : "";
}
// Where a restart starts: latest, earliest, an offset (on every partition) or time:<ms>.
function startFrom() {
  const kind = $("fromKind").value, value = $("from").value.trim();
  $("fromError").textContent = "";
  if (kind === "offset") {
    if (!/^\d+$/.test(value)) { $("fromError").textContent = "an offset is a number: 0, 1, 2…"; return null; }
    return value;
  }
  if (kind === "time") {
    const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (!Number.isFinite(ms)) { $("fromError").textContent = "a time is 2026-12-01T09:00:00Z, 2026-12-01 09:00 or milliseconds"; return null; }
    return "time:" + ms;
  }
  return kind;
}
// `resume`: go on from where the tail is (to listen to one more type): nothing lost or repeated.
function restartTail(resume) {
  const cursor = resume === true && sub ? sub.cursor() : null;
  const from = cursor === null ? startFrom() : "latest";
  if (from === null) return;
  if (sub) sub.close();
  if (!selected) return;
  if (cursor === null) { $("tail").replaceChildren(); count = 0; buffered = []; reconnects = 0; }
  sub = logd.subscribe(selected, {
    from, cursor: cursor === null ? undefined : cursor, token: token(), types: typesSeen(), format: "envelope",
    onRecord: r => { count++; paused ? buffered.push(r) : addRow(r); $("tailCount").textContent = count + " records" + (paused ? ", " + buffered.length + " held" : ""); },
    onGap: g => addNotice("gap on partition " + g.partition + ": offsets " + g.requested + ".." + (g.resumed_from - 1) + " " + (g.reason || "deleted")),
    onReset: g => addNotice("reset on partition " + g.partition + ": resumed at " + g.resumed_from),
    onState: setState,
  });
}
// EventSource delivers typed events only to listeners of their name: listen to the types
// this console has seen produced, and to the ones a user names in the filter.
function typesSeen() {
  const types = JSON.parse(localStorage.getItem("logd-types") || "[]");
  const f = $("filter").value.trim();
  if (f && $("filterField").value !== "key" && /^[\w.-]+$/.test(f)) types.push(f);
  return types;
}
function rememberType(t) {
  const types = new Set(JSON.parse(localStorage.getItem("logd-types") || "[]"));
  if (t && !types.has(t)) { types.add(t); localStorage.setItem("logd-types", JSON.stringify([...types].slice(-50))); return true; }
  return false;
}
const shown = v => v === null || v === undefined ? "" : typeof v === "object" && "b64" in v ? "base64:" + v.b64 : String(v);
function matches(r) {
  const f = $("filter").value.trim().toLowerCase(), field = $("filterField").value;
  if (!f) return true;
  const key = shown(r.key).toLowerCase(), type = (r.type || "").toLowerCase();
  if (field === "key") return key === f;
  if (field === "type") return type === f;
  return key === f || type === f || r.data.toLowerCase().includes(f);
}
function addRow(r) {
  if (!matches(r)) return;
  const row = document.createElement("tr");
  const value = typeof r.value === "object" && r.value !== null ? JSON.stringify(r.value, null, 2) : String(r.value);
  const pre = text("pre", value), cell = document.createElement("td");
  cell.append(pre);
  const time = r.timestamp === undefined ? "" : new Date(r.timestamp).toISOString().replace("T", " ").replace("Z", "");
  const at = text("td", r.partition + "/" + r.offset, "num");
  at.dataset.partition = r.partition; at.dataset.offset = r.offset;
  const when = text("td", time, "time");
  when.title = r.timestamp;
  row.append(at, when, text("td", shown(r.key)), text("td", r.type || ""), cell);
  const body = $("tail");
  body.prepend(row);
  while (body.children.length > 500) body.lastChild.remove();
}
function addNotice(message) {
  const row = document.createElement("tr");
  row.className = "notice";
  const cell = text("td", message);
  cell.colSpan = 5;
  row.append(cell);
  $("tail").prepend(row);
}
$("pause").addEventListener("click", () => {
  paused = !paused;
  $("pause").textContent = paused ? "resume" : "pause";
  if (!paused) { buffered.forEach(addRow); buffered = []; $("tailCount").textContent = count + " records"; }
});
$("resume").addEventListener("submit", e => { e.preventDefault(); restartTail(false); });
$("fromKind").addEventListener("change", () => { $("from").disabled = !["offset", "time"].includes($("fromKind").value); });
$("from").disabled = true;
$("filter").addEventListener("change", () => restartTail(true));
$("filterField").addEventListener("change", () => restartTail(true));

$("create").addEventListener("submit", async e => {
  e.preventDefault();
  const f = new FormData(e.target), settings = { partitions: Number(f.get("partitions")), compression: f.get("compression") };
  if (f.get("retention")) settings.retention_ms = Number(f.get("retention"));
  try { await api("PUT", topicPath(f.get("name")), settings); e.target.reset(); select(f.get("name")); }
  catch (err) { $("topicsError").textContent = err.message; }
});
$("alter").addEventListener("submit", async e => {
  e.preventDefault();
  if (!selected) return;
  const f = new FormData(e.target), settings = { cleanup_policy: f.get("cleanup_policy"), durability: f.get("durability") };
  for (const k of ["retention_ms", "retention_bytes"]) if (f.get(k) !== "") settings[k] = Number(f.get(k));
  if (f.get("partitions") !== "" && Number(f.get("partitions")) !== alterFormPartitions) settings.partitions = Number(f.get("partitions"));
  if (settings.durability === "interval" && f.get("durability_interval_ms") !== "") settings.durability_interval_ms = Number(f.get("durability_interval_ms"));
  try {
    const t = await api("PATCH", topicPath(selected) + "/config", settings);
    showTopic(t, Date.now()); fillAlterForm(t);
    $("altered").textContent = "saved";
  } catch (err) { $("alterError").textContent = err.message; }
});
$("delete").addEventListener("click", async () => {
  if (!selected || !confirm("Delete topic " + selected + " and all its records?")) return;
  try { await api("DELETE", topicPath(selected)); if (sub) sub.close(); selected = null; for (const id of ["topicPanel", "producePanel", "tailPanel"]) $(id).hidden = true; refreshTopics(); }
  catch (err) { $("topicsError").textContent = err.message; }
});
$("produce").addEventListener("submit", async e => {
  e.preventDefault();
  const f = new FormData(e.target), raw = f.get("value");
  let value; try { value = JSON.parse(raw); } catch (_) { value = raw; }
  const record = { value };
  if (f.get("key")) record.key = f.get("key");
  if (f.get("type")) record.headers = { type: f.get("type") };
  try {
    const offsets = await logd.produce(selected, [record], { token: token() });
    $("produced").textContent = "appended at partition " + offsets[0].partition + ", offset " + offsets[0].offset;
    $("produceError").textContent = "";
    if (rememberType(f.get("type"))) restartTail(true);
  } catch (err) { $("produceError").textContent = err.message; }
});

// Consumer groups: the list, and the chosen group's members, assignment, commits and lag,
// every 2 s. The lag sparkline keeps the last 30 readings per partition (a minute), in this
// page only; it starts again when another group is chosen.
let group = null, history = {};
const HISTORY = 30;
function showGroup(name) { group = name; history = {}; $("groupPanel").hidden = false; refreshGroups(); refreshGroup(); }
$("groupForm").addEventListener("submit", e => { e.preventDefault(); showGroup(new FormData(e.target).get("group")); });
async function refreshGroups() {
  try {
    const { groups } = await api("GET", "/v1/groups");
    const body = $("groups");
    body.replaceChildren();
    for (const g of groups.sort((a, b) => a.name.localeCompare(b.name))) {
      const row = document.createElement("tr");
      row.className = "group" + (g.name === group ? " selected" : "");
      row.dataset.group = g.name;
      row.append(text("td", g.name), text("td", g.state), text("td", g.members, "num"), text("td", g.partitions_committed, "num"));
      row.addEventListener("click", () => showGroup(g.name));
      body.append(row);
    }
  } catch (e) { $("groupError").textContent = e.message; }
}
function sparkline(values) {
  const max = Math.max(1, ...values), ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg"), line = document.createElementNS(ns, "polyline");
  svg.setAttribute("class", "spark"); svg.setAttribute("viewBox", "0 0 90 20");
  svg.dataset.samples = values.length;
  line.setAttribute("points", values.map((v, i) => (i * 3) + "," + (19 - 18 * v / max)).join(" "));
  svg.append(line);
  return svg;
}
async function refreshGroup() {
  if (!group) return;
  try {
    const [described, lag] = await Promise.all([api("GET", groupPath(group)), api("GET", groupPath(group) + "/lag")]);
    $("groupTitle").textContent = "Group " + group;
    $("groupSummary").textContent = described.state + ", generation " + described.generation + ", " + described.members.length + " members";
    const owner = {}, members = $("members");
    members.replaceChildren();
    for (const m of described.members) {
      for (const a of m.assignment || []) owner[a.topic + "/" + a.partition] = m.member_id;
      const row = document.createElement("tr");
      row.append(text("td", m.member_id), text("td", (m.topics || []).join(", ")),
                 text("td", (m.assignment || []).map(a => a.topic + "/" + a.partition).join(", ")));
      members.append(row);
    }
    const body = $("lag"), keys = new Set();
    body.replaceChildren();
    for (const p of lag.partitions) {
      const key = p.topic + "/" + p.partition;
      keys.add(key);
      (history[key] = history[key] || []).push(p.lag);
      if (history[key].length > HISTORY) history[key].shift();
      const row = document.createElement("tr"), spark = document.createElement("td");
      row.dataset.partition = key;
      spark.append(sparkline(history[key]));
      row.append(text("td", key), text("td", owner[key] || ""), text("td", p.committed, "num"), text("td", p.end_offset, "num"), text("td", p.lag, "num"), spark);
      body.append(row);
    }
    for (const key of Object.keys(history)) if (!keys.has(key)) delete history[key];
    $("groupError").textContent = "";
  } catch (e) { $("groupError").textContent = e.message; }
}

refreshTopics();
refreshGroups();
setInterval(refreshTopics, 2000);
setInterval(() => { refreshGroups(); refreshGroup(); }, 2000);
</script>
</body>
</html>
"""#
}
