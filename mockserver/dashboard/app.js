// The wacr-mock dashboard. Plain JavaScript, no build step, no CDN: every action is a call to the
// documented control API (docs/control-api.yaml), so a script can do the same.
"use strict";

const $ = (selector) => document.querySelector(selector);
const POLL_MS = 1000;
const JOURNAL_LIMIT = 300;
let chosenRequest = null;
let tenants = [];

function secretHeader() {
  const secret = sessionStorage.getItem("wacr-admin-secret");
  return secret ? {"X-Mock-Admin-Secret": secret} : {};
}

async function control(method, path, body) {
  const options = {method, headers: {...secretHeader()}};
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch("/__mock__" + path, options);
  const answer = await response.json().catch(() => ({}));
  if (response.status === 403 && /X-Mock-Admin-Secret/.test(answer.error || "")) {
    const secret = prompt("This mock's control API needs its admin secret (printed at start):");
    if (secret) { sessionStorage.setItem("wacr-admin-secret", secret); return control(method, path, body); }
  }
  if (!response.ok) throw new Error(answer.error || `${method} ${path}: ${response.status}`);
  return answer;
}

function say(text, isError = false) {
  const status = $("#status");
  status.textContent = text;
  status.className = isError ? "error" : "";
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "onclick") node.addEventListener("click", value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function copy(text, what) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (error) {  // no clipboard permission: select-and-copy still works
    const area = el("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  say(`${what} copied`);
}

function tenantQuery(prefix = "?") {
  const tenant = $("#tenant").value;
  return tenant ? `${prefix}tenant_id=${encodeURIComponent(tenant)}` : "";
}

// --- journal ----------------------------------------------------------------------------------

async function refreshJournal() {
  let query = `?limit=${JOURNAL_LIMIT}` + tenantQuery("&");
  const operation = $("#filter-operation").value.trim();
  if (operation) query += `&operation_id=${encodeURIComponent(operation)}`;
  const statusClass = $("#filter-status").value;
  const {requests} = await control("GET", "/requests" + query);
  const rows = requests
    .filter((entry) => !statusClass || String(entry.status).startsWith(statusClass))
    .reverse()
    .map((entry) => {
      const row = el("tr", {"data-request-id": entry.request_id || "", onclick: () => showEntry(entry.request_id)},
        el("td", {text: entry.at.slice(11, 19)}),
        el("td", {text: entry.method}),
        el("td", {text: entry.path + (entry.query ? "?" + entry.query : ""), title: entry.path}),
        el("td", {text: String(entry.status), class: "s" + String(entry.status)[0]}),
        el("td", {text: (entry.operation_id || "-") + (entry.violations && entry.violations.length ? `  ⚠ ${entry.violations.length}` : "")}),
        el("td", {text: entry.tenant_id == null ? "-" : String(entry.tenant_id)}));
      if (entry.request_id && entry.request_id === chosenRequest) row.classList.add("chosen");
      return row;
    });
  $("#journal tbody").replaceChildren(...rows);
}

async function showEntry(requestId) {
  if (!requestId) return;
  chosenRequest = requestId;
  const {requests} = await control("GET", `/requests?bodies=true&request_id=${encodeURIComponent(requestId)}`);
  const entry = requests[0];
  if (!entry) return;
  const detail = entry.detail;
  const parts = [el("h3", {text: `${entry.method} ${entry.path}${entry.query ? "?" + entry.query : ""} → ${entry.status}  (${entry.operation_id || "no operation"})`})];
  if (entry.answered_by) parts.push(el("p", {class: "hint", text: `Answered by the ${entry.answered_by} (wacr-mock proxy)`}));
  if (entry.violations && entry.violations.length) {
    parts.push(el("div", {class: "refusal violations"}, el("p", {}, el("b", {text: `${entry.violations.length} violations of the spec`})),
      ...entry.violations.map((v) => el("p", {text: v}))));
  }
  if (detail.refusal) parts.push(refusalBox(detail.refusal));
  const headers = (h) => Object.entries(h).map(([k, v]) => `${k}: ${v}`).join("\n");
  parts.push(el("div", {class: "cols"},
    el("div", {}, el("h3", {text: "Request"}), el("pre", {text: headers(detail.request.headers)}),
       el("pre", {class: "request-body", text: detail.request.body || "(no body)"})),
    el("div", {}, el("h3", {text: "Response"}), el("pre", {text: headers(detail.response.headers)}),
       el("pre", {class: "response-body", text: detail.response.body || "(no body)"}))));
  $("#entry").replaceChildren(...parts);
  document.querySelectorAll("#journal tbody tr").forEach((row) =>
    row.classList.toggle("chosen", row.dataset.requestId === requestId));
}

function refusalBox(refusal) {
  const box = el("div", {class: "refusal"},
    el("p", {}, el("b", {text: `Refused: ${refusal.status} ${refusal.code || ""}`}), ` ${refusal.message || ""}`));
  if (refusal.rule) box.append(el("p", {text: `Rule: ${refusal.rule}`}));
  const source = el("p", {text: `Provenance: ${refusal.provenance || "-"} `});
  if (refusal.docs) source.append(docsLink(refusal.docs));
  box.append(source);
  for (const field of refusal.fields || []) {
    const line = el("p", {text: `${field.field}: ${field.message} (rule ${field.rule || "?"}; ${field.provenance}) `});
    if (field.docs) line.append(docsLink(field.docs));
    box.append(line);
  }
  return box;
}

function docsLink(where) {
  // A published page is a link; a decision is a section of docs/decisions.md in the repository.
  return where.startsWith("http")
    ? el("a", {href: where, target: "_blank", rel: "noreferrer", text: "docs page"})
    : el("code", {text: where});
}

// --- OTP inbox --------------------------------------------------------------------------------

async function refreshOtps() {
  const {otps} = await control("GET", "/inbox" + tenantQuery());
  $("#otps-empty").hidden = otps.length > 0;
  $("#otps tbody").replaceChildren(...otps.map((otp) => el("tr", {"data-phone": otp.phone},
    el("td", {text: String(otp.tenant_id)}),
    el("td", {text: otp.phone}),
    el("td", {text: otp.purpose}),
    el("td", {class: "code", text: otp.code}),
    el("td", {class: otp.expires_in_seconds > 0 ? "" : "expired", text: otp.expires_in_seconds > 0 ? `${otp.expires_in_seconds} s` : "expired"}),
    el("td", {text: `${otp.verification_attempts}/${otp.max_attempts}`}),
    el("td", {},
      el("button", {class: "copy-code", onclick: () => copy(otp.code, "code")}, "Copy"), " ",
      el("button", {class: "expire", title: "Move this tenant's clock past the expiry",
        onclick: () => act(() => control("POST", "/clock", {tenant_id: otp.tenant_id, advance_seconds: otp.expires_in_seconds + 1}),
                           `tenant ${otp.tenant_id}'s clock moved ${otp.expires_in_seconds + 1} s`)}, "Expire now")))));
}

// --- clock, tenants, faults --------------------------------------------------------------------

async function refreshClock() {
  const clock = await control("GET", "/clock" + tenantQuery());
  $("#clock-of").textContent = $("#tenant").value ? `tenant ${$("#tenant").value}` : "default";
  $("#clock-now").textContent = clock.now;
  $("#clock-frozen").textContent = clock.frozen ? "frozen" : "running";
  $("#clock-frozen").className = "tag" + (clock.frozen ? " on" : "");
  $("#clock-freeze").textContent = clock.frozen ? "Unfreeze" : "Freeze";
  $("#clock-freeze").dataset.frozen = clock.frozen;
}

function moveClock(change) {
  const tenant = $("#tenant").value;
  return control("POST", "/clock", tenant ? {tenant_id: Number(tenant), ...change} : change);
}

async function refreshTenants() {
  ({tenants} = await control("GET", "/tenants"));
  const select = $("#tenant");
  const chosen = select.value;
  select.replaceChildren(el("option", {value: ""}, "all"),
    ...tenants.map((t) => el("option", {value: String(t.tenant_id)}, `${t.tenant_id} ${t.name}`)));
  select.value = chosen;
  $("#tenants").replaceChildren(...tenants.map((t) => el("div", {class: "tenant"},
    el("b", {text: `${t.tenant_id} ${t.name}`}), ` · ${t.counts.contacts} contacts · clock ${t.clock.now.slice(0, 19)}${t.clock.frozen ? " (frozen)" : ""}`,
    el("ul", {}, ...t.tokens.map((token) => el("li", {},
      el("code", {text: token.token}), ` ${token.scopes.join(" ")} · ${token.rate_limit_per_minute}/min `,
      el("button", {class: "copy-token", onclick: () => copy(token.token, "token")}, "Copy")))))));
}

async function refreshFaults() {
  const {faults} = await control("GET", "/faults");
  if (!$("#operations").children.length) {
    const {operations} = await control("GET", "/operations");
    $("#operations").replaceChildren(...operations.map((op) =>
      el("option", {value: op.operation_id}, `${op.method} ${op.path}`)));
  }
  $("#faults").replaceChildren(...Object.entries(faults).map(([id, fault]) => el("li", {},
    el("code", {text: id}), " " + Object.entries(fault).map(([k, v]) => `${k} ${v}`).join(", "))));
}

async function act(action, done) {
  try {
    await action();
    say(done);
    await refresh();
  } catch (error) {
    say(String(error.message || error), true);
  }
}

async function refresh() {
  try {
    await Promise.all([refreshJournal(), refreshOtps(), refreshClock(), refreshFaults()]);
    await refreshTenants();
  } catch (error) {
    say(String(error.message || error), true);
  }
}

function numberOrNothing(value) {
  return value === "" ? undefined : Number(value);
}

function wire() {
  $("#tenant").addEventListener("change", refresh);
  $("#filter-operation").addEventListener("change", refreshJournal);
  $("#filter-status").addEventListener("change", refreshJournal);
  $("#clock-freeze").addEventListener("click", () =>
    act(() => moveClock({freeze: $("#clock-freeze").dataset.frozen !== "true"}), "clock changed"));
  document.querySelectorAll("[data-advance]").forEach((button) => button.addEventListener("click", () =>
    act(() => moveClock({advance_seconds: Number(button.dataset.advance)}), `clock advanced ${button.dataset.advance} s`)));
  $("#clock-advance").addEventListener("click", () =>
    act(() => moveClock({advance_seconds: Number($("#clock-seconds").value)}), "clock advanced"));
  $("#clock-reset").addEventListener("click", () =>
    act(() => moveClock({now: new Date().toISOString(), freeze: false}), "clock back to wall time"));
  $("#new-tenant").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = {scopes: String(form.get("scopes")).split(",").map((s) => s.trim()).filter(Boolean),
                  rate_limit_per_minute: Number(form.get("limit"))};
    if (String(form.get("name")).trim()) body.name = String(form.get("name")).trim();
    act(async () => {
      const created = await control("POST", "/tenants", body);
      $("#created").replaceChildren(`Tenant ${created.tenant_id}, token `, el("code", {id: "created-token", text: created.token}), " ",
        el("button", {onclick: () => copy(created.token, "token")}, "Copy"));
    }, "tenant created");
  });
  $("#new-token").addEventListener("click", () => {
    const tenant = $("#tenant").value;
    if (!tenant) { say("choose a tenant first", true); return; }
    const form = new FormData($("#new-tenant"));
    act(async () => {
      const created = await control("POST", `/tenants/${tenant}/tokens`, {
        scopes: String(form.get("scopes")).split(",").map((s) => s.trim()).filter(Boolean),
        rate_limit_per_minute: Number(form.get("limit"))});
      $("#created").replaceChildren(`Tenant ${created.tenant_id}, token `, el("code", {id: "created-token", text: created.token}), " ",
        el("button", {onclick: () => copy(created.token, "token")}, "Copy"));
    }, "token created");
  });
  $("#new-fault").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = {operation_id: form.get("operation_id"), status: numberOrNothing(form.get("status")),
                  delay_ms: numberOrNothing(form.get("delay_ms")), times: numberOrNothing(form.get("times"))};
    act(() => control("POST", "/faults", body), `fault set on ${body.operation_id}`);
  });
  $("#clear-faults").addEventListener("click", () => act(() => control("DELETE", "/faults"), "faults cleared"));
  $("#reset").addEventListener("click", () => {
    if (confirm("All state back to the seed?")) act(() => control("POST", "/reset"), "reset to the seed");
  });
  $("#export").addEventListener("click", () => act(async () => {
    const seed = await control("GET", "/export");
    const link = el("a", {href: URL.createObjectURL(new Blob([JSON.stringify(seed, null, 2)], {type: "application/json"})),
                          download: "wacr-mock-seed.json"});
    document.body.append(link);
    link.click();
    link.remove();
  }, "seed exported: start a mock from it with wacr-mock --seed wacr-mock-seed.json"));
}

wire();
refresh();
setInterval(() => { if ($("#live").checked) refresh(); }, POLL_MS);
