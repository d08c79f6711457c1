// Clipwave's page in a real browser: Debian's chromium driven by
// playwright-core against the real app (clipwave-host + clipwave-worker).
// Run with `bash tests/browser/run.sh`. Artifacts land in target/browser/:
// clipwave.png, clipwave-phone.png, host.log, worker.log. With
// UPDATE_SCREENSHOT=1 the final screenshot is also copied to docs/screenshot.png.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";
import { ARTIFACTS, ROOT, makeVideo, missingPrerequisites, startApp } from "./app.mjs";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-quic",
  "--disable-sync",
];
const DESKTOP = { width: 900, height: 640 };
const PHONE = { width: 390, height: 844 };
const JOB_TIMEOUT_MS = 180_000;

// A missing piece is a failing test, never a skip.
const missing = missingPrerequisites();
if (missing.length > 0) {
  test("prerequisites are installed (run tests/browser/run.sh after the release build)", () => {
    assert.fail(`missing: ${missing.join(", ")}`);
  });
} else describe("the Clipwave page in chromium", { timeout: 900_000 }, () => {
  let app;
  let context;
  let page;
  let scratch;
  let video;
  const email = `browser-${randomBytes(4).toString("hex")}@clipwave.test`;
  const password = "a long browser password";
  const consoleErrors = [];
  // A failed start is reported by every test (as failures, not as cancellations).
  let setupError = null;
  const step = (name, fn) =>
    test(name, async () => {
      if (setupError) throw new Error(`the app or the browser did not start: ${setupError.message}`);
      await fn();
    });

  before(async () => {
    try {
      await setUp();
    } catch (error) {
      setupError = error;
    }
  });

  async function setUp() {
    scratch = mkdtempSync(path.join(tmpdir(), "clipwave-browser-"));
    video = makeVideo(path.join(scratch, "sine clip.mp4"));
    app = await startApp();
    // launchPersistentContext is how playwright takes a --user-data-dir: a fresh one per run.
    context = await chromium.launchPersistentContext(path.join(scratch, "profile"), {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: DESKTOP,
      acceptDownloads: true,
      baseURL: app.address,
    });
    context.setDefaultTimeout(30_000);
    // Recorded in the page itself as well: CSP violations raise this event
    // (init scripts come from the driver, so the page's CSP does not apply to them).
    await context.addInitScript(() => {
      window.__cspViolations = [];
      document.addEventListener("securitypolicyviolation", (e) => {
        window.__cspViolations.push(`${e.violatedDirective}: ${e.blockedURI}`);
      });
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(`console: ${message.text()} (${message.location().url})`);
    });
    page.on("pageerror", (error) => consoleErrors.push(`page error: ${error.message}`));
    page.on("requestfailed", (request) => {
      // A download's blob: URL is released by the page once saved; anything else failing is a bug.
      if (!request.url().startsWith("blob:")) consoleErrors.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
    });
  }

  after(async () => {
    await context?.close();
    await app?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  step("the page is served with strict security headers", async () => {
    for (const file of ["/", "/app.js", "/style.css"]) {
      const response = await fetch(new URL(file, app.address));
      assert.equal(response.status, 200, file);
      const csp = response.headers.get("content-security-policy") ?? "";
      assert.match(csp, /(^|;)\s*default-src 'none'/, `${file}: ${csp}`);
      assert.match(csp, /(^|;)\s*script-src 'self'(;|$)/, `${file}: ${csp}`);
      assert.match(csp, /(^|;)\s*style-src 'self'(;|$)/, `${file}: ${csp}`);
      assert.match(csp, /frame-ancestors 'none'/, `${file}: ${csp}`);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `${file}: ${csp}`);
      assert.equal(response.headers.get("x-content-type-options"), "nosniff", file);
      assert.match(response.headers.get("referrer-policy") ?? "", /^(no-referrer|same-origin|strict-origin(-when-cross-origin)?)$/, file);
      const etag = response.headers.get("etag");
      assert.ok(etag, `${file} has an ETag`);
      const again = await fetch(new URL(file, app.address), { headers: { "If-None-Match": etag } });
      assert.equal(again.status, 304, `${file} revalidates`);
    }
    const html = await (await fetch(new URL("/", app.address))).text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, "the page has an inline <script>");
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i, "the page has an inline event handler");
    assert.doesNotMatch(html, /\sstyle\s*=/i, "the page has an inline style attribute");
  });

  step("a new visitor registers and is signed in", async () => {
    await page.goto("/");
    await assert.doesNotReject(page.getByRole("heading", { name: "Sign in" }).waitFor());
    await page.getByLabel("E-mail").fill(email);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.locator("#account").waitFor({ state: "visible" });
    assert.equal(await page.locator("#who").textContent(), email);
    assert.equal(await page.locator("#auth-section").isHidden(), true);
    assert.equal(await page.getByLabel("Password", { exact: true }).inputValue(), "", "the password is cleared");
    const stored = await page.evaluate(() => Object.keys(sessionStorage).sort());
    assert.ok(stored.includes("clipwave.access") && stored.includes("clipwave.refresh"), `sessionStorage: ${stored}`);
    const local = await page.evaluate(() => Object.keys(localStorage));
    assert.deepEqual(local, [], "tokens never go to localStorage");
  });

  step("signing out, then signing in with the keyboard only (Tab, Enter)", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal(await page.locator("#account").isHidden(), true);
    assert.deepEqual(await page.evaluate(() => Object.keys(sessionStorage)), [], "sign-out forgets the tokens");

    // A fresh load, then nothing but the keyboard.
    await page.reload();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "email", "the first Tab reaches the e-mail field");
    await page.keyboard.type(email);
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "password", "the next Tab reaches the password field");
    await page.keyboard.type(password);
    await page.keyboard.press("Enter");
    await page.locator("#account").waitFor({ state: "visible" });
    assert.equal(await page.locator("#who").textContent(), email);
    assert.match(await page.locator("#status").textContent(), /signed in/i);
    // Focus moves into the signed-in page rather than being lost on a hidden form.
    const after = await page.evaluate(() => document.activeElement?.closest("section")?.id ?? document.activeElement?.tagName);
    assert.equal(after, "upload-section", "after sign-in the focus is in the upload section");
    // One more Tab reaches the file picker, shown with a visible focus ring.
    const pickerFocused = await page.evaluate(() => document.activeElement?.id);
    if (pickerFocused !== "file") await page.keyboard.press("Tab");
    assert.equal(await focused(), "file", "the file picker is reachable by keyboard");
    const ring = await page.locator("label[for=file]").evaluate((label) => getComputedStyle(label).outlineStyle);
    assert.notEqual(ring, "none", "the focused file picker shows a focus ring on its button");
  });

  step("upload through the file input: the progress bar reaches 100 and the job becomes done", async () => {
    await page.locator("#file").setInputFiles(video);
    await page.waitForFunction(() => document.getElementById("upload-progress").value === 100);
    await page.locator("#status", { hasText: "uploaded" }).waitFor();
    const job = page.locator("#jobs li").first();
    await job.waitFor();
    assert.equal(await job.locator(".name").textContent(), "sine clip.mp4");
    await page.locator('#jobs li[data-status="done"]').waitFor({ timeout: JOB_TIMEOUT_MS });
    assert.match(await job.locator(".state").textContent(), /done/);
    assert.equal(await page.locator("#no-jobs").isHidden(), true);
  });

  step("Download saves an mp3", async () => {
    const job = page.locator('#jobs li[data-status="done"]').first();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      job.getByRole("button", { name: /^Download/ }).click(),
    ]);
    assert.equal(download.suggestedFilename(), "sine clip.mp3");
    const file = path.join(scratch, "download.mp3");
    await download.saveAs(file);
    const bytes = readFileSync(file);
    assert.ok(bytes.length > 1000, `the mp3 has ${bytes.length} bytes`);
    const id3 = bytes.subarray(0, 3).toString("latin1") === "ID3";
    const frameSync = bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0;
    assert.ok(id3 || frameSync, `not an mp3: starts with ${bytes.subarray(0, 4).toString("hex")}`);

    await page.mouse.move(0, 0);
    const shot = path.join(ARTIFACTS, "clipwave.png");
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.UPDATE_SCREENSHOT === "1") copyFileSync(shot, path.join(ROOT, "docs", "screenshot.png"));
  });

  step("a video dropped on the drop zone is uploaded too, and Delete removes its job", async () => {
    const bytes = [...readFileSync(video)];
    const dataTransfer = await page.evaluateHandle((data) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], "dropped.mp4", { type: "video/mp4" }));
      return transfer;
    }, bytes);
    await page.dispatchEvent("#drop-zone", "dragover", { dataTransfer });
    assert.equal(await page.locator("#drop-zone.dragging").count(), 1, "the zone shows it accepts the drop");
    await page.dispatchEvent("#drop-zone", "drop", { dataTransfer });
    const dropped = page.locator("#jobs li", { has: page.locator(".name", { hasText: "dropped.mp4" }) });
    await dropped.waitFor();
    assert.equal(await page.locator("#drop-zone.dragging").count(), 0);
    assert.equal(await page.locator("#jobs li").count(), 2);
    assert.equal(await page.locator("#jobs li .name").first().textContent(), "dropped.mp4", "newest first");
    await page.locator('#jobs li[data-status="done"]', { has: page.locator(".name", { hasText: "dropped.mp4" }) }).waitFor({ timeout: JOB_TIMEOUT_MS });
    await page.getByRole("button", { name: "Delete dropped.mp4" }).click();
    await dropped.waitFor({ state: "detached" });
    assert.equal(await page.locator("#jobs li").count(), 1);
    assert.match(await page.locator("#status").textContent(), /Deleted dropped\.mp4/);
  });

  step("a phone-sized viewport (390x844) has no horizontal scrolling", async () => {
    await page.setViewportSize(PHONE);
    const overflow = () =>
      page.evaluate(() => {
        const root = document.documentElement;
        const wide = [...document.querySelectorAll("body *")]
          .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 0.5 && el.getClientRects().length)
          .map((el) => el.id || el.className || el.tagName);
        return { scroll: root.scrollWidth, client: root.clientWidth, wide };
      });
    const signedIn = await overflow();
    assert.ok(signedIn.scroll <= signedIn.client, `signed in: scrollWidth ${signedIn.scroll} > ${signedIn.client} (${signedIn.wide})`);
    await page.screenshot({ path: path.join(ARTIFACTS, "clipwave-phone.png"), fullPage: true });
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    const signedOut = await overflow();
    await page.screenshot({ path: path.join(ARTIFACTS, "clipwave-phone-signed-out.png"), fullPage: true });
    assert.ok(signedOut.scroll <= signedOut.client, `signed out: scrollWidth ${signedOut.scroll} > ${signedOut.client} (${signedOut.wide})`);
    await page.setViewportSize(DESKTOP);
  });

  step("no console errors and no CSP violations happened", async () => {
    const violations = await page.evaluate(() => window.__cspViolations ?? []);
    assert.deepEqual(violations, [], "CSP violations");
    assert.deepEqual(consoleErrors, [], "console errors");
  });

  // These two make the browser log the API's 401s, so they run after the console check.
  step("a rejected access token is refreshed transparently; a revoked session asks to sign in again", async () => {
    const probe = await context.newPage();
    try {
      await probe.goto("/");
      await probe.getByLabel("E-mail").fill(email);
      await probe.getByLabel("Password", { exact: true }).fill(password);
      await probe.getByRole("button", { name: "Sign in" }).click();
      await probe.locator("#jobs li").first().waitFor();
      const tokens = () => probe.evaluate(() => ({ access: sessionStorage.getItem("clipwave.access"), refresh: sessionStorage.getItem("clipwave.refresh") }));
      const first = await tokens();

      // An access token the API rejects: the page refreshes once and carries on.
      await probe.evaluate(() => sessionStorage.setItem("clipwave.access", "not-a-valid-token"));
      await probe.reload();
      await probe.locator("#jobs li").first().waitFor();
      const second = await tokens();
      assert.notEqual(second.access, "not-a-valid-token");
      assert.notEqual(second.refresh, first.refresh, "the refresh token was rotated");
      assert.equal(await probe.locator("#account").isVisible(), true, "still signed in");

      // The session is revoked elsewhere: the next poll finds out and asks to sign in.
      const logout = await fetch(new URL("/logout", app.address), { method: "POST", headers: { Authorization: `Bearer ${second.access}` } });
      assert.equal(logout.status, 204);
      await probe.getByRole("heading", { name: "Sign in" }).waitFor({ timeout: 15_000 });
      assert.match(await probe.locator("#status").textContent(), /session has ended/);
      assert.deepEqual(await probe.evaluate(() => Object.keys(sessionStorage)), []);
    } finally {
      await probe.close();
    }
  });

  step("the CSP blocks an injected inline handler", async () => {
    const probe = await context.newPage();
    try {
      await probe.goto("/");
      const blocked = probe.waitForEvent("console", (m) => m.type() === "error" && /Content Security Policy/.test(m.text()));
      await probe.evaluate(() => {
        document.body.insertAdjacentHTML("beforeend", '<img alt="" src="data:," onerror="window.__pwned = true">');
      });
      await blocked;
      assert.equal(await probe.evaluate(() => window.__pwned === true), false, "the inline handler ran");
      assert.ok((await probe.evaluate(() => window.__cspViolations)).length > 0);
    } finally {
      await probe.close();
    }
  });
});
