// FOQUS Cloud web console: plain JavaScript, no framework, no build step.
//
// Login: the name and password are kept in this page's memory only (never localStorage,
// sessionStorage or a cookie) and sent as HTTP Basic on every request, with credentials: "omit"
// so the browser adds nothing of its own and never shows its password prompt. Reloading or
// closing the tab signs out. See handlers/http/console.ts for why.

(() => {
  const API = location.pathname.replace(/\/console\/?$/, "");
  const STATES = [
    "success",
    "error",
    "terminate",
    "expired",
    "running",
    "setup",
    "submit",
    "pause",
    "create",
  ];
  const WORDS = {
    success: "success",
    error: "error",
    terminate: "killed",
    expired: "expired",
    running: "running",
    setup: "setup",
    submit: "queued",
    pause: "paused",
    create: "created",
  };
  /** The console's own result-page sequence: FOQUS desktop's (all zeros) is left to FOQUS. */
  const GENERATOR = "foqus-cloud-console";
  const JOBS_PER_PAGE = 50;

  let auth = null; // "Basic …", in memory only
  let user = null;
  let timers = [];
  const main = document.getElementById("main");

  // ---------------------------------------------------------------- DOM helpers

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(el.dataset, value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function svg(tag, attrs, ...children) {
    const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [key, value] of Object.entries(attrs || {})) el.setAttribute(key, String(value));
    for (const child of children.flat()) {
      if (child === undefined || child === null) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function show(...nodes) {
    main.replaceChildren(...nodes);
  }

  function toast(text, bad) {
    const el = document.getElementById("toast");
    el.textContent = text;
    el.className = bad ? "show bad" : "show";
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => {
      el.className = "";
    }, 5000);
  }

  function every(ms, fn) {
    const id = setInterval(fn, ms);
    timers.push(id);
    return id;
  }

  function clearTimers() {
    for (const id of timers) clearInterval(id);
    timers = [];
  }

  const time = (iso) => (iso ? new Date(iso).toLocaleString() : "");
  const shortTime = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "");

  function duration(seconds) {
    if (!Number.isFinite(seconds)) return "";
    if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
    const m = Math.floor(seconds / 60);
    return m < 60 ? `${m} min ${Math.round(seconds % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
  }

  // ---------------------------------------------------------------- API

  class ApiFailure extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body, headers) {
    const init = {
      method,
      credentials: "omit",
      cache: "no-store",
      headers: { authorization: auth, ...(headers || {}) },
    };
    if (body !== undefined) {
      if (body instanceof Blob || body instanceof ArrayBuffer) {
        init.body = body;
        init.headers["content-type"] = "application/octet-stream";
      } else {
        init.body = JSON.stringify(body);
        init.headers["content-type"] = "application/json";
      }
    }
    const response = await fetch(`${API}${path}`, init);
    const text = await response.text();
    if (response.status !== 200) {
      let code = "HttpError";
      let message = text || response.statusText;
      try {
        const error = JSON.parse(text);
        code = error.error || code;
        message = error.message || message;
      } catch {
        // not JSON
      }
      if (response.status === 401 && path !== "/user") signOut(`Signed out: ${message}`);
      throw new ApiFailure(response.status, code, message);
    }
    return JSON.parse(text);
  }

  async function mapLimit(items, limit, fn) {
    const results = new Array(items.length);
    let next = 0;
    async function lane() {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i], i);
      }
    }
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
    return results;
  }

  // ---------------------------------------------------------------- login

  function signOut(message) {
    auth = null;
    user = null;
    clearTimers();
    document.getElementById("nav").hidden = true;
    document.getElementById("signout").hidden = true;
    document.getElementById("who").textContent = "";
    showLogin(message);
  }

  function showLogin(message) {
    const error = h("p", { class: "error-text", id: "login-error" }, message || "");
    const name = h("input", {
      type: "text",
      id: "username",
      name: "username",
      autocomplete: "username",
      required: true,
    });
    const password = h("input", {
      type: "password",
      id: "password",
      name: "password",
      autocomplete: "current-password",
      required: true,
    });
    const form = h(
      "form",
      {
        class: "panel login",
        onsubmit: async (event) => {
          event.preventDefault();
          const bytes = new TextEncoder().encode(`${name.value}:${password.value}`);
          auth = `Basic ${btoa(String.fromCharCode(...bytes))}`;
          try {
            user = await api("GET", "/user");
          } catch (failure) {
            auth = null;
            error.textContent =
              failure.status === 401
                ? `Sign-in failed: ${failure.message}`
                : `The API did not answer: ${failure.message}`;
            return;
          }
          password.value = "";
          document.getElementById("nav").hidden = false;
          document.getElementById("signout").hidden = false;
          document.getElementById("who").textContent = `${user.Name} · ${user.Plan}`;
          if (!location.hash || location.hash === "#/login") location.hash = "#/sessions";
          else route();
        },
      },
      h("h1", {}, "Sign in"),
      h("label", { for: "username" }, "User"),
      name,
      h("label", { for: "password" }, "Password"),
      password,
      h("p", {}, h("button", { type: "submit", class: "primary", id: "signin" }, "Sign in")),
      error,
      h(
        "p",
        { class: "note" },
        "The same user and password as FOQUS desktop's turbine_aws.cfg. They stay in this page's memory only and go with each request to the API; reloading or closing the page signs you out.",
      ),
    );
    show(form);
    name.focus();
  }

  // ---------------------------------------------------------------- shared views

  function stateBar(counts, total, big) {
    const parts = STATES.filter((s) => (counts[s] || 0) > 0).map((s) => {
      const span = h("span", { class: `s-${s}`, title: `${WORDS[s]}: ${counts[s]}` });
      span.style.width = `${((counts[s] / Math.max(total, 1)) * 100).toFixed(3)}%`;
      return span;
    });
    return h(
      "div",
      { class: big ? "bar big" : "bar", role: "img", "aria-label": describeCounts(counts) },
      parts,
    );
  }

  function describeCounts(counts) {
    return STATES.filter((s) => (counts[s] || 0) > 0)
      .map((s) => `${WORDS[s]} ${counts[s]}`)
      .join(", ");
  }

  function legend(counts) {
    return h(
      "div",
      { class: "legend" },
      STATES.filter((s) => (counts[s] || 0) > 0).map((s) =>
        h("span", { dataset: { state: s } }, h("i", { class: `s-${s}` }), `${WORDS[s]} ${counts[s]}`),
      ),
    );
  }

  function stateTag(state) {
    return h("span", { class: `state s-${state}` }, WORDS[state] || state);
  }

  // ---------------------------------------------------------------- sessions list

  async function showSessions() {
    const body = h("tbody", {});
    const status = h("p", { class: "muted" }, "Loading…");
    show(
      h("h1", {}, "Sessions"),
      h(
        "div",
        { class: "panel" },
        h(
          "table",
          { id: "sessions" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", {}, "Session"),
              h("th", {}, "Created"),
              h("th", {}, "State"),
              h("th", {}, "Progress"),
              h("th", {}, "Jobs"),
            ),
          ),
          body,
        ),
        status,
      ),
    );
    async function load() {
      const ids = await api("GET", "/session");
      const summaries = (
        await mapLimit(ids, 6, (id) => api("GET", `/session/${id}/summary`).catch(() => null))
      ).filter(Boolean);
      summaries.sort((a, b) => (a.Created < b.Created ? 1 : -1));
      status.textContent =
        summaries.length === 0
          ? "No sessions yet: start one with foqus-cloud run or from FOQUS desktop."
          : "";
      body.replaceChildren(
        ...summaries.map((s) =>
          h(
            "tr",
            { dataset: { session: s.Session } },
            h("td", {}, h("a", { href: `#/session/${s.Session}`, class: "mono" }, s.Session)),
            h("td", {}, time(s.Created)),
            h("td", {}, s.State),
            h("td", {}, stateBar(s.Counts, s.Jobs), h("div", { class: "muted" }, describeCounts(s.Counts))),
            h("td", { class: "num" }, `${s.Finished}/${s.Jobs}`),
          ),
        ),
      );
    }
    const hash = location.hash;
    await load();
    if (location.hash !== hash) return; // navigated away meanwhile
    // Unfinished sessions move: their bars are read again every 10 s while the page is open.
    let loading = null;
    every(10000, () => {
      if (loading) return;
      loading = load()
        .catch(() => undefined)
        .finally(() => {
          loading = null;
        });
    });
  }

  // ---------------------------------------------------------------- one session

  function flatten(values, nested) {
    const out = new Map();
    if (!values || typeof values !== "object" || Array.isArray(values)) return out;
    for (const [key, value] of Object.entries(values)) {
      if (nested && value && typeof value === "object" && !Array.isArray(value)) {
        for (const [name, inner] of Object.entries(value)) out.set(`${key}.${name}`, inner);
      } else out.set(key, value);
    }
    return out;
  }

  function csvField(value) {
    if (value === undefined || value === null) return "";
    const text =
      typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
    return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  /** The results as the CLI writes them: one row per job in append order (cli/result-writer.ts). */
  function resultsCsv(records) {
    const nested = records.some((r) => r.Application === "foqus");
    const inputs = new Set();
    const outputs = new Set();
    for (const r of records) {
      for (const key of flatten(r.Input, nested).keys()) inputs.add(key);
      if (r.State === "success") for (const key of flatten(r.Output?.output, nested).keys()) outputs.add(key);
    }
    const graphError = nested || records.some((r) => r.Output && r.Output.graphError !== undefined);
    const outNames = [...outputs].map((n) => (inputs.has(n) ? `output.${n}` : n));
    const lines = [
      [...inputs, ...outNames, "State", ...(graphError ? ["graphError"] : []), "Message"]
        .map(csvField)
        .join(","),
    ];
    for (const r of records) {
      const i = flatten(r.Input, nested);
      const o = flatten(r.Output?.output, nested);
      lines.push(
        [
          ...[...inputs].map((k) => i.get(k)),
          ...[...outputs].map((k) => o.get(k)),
          r.State,
          ...(graphError ? [r.Output?.graphError] : []),
          r.Message || "",
        ]
          .map(csvField)
          .join(","),
      );
    }
    return `${lines.join("\n")}\n`;
  }

  function resultsJsonLines(records) {
    return records
      .map((r) =>
        JSON.stringify({
          Id: r.Id,
          State: r.State,
          Input: r.Input,
          Output: r.Output,
          Message: r.Message,
          ...(r.ErrorClass ? { ErrorClass: r.ErrorClass } : {}),
        }),
      )
      .map((line) => `${line}\n`)
      .join("");
  }

  function download(name, type, text) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = h("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function finishedChart(records) {
    const times = records
      .map((r) => Date.parse(r.Finished))
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    const W = 800;
    const H = 220;
    const pad = { l: 48, r: 12, t: 10, b: 28 };
    if (times.length === 0) return h("p", { class: "muted", id: "chart-empty" }, "No job has finished yet.");
    const t0 = times[0];
    const t1 = Math.max(times[times.length - 1], t0 + 1000);
    const x = (t) => pad.l + ((t - t0) / (t1 - t0)) * (W - pad.l - pad.r);
    const y = (n) => H - pad.b - (n / times.length) * (H - pad.t - pad.b);
    // At most ~400 points: a 10,000-job session draws as fast as a small one.
    const step = Math.max(1, Math.floor(times.length / 400));
    const points = [[x(t0), y(0)]];
    for (let i = 0; i < times.length; i += step) points.push([x(times[i]), y(i + 1)]);
    points.push([x(times[times.length - 1]), y(times.length)]);
    const path = points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ");
    return svg(
      "svg",
      { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", id: "chart", "data-points": times.length },
      svg("polygon", { class: "area", points: `${path} ${x(times[times.length - 1])},${y(0)}` }),
      svg("polyline", { class: "line", points: path }),
      svg("line", { class: "axis", x1: pad.l, y1: H - pad.b, x2: W - pad.r, y2: H - pad.b }),
      svg("line", { class: "axis", x1: pad.l, y1: pad.t, x2: pad.l, y2: H - pad.b }),
      svg("text", { x: pad.l - 6, y: y(times.length) + 4, "text-anchor": "end" }, times.length),
      svg("text", { x: pad.l - 6, y: H - pad.b, "text-anchor": "end" }, "0"),
      svg("text", { x: pad.l, y: H - 8 }, new Date(t0).toLocaleTimeString()),
      svg(
        "text",
        { x: W - pad.r, y: H - 8, "text-anchor": "end" },
        `${new Date(t1).toLocaleTimeString()} (${duration((t1 - t0) / 1000)})`,
      ),
    );
  }

  function errorGroups(records) {
    const groups = new Map();
    for (const r of records) {
      if (r.State !== "error") continue;
      const key = r.ErrorClass || "unclassified";
      const group = groups.get(key) || { count: 0, messages: new Map() };
      group.count++;
      const message = (r.Message || "(no message)").split("\n")[0].slice(0, 300);
      group.messages.set(message, (group.messages.get(message) || 0) + 1);
      groups.set(key, group);
    }
    if (groups.size === 0) return h("p", { class: "muted" }, "No errors.");
    return h(
      "table",
      { id: "errors" },
      h("thead", {}, h("tr", {}, h("th", {}, "Error class"), h("th", {}, "Jobs"), h("th", {}, "Messages"))),
      h(
        "tbody",
        {},
        [...groups.entries()]
          .sort((a, b) => b[1].count - a[1].count)
          .map(([key, group]) =>
            h(
              "tr",
              { dataset: { errorClass: key } },
              h("td", {}, h("code", {}, key)),
              h("td", { class: "num" }, group.count),
              h(
                "td",
                {},
                [...group.messages.entries()]
                  .sort((a, b) => b[1] - a[1])
                  .slice(0, 3)
                  .map(([message, n]) => h("div", {}, `${n} × `, message)),
              ),
            ),
          ),
      ),
    );
  }

  async function showSession(sid) {
    const records = new Map(); // job id → record, from the result pages
    let pagesRead = 0;
    const hash = location.hash;
    let summary = { Jobs: 0, Finished: 0, Counts: {}, State: "", Created: "" }; // until the first refresh
    const samples = []; // [time, finished] for throughput and ETA

    const progress = h("div", { class: "panel", id: "progress" });
    const chart = h(
      "div",
      { class: "panel chart" },
      h("h2", {}, "Finished jobs over time"),
      h("div", { id: "chart-box" }),
    );
    const errors = h(
      "div",
      { class: "panel" },
      h("h2", {}, "Errors by class"),
      h("div", { id: "errors-box" }),
    );
    const jobsBox = h("div", { id: "jobs-box" });
    const filter = h(
      "select",
      { id: "state-filter", onchange: () => loadJobs([]) },
      h("option", { value: "" }, "all states"),
      STATES.map((s) => h("option", { value: s }, WORDS[s])),
    );
    const pageInfo = h("span", { class: "muted", id: "jobs-page" });
    const prev = h(
      "button",
      { type: "button", id: "jobs-prev", onclick: () => loadJobs(cursors.slice(0, -2)) },
      "‹ Previous",
    );
    const next = h("button", { type: "button", id: "jobs-next", onclick: () => loadJobs(cursors) }, "Next ›");
    let cursors = []; // cursors of the pages shown so far; the last one is the next page's

    async function loadJobs(stack) {
      const after = stack[stack.length - 1];
      const query = new URLSearchParams({ limit: String(JOBS_PER_PAGE) });
      if (filter.value) query.set("state", filter.value);
      if (after) query.set("after", after);
      const page = await api("GET", `/session/${sid}/jobs?${query}`);
      cursors = page.Next ? [...stack, page.Next] : [...stack];
      prev.disabled = stack.length === 0;
      next.disabled = !page.Next;
      pageInfo.textContent = `page ${stack.length + 1}${page.Jobs.length === 0 ? " (empty)" : ""}`;
      jobsBox.replaceChildren(
        h(
          "table",
          { id: "jobs" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", {}, "Job"),
              h("th", {}, "State"),
              h("th", {}, "Input"),
              h("th", {}, "Finished"),
              h("th", {}, "Run time"),
              h("th", {}, "Message"),
            ),
          ),
          h(
            "tbody",
            {},
            page.Jobs.map((job) =>
              h(
                "tr",
                { dataset: { job: job.Id, state: job.State } },
                h("td", { class: "mono nowrap" }, job.Id),
                h("td", {}, stateTag(job.State)),
                h(
                  "td",
                  { class: "mono truncate", title: JSON.stringify(job.Input) },
                  JSON.stringify(job.Input),
                ),
                h("td", { class: "nowrap" }, shortTime(job.Finished)),
                h(
                  "td",
                  { class: "num" },
                  job.Running && job.Finished
                    ? duration((Date.parse(job.Finished) - Date.parse(job.Running)) / 1000)
                    : "",
                ),
                h(
                  "td",
                  { class: "truncate", title: job.Message || "" },
                  job.ErrorClass ? `[${job.ErrorClass}] ` : "",
                  job.Message || "",
                ),
              ),
            ),
          ),
        ),
      );
    }

    function ordered() {
      return [...records.values()].sort((a, b) =>
        a.Create < b.Create ? -1 : a.Create > b.Create ? 1 : a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0,
      );
    }

    /** Jobs finished per second over the session's run so far, from the results read. */
    function overallRate() {
      let first = Number.POSITIVE_INFINITY;
      let last = 0;
      for (const r of records.values()) {
        const started = Date.parse(r.Running || r.Finished);
        const ended = Date.parse(r.Finished);
        if (started < first) first = started;
        if (ended > last) last = ended;
      }
      return records.size > 1 && last > first ? records.size / ((last - first) / 1000) : undefined;
    }

    function drawProgress() {
      const now = Date.now();
      samples.push([now, summary.Finished]);
      while (samples.length > 2 && now - samples[0][0] > 60000) samples.shift();
      const [t0, f0] = samples[0];
      let rate = now - t0 > 1500 ? (summary.Finished - f0) / ((now - t0) / 1000) : undefined;
      if (!rate) rate = overallRate();
      const remaining = summary.Jobs - summary.Finished;
      progress.replaceChildren(
        h("h2", {}, "Progress"),
        stateBar(summary.Counts, summary.Jobs, true),
        legend(summary.Counts),
        h(
          "div",
          { class: "figures" },
          h(
            "div",
            {},
            h("b", { id: "finished-count" }, `${summary.Finished} / ${summary.Jobs}`),
            "jobs finished",
          ),
          h("div", {}, h("b", {}, rate === undefined ? "–" : `${rate.toFixed(1)}/s`), "throughput"),
          h(
            "div",
            {},
            h("b", {}, remaining === 0 ? "done" : rate ? duration(remaining / rate) : "–"),
            remaining === 0 ? "" : "remaining (ETA)",
          ),
          h("div", {}, h("b", { id: "results-count" }, records.size), "results read"),
        ),
      );
    }

    function drawResults() {
      const list = ordered();
      chart.querySelector("#chart-box").replaceChildren(finishedChart(list));
      errors.querySelector("#errors-box").replaceChildren(errorGroups(list));
      downloadCsv.disabled = list.length === 0;
      downloadJson.disabled = list.length === 0;
    }

    async function readPages() {
      for (;;) {
        const newest = await api("POST", `/session/${sid}/result/${GENERATOR}`);
        if (newest <= pagesRead) return;
        for (let page = pagesRead + 1; page <= newest; page++) {
          for (const record of await api("GET", `/session/${sid}/result/${GENERATOR}/${page}`))
            records.set(record.Id, record);
          pagesRead = page;
        }
      }
    }

    async function refresh() {
      summary = await api("GET", `/session/${sid}/summary`);
      await readPages();
      drawProgress();
      drawResults();
      stateText.textContent = `${summary.State}, created ${time(summary.Created)}`;
    }

    async function act(what, call) {
      try {
        const message = await call();
        toast(message);
        await refresh();
        await loadJobs(cursors.slice(0, -1));
      } catch (failure) {
        toast(`${what} failed: ${failure.message}`, true);
      }
    }

    async function retryFailed() {
      const failed = [];
      for (let after = null; ; ) {
        const query = new URLSearchParams({ state: "error", limit: "500" });
        if (after) query.set("after", after);
        const page = await api("GET", `/session/${sid}/jobs?${query}`);
        failed.push(...page.Jobs);
        if (!page.Next) break;
        after = page.Next;
      }
      if (failed.length === 0) return "No failed jobs to retry.";
      const attempt = crypto.randomUUID();
      for (let i = 0; i < failed.length; i += 500) {
        const jobs = failed.slice(i, i + 500).map((job) => ({
          Simulation: job.Simulation,
          Input: job.Input,
          Initialize: job.Initialize,
          Reset: job.Reset,
        }));
        // One key per chunk of this click: a retried request adds nothing twice.
        await api("POST", `/session/${sid}`, jobs, { "idempotency-key": `${attempt}-${i}` });
      }
      const started = await api("POST", `/session/${sid}/start`);
      return `Appended ${failed.length} failed jobs again and started ${started.length}.`;
    }

    const stateText = h("span", { class: "muted" });
    const downloadCsv = h(
      "button",
      {
        type: "button",
        id: "download-csv",
        onclick: () => download(`${sid}.csv`, "text/csv", resultsCsv(ordered())),
      },
      "Download CSV",
    );
    const downloadJson = h(
      "button",
      {
        type: "button",
        id: "download-jsonl",
        onclick: () => download(`${sid}.jsonl`, "application/x-ndjson", resultsJsonLines(ordered())),
      },
      "Download JSON lines",
    );
    show(
      h("h1", {}, "Session ", h("span", { class: "mono" }, sid), " ", stateText),
      h(
        "div",
        { class: "actions panel" },
        h(
          "button",
          {
            type: "button",
            id: "stop",
            onclick: () =>
              act("Stop", async () => {
                await api("POST", `/session/${sid}/stop`);
                return "Stopped: queued jobs are paused; running ones finish.";
              }),
          },
          "Stop",
        ),
        h(
          "button",
          {
            type: "button",
            id: "kill",
            class: "danger",
            onclick: () =>
              confirm(
                "Kill this session? Every unfinished job is terminated and the session takes no new jobs.",
              ) &&
              act("Kill", async () => {
                await api("POST", `/session/${sid}/kill`);
                return "Killed: every unfinished job is terminated.";
              }),
          },
          "Kill",
        ),
        h(
          "button",
          {
            type: "button",
            id: "start",
            onclick: () =>
              act(
                "Start",
                async () => `Started ${(await api("POST", `/session/${sid}/start`)).length} jobs.`,
              ),
          },
          "Start",
        ),
        h(
          "button",
          { type: "button", id: "retry-failed", onclick: () => act("Retry failed", retryFailed) },
          "Retry failed",
        ),
        downloadCsv,
        downloadJson,
      ),
      progress,
      h("div", { class: "row" }, chart, errors),
      h(
        "div",
        { class: "panel" },
        h("h2", {}, "Jobs"),
        h("div", { class: "actions" }, "Show ", filter, pageInfo),
        jobsBox,
        h("div", { class: "pager" }, prev, next),
      ),
    );
    await Promise.all([refresh(), loadJobs([])]);
    if (location.hash !== hash) return; // navigated away meanwhile: no timers for a page not shown
    // One refresh at a time: on a large session a refresh can take longer than the interval.
    let refreshing = null;
    const refreshOnce = () => {
      refreshing ??= refresh()
        .catch(() => undefined)
        .finally(() => {
          refreshing = null;
        });
      return refreshing;
    };
    every(2000, () => {
      if (summary.Finished < summary.Jobs || records.size < summary.Finished) refreshOnce();
    });
    every(10000, refreshOnce);
  }

  // ---------------------------------------------------------------- simulations

  async function showSimulations() {
    const [simulations, applications] = await Promise.all([
      api("GET", "/simulation"),
      api("GET", "/application"),
    ]);
    const rows = simulations.map((s) =>
      h(
        "tr",
        { dataset: { simulation: s.Name } },
        h("td", {}, h("b", {}, s.Name)),
        h("td", {}, s.Application),
        h(
          "td",
          {},
          s.StagedInputs.length ? s.StagedInputs.join(", ") : h("span", { class: "muted" }, "none"),
        ),
        h(
          "td",
          {},
          h(
            "button",
            {
              type: "button",
              class: "danger",
              onclick: async () => {
                if (!confirm(`Delete simulation ${s.Name} and its staged files?`)) return;
                try {
                  await api("DELETE", `/simulation/${encodeURIComponent(s.Name)}`);
                  toast(`Deleted ${s.Name}.`);
                  await showSimulations();
                } catch (failure) {
                  toast(failure.message, true);
                }
              },
            },
            "Delete",
          ),
        ),
      ),
    );
    const appSelect = h(
      "select",
      { id: "new-app" },
      applications.map((a) => h("option", { value: a.Name }, a.Name)),
    );
    const newName = h("input", { type: "text", id: "new-name", placeholder: "name", required: true });
    const foqusName = h("input", { type: "text", id: "foqus-name", placeholder: "name", required: true });
    const foqusFile = h("input", { type: "file", id: "foqus-file", accept: ".foqus,.json", required: true });
    const uploadTarget = h(
      "select",
      { id: "upload-target" },
      simulations.map((s) => h("option", { value: s.Name }, s.Name)),
    );
    const uploadFiles = h("input", { type: "file", id: "upload-files", multiple: true, required: true });

    async function putFile(name, path, file) {
      return api(
        "PUT",
        `/simulation/${encodeURIComponent(name)}/input/${path.split("/").map(encodeURIComponent).join("/")}`,
        await file.arrayBuffer(),
      );
    }

    async function guarded(what, fn) {
      try {
        toast(await fn());
        await showSimulations();
      } catch (failure) {
        toast(`${what} failed: ${failure.message}`, true);
      }
    }

    show(
      h("h1", {}, "Simulations"),
      h(
        "div",
        { class: "panel" },
        simulations.length === 0
          ? h("p", { class: "muted" }, "No simulations yet.")
          : h(
              "table",
              { id: "simulations" },
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  h("th", {}, "Name"),
                  h("th", {}, "Application"),
                  h("th", {}, "Staged inputs"),
                  h("th", {}, ""),
                ),
              ),
              h("tbody", {}, rows),
            ),
      ),
      h(
        "div",
        { class: "row" },
        h(
          "div",
          { class: "panel" },
          h("h2", {}, "Upload a FOQUS session"),
          h(
            "p",
            { class: "muted" },
            "Stages the flowsheet as FOQUS desktop does: application foqus, the file as its configuration.",
          ),
          h(
            "form",
            {
              class: "inline",
              id: "foqus-form",
              onsubmit: (event) => {
                event.preventDefault();
                guarded("Upload", async () => {
                  const file = foqusFile.files[0];
                  await api("PUT", `/simulation/${encodeURIComponent(foqusName.value)}`, {
                    Application: "foqus",
                    StagedInputs: [],
                    Name: foqusName.value,
                  });
                  await putFile(foqusName.value, "configuration", file);
                  return `Created ${foqusName.value} from ${file.name}.`;
                });
              },
            },
            foqusName,
            foqusFile,
            h("button", { type: "submit", class: "primary" }, "Upload"),
          ),
        ),
        h(
          "div",
          { class: "panel" },
          h("h2", {}, "New simulation"),
          h(
            "form",
            {
              class: "inline",
              id: "new-form",
              onsubmit: (event) => {
                event.preventDefault();
                guarded("Create", async () => {
                  await api("PUT", `/simulation/${encodeURIComponent(newName.value)}`, {
                    Application: appSelect.value,
                    StagedInputs: [],
                    Name: newName.value,
                  });
                  return `Created ${newName.value} (${appSelect.value}).`;
                });
              },
            },
            newName,
            appSelect,
            h("button", { type: "submit", class: "primary" }, "Create"),
          ),
        ),
        simulations.length === 0
          ? null
          : h(
              "div",
              { class: "panel" },
              h("h2", {}, "Upload staged files"),
              h(
                "p",
                { class: "muted" },
                "Files up to 4.5 MB each; larger ones (up to 5 GB) with foqus-cloud simulation upload.",
              ),
              h(
                "form",
                {
                  class: "inline",
                  id: "upload-form",
                  onsubmit: (event) => {
                    event.preventDefault();
                    guarded("Upload", async () => {
                      const files = [...uploadFiles.files];
                      for (const file of files) await putFile(uploadTarget.value, file.name, file);
                      return `Uploaded ${files.length} file(s) to ${uploadTarget.value}.`;
                    });
                  },
                },
                uploadTarget,
                uploadFiles,
                h("button", { type: "submit", class: "primary" }, "Upload"),
              ),
            ),
      ),
    );
  }

  // ---------------------------------------------------------------- account

  async function showAccount() {
    user = await api("GET", "/user");
    show(
      h("h1", {}, "Account"),
      h(
        "div",
        { class: "panel", id: "account" },
        h(
          "table",
          {},
          h(
            "tbody",
            {},
            h("tr", {}, h("th", {}, "User"), h("td", {}, user.Name)),
            h("tr", {}, h("th", {}, "Plan"), h("td", { id: "plan" }, user.Plan)),
            h("tr", {}, h("th", {}, "Roles"), h("td", {}, (user.Roles || []).join(", ") || "none")),
            h(
              "tr",
              {},
              h("th", {}, "Archived results"),
              h(
                "td",
                { class: "muted" },
                "None: result tiers (archiving and restoring results) are not available yet.",
              ),
            ),
          ),
        ),
        h("p", { class: "muted" }, "Plans are changed by your operator (foqus-admin plan)."),
      ),
    );
  }

  // ---------------------------------------------------------------- routing

  async function route() {
    clearTimers();
    if (!auth) return showLogin();
    const [, page, id] = (location.hash || "#/sessions").split("/");
    for (const link of document.querySelectorAll("#nav a"))
      link.classList.toggle("active", link.dataset.nav === (page === "session" ? "sessions" : page));
    try {
      if (page === "session" && id) await showSession(decodeURIComponent(id));
      else if (page === "simulations") await showSimulations();
      else if (page === "account") await showAccount();
      else await showSessions();
    } catch (failure) {
      if (auth)
        show(
          h(
            "div",
            { class: "panel" },
            h("p", { class: "error-text" }, failure.message),
            h("a", { href: "#/sessions" }, "Back to the sessions"),
          ),
        );
    }
  }

  document.getElementById("signout").addEventListener("click", () => signOut("Signed out."));
  window.addEventListener("hashchange", route);
  route();
})();
