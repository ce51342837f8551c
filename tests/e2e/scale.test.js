// A clinic with many keys: the page shows one page of them, served by the plugin, with search,
// status filter, sort and paging that work without script (plain GET forms and links), and the
// Activity view of the audit trail, filterable by key. At a phone's width and on a desktop, with
// axe-core on every view.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Harness, assertAccessible, assertNoHorizontalScroll } = require('./support');

const STEP = { timeout: 120_000 };
const KEYS = 60;
const h = new Harness();
const made = [];

before(async () => {
  await h.start();
  const s = await h.session('owner@brightsmiles.test');
  for (let i = 0; i < KEYS; i++) {
    const r = await s.call('POST', 'keys', { label: `Integration ${String(i).padStart(2, '0')}`, scopes: ['read'] });
    assert.equal(r.status, 201);
    made.push(r.body);
  }
  for (const i of [5, 6, 7]) assert.equal((await s.call('POST', `keys/${made[i].key.id}/revoke`)).status, 200);
  assert.equal((await s.call('POST', `keys/${made[10].key.id}/rotate`, { grace_seconds: 3600 })).status, 201);
});
after(async () => { await h.stop(); });

const rows = (page) => page.locator('.vm-table > tbody > tr');
const summary = (page) => page.locator('.vm-section .section-desc').first().textContent();

for (const width of [390, 1280]) {
  test(`${width} px: pages of 25, search, status filter and sort`, STEP, async () => {
    const page = await h.newPage({ width, colorScheme: width === 390 ? 'dark' : 'light' });
    await h.login(page, 'owner@brightsmiles.test');
    await page.goto('/settings/integrations/api-keys');
    // 61 keys, 3 revoked: the default view leaves the revoked out.
    assert.equal(await rows(page).count(), 25);
    assert.match(await summary(page), /^Keys 1\u201325 of 58\./);
    assert.match(await rows(page).first().textContent(), /Integration 10/); // the rotation's new key is newest
    await assertNoHorizontalScroll(page, 'keys page 1');
    await assertAccessible(page, `keys page 1 (${width})`);

    const pages = page.getByRole('navigation', { name: 'Pages of keys' });
    await Promise.all([page.waitForURL(/page=2/), pages.getByRole('link', { name: 'Next' }).click()]);
    assert.match(await summary(page), /^Keys 26\u201350 of 58\./);
    assert.equal(await pages.getByRole('link', { name: 'Page 2' }).getAttribute('aria-current'), 'page');
    await Promise.all([page.waitForURL(/page=3/), pages.getByRole('link', { name: 'Page 3' }).click()]);
    assert.equal(await rows(page).count(), 8);
    await assertNoHorizontalScroll(page, 'keys page 3');

    // Search by label, then by the last characters of a key.
    const search = page.getByRole('search', { name: 'Find keys' });
    await search.getByLabel('Search').fill('integration 42');
    await Promise.all([page.waitForURL(/q=integration/), search.getByRole('button', { name: 'Apply' }).click()]);
    assert.equal(await rows(page).count(), 1);
    assert.match(await rows(page).textContent(), /Integration 42/);
    assert.equal(await page.getByRole('navigation', { name: 'Pages of keys' }).count(), 0);
    const last4 = made[33].secret.slice(-4);
    await search.getByLabel('Search').fill(last4);
    await Promise.all([page.waitForURL(new RegExp(`q=${last4}`)), search.getByRole('button', { name: 'Apply' }).click()]);
    assert.match(await rows(page).first().textContent(), /Integration 33/);
    await search.getByLabel('Search').fill('no such key');
    await Promise.all([page.waitForURL(/q=no/), search.getByRole('button', { name: 'Apply' }).click()]);
    assert.match(await page.locator('.empty-state').textContent(), /No key matches/);
    await assertAccessible(page, `no match (${width})`);
    await Promise.all([page.waitForURL(/api-keys$/), page.getByRole('link', { name: 'Show the default view' }).first().click()]);

    // Revoked keys on request.
    await search.getByLabel('Status').selectOption('revoked');
    await Promise.all([page.waitForURL(/status=revoked/), search.getByRole('button', { name: 'Apply' }).click()]);
    assert.equal(await rows(page).count(), 3);
    for (const r of await rows(page).all()) assert.match(await r.textContent(), /Revoked/);
    assert.equal(await search.getByLabel('Status').inputValue(), 'revoked');
    // Sorted by label, A to Z, across every status.
    await search.getByLabel('Status').selectOption('all');
    await search.getByLabel('Sort').selectOption('label');
    await Promise.all([page.waitForURL(/sort=label/), search.getByRole('button', { name: 'Apply' }).click()]);
    assert.match(await summary(page), /of 61\./);
    assert.match(await rows(page).first().locator(':scope > th').textContent(), /^Integration 00/);
    await assertAccessible(page, `sorted by label (${width})`);
    await page.context().close();
  });
}

test('Activity: who did what to which key, filterable by key', STEP, async () => {
  for (const width of [390, 1280]) {
    const page = await h.newPage({ width });
    await h.login(page, 'owner@brightsmiles.test');
    await page.goto('/settings/integrations/api-keys');
    await Promise.all([page.waitForURL(/view=activity/),
      page.getByRole('navigation', { name: 'API key views' }).getByRole('link', { name: 'Activity' }).click()]);
    const table = page.locator('.vm-table');
    // 60 created + 3 revoked + 1 rotated = 64 events: 50 on the first page.
    assert.equal(await rows(page).count(), 50);
    assert.match(await page.getByRole('navigation', { name: 'Pages of activity' }).textContent(), /Events 1\u201350 of 64/);
    assert.match(await rows(page).first().textContent(), /Rotated.*replaced mdp_\u2026/);
    assert.match(await table.textContent(), /Revoked.*Integration 07.*Olivia Hart/);
    await assertNoHorizontalScroll(page, 'activity');
    await assertAccessible(page, `activity (${width})`);

    // One key's history, chosen in the filter.
    const filter = page.getByRole('search', { name: 'Filter the activity' });
    await filter.getByLabel('Key').selectOption(String(made[10].key.id));
    await Promise.all([page.waitForURL(/key=/), filter.getByRole('button', { name: 'Show' }).click()]);
    assert.equal(await rows(page).count(), 2);
    assert.match(await rows(page).nth(0).textContent(), /Rotated/);
    assert.match(await rows(page).nth(1).textContent(), /Generated/);
    await assertAccessible(page, `activity of one key (${width})`);

    // From a key's row: its own history.
    await page.goto('/settings/integrations/api-keys?q=Integration%2007&status=revoked');
    await Promise.all([page.waitForURL(/view=activity&key=/), rows(page).first().getByRole('link', { name: 'Activity' }).click()]);
    assert.equal(await rows(page).count(), 2);
    assert.match(await rows(page).first().textContent(), /Revoked/);
    if (width === 1280) {
      await page.goto('/settings/integrations/api-keys?view=activity');
      await h.shot(page, 'activity.png');
    }
    await page.context().close();
  }
});

test('no page opened a native dialog, threw, or broke its Content-Security-Policy', () => {
  assert.deepEqual(h.problems, []);
});
