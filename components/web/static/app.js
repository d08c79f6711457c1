// Clipwave's page: sign in, upload with progress, follow jobs, download.
// Tokens live in memory and sessionStorage only; a 401 triggers one refresh
// with the refresh token and one retry, as the CLI does.
"use strict";

const state = {
  access: sessionStorage.getItem("clipwave.access"),
  refresh: sessionStorage.getItem("clipwave.refresh"),
  email: sessionStorage.getItem("clipwave.email"),
  pollTimer: null,
  // The refresh in flight, shared by every request that got a 401 meanwhile
  // (refresh tokens are single-use).
  refreshing: null,
  // job_id → last status seen, to announce when a conversion ends.
  seen: new Map(),
};

const $ = (id) => document.getElementById(id);

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

function saveTokens(tokens, email) {
  state.access = tokens.access_token;
  state.refresh = tokens.refresh_token;
  sessionStorage.setItem("clipwave.access", state.access);
  sessionStorage.setItem("clipwave.refresh", state.refresh);
  if (email) {
    state.email = email;
    sessionStorage.setItem("clipwave.email", email);
  }
}

function forgetTokens() {
  state.access = state.refresh = state.email = null;
  sessionStorage.removeItem("clipwave.access");
  sessionStorage.removeItem("clipwave.refresh");
  sessionStorage.removeItem("clipwave.email");
}

// The API's error text: its message and request id, or the HTTP status.
function describeError(status, text) {
  try {
    const body = JSON.parse(text);
    if (body.message) return body.request_id ? `${body.message} (request ${body.request_id})` : body.message;
  } catch {
    // Not JSON.
  }
  return `HTTP ${status}`;
}

async function errorMessage(response) {
  return describeError(response.status, await response.text().catch(() => ""));
}

function refreshTokens() {
  if (!state.refreshing) {
    state.refreshing = (async () => {
      if (!state.refresh) return false;
      try {
        const response = await fetch("/refresh", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: state.refresh }),
        });
        if (!response.ok) return false;
        saveTokens(await response.json());
        return true;
      } catch {
        return false;
      }
    })().finally(() => {
      state.refreshing = null;
    });
  }
  return state.refreshing;
}

// fetch with the access token; on 401 refresh once and retry once.
async function authorizedFetch(path, options = {}) {
  const attempt = (token) =>
    fetch(path, {
      ...options,
      headers: { ...(options.headers || {}), Authorization: `Bearer ${token}` },
    });
  const used = state.access;
  let response = await attempt(used);
  // Another request may have refreshed meanwhile: then just retry with its token.
  if (response.status === 401 && (state.access !== used || (await refreshTokens()))) {
    response = await attempt(state.access);
  }
  if (response.status === 401) {
    signedOut("Your session has ended; please sign in again.");
    throw new Error("signed out");
  }
  return response;
}

// Runs `action` with the form's buttons disabled; network failures become a message.
async function withFormBusy(action) {
  const buttons = [$("sign-in"), $("register")];
  buttons.forEach((b) => (b.disabled = true));
  try {
    await action();
  } catch {
    setStatus("The server could not be reached; please try again.", true);
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

async function logIn(email, password) {
  const response = await fetch("/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok) {
    setStatus(`Sign-in failed: ${await errorMessage(response)}`, true);
    $("password").focus();
    return;
  }
  saveTokens(await response.json(), email);
  $("password").value = "";
  signedIn(true);
}

function signIn(event) {
  event.preventDefault();
  return withFormBusy(() => logIn($("email").value.trim(), $("password").value));
}

function register() {
  return withFormBusy(async () => {
    const email = $("email").value.trim();
    const password = $("password").value;
    const response = await fetch("/register", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
    if (!response.ok) {
      setStatus(`Registration failed: ${await errorMessage(response)}`, true);
      return;
    }
    setStatus("Account created; signing in…");
    await logIn(email, password);
  });
}

async function signOut() {
  try {
    await authorizedFetch("/logout", { method: "POST" });
  } catch {
    // Already signed out, or the server is unreachable: forget the tokens anyway.
  }
  signedOut("Signed out.");
}

// `moveFocus`: the user just signed in, so focus goes to the upload section
// (the form that had it is hidden now).
function signedIn(moveFocus = false) {
  $("auth-section").hidden = true;
  $("upload-section").hidden = false;
  $("jobs-section").hidden = false;
  $("account").hidden = false;
  $("who").textContent = state.email || "";
  setStatus("Signed in.");
  if (moveFocus) $("upload-title").focus();
  refreshJobs();
}

function signedOut(message) {
  const hadFocusInside = document.activeElement && document.activeElement !== document.body;
  forgetTokens();
  clearTimeout(state.pollTimer);
  state.seen.clear();
  $("auth-section").hidden = false;
  $("upload-section").hidden = true;
  $("jobs-section").hidden = true;
  $("account").hidden = true;
  $("jobs").replaceChildren();
  $("upload-progress").value = 0;
  setStatus(message);
  if (hadFocusInside) $("auth-title").focus();
}

function upload(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const progress = $("upload-progress");
  const show = (percent) => {
    progress.value = percent;
    progress.textContent = `${percent}%`;
  };
  show(0);
  setStatus(`Uploading ${file.name}…`);
  const send = (retried) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/upload");
    xhr.setRequestHeader("Authorization", `Bearer ${state.access}`);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) show(Math.round((100 * e.loaded) / e.total));
    });
    xhr.addEventListener("load", async () => {
      if (xhr.status === 401) {
        if (!retried && (await refreshTokens())) return send(true);
        signedOut("Your session has ended; please sign in again.");
      } else if (xhr.status === 202) {
        show(100);
        setStatus(`${file.name} uploaded; converting.`);
        refreshJobs();
      } else {
        show(0);
        setStatus(`Upload failed: ${describeError(xhr.status, xhr.responseText)}`, true);
      }
    });
    xhr.addEventListener("error", () => {
      show(0);
      setStatus("Upload failed: network error.", true);
    });
    xhr.send(form);
  };
  send(false);
}

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function formatDuration(seconds) {
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

const isBusy = (job) => job.status === "queued" || job.status === "processing";
const jobName = (job) => job.filename || job.job_id;
// What the job's row shows; a row is rebuilt only when this changes.
const jobKey = (job) =>
  [job.status, job.progress, job.error, job.filename, job.output_size, job.duration_secs].join("|");

function jobItem(job) {
  const item = document.createElement("li");
  item.dataset.jobId = job.job_id;
  item.dataset.status = job.status;
  item.dataset.key = jobKey(job);
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = jobName(job);
  const stateText = document.createElement("span");
  stateText.className = "state";
  stateText.textContent = job.status === "processing" ? `processing ${job.progress}%` : job.status;
  item.append(name, stateText);
  if (job.status === "processing") {
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = job.progress;
    bar.textContent = `${job.progress}%`;
    bar.setAttribute("aria-label", `Converting ${jobName(job)}`);
    item.append(bar);
  }
  if (job.status === "done") {
    const details = document.createElement("span");
    details.className = "details";
    details.textContent = [
      job.duration_secs != null ? formatDuration(job.duration_secs) : null,
      job.output_size != null ? formatBytes(job.output_size) : null,
    ]
      .filter(Boolean)
      .join(" · ");
    const download = document.createElement("button");
    download.type = "button";
    download.className = "download";
    download.dataset.role = "download";
    download.textContent = "Download";
    download.setAttribute("aria-label", `Download ${jobName(job)} as mp3`);
    download.addEventListener("click", () => downloadJob(job, download));
    item.append(details, download);
  }
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "danger";
  remove.dataset.role = "remove";
  remove.textContent = isBusy(job) ? "Cancel" : "Delete";
  remove.setAttribute("aria-label", `${remove.textContent} ${jobName(job)}`);
  remove.addEventListener("click", () => deleteJob(job));
  item.append(remove);
  if (job.status === "failed" && job.error) {
    const error = document.createElement("p");
    error.className = "error-text";
    error.textContent = job.error;
    item.append(error);
  }
  return item;
}

// Updates the list in place: rows that did not change stay the same elements,
// so polling never takes the keyboard focus away from a button.
function renderJobs(jobs) {
  const list = $("jobs");
  const active = document.activeElement;
  const focused =
    active && list.contains(active) && active !== list
      ? { id: active.closest("li")?.dataset.jobId, role: active.dataset.role }
      : null;
  const old = new Map([...list.children].map((li) => [li.dataset.jobId, li]));
  const items = jobs.map((job) => {
    const existing = old.get(job.job_id);
    return existing && existing.dataset.key === jobKey(job) ? existing : jobItem(job);
  });
  const keep = new Set(items);
  [...list.children].filter((li) => !keep.has(li)).forEach((li) => li.remove());
  items.forEach((item, i) => {
    if (list.children[i] !== item) list.insertBefore(item, list.children[i] ?? null);
  });
  if (focused && !list.contains(document.activeElement)) {
    const row = items.find((li) => li.dataset.jobId === focused.id);
    const target = row?.querySelector(`button[data-role="${focused.role}"]`) ?? row?.querySelector("button");
    (target ?? $("jobs-title")).focus();
  }
  $("no-jobs").hidden = jobs.length > 0;
}

// Announces conversions that ended since the last poll.
function announce(jobs) {
  for (const job of jobs) {
    const before = state.seen.get(job.job_id);
    if (before && before !== job.status && (before === "queued" || before === "processing")) {
      if (job.status === "done") setStatus(`${jobName(job)} is converted and ready to download.`);
      if (job.status === "failed") setStatus(`${jobName(job)} could not be converted${job.error ? `: ${job.error}` : "."}`, true);
    }
  }
  state.seen = new Map(jobs.map((job) => [job.job_id, job.status]));
}

async function refreshJobs() {
  clearTimeout(state.pollTimer);
  if (!state.access) return;
  let busy = false;
  try {
    const response = await authorizedFetch("/jobs");
    if (!response.ok) {
      setStatus(`Could not list conversions: ${await errorMessage(response)}`, true);
    } else {
      const { jobs } = await response.json();
      renderJobs(jobs);
      announce(jobs);
      busy = jobs.some(isBusy);
    }
  } catch {
    if (!state.access) return; // signed out
  }
  clearTimeout(state.pollTimer);
  if (state.access) state.pollTimer = setTimeout(refreshJobs, busy ? 1000 : 5000);
}

async function downloadJob(job, button) {
  button.disabled = true;
  try {
    const response = await authorizedFetch(`/jobs/${encodeURIComponent(job.job_id)}/audio`);
    if (!response.ok) {
      setStatus(`Download failed: ${await errorMessage(response)}`, true);
      return;
    }
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = jobName(job).replace(/\.[^.]*$/, "") + ".mp3";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch {
    if (state.access) setStatus("Download failed: network error.", true);
  } finally {
    button.disabled = false;
  }
}

async function deleteJob(job) {
  const verb = isBusy(job) ? "Canceled" : "Deleted";
  try {
    const response = await authorizedFetch(`/jobs/${encodeURIComponent(job.job_id)}`, { method: "DELETE" });
    if (response.ok || response.status === 404) {
      setStatus(`${verb} ${jobName(job)}.`);
    } else {
      setStatus(`Could not delete: ${await errorMessage(response)}`, true);
    }
  } catch {
    if (!state.access) return;
    setStatus("Could not delete: network error.", true);
  }
  refreshJobs();
}

function wireDropZone() {
  const zone = $("drop-zone");
  const input = $("file");
  input.addEventListener("change", () => {
    const file = input.files[0];
    // Cleared so that choosing the same file again uploads it again.
    input.value = "";
    if (file) upload(file);
  });
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    const file = e.dataTransfer.files[0];
    if (file) upload(file);
  });
  // A file dropped next to the zone must not make the browser open it instead.
  for (const type of ["dragover", "drop"]) {
    document.addEventListener(type, (e) => {
      if (!zone.contains(e.target)) e.preventDefault();
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("auth-form").addEventListener("submit", signIn);
  $("register").addEventListener("click", register);
  $("sign-out").addEventListener("click", signOut);
  wireDropZone();
  if (state.access) signedIn();
});
