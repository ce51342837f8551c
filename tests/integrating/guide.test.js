// docs/integrating.md against what it shows and what it promises:
// - each example block equals its file in examples/integrating/ (the files the test run
//   executes: tests/integrating/examples_test.cpp), and every example file is shown;
// - every code block in a programming language is such an example (none drifts unchecked);
// - every error code of the public API in the catalogue (plugin/src/errors/error_codes.def) is
//   in the guide's table, and each example knows exactly those codes;
// - the Python examples import the standard library only, the JavaScript ones nothing;
// - every link into docs/errors.md names an entry that exists;
// - the Power Query M example lexes and parses (Microsoft's @microsoft/powerquery-parser).
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const PQP = require('@microsoft/powerquery-parser');
const { root, guidePath, examplesDir, markedBlocks } = require('./guide_examples');

const guide = fs.readFileSync(guidePath, 'utf8');
const blocks = markedBlocks(guide);
const exampleFiles = fs.readdirSync(examplesDir).sort().map((f) => `examples/integrating/${f}`);

// The codes the request hook sends: the catalogue's section for the public API, up to the
// next section comment.
function publicApiCodes() {
  const def = fs.readFileSync(path.join(root, 'plugin/src/errors/error_codes.def'), 'utf8');
  const start = def.indexOf('// The request hook');
  assert.notStrictEqual(start, -1, 'error_codes.def has no request hook section');
  const rest = def.slice(start);
  const end = rest.indexOf('\n//', 1);
  const section = end === -1 ? rest : rest.slice(0, end);
  return [...section.matchAll(/^MDP_API_ERROR\((\w+),/gm)].map((m) => m[1]).sort();
}

test('each example block of the guide equals its file', () => {
  assert.ok(blocks.length > 0, 'no marked example block in the guide');
  for (const b of blocks) {
    const text = fs.readFileSync(path.join(root, b.file), 'utf8');
    assert.strictEqual(b.text, text,
      `${b.file} differs from its block in docs/integrating.md: run node tests/integrating/guide_examples.js --write`);
  }
});

test('every example file is shown once', () => {
  assert.deepStrictEqual(blocks.map((b) => b.file).sort(), exampleFiles);
});

test('every code block in a programming language is a checked example', () => {
  const fences = [...guide.matchAll(/^```(\w+)$/gm)];
  const marked = new Set(blocks.map((b) => guide.indexOf(b.fence, b.index)));
  for (const f of fences) {
    if (['text', 'http', 'json'].includes(f[1])) continue;  // transcripts and shapes
    assert.ok(marked.has(f.index), `a \`\`\`${f[1]} block at offset ${f.index} is not an example file`);
  }
});

test('the guide covers every error code of the public API', () => {
  const codes = publicApiCodes();
  assert.ok(codes.includes('revoked_api_key') && codes.length >= 9, `codes read: ${codes}`);
  for (const code of codes) {
    assert.match(guide, new RegExp(`^\\| \`${code}\` \\|`, 'm'), `${code} has no row in the guide's table`);
  }
});

test('each example knows exactly the public API codes', () => {
  const codes = publicApiCodes();
  const patterns = [
    /KNOWN_CODES = \{([^}]*)\}/,              // Python
    /KNOWN_CODES = new Set\(\[([^\]]*)\]\)/,  // JavaScript
    /known_codes=\(([^)]*)\)/,                // bash
  ];
  let lists = 0;
  for (const file of exampleFiles) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    const m = patterns.map((p) => text.match(p)).find(Boolean);
    if (!m) continue;
    lists++;
    const listed = [...m[1].matchAll(/[a-z_]+/g)].map((x) => x[0]).sort();
    assert.deepStrictEqual(listed, codes, `${file}: its known codes differ from the catalogue's`);
  }
  assert.ok(lists >= 4, `only ${lists} examples list the codes they know`);
});

test('the Python examples use the standard library only, the JavaScript ones no package', () => {
  const stdlib = new Set(['json', 'os', 're', 'sys', 'time', 'urllib.error', 'urllib.request']);
  for (const file of exampleFiles) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    if (file.endsWith('.py')) {
      const modules = [...text.matchAll(/^(?:import|from) ([\w.]+)/gm)].map((m) => m[1]);
      assert.ok(modules.length > 0, file);
      for (const m of modules) assert.ok(stdlib.has(m), `${file} imports ${m}`);
    }
    if (file.endsWith('.mjs') || file.endsWith('.js')) {
      assert.doesNotMatch(text, /^\s*import\s|require\(/m, `${file} loads a module`);
    }
  }
});

test('every link into docs/errors.md names an entry', () => {
  const catalogue = fs.readFileSync(path.join(root, 'docs/errors.md'), 'utf8');
  const anchors = new Set([...catalogue.matchAll(/^## (\S+)$/gm)].map((m) => m[1]));
  const links = [...guide.matchAll(/errors\.md#([\w-]+)/g)].map((m) => m[1]);
  assert.ok(links.length > 0);
  for (const a of links) assert.ok(anchors.has(a), `errors.md#${a} does not exist`);
});

test('the Power Query M example lexes and parses', async () => {
  const files = exampleFiles.filter((f) => f.endsWith('.pq'));
  assert.ok(files.length > 0, 'no .pq example');
  for (const f of files) {
    const task = await PQP.TaskUtils.tryLexParse(PQP.DefaultSettings, fs.readFileSync(path.join(root, f), 'utf8'));
    assert.ok(PQP.TaskUtils.isOk(task), `${f}: ${task.stage} error: ${task.error && task.error.message}`);
  }
});

test('the M parser refuses broken M (the check can fail)', async () => {
  const task = await PQP.TaskUtils.tryLexParse(PQP.DefaultSettings, 'let Source = Web.Contents("x", [Headers = ]) in Source');
  assert.ok(!PQP.TaskUtils.isOk(task));
});
