// Clipwave's page: sign in, upload with progress, follow jobs, download.
// Tokens live in memory and sessionStorage only; a 401 triggers one refresh
// with the refresh token and one retry, as the CLI does.
"use strict";

const state = {
  access: sessionStorage.getItem("clipwave.access"),
  refresh: sessionStorage.getItem("clipwave.refresh"),
  email: sessionStorage.getItem("clipwave.email"),
  pollTimer: null,
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

async function errorMessage(response) {
  try {
    const body = await response.json();
    return `${body.message} (request ${body.request_id})`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

async function refreshTokens() {
  if (!state.refresh) return false;
  const response = await fetch("/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: state.refresh }),
  });
  if (!response.ok) return false;
  saveTokens(await response.json());
  return true;
}

// fetch with the access token; on 401 refresh once and retry once.
async function authorizedFetch(path, options = {}) {
  const attempt = () =>
    fetch(path, {
      ...options,
      headers: { ...(options.headers || {}), Authorization: `Bearer ${state.access}` },
    });
  let response = await attempt();
  if (response.status === 401 && (await refreshTokens())) {
    response = await attempt();
  }
  if (response.status === 401) {
    signedOut("Your session has ended; please sign in again.");
    throw new Error("signed out");
  }
  return response;
}

async function signIn(event) {
  event.preventDefault();
  const email = $("email").value.trim();
  const password = $("password").value;
  const response = await fetch("/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok) {
    setStatus(`Sign-in failed: ${await errorMessage(response)}`, true);
    return;
  }
  saveTokens(await response.json(), email);
  $("password").value = "";
  signedIn();
}

async function register() {
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
  await signIn(new Event("submit"));
}

async function signOut() {
  try {
    await authorizedFetch("/logout", { method: "POST" });
  } catch {
    // Already signed out.
  }
  signedOut("Signed out.");
}

function signedIn() {
  $("auth-section").hidden = true;
  $("upload-section").hidden = false;
  $("jobs-section").hidden = false;
  $("account").hidden = false;
  $("who").textContent = state.email || "";
  setStatus("Signed in.");
  refreshJobs();
}

function signedOut(message) {
  forgetTokens();
  clearTimeout(state.pollTimer);
  $("auth-section").hidden = false;
  $("upload-section").hidden = true;
  $("jobs-section").hidden = true;
  $("account").hidden = true;
  $("jobs").replaceChildren();
  setStatus(message);
}

function upload(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const progress = $("upload-progress");
  progress.value = 0;
  setStatus(`Uploading ${file.name}…`);
  const send = (retried) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/upload");
    xhr.setRequestHeader("Authorization", `Bearer ${state.access}`);
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.addEventListener("load", async () => {
      if (xhr.status === 401 && !retried && (await refreshTokens())) return send(true);
      if (xhr.status === 202) {
        progress.value = 100;
        setStatus(`${file.name} uploaded; converting.`);
        refreshJobs();
      } else {
        let message = `HTTP ${xhr.status}`;
        try {
          const body = JSON.parse(xhr.responseText);
          message = `${body.message} (request ${body.request_id})`;
        } catch {
          // Not JSON.
        }
        setStatus(`Upload failed: ${message}`, true);
      }
    });
    xhr.addEventListener("error", () => setStatus("Upload failed: network error.", true));
    xhr.send(form);
  };
  send(false);
}

function jobItem(job) {
  const item = document.createElement("li");
  item.dataset.jobId = job.job_id;
  item.dataset.status = job.status;
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = job.filename || job.job_id;
  const stateText = document.createElement("span");
  stateText.className = "state";
  stateText.textContent = job.status === "processing" ? `processing ${job.progress}%` : job.status;
  item.append(name, stateText);
  if (job.status === "done") {
    const download = document.createElement("button");
    download.type = "button";
    download.className = "download";
    download.textContent = "Download";
    download.setAttribute("aria-label", `Download ${name.textContent} as mp3`);
    download.addEventListener("click", () => downloadJob(job));
    item.append(download);
  }
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "danger";
  remove.textContent = job.status === "queued" || job.status === "processing" ? "Cancel" : "Delete";
  remove.setAttribute("aria-label", `${remove.textContent} ${name.textContent}`);
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

async function refreshJobs() {
  clearTimeout(state.pollTimer);
  if (!state.access) return;
  let response;
  try {
    response = await authorizedFetch("/jobs");
  } catch {
    return;
  }
  if (!response.ok) {
    setStatus(`Could not list jobs: ${await errorMessage(response)}`, true);
    return;
  }
  const { jobs } = await response.json();
  $("jobs").replaceChildren(...jobs.map(jobItem));
  $("no-jobs").hidden = jobs.length > 0;
  const busy = jobs.some((j) => j.status === "queued" || j.status === "processing");
  state.pollTimer = setTimeout(refreshJobs, busy ? 1000 : 5000);
}

async function downloadJob(job) {
  const response = await authorizedFetch(`/jobs/${encodeURIComponent(job.job_id)}/audio`);
  if (!response.ok) {
    setStatus(`Download failed: ${await errorMessage(response)}`, true);
    return;
  }
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = (job.filename || job.job_id).replace(/\.[^.]*$/, "") + ".mp3";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function deleteJob(job) {
  const response = await authorizedFetch(`/jobs/${encodeURIComponent(job.job_id)}`, { method: "DELETE" });
  if (!response.ok && response.status !== 404) {
    setStatus(`Could not delete: ${await errorMessage(response)}`, true);
  }
  refreshJobs();
}

function wireDropZone() {
  const zone = $("drop-zone");
  const input = $("file");
  input.addEventListener("change", () => input.files[0] && upload(input.files[0]));
  zone.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      input.click();
    }
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
}

document.addEventListener("DOMContentLoaded", () => {
  $("auth-form").addEventListener("submit", signIn);
  $("register").addEventListener("click", register);
  $("sign-out").addEventListener("click", signOut);
  wireDropZone();
  if (state.access) signedIn();
});
