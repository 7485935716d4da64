// Headless Chromium for the browser tests: Debian's chromium driven by playwright-core (no browser is
// downloaded). Every page is watched: a console error, an uncaught page error or a failed page load is
// recorded, and `checkPage` fails the test on any of them or on a warning/error box the page renders.
// Each test saves a screenshot under var/screenshots/ (a test artifact, git-ignored).
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { perFile } from '../fixtures/per-file.ts';

const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SCREENSHOT_DIR = path.join(REPO_DIR, 'var', 'screenshots');

const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** Boxes that tell the user something is wrong: Swagger UI's errors, Bootstrap alerts, ARIA alerts. */
export const PROBLEM_BOXES = [
  '.errors-wrapper',
  '.swagger-ui .errors',
  '.alert-danger',
  '.alert-warning',
  '[role="alert"]',
].join(', ');

export function chromiumPath(): string {
  const found = [process.env.CHROMIUM_PATH, ...CHROMIUM_CANDIDATES].find(
    (p): p is string => !!p && existsSync(p),
  );
  if (!found) {
    throw new Error(
      'Chromium not found (tried CHROMIUM_PATH, ' +
        CHROMIUM_CANDIDATES.join(', ') +
        "): install Debian's package with `bash scripts/stack/install.sh --browser` (apt-get install chromium)",
    );
  }
  return found;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
}

/** Headless Chromium for the tests of one file (see perFile): launched before them, closed after them. */
export function useBrowser(): () => Browser {
  return perFile('Chromium', launchBrowser, (browser) => browser.close(), 60_000);
}

export interface WatchedPage {
  page: Page;
  /** Problems seen since the page opened (or since `clear`). */
  problems: string[];
  clear(): void;
}

/** A new page whose console errors, page errors and failed main-frame loads are recorded. */
export async function watchedPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (msg) => {
    // The browser asks every origin for /favicon.ico on its own; a 404 there is not the page's error.
    if (msg.type() === 'error' && !msg.location().url.endsWith('/favicon.ico'))
      problems.push(`console error: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('response', (res) => {
    if (res.request().isNavigationRequest() && res.status() >= 400)
      problems.push(`HTTP ${res.status()} loading ${res.url()}`);
  });
  page.on('requestfailed', (req) => {
    if (req.isNavigationRequest())
      problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`);
  });
  return { page, problems, clear: () => problems.splice(0) };
}

/** Saves var/screenshots/<name>.png (full page) and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * The texts of the visible warning or error boxes on the page. `content` names elements that use the
 * same classes for what they report rather than for a problem of the page (Prometheus' classic UI marks
 * a target's or an alert's state with Bootstrap alert classes).
 */
export async function problemBoxes(page: Page, content?: string): Promise<string[]> {
  return page.locator(PROBLEM_BOXES).evaluateAll(
    (boxes, skip) =>
      boxes
        .filter((box) => !(skip && box.closest(skip)))
        .filter((box) => (box as HTMLElement).offsetParent !== null || box.getClientRects().length > 0)
        // Empty live regions (the Monaco editor's role="alert" announcers for screen readers) say nothing.
        .map((box) => ((box as HTMLElement).innerText || '').trim().slice(0, 300))
        .filter((text) => text !== ''),
    content,
  );
}

/** Screenshot first (evidence for a failure too), then every recorded problem and visible box. */
export async function checkPage(watched: WatchedPage, name: string, content?: string): Promise<string[]> {
  await screenshot(watched.page, name);
  const boxes = (await problemBoxes(watched.page, content)).map((t) => `warning/error box: ${t}`);
  return [...watched.problems, ...boxes];
}

/** Prometheus' classic UI: target and alert states drawn as Bootstrap alerts (content, not problems). */
export const PROMETHEUS_STATES = '.state_indicator, .alert_header';
