// End-to-end: the API Keys and Billing pages in headless Debian Chromium, driven by playwright-core,
// against a real devhost (support.js), walked the way the admin guide walks a clinic admin
// through them. The steps share one devhost and run in order: each builds on the keys the
// previous made.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { Harness, assertAccessible, keyRow, last4 } = require('./support');

const HOSTILE = '<img src=x onerror="window.__xss=1"><script>alert(1)</script>';
const STEP = { timeout: 90_000 };
const h = new Harness();
const dialogs = h.problems; // native dialogs, page errors, CSP refusals: the pages must cause none

const newPage = (opts) => h.newPage(opts);
const login = (page, email) => h.login(page, email);
const api = (secret, pathName) => h.api(secret, pathName);
const shot = (page, name) => h.shot(page, name);

// Reads the one-time secret from the host's modal, checks what it says, copies it, closes it and
// waits for the reload that leaves only the preview.
async function takeSecret(page, screenshotName) {
  const modal = page.locator('#mdp-secret');
  await modal.waitFor({ state: 'visible' });
  const secret = await page.inputValue('#mdp-secret-value');
  assert.match(secret, /^mdp_[A-Za-z0-9_]+$/);
  const warning = await page.locator('#mdp-secret-warning').textContent();
  assert.match(warning, /cannot be shown again/);
  assert.match(warning, /password manager/);
  assert.match(warning, /not email or chat/);
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.waitForFunction(() => document.getElementById('mdp-secret-status').textContent !== '');
  if (screenshotName) await shot(page, screenshotName);
  await Promise.all([page.waitForEvent('load'), page.locator('#mdp-secret-close').click()]);
  assert.equal(await modal.isVisible(), false);
  assert.ok(!(await page.content()).includes(secret), 'the secret must not be in the page after the modal closes');
  return secret;
}

before(async () => { await h.start(); });
after(async () => { await h.stop(); });

// ---- the admin's walk through the guide ------------------------------------------------
const admin = {}; // page and keys shared by the steps below

test('an admin logs in and reaches API Keys from the avatar menu: Settings → Integrations → API Keys', STEP, async () => {
  admin.page = await newPage();
  const page = admin.page;
  await login(page, 'owner@brightsmiles.test');
  await page.goto('/settings/billing');  // any page: the avatar menu is on every one
  await page.locator('#avatar-button').click();
  await Promise.all([page.waitForURL(/\/settings$/), page.getByRole('menuitem', { name: 'Settings' }).click()]);
  const nav = page.getByRole('navigation', { name: 'Settings' });
  assert.equal(await nav.locator('.nav-group', { hasText: 'Integrations' }).getByRole('link', { name: 'API Keys' }).count(), 1);
  await Promise.all([page.waitForURL(/\/settings\/integrations\/api-keys$/),
    nav.locator('.nav-group', { hasText: 'Integrations' }).getByRole('link', { name: 'API Keys' }).click()]);
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'API Keys');
  // No keys yet: the empty state explains what keys are for.
  const empty = page.locator('.empty-state');
  assert.match(await empty.textContent(), /No API keys yet/);
  assert.match(await empty.textContent(), /developer/);
});

test('keyboard: the avatar menu and the modal work without a mouse, and focus comes back', STEP, async () => {
  const page = admin.page;
  const active = () => page.evaluate(() => document.activeElement && (document.activeElement.id || document.activeElement.textContent.trim()));
  await page.focus('#avatar-button');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.getAttribute('#avatar-button', 'aria-expanded'), 'true');
  assert.equal(await active(), 'Settings');
  await page.keyboard.press('ArrowDown');
  assert.equal(await active(), 'Log out');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#avatar-menu').isVisible(), false);
  assert.equal(await active(), 'avatar-button');

  const opener = page.locator('.page-actions').getByRole('button', { name: 'Generate new key' });
  await opener.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Generate new key' });
  await dialog.waitFor({ state: 'visible' });
  assert.equal(await dialog.getByLabel('Label').evaluate((el) => el === document.activeElement), true);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await opener.evaluate((el) => el === document.activeElement), true);
});

test('Generate new key: label required, read-only preselected, write scopes opt-in with a warning; shown once', STEP, async () => {
  const page = admin.page;
  await page.getByRole('button', { name: 'Generate new key' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Generate new key' });
  await dialog.waitFor({ state: 'visible' });
  assert.match(await dialog.textContent(), /Power BI sync/);
  assert.match(await dialog.textContent(), /Website booking widget/);
  assert.equal(await dialog.getByLabel('Read-only (read)').isChecked(), true);
  // Scopes in words with the raw name beside; the hint says a write scope does not include read.
  assert.match(await dialog.textContent(), /A write scope does not include read/);
  for (const scope of ['Write appointments (appointments:write)', 'Write patients (patients:write)']) {
    const box = dialog.getByLabel(scope, { exact: true });
    assert.equal(await box.isChecked(), false, `${scope} is opt-in`);
    const warnId = (await box.getAttribute('aria-describedby')).split(' ').find((id) => id.endsWith('-warn'));
    assert.match(await page.locator(`#${warnId}`).textContent(), /Write access/);
  }
  // An empty label is refused by the form: nothing is sent, the dialog stays.
  await dialog.getByRole('button', { name: 'Generate key' }).click();
  assert.equal(await dialog.isVisible(), true);
  assert.equal(await dialog.getByLabel('Label').evaluate((el) => el.validity.valueMissing), true);

  await dialog.getByLabel('Label').fill('Power BI sync');
  await dialog.getByRole('button', { name: 'Generate key' }).click();
  admin.first = await takeSecret(page, 'one-time-key.png');

  // After the reload only the masked preview remains.
  const row = keyRow(page, admin.first);
  assert.equal(await row.count(), 1);
  const text = await row.textContent();
  assert.match(text, /Power BI sync/);
  assert.match(text, /by Olivia Hart|by Dr\./);
  assert.match(text, /never/);
  assert.match(text, /Read-only/);
  assert.match(text, /Active/);
  await page.reload();
  assert.ok(!(await page.content()).includes(admin.first), 'no secret after a reload either');
});

test('the key works with an HTTP client and the request is counted on the page', STEP, async () => {
  const page = admin.page;
  const r = await api(admin.first);
  assert.equal(r.status, 200);
  assert.equal(r.body.clinic.name, 'Bright Smiles Dental');
  await page.reload();
  const row = keyRow(page, admin.first);
  assert.equal(await row.locator('.facts div', { hasText: 'Today' }).locator('dd').textContent(), '1');
  assert.equal(await row.locator('.facts div', { hasText: '30 days' }).locator('dd').textContent(), '1');
  assert.equal(await row.locator('.facts div', { hasText: 'Error rate' }).locator('dd').textContent(), '0%');
  // Last used: a relative time, the exact time on hover.
  const lastUsed = row.locator('td').nth(2).locator('time');
  assert.match(await lastUsed.getAttribute('title'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? UTC$/);
  assert.match(await row.getByRole('img').getAttribute('aria-label'), /1 requests in total/);
});

test('Rotate: the new key is shown once and the old one is marked rotated with how long it still works', STEP, async () => {
  const page = admin.page;
  await keyRow(page, admin.first).getByRole('button', { name: 'Rotate' }).click();
  const dialog = page.locator('dialog[open]');
  assert.match(await dialog.textContent(), /Rotate .Power BI sync./);
  assert.equal(await dialog.getByLabel('Keep the old key working for 7 days').isChecked(), true);
  await dialog.getByRole('button', { name: 'Rotate key' }).click();
  admin.second = await takeSecret(page);
  assert.notEqual(admin.second, admin.first);

  const oldRow = keyRow(page, admin.first);
  assert.match(await oldRow.textContent(), /Rotated/);
  assert.match(await oldRow.textContent(), /Still works until .* \(in 7 days\)/);
  assert.match(await keyRow(page, admin.second).textContent(), /Power BI sync/);
  // During the grace period both keys work.
  assert.equal((await api(admin.first)).status, 200);
  assert.equal((await api(admin.second)).status, 200);
});

test('Revoke asks first, naming the key; Cancel changes nothing; confirming refuses the integration at once', STEP, async () => {
  const page = admin.page;
  const row = keyRow(page, admin.second);
  await row.getByRole('button', { name: 'Revoke' }).click();
  const confirm = page.getByRole('dialog', { name: 'Are you sure?' });
  await confirm.waitFor({ state: 'visible' });
  const question = await page.locator('#mdp-confirm-text').textContent();
  assert.match(question, /Power BI sync/);
  assert.ok(question.includes(`\u2026${last4(admin.second)}`), 'the confirmation names the key by its preview');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await api(admin.second)).status, 200);

  await row.getByRole('button', { name: 'Revoke' }).click();
  await Promise.all([page.waitForEvent('load'), page.locator('#mdp-confirm-ok').click()]);
  // A revoked key leaves the default view; it is listed under the status "Revoked", without actions.
  assert.equal(await keyRow(page, admin.second).count(), 0);
  await page.goto('/settings/integrations/api-keys?status=revoked');
  assert.match(await keyRow(page, admin.second).textContent(), /Revoked/);
  assert.equal(await keyRow(page, admin.second).getByRole('button').count(), 0);
  await page.goto('/settings/integrations/api-keys');
  const refused = await api(admin.second);
  assert.equal(refused.status, 401);
  assert.equal(refused.body.error.code, 'revoked_api_key');
});

test('a hostile label is shown as text and runs nothing', STEP, async () => {
  const page = admin.page;
  await page.getByRole('button', { name: 'Generate new key' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Generate new key' });
  await dialog.getByLabel('Label').fill(HOSTILE);
  await dialog.getByLabel('Write appointments (appointments:write)', { exact: true }).check();
  await dialog.getByRole('button', { name: 'Generate key' }).click();
  admin.hostile = await takeSecret(page);
  const row = keyRow(page, admin.hostile);
  assert.ok((await row.locator(':scope > th').textContent()).includes(HOSTILE), 'the label appears literally');
  assert.equal(await page.locator('tbody img').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.deepEqual(dialogs, [], 'no alert (or any native dialog) fired');
});

test('Generate with an expiry: in 90 days, or on a date the admin picks, working through that day', STEP, async () => {
  const page = admin.page;
  const s = await h.session('owner@brightsmiles.test');
  const dayAfter = (ymd, days) => new Date(Date.parse(`${ymd}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
  const generate = async (label, choose) => {
    await page.getByRole('button', { name: 'Generate new key' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Generate new key' });
    await dialog.getByLabel('Label').fill(label);
    assert.equal(await dialog.getByLabel('Never').isChecked(), true, 'no expiry unless chosen');
    await choose(dialog);
    await dialog.getByRole('button', { name: 'Generate key' }).click();
    const secret = await takeSecret(page);
    const { keys } = (await s.call('GET', 'keys')).body;
    return keys.find((k) => k.preview.endsWith(last4(secret)));
  };

  // In 90 days: the option names the last day; the key expires when that day ends (UTC clinic).
  let lastDay;
  const ninety = await generate('Quarterly export', async (dialog) => {
    const option = dialog.getByLabel('In 90 days');
    lastDay = JSON.parse(await option.getAttribute('data-value'));
    assert.match(await dialog.locator(`#${await option.getAttribute('aria-describedby')}`).textContent(), /^It works through \d+ \w{3} \d{4}\.$/);
    await option.check();
  });
  assert.equal(ninety.expires_at, `${dayAfter(lastDay, 1)}T00:00:00Z`);
  assert.match(await keyRow(page, ninety.preview).textContent(), /Expires in 3 months/);

  // On a date: the date input is usable only once its option is chosen; an empty date is refused.
  const picked = await generate('Trial integration', async (dialog) => {
    const dateInput = dialog.getByLabel('Last day the key works');
    assert.equal(await dateInput.isDisabled(), true);
    await dialog.getByLabel('On a date').check();
    assert.equal(await dateInput.isDisabled(), false);
    await dialog.getByRole('button', { name: 'Generate key' }).click();
    assert.match(await dialog.locator('.form-error').textContent(), /Enter a valid date/);
    await assertAccessible(page, 'generate modal with a date to pick');
    lastDay = dayAfter(await dateInput.getAttribute('min'), 40);
    await dateInput.fill(lastDay);
  });
  assert.equal(picked.expires_at, `${dayAfter(lastDay, 1)}T00:00:00Z`);
});

test('Edit: label, description, fewer scopes (never more), rate limit and allowed addresses, in the Activity view', STEP, async () => {
  const page = admin.page;
  const s = await h.session('owner@brightsmiles.test');
  const made = (await s.call('POST', 'keys', { label: 'Edit me', scopes: ['read', 'appointments:write'] })).body;
  await page.reload();
  const row = keyRow(page, made.key.preview);
  await row.getByRole('button', { name: 'Edit' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit \u201CEdit me\u201D' });
  await dialog.waitFor({ state: 'visible' });
  await assertAccessible(page, 'edit modal');
  // Only the key's own scopes are offered: a wider key is a new key.
  assert.equal(await dialog.getByLabel('Write patients (patients:write)').count(), 0);
  assert.equal(await dialog.getByLabel('Label').inputValue(), 'Edit me');
  // An address that is not one is refused by the plugin; the form stays open and says why.
  await dialog.getByLabel('Allowed addresses').fill('not-an-address');
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await dialog.locator('.form-error:not([hidden])').waitFor();
  assert.equal(await dialog.isVisible(), true);

  await dialog.getByLabel('Label').fill('Edited widget key');
  await dialog.getByLabel('Description').fill('Booking widget on the website; ask Sam.');
  await dialog.getByLabel('Write appointments (appointments:write)').uncheck();
  await dialog.getByLabel('600 requests per minute').check();
  await dialog.getByLabel('Allowed addresses').fill('203.0.113.0/24\n2001:db8::/32');
  await Promise.all([page.waitForEvent('load'), dialog.getByRole('button', { name: 'Save changes' }).click()]);

  const key = (await s.call('GET', 'keys')).body.keys.find((k) => k.id === made.key.id);
  assert.equal(key.label, 'Edited widget key');
  assert.equal(key.description, 'Booking widget on the website; ask Sam.');
  assert.deepEqual(key.scopes, ['read']);
  assert.deepEqual(key.rate_limit, { requests: 600, per_seconds: 60 });
  assert.deepEqual(key.allowed_ips, ['203.0.113.0/24', '2001:db8::/32']);
  const text = await keyRow(page, made.key.preview).textContent();
  assert.match(text, /Edited widget key/);
  assert.match(text, /Booking widget on the website; ask Sam\./);
  assert.match(text, /Rate limit: 600 requests per minute/);
  assert.match(text, /From 203\.0\.113\.0\/24 and 1 more/);
  assert.doesNotMatch(text, /Write appointments/);

  // Back to the plan's default sends null; the Activity view lists the edits.
  await keyRow(page, made.key.preview).getByRole('button', { name: 'Edit' }).click();
  await page.locator('dialog[open]').getByLabel("Your plan's default").check();
  await Promise.all([page.waitForEvent('load'), page.locator('dialog[open]').getByRole('button', { name: 'Save changes' }).click()]);
  assert.equal((await s.call('GET', 'keys')).body.keys.find((k) => k.id === made.key.id).rate_limit, null);
  await page.goto(`/settings/integrations/api-keys?view=activity&key=${made.key.id}`);
  assert.equal(await page.locator('tbody tr', { hasText: 'Edited' }).count(), 2);
  await page.goto('/settings/integrations/api-keys');
});

test('usage over days: the 30-day chart, the error rate and a spike mark (test clock moves the days)', STEP, async () => {
  const page = admin.page;
  // Five quiet days for the widget key, then a day far above them.
  const daily = [4, 6, 5, 3, 5];
  for (const n of daily) {
    for (let i = 0; i < n; i++) assert.equal((await api(admin.hostile)).status, 200);
    await h.advanceClock(86400);
  }
  // Five days on, the browser session has ended (30 minutes idle): log in again, as a person would.
  await login(page, 'owner@brightsmiles.test');
  await page.goto('/settings/integrations/api-keys');
  for (let i = 0; i < 58; i++) assert.equal((await api(admin.hostile)).status, 200);
  await page.reload();
  const row = keyRow(page, admin.hostile);
  assert.equal(await row.locator('.facts div', { hasText: 'Today' }).locator('dd').textContent(), '58');
  assert.equal(await row.locator('.facts div', { hasText: '30 days' }).locator('dd').textContent(), String(58 + 23));
  assert.match(await row.textContent(), /Spike today/);
  assert.match(await row.getByRole('img').getAttribute('aria-label'), /81 requests in total, peak 58 on \d{4}-\d\d-\d\d/);
  assert.equal(await row.locator('svg.chart rect').count(), 30);
  // The old key, replaced five days ago, still works for two more days.
  assert.match(await keyRow(page, admin.first).textContent(), /\(in 2 days\)/);
  await shot(page, 'api-keys.png');
});

test('Rotate with the automatic finish: the old key shows what it waits for, then goes by itself', STEP, async () => {
  const page = admin.page;
  const s = await h.session('owner@brightsmiles.test');
  const created = await s.call('POST', 'keys', { label: 'Accounting export', scopes: ['read'] });
  assert.equal(created.status, 201);
  admin.exportOld = created.body.secret;
  assert.equal((await api(admin.exportOld)).status, 200);
  await page.reload();
  await keyRow(page, admin.exportOld).getByRole('button', { name: 'Rotate' }).click();
  const dialog = page.locator('dialog[open]');
  // Offered, and chosen by default: the old key goes once the integration has switched.
  assert.equal(await dialog.getByLabel('Revoke the old key automatically once the integration has switched').isChecked(), true);
  await dialog.getByRole('button', { name: 'Rotate key' }).click();
  admin.exportNew = await takeSecret(page);
  let oldRow = keyRow(page, admin.exportOld);
  assert.match(await oldRow.textContent(), /Finishing rotation/);
  assert.match(await oldRow.textContent(), /Waiting for the new key's first successful request; old key last used just now from 127\.0\.0\.1/);
  assert.equal(await oldRow.getByRole('button', { name: 'Finish rotation now' }).count(), 1);
  assert.equal(await oldRow.getByRole('button', { name: 'Cancel automatic revoke' }).count(), 1);

  // The integration switches; three hours later the old key is still waiting out its quiet day.
  assert.equal((await api(admin.exportNew)).status, 200);
  await h.advanceClock(3 * 3600);
  await login(page, 'owner@brightsmiles.test');
  await page.goto('/settings/integrations/api-keys');
  oldRow = keyRow(page, admin.exportOld);
  assert.match(await oldRow.textContent(), /Waiting: old key last used 3 hours ago from 127\.0\.0\.1/);
  assert.match(await oldRow.textContent(), /Revoked automatically in 21 hours if it stays unused/);
  await assertAccessible(page, 'a rotation waiting to finish');

  // A day without requests: the background check revokes it, as "automatic rotation".
  // (Watched through the admin routes: a request with the old key would be a use, and restart
  // its quiet day.)
  await h.advanceClock(21 * 3600 + 120);
  const s2 = await h.session('owner@brightsmiles.test');
  let old;
  for (let i = 0; i < 50; i++) {
    old = (await s2.call('GET', 'keys?status=all')).body.keys.find((k) => k.preview.endsWith(last4(admin.exportOld)));
    if (old.status === 'revoked') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(old.status, 'revoked');
  assert.equal(old.revoked_by.name, 'automatic rotation');
  assert.equal((await api(admin.exportOld)).body.error.code, 'revoked_api_key');
  assert.equal((await api(admin.exportNew)).status, 200);
  await login(page, 'owner@brightsmiles.test');
  await page.goto('/settings/integrations/api-keys?status=revoked');
  assert.match(await keyRow(page, admin.exportOld).textContent(), /Revoked .* by automatic rotation/);
  await page.goto('/settings/integrations/api-keys');
});

test('least privilege: a write scope unused for 30 days is marked, and one click reduces the key to what it used', STEP, async () => {
  const page = admin.page;
  // The widget key (read + appointments:write) has only ever read. Thirty-one days after it was
  // made, with per-scope counting as old as the devhost, the page says so.
  assert.equal((await api(admin.hostile)).status, 200);
  await h.advanceClock(25 * 86400);
  await login(page, 'owner@brightsmiles.test');
  await page.goto('/settings/integrations/api-keys');
  let row = keyRow(page, admin.hostile);
  assert.match(await row.textContent(), /Write access unused/);
  assert.match(await row.textContent(), /No request used Write appointments in 30 days/);
  assert.doesNotMatch(await keyRow(page, admin.exportNew).textContent(), /Write access unused/);  // read-only
  await assertAccessible(page, 'a key marked write access unused');
  await row.getByRole('button', { name: 'Reduce to Read-only' }).click();
  const confirm = page.getByRole('dialog', { name: 'Are you sure?' });
  await confirm.waitFor({ state: 'visible' });
  assert.match(await page.locator('#mdp-confirm-text').textContent(), /loses Write appointments at once/);
  await Promise.all([page.waitForEvent('load'), page.locator('#mdp-confirm-ok').click()]);
  row = keyRow(page, admin.hostile);
  assert.doesNotMatch(await row.textContent(), /Write access unused|appointments:write/);
  assert.match(await row.textContent(), /Read-only/);
  assert.equal((await api(admin.hostile)).status, 200);  // what it used still works
});

test('the bell: the admins were told the old key went by itself; the list, and marking it read', STEP, async () => {
  const page = admin.page;
  await page.goto('/settings/integrations/api-keys');
  const bell = page.locator('#notifications-bell');
  assert.match(await bell.getAttribute('aria-label'), /^Notifications, \d+ unread$/);
  await Promise.all([page.waitForURL(/\/settings\/notifications$/), bell.click()]);
  const told = page.locator('tbody tr', { hasText: 'API key "Accounting export" was revoked automatically after its rotation' });
  assert.equal(await told.count(), 1, 'told once');
  assert.match(await told.textContent(), /New/);
  await assertAccessible(page, 'notifications');
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Mark all as read' }).click()]);
  assert.equal(await page.locator('#notifications-bell').getAttribute('aria-label'), 'Notifications');
  assert.match(await told.textContent(), /Read/);
  await page.goto('/settings/integrations/api-keys');
});

test('disclosure export: the CSV a key row links to lists the patients its requests read, and how often', STEP, async () => {
  const page = admin.page;
  const s = await h.session('owner@brightsmiles.test');
  const made = (await s.call('POST', 'keys', { label: 'Reports export', scopes: ['read'] })).body;
  const read = [];
  for (let i = 0; i < 3; i++) {
    const r = await api(made.secret);
    assert.equal(r.status, 200);
    read.push(...r.body.patients.map((p) => p.id));
  }
  const patients = [...new Set(read)].sort((a, b) => a - b);
  assert.ok(patients.length > 0);
  await page.reload();
  const link = keyRow(page, made.secret).getByRole('link', { name: 'Patients accessed (CSV)' });
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert.match(download.suggestedFilename(), new RegExp(`^api-key-${made.key.id}-disclosures-.*\\.csv$`));
  const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\r\n');
  assert.equal(csv[0], 'date,key_id,key_label,key_preview,record_type,record_id,access,requests,first_at,last_at');
  const rows = csv.slice(1).map((line) => line.split(','));
  assert.deepEqual(rows.map((r) => Number(r[5])).sort((a, b) => a - b), patients);
  for (const r of rows) {
    assert.equal(r[1], String(made.key.id));
    assert.equal(r[2], 'Reports export');
    assert.equal(r[4], 'patient');
    assert.equal(r[6], 'read');
    assert.equal(r[7], String(read.filter((id) => id === Number(r[5])).length));
  }
  assert.ok(!csv.join('').includes(made.secret), 'previews only, never the key');
});

test('locked: Downtown Dental sees why, a link to Billing, no Generate button, keys read-only', STEP, async () => {
  const page = await newPage();
  await login(page, 'admin@downtown.test');
  await page.goto('/settings/integrations/api-keys');
  const notice = page.locator('.notice', { hasText: 'API access is not included in your plan' });
  assert.equal(await notice.count(), 1);
  assert.equal(await page.getByRole('button', { name: 'Generate new key' }).count(), 0);

  // Billing & Subscription: the API access row is locked; buying the addon unlocks it at once.
  await Promise.all([page.waitForURL(/\/settings\/billing$/), notice.getByRole('link', { name: 'Open Billing & Subscription' }).click()]);
  const feature = page.locator('#row-feature-api_access');
  assert.match(await feature.textContent(), /Locked/);
  // The purchase names its price and asks first; Cancel buys nothing.
  const buy = feature.getByRole('button', { name: /Buy API access addon \(\$49 per month\)/ });
  await buy.click();
  const ask = page.getByRole('dialog', { name: 'Are you sure?' });
  await ask.waitFor({ state: 'visible' });
  assert.match(await page.locator('#mdp-confirm-text').textContent(), /Buy the API access addon for \$49 per month/);
  await ask.getByRole('button', { name: 'Cancel' }).click();
  await page.reload();
  assert.match(await page.locator('#row-feature-api_access').textContent(), /Locked/);
  await buy.click();
  await Promise.all([page.waitForEvent('load'), page.locator('#mdp-confirm-ok').click()]);
  assert.match(await page.locator('#row-feature-api_access').textContent(), /Included/);
  assert.equal(await page.locator('#row-feature-api_access .badge.tone-success').count(), 1);

  // With access, a key; then the addon is cancelled: the key stays, read-only, and stops working.
  await page.goto('/settings/integrations/api-keys');
  await page.getByRole('button', { name: 'Generate new key' }).first().click();
  await page.getByRole('dialog', { name: 'Generate new key' }).getByLabel('Label').fill('Website booking widget');
  await page.getByRole('dialog', { name: 'Generate new key' }).getByRole('button', { name: 'Generate key' }).click();
  const secret = await takeSecret(page);
  assert.equal((await api(secret)).status, 200);

  await page.goto('/settings/billing');
  await page.locator('#row-feature-api_access').getByRole('button', { name: /Cancel API access addon/ }).click();
  await Promise.all([page.waitForEvent('load'), page.locator('#mdp-confirm-ok').click()]);
  assert.match(await page.locator('#row-feature-api_access').textContent(), /Locked/);

  await page.goto('/settings/integrations/api-keys');
  assert.equal(await page.locator('.notice', { hasText: 'API access is not included in your plan' }).count(), 1);
  assert.equal(await page.getByRole('button', { name: 'Generate new key' }).count(), 0);
  const row = keyRow(page, secret);
  assert.match(await row.textContent(), /Website booking widget/);
  assert.match(await row.textContent(), /Paused/);
  assert.equal(await row.getByRole('button').count(), 0, 'no Rotate or Revoke while locked');
  const refused = await api(secret);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, 'api_access_not_enabled');
  await shot(page, 'locked.png');
  await page.context().close();
});

test('staff: no API Keys in the navigation, 403 when opening the page or its routes directly', STEP, async () => {
  const page = await newPage();
  await login(page, 'frontdesk@brightsmiles.test');
  assert.equal(await page.getByRole('link', { name: 'API Keys' }).count(), 0);
  await page.locator('#avatar-button').click();
  await page.getByRole('menuitem', { name: 'Settings' }).click();
  assert.equal(await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'API Keys' }).count(), 0);
  const resp = await page.goto('/settings/integrations/api-keys');
  assert.equal(resp.status(), 403);
  assert.ok(!(await page.content()).includes('Generate new key'));
  const csrf = await page.locator('meta[name="csrf-token"]').getAttribute('content');
  const status = await page.evaluate(async (token) => (await fetch('/plugins/api-access/keys', {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token },
    body: JSON.stringify({ label: 'sneaky', scopes: ['read'] }),
  })).status, csrf);
  assert.equal(status, 403);
  await page.context().close();
});

test('no page opened a native dialog or threw', STEP, async () => {
  assert.deepEqual(dialogs, []);
});
