/// The files `logd` serves itself (`GET /logd.js`), kept in the binary: no build step, no CDN.
enum StaticFiles {
    /// `logd.js`: a thin layer over the browser's `EventSource` and `fetch` (Docs/HTTP-API.md, "logd.js").
    static let logdJS = #"""
// logd.js: subscribe to a logd topic and produce to it from a browser.
// A thin layer over the browser's own EventSource and fetch; no build step, no dependency.
//
//   <script src="/logd.js"></script>
//   const sub = logd.subscribe("orders", {
//     from: "earliest",                 // "latest" (default), an offset or "time:<ms or ISO 8601>"; or cursor: "17,4,-1" to resume
//     types: ["order.created"],         // event types to listen for, besides untyped and binary
//     format: "envelope",               // optional: every record field (key, timestamp, headers), not only the value
//     onRecord: r => console.log(r.partition, r.offset, r.type, r.value, r.key, r.timestamp),
//     onGap: g => console.warn("lost", g), onReset: g => console.warn("reset", g),
//     onState: s => console.log(s),     // "connecting", "open", "reconnecting", "closed"
//   });
//   await logd.produce("orders", [{ key: "order-42", value: { total: 12.5 }, headers: { type: "order.created" } }]);
//   sub.close();
(function (global) {
  "use strict";

  function url(base, path, params) {
    const u = new URL(path, base || global.location.href);
    for (const [k, v] of Object.entries(params || {})) {
      if (v !== undefined && v !== null && v !== "") u.searchParams.set(k, String(v));
    }
    return u.toString();
  }

  function topicPath(topic, rest) {
    return "/v1/topics/" + encodeURIComponent(topic) + rest;
  }

  // The partition whose number moved from `previous` to `current`, and its offset. When
  // several moved (events of types nobody listened to came in between), the record's
  // partition is not known: { partition: null, offset: null }. A cursor gains numbers when
  // its topic grows: the partitions `previous` does not name were at -1.
  function advanced(previous, current) {
    const now = current.split(",");
    let before = previous === null ? null : previous.split(",");
    if (!now.every(n => /^-?\d+$/.test(n))) return null;
    if (before !== null && before.length < now.length) before = before.concat(Array(now.length - before.length).fill("-1"));
    if (before === null || before.length !== now.length) {
      return now.length === 1 ? { partition: 0, offset: Number(now[0]) } : { partition: null, offset: null };
    }
    const moved = [];
    for (let p = 0; p < now.length; p++) if (before[p] !== now[p]) moved.push(p);
    if (moved.length === 0) return null;
    if (moved.length > 1) return { partition: null, offset: null };
    return { partition: moved[0], offset: Number(now[moved[0]]) };
  }

  function parseValue(type, data) {
    if (type === "binary") return data; // base64 of bytes that are not UTF-8
    try { return JSON.parse(data); } catch (e) { return data; }
  }

  // Subscribes to `topic`. The browser's EventSource reconnects by itself and resumes from
  // its Last-Event-ID: no record is lost or repeated. Returns { close(), cursor() }.
  function subscribe(topic, options) {
    const o = options || {};
    let cursor = null;
    let closed = false;
    let source = null;
    let everOpen = false;
    const state = s => { if (o.onState) o.onState(s); };

    function open(from, lastEventID) {
      const params = { group: o.group, access_token: o.token, format: o.format };
      if (lastEventID !== null) params.last_event_id = lastEventID;
      else if (from !== undefined) params.from = from;
      state(everOpen ? "reconnecting" : "connecting");
      source = new EventSource(url(o.baseURL, topicPath(topic, "/events"), params), { withCredentials: !!o.withCredentials });
      source.onopen = () => { everOpen = true; state("open"); };
      source.onerror = () => { if (!closed) state(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting"); };
      const onEvent = e => {
        if (!e.lastEventId) return;
        const previous = cursor;
        cursor = e.lastEventId;
        const type = e.type === "message" ? null : e.type;
        if (o.format === "envelope") {
          // The whole record is in the data: its partition and offset are exact, whatever came before.
          if (!o.onRecord) return;
          const r = JSON.parse(e.data);
          o.onRecord({
            partition: r.partition, offset: r.offset, cursor: cursor, type: r.type, data: e.data,
            value: "value_b64" in r ? { b64: r.value_b64 } : r.value,
            key: "key_b64" in r ? { b64: r.key_b64 } : r.key, timestamp: r.timestamp, headers: r.headers,
          });
          return;
        }
        const at = advanced(previous, cursor);
        if (at === null || !o.onRecord) return;
        o.onRecord({ partition: at.partition, offset: at.offset, cursor: cursor, type: type, data: e.data, value: parseValue(type, e.data) });
      };
      source.addEventListener("message", onEvent);
      for (const t of new Set(["binary"].concat(o.types || []))) source.addEventListener(t, onEvent);
      source.addEventListener("gap", e => { if (o.onGap) o.onGap(JSON.parse(e.data)); });
      source.addEventListener("reset", e => { if (o.onReset) o.onReset(JSON.parse(e.data)); });
      source.addEventListener("token_expired", e => {
        // The token ran out: the server ended the stream. Reopen with a fresh token from the cursor.
        const at = JSON.parse(e.data).cursor;
        source.close();
        if (o.onTokenExpired) {
          Promise.resolve(o.onTokenExpired(at)).then(token => {
            if (!closed && token) { o.token = token; cursor = at; open(undefined, at); }
            else state("closed");
          });
        } else state("closed");
      });
    }

    // The starting checkpoint (an id without data) sets lastEventId without an event, so the
    // cursor of a stream that has delivered nothing yet is only known from `from`.
    // The browser does not fire the stream's starting checkpoint (an id without data), so
    // the cursor a stream starts from is computed here, from the topic's offsets, and the
    // stream opened from it: every record's partition and offset is then exact. (With a
    // group, the group's commit decides the start: the first record's partition is known
    // only on one-partition topics.)
    if (o.cursor !== undefined && o.cursor !== null) {
      cursor = String(o.cursor);
      open(undefined, cursor);
    } else if (o.group) {
      open(o.from === undefined ? "latest" : String(o.from), null);
    } else {
      const from = o.from === undefined ? "latest" : String(o.from);
      const headers = o.token ? { Authorization: "Bearer " + o.token } : {};
      fetch(url(o.baseURL, topicPath(topic, "")), { headers: headers, credentials: o.withCredentials ? "include" : "same-origin" })
        .then(r => r.ok ? r.json() : null)
        .then(t => {
          if (closed) return;
          if (!t || !/^(earliest|latest|\d+)$/.test(from)) { open(from, null); return; }
          cursor = t.partitions.map(p => {
            const at = from === "earliest" ? p.start_offset : from === "latest" ? p.end_offset : Math.min(Number(from), p.end_offset);
            return String(at - 1);
          }).join(",");
          open(undefined, cursor);
        }, () => { if (!closed) open(from, null); });
    }
    return {
      close() { closed = true; if (source) source.close(); state("closed"); },
      cursor() { return cursor; },
    };
  }

  // Appends `records` ([{key, value, headers, partition, timestamp}]; a value is any JSON, or
  // {b64: "..."} for bytes) and resolves to their [{partition, offset}], in order.
  async function produce(topic, records, options) {
    const o = options || {};
    const headers = { "Content-Type": "application/json" };
    if (o.token) headers["Authorization"] = "Bearer " + o.token;
    if (o.idempotencyKey) headers["Idempotency-Key"] = o.idempotencyKey;
    const body = { records: records.map(r => {
      const out = Object.assign({}, r);
      if (r.value && typeof r.value === "object" && "b64" in r.value && Object.keys(r.value).length === 1) {
        delete out.value;
        out.value_b64 = r.value.b64;
      }
      return out;
    }) };
    const response = await fetch(url(o.baseURL, topicPath(topic, "/records")), {
      method: "POST", headers: headers, body: JSON.stringify(body), credentials: o.withCredentials ? "include" : "same-origin",
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(answer.message || ("logd answered " + response.status));
      error.code = answer.error || "http_" + response.status;
      error.status = response.status;
      throw error;
    }
    return answer.offsets;
  }

  global.logd = { subscribe: subscribe, produce: produce, advanced: advanced };
})(typeof window !== "undefined" ? window : globalThis);
"""#
}
