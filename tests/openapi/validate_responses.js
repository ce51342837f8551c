// Checks every answer the HTTP test suites recorded (the devhost's --record-responses, turned on
// by ctest for those suites through MDP_RECORD_RESPONSES_DIR) against docs/openapi.json:
// the operation (method and route), the status, the content type, the body against the
// response's schema (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses it) and the documented
// headers (present when required, matching their schema when present).
//
//   node validate_responses.js <openapi.json> <records folder>
//
// Answers of other plugins' routes (the test plugins the host suites load) are not this
// document's: they are counted and skipped.
//
// Fails when a response does not match, when nothing was recorded, and when a recorded line
// holds an API key other than the recorder's placeholder (keys must never reach a file).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

// The recorder's placeholder (devhost/src/app/response_recorder.hpp): a key's format, a checksum
// that never matches.
const PLACEHOLDER = 'mdp_' + 'A'.repeat(58);
const BASE = 'https://mdp.invalid/openapi.json';
const keyPattern = /mdp_[A-Z2-7]{58,}/g;
const MOUNT = '/plugins/api-access/';

// $refs to component schemas point into the $defs of one schema with an absolute id, so every
// response schema (inline or a $ref) compiles on its own and shares them.
function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
      ? `${BASE}#/$defs/${v.slice('#/components/schemas/'.length)}`
      : rewriteRefs(v);
  }
  return out;
}

function mediaTypeOf(contentType) {
  return (contentType || '').split(';')[0].trim().toLowerCase();
}

class DocumentChecker {
  constructor(doc) {
    this.doc = doc;
    this.ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    addFormats(this.ajv);
    this.ajv.addKeyword('x-enumDescriptions');  // Redoc's extension: descriptions, no constraint
    this.ajv.addSchema({ $id: BASE, $defs: rewriteRefs(doc.components.schemas) });
    this.compiled = new Map();
  }

  // Follows $refs into the document (responses, headers).
  resolve(obj) {
    while (obj && obj.$ref) {
      const parts = obj.$ref.replace(/^#\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
      obj = parts.reduce((o, p) => (o ? o[p] : undefined), this.doc);
    }
    return obj;
  }

  validator(schema) {
    const key = JSON.stringify(schema);
    if (!this.compiled.has(key)) this.compiled.set(key, this.ajv.compile(rewriteRefs(schema)));
    return this.compiled.get(key);
  }

  // What is wrong with one recorded answer (empty: nothing).
  check(rec) {
    const problems = [];
    const item = this.doc.paths[rec.route];
    const op = item && item[rec.method.toLowerCase()];
    if (!op) return [`no operation ${rec.method} ${rec.route} in the document`];
    const status = String(rec.status);
    const response = this.resolve(op.responses[status] || op.responses[`${status[0]}XX`] || op.responses.default);
    if (!response) return [`status ${status} is not documented for ${rec.method} ${rec.route}`];

    const lower = Object.fromEntries(Object.entries(rec.headers || {}).map(([k, v]) => [k.toLowerCase(), v]));
    for (const [name, h] of Object.entries(response.headers || {})) {
      const header = this.resolve(h);
      const value = lower[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) problems.push(`header ${name} is required but missing`);
        continue;
      }
      const v = this.validator(header.schema);
      if (!v(value)) problems.push(`header ${name}: ${JSON.stringify(value)} ${this.ajv.errorsText(v.errors)}`);
    }

    const content = response.content || {};
    if (Object.keys(content).length === 0) {
      if (rec.body) problems.push('a body where the document describes none');
      return problems;
    }
    const mt = mediaTypeOf(rec.content_type);
    const media = content[mt] || content[`${mt.split('/')[0]}/*`] || content['*/*'];
    if (!media) {
      problems.push(`content type ${rec.content_type} is not documented (expected ${Object.keys(content).join(', ')})`);
      return problems;
    }
    if (!media.schema) return problems;
    let body = rec.body;
    if (mt === 'application/json' || mt.endsWith('+json')) {
      try {
        body = JSON.parse(rec.body);
      } catch (e) {
        problems.push(`the body is not JSON: ${e.message}`);
        return problems;
      }
    }
    const v = this.validator(media.schema);
    if (!v(body))
      for (const e of v.errors.slice(0, 5)) problems.push(`body${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
    return problems;
  }
}

// Checks every *.jsonl file in `recordsDir` against the document at `docPath`.
// Returns {total, otherPlugins, files, distinct, untested, failures: [{where, what}]}.
function checkRecords(docPath, recordsDir) {
  const doc = JSON.parse(fs.readFileSync(docPath, 'utf8'));
  const checker = new DocumentChecker(doc);
  const files = fs.existsSync(recordsDir) ? fs.readdirSync(recordsDir).filter((f) => f.endsWith('.jsonl')).sort() : [];
  let total = 0;
  let otherPlugins = 0;
  const failures = [];
  const seen = new Set();
  for (const f of files) {
    const lines = fs.readFileSync(path.join(recordsDir, f), 'utf8').split('\n').filter((l) => l.length > 0);
    lines.forEach((line, i) => {
      const where = `${f}:${i + 1}`;
      for (const m of line.match(keyPattern) || [])
        if (m !== PLACEHOLDER) failures.push({ where, what: 'an API key other than the placeholder reached the record file' });
      let rec;
      try {
        rec = JSON.parse(line);
      } catch (e) {
        failures.push({ where, what: `not a JSON line: ${e.message}` });
        return;
      }
      if (rec.route.startsWith('/plugins/') && !rec.route.startsWith(MOUNT)) {
        ++otherPlugins;
        return;
      }
      ++total;
      seen.add(`${rec.method} ${rec.route} ${rec.status}`);
      const problems = checker.check(rec);
      if (problems.length > 0) {
        // Printed with any key-shaped text hidden: this output ends up in CI logs.
        const shown = String(rec.body).replace(keyPattern, '<api key>');
        const body = shown.length > 300 ? `${shown.slice(0, 300)}...` : shown;
        failures.push({ where, what: `${rec.method} ${rec.route} -> ${rec.status} ${rec.content_type}: ${problems.join('; ')}\n    body: ${body}` });
      }
    });
  }
  // Which documented operations the suites exercised, for the reader (not a failure).
  const untested = [];
  for (const [p, item] of Object.entries(doc.paths))
    for (const method of Object.keys(item))
      if (![...seen].some((s) => s.startsWith(`${method.toUpperCase()} ${p} `))) untested.push(`${method.toUpperCase()} ${p}`);
  return { total, otherPlugins, files: files.length, distinct: seen.size, untested, failures };
}

function main() {
  const [docPath, recordsDir] = process.argv.slice(2);
  if (!docPath || !recordsDir) {
    console.error('usage: node validate_responses.js <openapi.json> <records folder>');
    process.exit(2);
  }
  const r = checkRecords(docPath, recordsDir);
  console.log(`openapi.responses: ${r.total} recorded responses in ${r.files} files, ${r.distinct} distinct (method, route, status); ${r.otherPlugins} of other plugins skipped`);
  if (r.untested.length > 0) console.log(`operations no suite exercised: ${r.untested.join(', ')}`);
  if (r.total === 0) {
    console.error(`nothing was recorded in ${recordsDir}: no HTTP suite ran with MDP_RECORD_RESPONSES_DIR (run them with this check: ctest -R 'plugin.http|host.Devhost')`);
    process.exit(1);
  }
  if (r.failures.length > 0) {
    for (const f of r.failures.slice(0, 40)) console.error(`FAIL ${f.where}: ${f.what}`);
    if (r.failures.length > 40) console.error(`... and ${r.failures.length - 40} more`);
    console.error(`${new Set(r.failures.map((f) => f.where)).size} of ${r.total} recorded responses do not match docs/openapi.json`);
    process.exit(1);
  }
  console.log(`all ${r.total} match docs/openapi.json`);
}

module.exports = { checkRecords, PLACEHOLDER };
if (require.main === module) main();
