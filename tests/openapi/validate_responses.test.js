// validate_responses.js must fail on answers that do not match docs/openapi.json, so that its
// pass over the recorded answers means something: crafted records, one fault each.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const { checkRecords, PLACEHOLDER } = require('./validate_responses.js');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const DOC = path.join(__dirname, '../../docs/openapi.json');

// The check on `records` (null: no file at all): in this process, or as ctest runs it.
function withRecords(records, fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdp-openapi-'));
  try {
    if (records !== null)
      fs.writeFileSync(path.join(dir, 'devhost-1-0.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
const check = (records) => withRecords(records, (dir) => checkRecords(DOC, dir));
const run = (records) => withRecords(records, (dir) => {
  const out = spawnSync(process.execPath, [path.join(__dirname, 'validate_responses.js'), DOC, dir], { encoding: 'utf8' });
  return { status: out.status, text: out.stdout + out.stderr };
});

const error = (code) => JSON.stringify({ error: { code, message: 'm', doc: `/plugins/api-access/errors#${code}` } });
const key = (over = {}) => Object.assign({
  id: 1, label: 'Power BI sync', scopes: ['read'], preview: 'mdp_\u2026ABCD', status: 'active',
  created_at: '2026-11-26T09:30:00Z', created_by: { id: 1, name: 'Olivia Hart' }, last_used_at: null,
  expires_at: null, revoked_at: null, revoked_by: null, rotated_from: null, description: '',
  rate_limit: null, allowed_ips: [], last_used_from: null, revoked_reason: null, leak: null,
}, over);
const rec = (method, route, status, body, headers = {}, contentType = 'application/json') =>
  ({ method, route, status, content_type: contentType, headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

const good = [
  rec('POST', '/plugins/api-access/keys', 201, { key: key(), secret: PLACEHOLDER }, { 'Cache-Control': 'no-store' }),
  rec('GET', '/plugins/api-access/keys', 200, { keys: [key()], total: 1 }),
  rec('POST', '/plugins/api-access/keys/{id}/revoke', 404, error('key_not_found')),
  rec('GET', '/api/v1/ping', 401, error('missing_api_key'), { 'WWW-Authenticate': 'Bearer' }),
  rec('GET', '/api/v1/ping', 429, error('too_many_failed_attempts'), { 'Retry-After': '3' }),
  rec('GET', '/plugins/api-access/keys', 401, { error: { code: 'not_authenticated', message: 'Log in first.' } }),
  rec('GET', '/plugins/api-access/errors', 200, '<!doctype html>', {}, 'text/html; charset=utf-8'),
];

test('documented answers pass; other plugins\' routes are skipped', () => {
  const r = run([...good, rec('GET', '/plugins/test-good/changes', 200, { changes: [] })]);
  assert.strictEqual(r.status, 0, r.text);
  assert.match(r.text, /all 7 match/);
  assert.match(r.text, /1 of other plugins skipped/);
});

test('nothing recorded fails', () => {
  const r = run(null);
  assert.notStrictEqual(r.status, 0);
  assert.match(r.text, /nothing was recorded/);
});

const faults = {
  'an undocumented route': [rec('GET', '/plugins/api-access/nope', 200, {}), /no operation/],
  'an undocumented status': [rec('GET', '/plugins/api-access/keys', 418, {}), /status 418 is not documented/],
  'an undocumented content type': [rec('GET', '/plugins/api-access/errors', 200, {}), /content type application\/json is not documented/],
  'a field of the wrong type': [rec('GET', '/plugins/api-access/keys', 200, { keys: [], total: 'one' }), /body\/total must be integer/],
  'an undocumented field': [rec('GET', '/plugins/api-access/keys', 200, { keys: [key({ extra: 1 })], total: 1 }), /additional properties/],
  'a code of another status': [rec('GET', '/api/v1/ping', 401, error('key_not_found')), /allowed values/],
  'a code missing from the catalogue': [rec('GET', '/plugins/api-access/keys/{id}/usage', 400, error('no_such_code')), /allowed values/],
  'an error without doc': [rec('GET', '/plugins/api-access/keys/{id}/usage', 400, { error: { code: 'invalid_days', message: 'm' } }), /doc/],
  'a 429 without Retry-After': [rec('GET', '/api/v1/ping', 429, error('too_many_failed_attempts')), /Retry-After is required/],
  'a malformed RateLimit field': [rec('GET', '/api/v1/ping', 200, { clinic: { id: 1, name: 'x' }, pong: true }, { RateLimit: 'r=1' }), /header RateLimit/],
  'a body that is not JSON': [rec('GET', '/plugins/api-access/keys', 200, 'keys'), /not JSON/],
};
for (const [name, [record, expected]] of Object.entries(faults)) {
  test(`fails on ${name}`, () => {
    const r = check([...good, record]);
    assert.strictEqual(r.total, 8);
    assert.strictEqual(r.failures.length, 1, JSON.stringify(r.failures));
    assert.match(r.failures[0].what, expected);
  });
}

test('fails on a key in a record, and never prints it', () => {
  const real = 'mdp_' + 'B'.repeat(54) + 'CDEF';
  const r = run([...good, rec('POST', '/plugins/api-access/keys', 201, { key: key(), secret: real }), rec('GET', '/x', 200, real)]);
  assert.notStrictEqual(r.status, 0);
  assert.match(r.text, /an API key other than the placeholder/);
  assert.ok(!r.text.includes(real), r.text);
});
