// Every page and modal at a phone's width (390 px), at the narrowest width WCAG reflow asks for
// (320 px) and on a desktop (1280 px), in light and dark: no horizontal scrolling, every action
// within reach, and axe-core finding no accessibility violation. Also the one-time key modal's
// guard: closing it before the key was copied asks first.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Harness, assertAccessible, assertNoHorizontalScroll, assertWithinWidth, keyRow } = require('./support');

const STEP = { timeout: 120_000 };
const h = new Harness();
const keys = {};

before(async () => {
  await h.start();
  // A clinic with keys in every state the page marks: write scopes, rotated (grace, finishing by
  // itself), revoked, a long label, usage with errors.
  const s = await h.session('owner@brightsmiles.test');
  const make = async (label, scopes) => {
    const r = await s.call('POST', 'keys', { label, scopes });
    assert.equal(r.status, 201);
    return r.body;
  };
  keys.widget = await make('Website booking widget', ['read', 'appointments:write']);
  keys.bi = await make('Power BI sync', ['read']);
  keys.old = await make('Accounting export (Xero) with a very long label that has to wrap on a phone', ['read']);
  keys.gone = await make('Old tablet app', ['read']);
  for (let i = 0; i < 12; i++) await h.api(keys.widget.secret);
  for (let i = 0; i < 3; i++) await h.api(keys.bi.secret, '/api/v1/nope');
  // Rotated with the automatic finish: its row shows what it waits for, with two more buttons.
  await h.api(keys.old.secret);
  assert.equal((await s.call('POST', `keys/${keys.old.key.id}/rotate`, { grace_seconds: 86400, finish_automatically: true })).status, 201);
  assert.equal((await s.call('POST', `keys/${keys.gone.key.id}/revoke`)).status, 200);
});
after(async () => { await h.stop(); });

const widths = [390, 1280];
const schemes = ['light', 'dark'];

for (const width of widths) {
  for (const colorScheme of schemes) {
    test(`${width} px, ${colorScheme}: every page and modal fits and passes axe-core`, STEP, async () => {
      const page = await h.newPage({ width, colorScheme });
      await page.goto('/login');
      await assertNoHorizontalScroll(page, 'login');
      await assertAccessible(page, `login (${width}, ${colorScheme})`);
      await h.login(page, 'owner@brightsmiles.test');
      await assertAccessible(page, `settings index (${width}, ${colorScheme})`);

      await page.goto('/settings/billing');
      await assertNoHorizontalScroll(page, 'billing');
      await assertWithinWidth(page, 'main', 'billing');
      // The status the guide tells admins to check is visible, not cut off.
      assert.equal(await page.locator('#row-feature-api_access .badge', { hasText: 'Included' }).isVisible(), true);
      await assertAccessible(page, `billing (${width}, ${colorScheme})`);

      await page.goto('/settings/integrations/api-keys');
      await assertNoHorizontalScroll(page, 'api keys');
      await assertWithinWidth(page, 'main', 'api keys');
      await assertAccessible(page, `api keys (${width}, ${colorScheme})`);
      if (width === 390 && colorScheme === 'light') await h.shot(page, 'api-keys-phone.png');
      if (width === 1280 && colorScheme === 'dark') await h.shot(page, 'api-keys-dark.png');
      // Every key's actions are on screen and usable.
      const widget = keyRow(page, keys.widget.secret);
      await widget.getByRole('button', { name: 'Rotate' }).scrollIntoViewIfNeeded();
      assert.equal(await widget.getByRole('button', { name: 'Revoke' }).isVisible(), true);
      assert.equal(await widget.getByRole('img').isVisible(), true);

      // The chart's values without a mouse: the disclosure opens by keyboard and shows a table.
      const summary = widget.locator('summary');
      await summary.focus();
      await page.keyboard.press('Enter');
      assert.match(await widget.locator('.chart-values table').innerText(), /\d{4}-\d\d-\d\d\s+12/);
      await assertAccessible(page, `api keys with values open (${width}, ${colorScheme})`);

      // Each modal, open.
      await page.locator('.page-actions').getByRole('button', { name: 'Generate new key' }).click();
      const generate = page.getByRole('dialog', { name: 'Generate new key' });
      await generate.waitFor({ state: 'visible' });
      await assertWithinWidth(page, 'dialog[open]', 'generate modal');
      await assertAccessible(page, `generate modal (${width}, ${colorScheme})`);
      await page.keyboard.press('Escape');

      await widget.getByRole('button', { name: 'Edit' }).click();
      await page.locator('dialog[open]').waitFor({ state: 'visible' });
      await assertWithinWidth(page, 'dialog[open]', 'edit modal');
      await assertAccessible(page, `edit modal (${width}, ${colorScheme})`);
      await page.keyboard.press('Escape');

      await widget.getByRole('button', { name: 'Rotate' }).click();
      await page.locator('dialog[open]').waitFor({ state: 'visible' });
      await assertWithinWidth(page, 'dialog[open]', 'rotate modal');
      await assertAccessible(page, `rotate modal (${width}, ${colorScheme})`);
      await page.keyboard.press('Escape');

      await widget.getByRole('button', { name: 'Revoke' }).click();
      const confirm = page.getByRole('dialog', { name: 'Are you sure?' });
      await confirm.waitFor({ state: 'visible' });
      // Revoking is dangerous and looks it.
      assert.match(await page.locator('#mdp-confirm-ok').getAttribute('class'), /btn-danger-solid/);
      await assertAccessible(page, `revoke confirmation (${width}, ${colorScheme})`);
      await confirm.getByRole('button', { name: 'Cancel' }).click();

      await page.context().close();
    });
  }
}

test('320 px (WCAG reflow): keys, billing and the locked page scroll only vertically', STEP, async () => {
  const page = await h.newPage({ width: 320, height: 640 });
  await h.login(page, 'owner@brightsmiles.test');
  for (const url of ['/settings', '/settings/billing', '/settings/integrations/api-keys']) {
    await page.goto(url);
    await assertNoHorizontalScroll(page, `${url} at 320 px`);
    await assertWithinWidth(page, 'header, nav, main', `${url} at 320 px`);
  }
  await page.context().close();

  const locked = await h.newPage({ width: 320, height: 640, colorScheme: 'dark' });
  await h.login(locked, 'admin@downtown.test');
  await locked.goto('/settings/integrations/api-keys');
  await assertNoHorizontalScroll(locked, 'locked page at 320 px');
  await assertAccessible(locked, 'locked page (320, dark)');
  await locked.goto('/settings/billing');
  await assertWithinWidth(locked, 'main', 'billing with a Buy button at 320 px');
  await assertAccessible(locked, 'billing with a Buy button (320, dark)');
  await locked.context().close();
});

test('the one-time key cannot be lost by accident: every way of closing asks until it is copied', STEP, async () => {
  const page = await h.newPage({ width: 390 });
  await h.login(page, 'owner@brightsmiles.test');
  await page.goto('/settings/integrations/api-keys');
  await page.locator('.page-actions').getByRole('button', { name: 'Generate new key' }).click();
  const generate = page.getByRole('dialog', { name: 'Generate new key' });
  await generate.getByLabel('Label').fill('Guarded key');
  await generate.getByRole('button', { name: 'Generate key' }).click();
  const secretModal = page.locator('#mdp-secret');
  await secretModal.waitFor({ state: 'visible' });
  await assertAccessible(page, 'one-time key modal (390)');
  const secret = await page.inputValue('#mdp-secret-value');
  const confirm = page.locator('#mdp-confirm');

  const keepOpen = async (how) => {
    await confirm.waitFor({ state: 'visible' });
    assert.match(await page.locator('#mdp-confirm-text').textContent(), /not copied the key/, how);
    await assertAccessible(page, `close-without-copying confirmation (${how})`);
    await confirm.getByRole('button', { name: 'Keep the key open' }).click();
    await confirm.waitFor({ state: 'hidden' });
    assert.equal(await secretModal.isVisible(), true, `${how}: the key is still shown`);
    assert.equal(await page.inputValue('#mdp-secret-value'), secret);
  };
  // Escape, twice in a row (Chromium force-closes a modal on a second Escape without user
  // activation; the page reopens it and asks again).
  await page.keyboard.press('Escape');
  await keepOpen('Escape');
  await page.keyboard.press('Escape');
  await confirm.waitFor({ state: 'visible' });
  await page.keyboard.press('Escape'); // Escape on the question keeps the key open too
  await confirm.waitFor({ state: 'hidden' });
  assert.equal(await secretModal.isVisible(), true);
  await page.keyboard.press('Escape');
  await keepOpen('Escape again');
  // The close button.
  await page.locator('#mdp-secret-close').click();
  await keepOpen('the close button');
  // A click on the backdrop, outside the dialog's box.
  await page.mouse.click(3, 3);
  await keepOpen('a click outside');
  // Confirming closes and forgets the key; the key exists and works but the page never shows it again.
  await page.keyboard.press('Escape');
  await confirm.waitFor({ state: 'visible' });
  await Promise.all([page.waitForEvent('load'), confirm.getByRole('button', { name: 'Close without copying' }).click()]);
  assert.ok(!(await page.content()).includes(secret));
  assert.equal((await h.api(secret)).status, 200);

  // Once copied, closing asks nothing.
  await page.locator('.page-actions').getByRole('button', { name: 'Generate new key' }).click();
  await generate.getByLabel('Label').fill('Copied key');
  await generate.getByRole('button', { name: 'Generate key' }).click();
  await secretModal.waitFor({ state: 'visible' });
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.waitForFunction(() => document.getElementById('mdp-secret-status').textContent !== '');
  await Promise.all([page.waitForEvent('load'), page.keyboard.press('Escape')]);
  assert.equal(await confirm.isVisible(), false);
  await page.context().close();
});

test('the checks can fail: axe-core reports an unlabelled control, and a wide element is caught', STEP, async () => {
  const page = await h.newPage({ width: 390 });
  await h.login(page, 'owner@brightsmiles.test');
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.type = 'text';
    document.querySelector('main').append(input);
  });
  await assert.rejects(assertAccessible(page, 'a page with an unlabelled input'), /label/);
  await page.evaluate(() => {
    const wide = document.createElement('div');
    wide.className = 'brand';
    wide.textContent = 'x';
    wide.setAttribute('hidden', '');
    wide.removeAttribute('hidden');
    wide.append(document.createElement('button'));
    wide.querySelector('button').textContent = 'far';
    document.querySelector('main').append(wide);
    wide.querySelector('button').setAttribute('class', 'btn');
    wide.animate([{ marginLeft: '1200px' }, { marginLeft: '1200px' }], { duration: 100000, fill: 'forwards' });
  });
  await assert.rejects(assertNoHorizontalScroll(page, 'a page with a wide element'), /px wide/);
  await assert.rejects(assertWithinWidth(page, 'main', 'a page with a far button'), /outside the window/);
  await page.context().close();
});

test('no page opened a native dialog, threw, or broke its Content-Security-Policy', () => {
  assert.deepEqual(h.problems, []);
});
