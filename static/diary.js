// The phone diary screen (templates/coop/diary_app.html): works with or without a network.
//
// Kept on the phone, in an IndexedDB database of the signed-in account ("ocop-diary-<account id>", so that
// another account on the same phone never sees or sends it; signing out wipes it, see app/public/webapp.py):
// - "batches": the cooperative's open batches and their latest entries, as the server last sent them;
// - "outbox": every entry written here, with its photo as a Blob, until the server has it. Each has the id
//   the phone gave it (client_id), so sending it again never makes a second entry. An entry the server
//   refuses (a recalled or deleted batch, a refused value) stays, with the server's message, until the user
//   edits it, moves it to another batch or deletes it; sent entries stay listed as sent for a while.
// - "meta": the last batch used.
import { noteUnsent } from "./diary_guard.js";
import { resizePhoto } from "./photo_resize.js";

const config = JSON.parse(document.getElementById("diary-config").textContent);
const T = config.text;
const KEPT_SENT = 20;  // sent entries still listed, newest first
const RETRY_MS = 30000;  // while entries wait and the page is open

const $ = (id) => document.getElementById(id);
const form = $("diary-form");
const state = { batches: [], outbox: [], editing: null, offline: !navigator.onLine, signedOut: false, syncing: false, csrf: null };

// ---- IndexedDB, the few calls used here ----
const dbReady = new Promise((resolve, reject) => {
  const opening = indexedDB.open("ocop-diary-" + config.account, 1);
  opening.onupgradeneeded = () => {
    const db = opening.result;
    db.createObjectStore("batches", { keyPath: "id" });
    db.createObjectStore("outbox", { keyPath: "client_id" });
    db.createObjectStore("meta");
  };
  opening.onsuccess = () => resolve(opening.result);
  opening.onerror = () => reject(opening.error);
});

async function store(name, mode, work) {
  const db = await dbReady;
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(name, mode);
    const request = work(transaction.objectStore(name));
    transaction.oncomplete = () => resolve(request ? request.result : undefined);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}
const getAll = (name) => store(name, "readonly", (s) => s.getAll());
const put = (name, value, key) => store(name, "readwrite", (s) => s.put(value, key));
const remove = (name, key) => store(name, "readwrite", (s) => s.delete(key));
const getMeta = (key) => store("meta", "readonly", (s) => s.get(key));

async function replaceBatches(batches) {
  await store("batches", "readwrite", (s) => { s.clear(); batches.forEach((b) => s.put(b)); });
}

// ---- small helpers ----
function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs).forEach(([k, v]) => (k === "class" ? (node.className = v) : node.setAttribute(k, v)));
  children.flat().forEach((c) => node.append(c));
  return node;
}

const dayText = (iso) => (iso || "").split("-").reverse().join("/");  // 2026-06-01 → 01/06/2026, as written in Vietnam
const kindLabel = (value) => (config.kinds.find((k) => k.value === value) || { label: value }).label;
const batchById = (id) => state.batches.find((b) => b.id === Number(id));
const batchName = (id, known = "") => { const b = batchById(id); return b ? `${b.lot_code} · ${b.product}` : known || `#${id}`; };
const unsent = () => state.outbox.filter((e) => e.status !== "sent");
const waiting = () => state.outbox.filter((e) => e.status === "waiting");

// ---- the form: only the fields of the chosen kind ----
const KIND_FIELDS = ["input_used", "dose", "phi_days", "quantity"];

function rulesOf(kind) {
  return config.rules.kinds[kind] || { fields: [], required: [] };
}

function applyKind() {
  const rules = rulesOf(form.kind.value);
  form.querySelectorAll("[data-field]").forEach((box) => {
    const name = box.dataset.field;
    const shown = !KIND_FIELDS.includes(name) || rules.fields.includes(name);
    box.hidden = !shown;
    box.classList.toggle("required", rules.required.includes(name));
  });
}

function applyBatch() {
  const batch = batchById(form.batch_id.value);
  $("diary-unit").textContent = batch && batch.unit ? `(${batch.unit})` : "";
  $("diary-timeline").href = batch ? batch.timeline_url : $("diary-timeline").href;
  renderRecent();
}

function clearErrors() {
  form.querySelectorAll(".error").forEach((p) => p.remove());
  form.querySelectorAll(".has-error").forEach((box) => box.classList.remove("has-error"));
}

function showError(name, message) {
  const input = form.elements[name];
  const box = input ? input.closest(".field") : null;
  if (!box) { say(message); return; }
  box.classList.add("has-error");
  box.append(el("p", { class: "error" }, message));
}

function say(message) {
  $("diary-message").textContent = message || "";
}

function formValues() {
  const values = {};
  ["event_date", "kind", "description", "done_by", ...KIND_FIELDS].forEach((name) => {
    const box = form.elements[name].closest("[data-field]");
    values[name] = box && box.hidden ? "" : form.elements[name].value.trim();
  });
  return values;
}

function missingFields(values) {
  const missing = [];
  if (!form.batch_id.value) missing.push("batch_id");
  if (!values.event_date) missing.push("event_date");
  rulesOf(values.kind).required.forEach((name) => { if (!values[name]) missing.push(name); });
  return missing;
}

function fillForm(values) {
  Object.entries(values).forEach(([name, value]) => {
    if (form.elements[name] && name !== "photo") form.elements[name].value = value == null ? "" : value;
  });
  applyKind();
}

function resetForm() {
  state.editing = null;
  $("diary-editing").hidden = true;
  ["description", "done_by", ...KIND_FIELDS].forEach((name) => (form.elements[name].value = ""));
  form.photo.value = "";
  $("diary-photo-note").textContent = "";
  form.event_date.value = today();
  clearErrors();
}

async function saveEntry(event) {
  event.preventDefault();
  clearErrors();
  const values = formValues();
  const missing = missingFields(values);
  if (missing.length) {
    missing.forEach((name) => showError(name, T.required));
    form.querySelector(".has-error input, .has-error select, .has-error textarea").focus();
    return;
  }
  const previous = state.editing ? state.outbox.find((e) => e.client_id === state.editing) : null;
  let photo = previous ? previous.photo : null;
  if (form.photo.files.length) {
    $("diary-photo-note").textContent = T.preparing_photo;
    try {
      photo = await resizePhoto(form.photo.files[0]);
    } catch (unreadable) {
      $("diary-photo-note").textContent = "";
      showError("photo", T.photo_failed);
      return;
    }
  }
  const entry = {
    // An id the server refused as unusable is replaced; any other refusal keeps it (nothing was saved).
    client_id: previous && previous.field !== "client_id" ? previous.client_id : newClientId(),
    batch_id: Number(form.batch_id.value),
    batch_label: batchName(form.batch_id.value),  // still named once the batch has left the list (recalled, deleted)
    values,
    photo,
    status: "waiting",
    message: "",
    field: "",
    created_at: previous ? previous.created_at : Date.now(),
  };
  if (previous && previous.client_id !== entry.client_id) await remove("outbox", previous.client_id);
  await put("outbox", entry);
  await put("meta", entry.batch_id, "last_batch");
  await put("meta", values.done_by, "done_by");
  resetForm();
  form.done_by.value = values.done_by;  // the same person usually writes the next entry too
  await loadOutbox();
  say(T.saved_here);
  render();
  sync();
}

function copyPrevious() {
  const batchId = Number(form.batch_id.value);
  const local = state.outbox.filter((e) => e.batch_id === batchId).sort((a, b) => b.created_at - a.created_at)[0];
  const batch = batchById(batchId);
  const source = local ? local.values : batch && batch.recent[0];
  if (!source) { say(T.nothing_to_copy); return; }
  const copied = {};
  ["kind", "description", "done_by", ...KIND_FIELDS].forEach((name) => (copied[name] = source[name] == null ? "" : source[name]));
  fillForm(copied);
  form.event_date.value = today();
  say("");
}

function editEntry(clientId) {
  const entry = state.outbox.find((e) => e.client_id === clientId);
  if (!entry) return;
  resetForm();
  state.editing = clientId;
  $("diary-editing").hidden = false;
  if (batchById(entry.batch_id)) form.batch_id.value = String(entry.batch_id);
  fillForm(entry.values);
  applyBatch();
  if (entry.field && entry.field !== "batch" && entry.field !== "client_id") showError(entry.field, entry.message);
  form.scrollIntoView({ behavior: "smooth" });
}

async function deleteEntry(clientId) {
  if (!window.confirm(T.confirm_delete)) return;
  await remove("outbox", clientId);
  if (state.editing === clientId) resetForm();
  await loadOutbox();
  render();
}

// ---- sending ----
function fetchOptions(extra = {}) {
  // A signed-out member is redirected to the sign-in page: seen here as an opaque redirect, not followed.
  return { credentials: "same-origin", redirect: "manual", cache: "no-store", headers: { Accept: "application/json" }, ...extra };
}

function sessionEnded(response) {
  return response.type === "opaqueredirect" || response.status === 401 || response.status === 403;
}

// The batches and a fresh CSRF token (a page opened hours ago offline has an expired one). "ok", "offline",
// "signed-out" or "busy" (the server answered but could not serve: try again later).
async function refreshFromServer() {
  let response;
  try {
    response = await fetch(config.urls.data, fetchOptions());
  } catch (offline) {
    return "offline";
  }
  if (sessionEnded(response)) return "signed-out";
  if (!response.ok) return "busy";
  const data = await response.json();
  if (data.account !== config.account) return "signed-out";  // another account signed in meanwhile
  state.csrf = data.csrf_token;
  state.batches = data.batches;
  await replaceBatches(data.batches);
  return "ok";
}

// Send one waiting entry; "sent", "refused", or "stop" (no network, signed out, server busy: try later).
async function sendOne(entry) {
  const body = new FormData();
  body.append("client_id", entry.client_id);
  body.append("batch_id", String(entry.batch_id));
  Object.entries(entry.values).forEach(([name, value]) => body.append(name, value));
  if (entry.photo) body.append("photo", entry.photo, "photo.jpg");
  let response;
  try {
    response = await fetch(config.urls.send, fetchOptions({ method: "POST", body, headers: { Accept: "application/json", "X-CSRFToken": state.csrf } }));
  } catch (offline) {
    state.offline = true;
    return "stop";
  }
  if (sessionEnded(response)) { state.signedOut = true; return "stop"; }
  if (response.status === 200 || response.status === 201) {
    const saved = await response.json();
    await put("outbox", { ...entry, status: "sent", photo: null, server_id: saved.id, message: "", field: "", sent_at: Date.now() });
    return "sent";
  }
  if (response.status === 422 || response.status === 404) {
    const refusal = await response.json();
    await put("outbox", { ...entry, status: "conflict", message: refusal.message, field: refusal.field });
    return "refused";
  }
  return "stop";  // 400 (an expired CSRF token: a fresh one next time), 503 (busy), …
}

async function sync() {
  if (state.syncing) return;
  state.syncing = true;
  renderStatus();
  try {
    const refreshed = await refreshFromServer();
    state.offline = refreshed === "offline";
    state.signedOut = refreshed === "signed-out";
    if (refreshed !== "ok") return;
    for (const entry of waiting()) {
      if ((await sendOne(entry)) === "stop") break;
    }
    await pruneSent();
    if (!state.signedOut && state.outbox.some((e) => e.status === "sent")) await refreshFromServer();  // the new entries in "latest"
  } finally {
    state.syncing = false;
    await loadOutbox();
    render();
  }
}

async function pruneSent() {
  const sent = (await getAll("outbox")).filter((e) => e.status === "sent").sort((a, b) => b.sent_at - a.sent_at);
  for (const old of sent.slice(KEPT_SENT)) await remove("outbox", old.client_id);
}

// ---- rendering ----
async function loadOutbox() {
  state.outbox = (await getAll("outbox")).sort((a, b) => b.created_at - a.created_at);
}

function renderStatus() {
  const pending = waiting().length;
  const refused = state.outbox.filter((e) => e.status === "conflict").length;
  const parts = [];
  if (pending) parts.push(T.waiting_count.replace("{count}", pending));
  if (refused) parts.push(T.to_fix_count.replace("{count}", refused));
  $("diary-waiting").textContent = parts.join(" · ") || T.all_sent;
  noteUnsent(pending + refused);  // what a sign-out would wipe
  $("diary-waiting").classList.toggle("diary-pending", parts.length > 0);
  $("diary-send-now").disabled = state.syncing || !waiting().length;
  $("diary-network").hidden = !state.offline;
  $("diary-signed-out").hidden = !state.signedOut;
}

function renderBatches(selected) {
  const select = form.batch_id;
  select.replaceChildren(...state.batches.map((b) => el("option", { value: String(b.id) }, `${b.lot_code} · ${b.product}`)));
  $("diary-no-batches").hidden = state.batches.length > 0;
  if (selected && batchById(selected)) select.value = String(selected);
}

function statusLabel(entry) {
  if (entry.status === "sent") return T.sent;
  if (entry.status === "conflict") return T.conflict;
  return state.syncing ? T.sending : T.waiting;
}

function outboxItem(entry) {
  const v = entry.values;
  const unit = (batchById(entry.batch_id) || {}).unit || "";
  const detail = [v.input_used, v.dose, v.quantity && `${v.quantity} ${unit}`.trim(), v.description].filter(Boolean).join(" · ");
  const item = el("li", { class: `diary-entry diary-${entry.status}`, "data-client-id": entry.client_id },
    el("div", { class: "diary-entry-head" },
      el("strong", {}, `${dayText(v.event_date)} · ${kindLabel(v.kind)}`),
      el("span", { class: "diary-status" }, statusLabel(entry))),
    el("div", { class: "muted" }, batchName(entry.batch_id, entry.batch_label)));
  if (detail) item.append(el("div", {}, detail));
  if (entry.photo) item.append(el("div", { class: "muted" }, `📷 ${T.with_photo} (${Math.round(entry.photo.size / 1024)} KB)`));
  if (entry.status === "conflict") item.append(el("p", { class: "error diary-refusal", role: "alert" }, entry.message));
  if (entry.status === "sent") {
    const batch = batchById(entry.batch_id);
    if (batch) item.append(el("a", { href: batch.timeline_url }, T.open_timeline));
  } else {
    const edit = el("button", { type: "button", class: "button" }, T.edit);
    edit.addEventListener("click", () => editEntry(entry.client_id));
    const del = el("button", { type: "button", class: "button danger" }, T.delete);
    del.addEventListener("click", () => deleteEntry(entry.client_id));
    item.append(el("div", { class: "diary-actions" }, edit, del));
  }
  return item;
}

function renderOutbox() {
  const items = state.outbox.length ? state.outbox.map(outboxItem) : [el("li", { class: "empty" }, T.outbox_empty)];
  $("diary-outbox").replaceChildren(...items);
}

function renderRecent() {
  const batch = batchById(form.batch_id.value);
  const recent = batch ? batch.recent : [];
  $("diary-recent").replaceChildren(...(recent.length ? recent.map((e) =>
    el("li", { class: "diary-entry" },
      el("strong", {}, `${dayText(e.event_date)} · ${e.kind_label}`),
      el("div", {}, [e.input_used, e.dose, e.quantity, e.description].filter(Boolean).join(" · ")))) : [el("li", { class: "empty" }, T.no_entries)]));
}

function render() {
  const selected = form.batch_id.value || null;
  renderBatches(selected);
  applyBatch();
  renderOutbox();
  renderStatus();
}

async function start() {
  form.event_date.value = today();
  form.addEventListener("submit", saveEntry);
  form.kind.addEventListener("change", applyKind);
  form.batch_id.addEventListener("change", () => { applyBatch(); put("meta", Number(form.batch_id.value), "last_batch"); });
  $("diary-copy").addEventListener("click", copyPrevious);
  $("diary-send-now").addEventListener("click", sync);
  window.addEventListener("online", () => { state.offline = false; sync(); });
  window.addEventListener("offline", () => { state.offline = true; renderStatus(); });
  setInterval(() => { if (waiting().length && navigator.onLine) sync(); }, RETRY_MS);

  state.batches = await getAll("batches");
  state.batches.sort((a, b) => b.id - a.id);
  await loadOutbox();
  renderBatches(await getMeta("last_batch"));
  form.done_by.value = (await getMeta("done_by")) || "";
  applyKind();
  render();
  if ("serviceWorker" in navigator) navigator.serviceWorker.register(config.urls.worker, { scope: "/" }).catch(() => {});
  await sync();
  renderBatches(await getMeta("last_batch"));
  applyBatch();
}

start();
