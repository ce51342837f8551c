// What every headless-Chromium test file shares: a real devhost (build-tree binary, fresh SQLite
// file, test clock), Debian's Chromium through playwright-core, logging in, calling the admin
// routes and the public API, screenshots that never show a secret, and axe-core.
//
// Environment (ctest sets the first two, tests/e2e/CMakeLists.txt):
//   MDP_DEVHOST      the mdp-devhost binary (default: ../../build/dev/bin/mdp-devhost)
//   MDP_SCREENSHOTS  where screenshots go (ctest: <build>/screenshots; docs/screenshots refreshes the README's)
//   MDP_CHROMIUM     the browser (default: /usr/bin/chromium; never a downloaded one)
//   MDP_RECORD_RESPONSES_DIR  when set (ctest sets it), the devhost records its plugin-route and
//                    public-API answers there (--record-responses) for the OpenAPI check
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  throw new Error('playwright-core is missing: run `npm ci` in tests/e2e (scripts/test.sh does)');
}

const ROOT = path.resolve(__dirname, '..', '..');
const DEVHOST = process.env.MDP_DEVHOST || path.join(ROOT, 'build', 'dev', 'bin', 'mdp-devhost');
const SHOTS = process.env.MDP_SCREENSHOTS || path.join(ROOT, 'docs', 'screenshots');
const CHROMIUM = process.env.MDP_CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'devpass'; // the devhost's documented dev-only demo password
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// One devhost and one browser for a test file; `problems` collects native dialogs, page errors
// and Content-Security-Policy refusals from every page: a test file ends by asserting it is empty.
class Harness {
  static started = 0;  // devhosts this process started: one record file each

  constructor() {
    this.log = '';
    this.problems = [];
  }

  async start() {
    assert.ok(fs.existsSync(DEVHOST), `mdp-devhost not found at ${DEVHOST} (build it first)`);
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mdp-e2e-'));
    this.base = await new Promise((resolve, reject) => {
      const db = path.join(this.tmp, 'devhost.sqlite');
      const args = ['--listen', '127.0.0.1:0', '--test-clock', '--database', `sqlite:${db}`];
      const records = process.env.MDP_RECORD_RESPONSES_DIR;
      if (records) {
        fs.mkdirSync(records, { recursive: true });
        args.push('--record-responses', path.join(records, `e2e-${process.pid}-${Harness.started++}.jsonl`));
      }
      this.devhost = spawn(DEVHOST, args,
        { cwd: this.tmp, stdio: ['ignore', 'pipe', 'pipe'] });
      const onData = (chunk) => {
        this.log += chunk.toString();
        const m = this.log.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
        if (m) resolve(m[1]);
      };
      this.devhost.stdout.on('data', onData);
      this.devhost.stderr.on('data', onData);
      this.devhost.on('error', reject);
      this.devhost.on('exit', (code) => reject(new Error(`mdp-devhost exited (${code}) before listening:\n${this.log}`)));
    });
    // playwright gives each launch a fresh temporary profile (user-data-dir) and removes it after.
    this.browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run'],
    });
  }

  async stop() {
    if (this.browser) await this.browser.close();
    if (this.devhost && this.devhost.exitCode === null) {
      await new Promise((resolve) => {
        this.devhost.removeAllListeners('exit');
        this.devhost.on('exit', () => resolve());
        this.devhost.kill('SIGTERM');
      });
    }
    if (this.tmp) fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  // A fresh browser context: `width` CSS pixels wide, light or dark.
  async newPage({ width = 1360, height = 900, colorScheme = 'light' } = {}) {
    const context = await this.browser.newContext({ viewport: { width, height }, baseURL: this.base, colorScheme });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: this.base });
    const page = await context.newPage();
    page.on('dialog', async (d) => { this.problems.push(`${d.type()}: ${d.message()}`); await d.dismiss(); });
    page.on('pageerror', (e) => this.problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) this.problems.push(`csp: ${m.text()}`);
    });
    return page;
  }

  // Logs in through the login page, as a person would.
  async login(page, email) {
    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([page.waitForURL(/\/settings$/), page.getByRole('button', { name: 'Log in' }).click()]);
  }

  // An HTTP session for the admin routes (cookie + CSRF token), without a browser.
  async session(email) {
    const r = await fetch(`${this.base}/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    assert.equal(r.status, 200);
    const cookie = r.headers.get('set-cookie').split(';')[0];
    const { csrf_token: csrf } = await r.json();
    const call = async (method, route, body) => {
      const res = await fetch(`${this.base}/plugins/api-access/${route}`, {
        method,
        headers: { Cookie: cookie, 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    return { cookie, csrf, call };
  }

  async api(secret, pathName = '/api/v1/patients') {
    const r = await fetch(this.base + pathName, { headers: { Authorization: `Bearer ${secret}` } });
    return { status: r.status, body: await r.json() };
  }

  async advanceClock(seconds) {
    const r = await fetch(`${this.base}/__test/clock`, { method: 'POST', body: JSON.stringify({ advance_seconds: seconds }) });
    assert.equal(r.status, 200);
  }

  // The one-time secret is masked in every screenshot: a full key never lands in a file, even one
  // from a throwaway database (secret scanners cannot tell the difference).
  async shot(page, name, options = {}) {
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, name), mask: [page.locator('#mdp-secret-value')], ...options });
  }
}

// axe-core on the page as it is now (open modals included); fails listing every violation.
// page.evaluate runs outside the page's Content-Security-Policy, so the page keeps its own.
async function assertAccessible(page, what) {
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!loaded) await page.evaluate(`${AXE_SOURCE}\n;undefined`);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const report = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n` +
    v.nodes.slice(0, 5).map((n) => `    ${n.target.join(' ')}: ${n.failureSummary.replace(/\n/g, ' ')}`).join('\n'));
  assert.deepEqual(report, [], `axe-core on ${what}:\n${report.join('\n')}`);
}

// WCAG reflow: nothing wider than the window, so no horizontal scrolling.
async function assertNoHorizontalScroll(page, what) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
  }));
  assert.ok(scroll <= client, `${what}: the page is ${scroll} px wide in a ${client} px window`);
}

// Every visible button and link inside `scope` lies within the window's width (reachable
// without horizontal scrolling).
async function assertWithinWidth(page, scope, what) {
  const outside = await page.locator(scope).evaluateAll((els) => {
    const width = document.documentElement.clientWidth;
    const bad = [];
    for (const root of els) {
      for (const el of root.querySelectorAll('button, a, input, select, summary')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue; // not rendered (closed dialog, hidden)
        if (r.left < 0 || r.right > width + 0.5) bad.push(`${el.tagName} "${(el.textContent || el.value || '').trim().slice(0, 40)}" at ${Math.round(r.left)}..${Math.round(r.right)}`);
      }
    }
    return bad;
  });
  assert.deepEqual(outside, [], `${what}: controls outside the window`);
}

const last4 = (secret) => secret.slice(-4);
// A key's row (a card on narrow screens), found by its masked preview.
const keyRow = (page, secret) => page.locator('.vm-table > tbody > tr', { hasText: `\u2026${last4(secret)}` });

module.exports = { Harness, assertAccessible, assertNoHorizontalScroll, assertWithinWidth, keyRow, last4 };
