// ragqa's page: ask (streamed, verified, cited answers), read the cited passage, manage documents.
// Plain JavaScript, no build step, nothing fetched from outside this server.
"use strict";

const $ = (sel) => document.querySelector(sel);
const KEY_STORE = "ragqa-api-key";
const REASONS = {
  no_sources: "nothing relevant was found in the documents",
  low_relevance: "the documents found are not about this question",
  model_declined: "the model found no answer in the sources",
  unsupported: "the sources do not support the answer the model wrote",
  not_an_answer: "the answer the model wrote does not say what the question asks for",
  policy: "the answer policy does not allow this question",
  output_blocked: "the answer policy blocked the answer",
};
const state = { history: [], controller: null, offset: 0, limit: 20, total: 0 };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

function announce(text) { $("#status").textContent = text; }

// ---- API access -----------------------------------------------------------------------------------------
function headers(extra = {}) {
  const key = sessionStorage.getItem(KEY_STORE);
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers || {}) });
  if (response.status === 401) askForKey("The API key is missing or not valid.");
  if (!response.ok) {
    let code = "http_" + response.status, message = response.statusText;
    try { const body = await response.json(); code = body.error?.code || code; message = body.error?.message || message; } catch { /* not JSON */ }
    throw new ApiError(response.status, code, message);
  }
  return response;
}

function askForKey(message) {
  $("#key-message").textContent = message;
  $("#key-form").hidden = false;
  $("#api-key").focus();
}

function docPath(docId) { return "/v1/documents/" + docId.split("/").map(encodeURIComponent).join("/"); }

// ---- server defaults --------------------------------------------------------------------------------------
async function loadInfo() {
  const info = await (await fetch("/v1/info")).json();
  $("#server-info").textContent = `collection ${info.collection} · ragqa ${info.version}`;
  const mode = $("#opt-mode"), verify = $("#opt-verify");
  for (const m of info.search_modes) mode.append(el("option", { value: m, text: m }));
  for (const v of info.verify_modes) verify.append(el("option", { value: v, text: v }));
  mode.value = info.defaults.mode;
  verify.value = info.defaults.verify;
  $("#opt-k").placeholder = info.defaults.k;
  for (const [name, value] of Object.entries(info.defaults.sampling)) {
    const input = $(`#opt-${name}`);
    if (input) input.placeholder = value;
  }
  if (info.keys_required && !sessionStorage.getItem(KEY_STORE)) askForKey("This server needs an API key.");
}

function requestOptions() {
  const body = { mode: $("#opt-mode").value, verify: $("#opt-verify").value, sampling: {} };
  const k = $("#opt-k").value;
  if (k) body.k = Number(k);
  for (const name of ["temperature", "top_p", "top_k", "max_tokens"]) {
    const value = $(`#opt-${name}`).value;
    if (value !== "") body.sampling[name] = Number(value);
  }
  return body;
}

// ---- SSE over fetch (EventSource cannot POST) -------------------------------------------------------------
async function* sseEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      if (data) yield { event, data: JSON.parse(data) };
    }
  }
}

// ---- one question and its answer --------------------------------------------------------------------------
function renderAnswerText(node, text, sources, cited, refused = false) {
  node.textContent = "";
  const parts = text.split(/(\[\d+\])/);
  for (const part of parts) {
    const m = /^\[(\d+)\]$/.exec(part);
    const n = m ? Number(m[1]) : 0;
    if (m && n >= 1 && n <= sources.length) {
      node.append(el("a", {
        href: "#", class: "cite", "data-n": n, text: part,
        "aria-label": `source ${n}: ${sources[n - 1].title || sources[n - 1].doc_id}`,
        onclick: (e) => { e.preventDefault(); openSource(sources[n - 1]); },
      }));
    } else node.append(part);
  }
  if (!cited && !refused && text && sources.length) node.append(el("span", { class: "muted", text: "  (no citation)" }));
}

function renderSources(turn, sources, cited) {
  const box = turn.querySelector(".sources");
  box.textContent = "";
  if (!sources.length) return;
  const heading = cited.length ? `Sources (${sources.length}, ${cited.length} cited)` : `Retrieved, not cited (${sources.length})`;
  const list = el("ol");
  sources.forEach((s, i) => {
    const ranks = Object.entries(s.ranks || {}).filter(([, r]) => r != null).map(([name, r]) => `${name} #${r}`).join(" · ");
    const button = el("a", { href: "#", class: "src-title", text: s.title || s.doc_id, onclick: (e) => { e.preventDefault(); openSource(s); } });
    const meta = el("span", { class: "src-meta", text: `${s.source} · chars ${s.span[0]}–${s.span[1]} · ${ranks || "—"} · score ${Number(s.score).toFixed(4)}` });
    list.append(el("li", { class: cited.includes(i + 1) ? "cited" : "", value: i + 1 }, button, meta));
  });
  box.append(el("details", {}, el("summary", { text: heading }), list));
}

function renderClaims(turn, claims, verification) {
  const box = turn.querySelector(".claims");
  box.textContent = "";
  if (!verification) return;
  for (const claim of claims) {
    const ok = claim.verdict === "supported";
    const removed = !ok && verification.mode !== "annotate" && verification.mode !== "off";
    const cls = ok ? "supported" : removed ? "removed" : "flagged";
    const label = ok ? "supported" : removed ? `removed · ${claim.verdict}` : claim.verdict;
    box.append(el("li", { class: cls }, el("span", { text: claim.text }), el("span", { class: "verdict", text: label })));
  }
  const summary = `Verified (${verification.mode}): ${verification.supported} of ${verification.claims} claims supported` +
    (verification.removed ? `, ${verification.removed} removed` : "");
  turn.querySelector(".verification").textContent = summary;
}

function copyText(answer) {
  const lines = [answer.answer, ""];
  for (const c of answer.citations) lines.push(`[${c.n}] ${c.title || c.doc_id} — ${c.source} (chars ${c.span[0]}–${c.span[1]})`);
  return lines.join("\n").trim();
}

function finish(turn, answer) {
  const node = turn.querySelector(".answer");
  node.classList.remove("streaming");
  renderAnswerText(node, answer.answer, answer.sources, answer.cited, answer.refused);
  renderSources(turn, answer.sources, answer.citations.map((c) => c.n));
  renderClaims(turn, answer.claims, answer.verification);
  if (answer.refused) {
    turn.querySelector(".refusal").textContent = `Not answered — ${answer.refusal_reason}: ${REASONS[answer.refusal_reason] || ""}`;
  }
  if (answer.retrieval_query && answer.retrieval_query !== answer.question) {
    turn.querySelector(".searched").textContent = `Searched: ${answer.retrieval_query}`;
  }
  const copy = el("button", { type: "button", class: "copy", text: "Copy answer" });
  copy.addEventListener("click", async () => {
    await navigator.clipboard.writeText(copyText(answer)).catch(() => {});
    copy.textContent = "Copied";
    announce("Answer copied with its citations");
  });
  turn.querySelector(".actions").append(copy);
  announce(answer.refused ? "The question was not answered" : "Answer ready");
}

async function ask(question) {
  const turn = el("article", { class: "turn", "aria-label": "Question and answer" },
    el("p", { class: "q", text: question }), el("p", { class: "searched muted" }),
    el("div", { class: "answer streaming", "aria-live": "polite", "aria-busy": "true" }),
    el("p", { class: "refusal" }), el("p", { class: "verification muted" }), el("ul", { class: "claims" }),
    el("div", { class: "sources" }), el("div", { class: "row actions" }));
  $("#conversation").append(turn);
  turn.scrollIntoView({ block: "nearest" });
  const node = turn.querySelector(".answer");
  const body = { question, history: state.history.slice(-12), stream: true, ...requestOptions() };
  state.controller = new AbortController();
  setBusy(true);
  let final = null;
  try {
    const response = await api("/v1/query", {
      method: "POST", body: JSON.stringify(body), signal: state.controller.signal,
      headers: { "Content-Type": "application/json" },
    });
    let sources = [];
    for await (const { event, data } of sseEvents(response)) {
      if (event === "sources") { sources = data.sources; renderSources(turn, sources, []); }
      else if (event === "token") node.append(data.delta);
      else if (event === "claims") renderClaims(turn, data.claims, data.verification);
      else if (event === "done") { final = data; finish(turn, data); }
      else if (event === "error") {
        node.classList.remove("streaming");
        turn.querySelector(".refusal").append(el("span", { class: "error", text: `Error (${data.code}): ${data.message}` }));
        if (data.answer) renderSources(turn, data.answer.sources, []);
      }
    }
  } catch (err) {
    node.classList.remove("streaming");
    const text = err.name === "AbortError" ? "Stopped." : `Error (${err.code || "network"}): ${err.message}`;
    turn.querySelector(".refusal").append(el("span", { class: "error", text }));
  } finally {
    node.setAttribute("aria-busy", "false");
    setBusy(false);
  }
  if (final) {  // a refusal stays in the history too: a follow-up may still lean on the question
    state.history.push({ role: "user", content: question }, { role: "assistant", content: final.answer });
  }
}

function setBusy(busy) {
  $("#ask-button").disabled = busy;
  $("#stop-button").hidden = !busy;
}

// ---- reading a cited passage --------------------------------------------------------------------------------
async function openSource(source) {
  const dialog = $("#viewer"), text = $("#viewer-text");
  $("#viewer-title").textContent = source.title || source.doc_id;
  $("#viewer-source").textContent = `${source.source} · characters ${source.span[0]}–${source.span[1]}`;
  text.textContent = "Loading…";
  if (!dialog.open) dialog.showModal();
  try {
    const content = await (await api(docPath(source.doc_id) + "/content")).json();
    const [start, end] = source.span;
    const mark = el("mark", { id: "cited-span", text: content.text.slice(start, end) });
    text.textContent = "";
    text.append(content.text.slice(0, start), mark, content.text.slice(end));
    mark.scrollIntoView({ block: "center" });
  } catch (err) {
    text.textContent = `Could not open the document: ${err.message}`;
  }
}

// ---- documents ----------------------------------------------------------------------------------------------
async function loadDocuments() {
  try {
    const page = await (await api(`/v1/documents?offset=${state.offset}&limit=${state.limit}`)).json();
    state.total = page.total;
    const body = $("#doc-table tbody");
    body.textContent = "";
    for (const doc of page.documents) {
      const del = el("button", { type: "button", class: "delete", text: "Delete", "aria-label": `Delete ${doc.title || doc.doc_id}` });
      del.addEventListener("click", () => deleteDocument(doc, del));
      const view = el("a", { href: "#", text: doc.title || doc.doc_id, onclick: (e) => { e.preventDefault(); openSource({ ...doc, span: [0, 0] }); } });
      body.append(el("tr", { "data-doc-id": doc.doc_id }, el("td", {}, view), el("td", { text: doc.source.split("/").pop(), title: doc.source }), el("td", { text: doc.n_chunks }), el("td", {}, del)));
    }
    if (!page.documents.length) body.append(el("tr", {}, el("td", { colspan: 4, class: "muted", text: "No documents yet." })));
    const last = Math.min(state.offset + state.limit, state.total);
    $("#doc-total").textContent = `(${state.total})`;
    $("#page-info").textContent = state.total ? `${state.offset + 1}–${last} of ${state.total}` : "";
    $("#prev-page").disabled = state.offset === 0;
    $("#next-page").disabled = last >= state.total;
  } catch (err) {
    $("#page-info").textContent = `Could not list documents: ${err.message}`;
  }
}

async function deleteDocument(doc, button) {
  if (button.dataset.armed !== "1") {  // a second click confirms
    button.dataset.armed = "1";
    button.textContent = "Confirm delete";
    return;
  }
  button.disabled = true;
  try {
    await api(docPath(doc.doc_id), { method: "DELETE" });
    announce(`Deleted ${doc.title || doc.doc_id}`);
    if (state.offset && state.offset >= state.total - 1) state.offset = Math.max(0, state.offset - state.limit);
    await loadDocuments();
  } catch (err) {
    button.disabled = false;
    announce(`Could not delete: ${err.message}`);
    alert(`Could not delete: ${err.message}`);
  }
}

async function upload(files) {
  if (!files.length) return;
  const form = new FormData();
  for (const file of files) form.append("files", file, file.name);
  const item = el("li", {}, el("span", { text: `Uploading ${files.length} file(s)… ` }));
  $("#jobs").prepend(item);
  try {
    const job = await (await api("/v1/documents", { method: "POST", body: form })).json();
    await followJob(job, item);
  } catch (err) {
    item.textContent = `Upload failed (${err.code || "network"}): ${err.message}`;
    item.className = "error";
  }
}

async function followJob(job, item) {
  const bar = el("progress", { max: Math.max(job.files_total, 1), value: 0, "aria-label": "ingestion progress" });
  const label = el("span");
  item.textContent = "";
  item.append(bar, " ", label);
  for (;;) {
    bar.value = job.files_done;
    label.textContent = `job ${job.id}: ${job.state} — ${job.files_done}/${job.files_total} files, ${job.chunks_written} chunks`;
    if (["succeeded", "succeeded_with_errors", "failed", "cancelled"].includes(job.state)) break;
    await new Promise((r) => setTimeout(r, 400));
    job = await (await api(`/v1/jobs/${job.id}`)).json();
  }
  for (const e of job.errors || []) item.append(el("div", { class: "error", text: `${e.file || e.path || ""}: ${e.message || e.reason || JSON.stringify(e)}` }));
  announce(`Ingestion ${job.state}`);
  await loadDocuments();
}

// ---- wiring ---------------------------------------------------------------------------------------------------
function selectTab(tab) {
  for (const t of document.querySelectorAll("[role=tab]")) {
    const on = t === tab;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    $("#" + t.getAttribute("aria-controls")).hidden = !on;
  }
  if (tab.id === "tab-docs") loadDocuments();
}

function wire() {
  const tabs = [...document.querySelectorAll("[role=tab]")];
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (e) => {
      const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (step) { const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length]; selectTab(next); next.focus(); }
    });
  }
  $("#ask-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = $("#question").value.trim();
    if (!q || $("#ask-button").disabled) return;
    $("#question").value = "";
    ask(q);
  });
  $("#question").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("#ask-form").requestSubmit(); }
  });
  $("#stop-button").addEventListener("click", () => state.controller?.abort());
  $("#new-conversation").addEventListener("click", () => {
    state.history = [];
    $("#conversation").textContent = "";
    announce("New conversation");
    $("#question").focus();
  });
  $("#key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY_STORE, $("#api-key").value.trim());
    $("#api-key").value = "";
    $("#key-form").hidden = true;
    announce("API key set");
    if (!$("#view-docs").hidden) loadDocuments();
    $("#question").focus();
  });
  $("#viewer-close").addEventListener("click", () => $("#viewer").close());
  $("#prev-page").addEventListener("click", () => { state.offset = Math.max(0, state.offset - state.limit); loadDocuments(); });
  $("#next-page").addEventListener("click", () => { state.offset += state.limit; loadDocuments(); });
  const zone = $("#dropzone");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); upload([...e.dataTransfer.files]); });
  $("#file-input").addEventListener("change", (e) => { upload([...e.target.files]); e.target.value = ""; });
}

wire();
loadInfo().catch((err) => { $("#server-info").textContent = `server unreachable: ${err.message}`; });
