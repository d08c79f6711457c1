// Starts a real Clipwave for the browser test: a temp app folder like the
// Rust e2e harness writes (tests/e2e/tests/api/helpers.rs), fresh Ed25519
// keys, an Argon2id hash of the worker's secret, `clipwave-host` on a free
// port and one `clipwave-worker`. Nothing here is mocked.

import { spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { argon2id } from "hash-wasm";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const TARGET = path.resolve(ROOT, process.env.CARGO_TARGET_DIR || "target");
export const ARTIFACTS = path.join(TARGET, "browser");

const WORKER_CLIENT_ID = "clipwave-worker";

// Every process started here, so none outlives the test run, even when it is interrupted.
const started = new Set();
process.on("exit", () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => process.exit(130));
}

/** What must exist before the test can run; a missing piece is a failure, never a skip. */
export function missingPrerequisites() {
  const needed = [
    "/usr/bin/chromium",
    path.join(TARGET, "release", "clipwave-host"),
    path.join(TARGET, "release", "clipwave-worker"),
    ...["auth", "gateway", "web"].map((c) => path.join(TARGET, "wasm32-wasip2", "release", `clipwave_${c}.wasm`)),
  ];
  const missing = needed.filter((file) => !existsSync(file));
  if (spawnSync("ffmpeg", ["-version"], { stdio: "ignore" }).status !== 0) missing.push("ffmpeg");
  return missing;
}

/** A fresh Ed25519 signing key as a private JWK, and the JWKS listing its public half. */
export function generateKeys(kid) {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const privateJwk = { kty: "OKP", crv: "Ed25519", kid, x: jwk.x, d: jwk.d };
  const jwks = { keys: [{ kty: "OKP", crv: "Ed25519", kid, x: jwk.x, use: "sig", alg: "EdDSA" }] };
  return { privateJwk: JSON.stringify(privateJwk), jwks: JSON.stringify(jwks) };
}

/** An Argon2id PHC string, as the auth component verifies service secrets. */
export function hashSecret(secret) {
  return argon2id({
    password: secret,
    salt: randomBytes(16),
    parallelism: 1,
    iterations: 2,
    memorySize: 19456,
    hashLength: 32,
    outputType: "encoded",
  });
}

/** Copies spin.toml (component sources under this build's target folder) and the runtime config. */
function writeAppFiles(dir) {
  const manifest = readFileSync(path.join(ROOT, "spin.toml"), "utf8");
  const pointed = manifest.replaceAll('source = "target/', `source = "${TARGET}/`);
  if (pointed === manifest) throw new Error("spin.toml has no `source = \"target/...` line to rewrite");
  writeFileSync(path.join(dir, "spin.toml"), pointed);
  writeFileSync(path.join(dir, "runtime-config.toml"), readFileSync(path.join(ROOT, "runtime-config.toml")));
}

/** Waits for a child's `Serving http://ADDR` line; rejects if it exits or time runs out. */
function waitForServing(child, name, timeoutMs) {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${name} did not print "Serving http://…" within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const onData = (chunk) => {
      buffered += chunk.toString();
      const match = buffered.match(/^Serving (http:\/\/\S+)$/m);
      if (match) {
        cleanup();
        resolve(match[1]);
      }
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`${name} exited early (code ${code}, signal ${signal}); see ${ARTIFACTS}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off("data", onData);
      child.off("exit", onExit);
    };
    child.stdout.on("data", onData);
    child.on("exit", onExit);
  });
}

function logTo(child, file) {
  const log = createWriteStream(file);
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
}

/** A running app with a worker; `stop()` ends both and removes their folders. */
export async function startApp() {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dir = mkdtempSync(path.join(tmpdir(), "clipwave-browser-app-"));
  const workDir = mkdtempSync(path.join(tmpdir(), "clipwave-browser-worker-"));
  const children = [];
  const stop = async () => {
    for (const child of children.reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    writeAppFiles(dir);
    const keys = generateKeys("browser-test-key-1");
    const workerSecret = randomBytes(24).toString("base64url");
    const variables = {
      jwt_signing_key: keys.privateJwk,
      jwt_public_keys: keys.jwks,
      open_registration: "true",
      worker_client_id: WORKER_CLIENT_ID,
      worker_client_secret_hash: await hashSecret(workerSecret),
    };
    const env = { ...process.env, RUST_LOG: "warn" };
    for (const [name, value] of Object.entries(variables)) env[`SPIN_VARIABLE_${name.toUpperCase()}`] = value;

    const host = spawn(
      path.join(TARGET, "release", "clipwave-host"),
      [
        "--listen", "127.0.0.1:0",
        "--from", path.join(dir, "spin.toml"),
        "--runtime-config-file", path.join(dir, "runtime-config.toml"),
        "--cache-dir", path.join(TARGET, "clipwave-host-cache"),
      ],
      { env, stdio: ["ignore", "pipe", "pipe"] },
    );
    children.push(host);
    started.add(host);
    logTo(host, path.join(ARTIFACTS, "host.log"));
    const address = await waitForServing(host, "clipwave-host", 300_000);

    const secretFile = path.join(workDir, "client-secret");
    writeFileSync(secretFile, workerSecret, { mode: 0o600 });
    const worker = spawn(
      path.join(TARGET, "release", "clipwave-worker"),
      ["--api", address, "--client-id", WORKER_CLIENT_ID, "--client-secret-file", secretFile, "--work-dir", workDir],
      { env: { ...process.env, RUST_LOG: "info" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    children.push(worker);
    started.add(worker);
    logTo(worker, path.join(ARTIFACTS, "worker.log"));
    return { address, stop, worker };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A small H.264 + AAC mp4 made with ffmpeg (test media is generated, never committed). */
export function makeVideo(file, seconds = 2) {
  const result = spawnSync(
    "ffmpeg",
    [
      "-v", "error", "-y",
      "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10",
      "-f", "lavfi", "-i", "sine=frequency=440",
      "-t", String(seconds), "-c:v", "libx264", "-c:a", "aac", "-shortest",
      file,
    ],
    { encoding: "utf8" },
  );
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr || result.error}`);
  return file;
}
