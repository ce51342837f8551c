// The secretlint rule against files with real keys, mistyped keys and look-alikes, through the
// secretlint CLI from npm (the way a team runs it in CI).
//
// Real keys are made at test time by the plugin's own generator (bench/forge_keys, whose path
// MDP_FORGE_KEYS names; ctest sets it), so the rule is checked against what the plugin really
// issues, and no key is ever committed. The keys exist in no database.
"use strict";

const assert = require("node:assert/strict");
const { execFileSync, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const test = require("node:test");

const { isValidKey } = require("../index.js");

const forge = process.env.MDP_FORGE_KEYS;
const secretlintBin = path.join(__dirname, "..", "node_modules", ".bin", "secretlint");

function realKeys(n) {
  assert.ok(forge, "MDP_FORGE_KEYS must name the forge_keys program (ctest sets it)");
  const keys = execFileSync(forge, [String(n)], { encoding: "utf8" }).trim().split("\n");
  assert.equal(keys.length, n);
  return keys;
}

// Replaces the character at `i` with another one of the key alphabet (never the same one).
function mistype(key, i) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const other = alphabet[(alphabet.indexOf(key[i]) + 1) % 32];
  return key.slice(0, i) + other + key.slice(i + 1);
}

function runSecretlint(dir) {
  const rc = path.join(dir, ".secretlintrc.json");
  fs.writeFileSync(rc, JSON.stringify({ rules: [{ id: path.join(__dirname, "..", "index.js") }] }));
  const r = spawnSync(secretlintBin, ["--secretlintrc", rc, "--format", "json", "--no-color", "**/*.txt"], {
    cwd: dir,
    encoding: "utf8",
  });
  assert.ok(r.status === 0 || r.status === 1, `secretlint failed (${r.status}): ${r.stderr}${r.stdout}`);
  const results = JSON.parse(r.stdout);
  const found = {};
  for (const file of results) {
    const name = path.basename(file.filePath);
    found[name] = file.messages.map((m) => {
      const text = fs.readFileSync(file.filePath, "utf8");
      return { ruleId: m.ruleId, text: text.slice(m.range[0], m.range[1]), message: m.message };
    });
  }
  return { status: r.status, found };
}

test("the plugin's keys are valid, and every single-character typo is not", () => {
  for (const key of realKeys(20)) {
    assert.ok(isValidKey(key), key.slice(0, 8));
    for (let i = 4; i < key.length; i++) {
      const typo = mistype(key, i);
      assert.equal(isValidKey(typo), false, `typo at ${i} passed`);
    }
  }
});

test("secretlint reports real keys, and only them", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mdp-secretlint-"));
  try {
    const [a, b, c, d, e] = realKeys(5);
    fs.writeFileSync(
      path.join(dir, "real.txt"),
      [
        `MDP_API_KEY=${a}`,
        `curl -H "Authorization: Bearer ${b}" https://clinic.example/api/v1/patients`,
        `{"key": "${c}"}`,
        `https://clinic.example/api/v1/ping?api_key=${d}&x=1`,
        e,
      ].join("\n") + "\n",
    );
    fs.writeFileSync(
      path.join(dir, "mistyped.txt"),
      [
        mistype(a, 10),                 // one character wrong in the random part
        mistype(b, 60),                 // one character wrong in the checksum part
        a.slice(0, 61),                 // truncated (61 characters)
        `${c}A`,                        // one character too many: not a key boundary
        d.toLowerCase(),                // lower case: base32 here is upper case only
        `MDP_${e.slice(4)}`,            // prefix in the wrong case
        `xmdp_${e.slice(4)}`,           // part of a longer word
      ].join("\n") + "\n",
    );
    fs.writeFileSync(
      path.join(dir, "lookalike.txt"),
      [
        `mdp_${"A".repeat(58)}`,        // right shape, all zero bytes: checksum wrong
        `mdp_${"X".repeat(57)}A`,       // a documentation placeholder
        "mdp_6HBQMKOAGQ...RKJE",        // a README's shortened key
        `mdq_${a.slice(4)}`,            // another prefix
        `mdp_${"234567AB".repeat(7)}AE`, // made-up base32 of the right length
      ].join("\n") + "\n",
    );
    fs.writeFileSync(path.join(dir, "clean.txt"), "nothing to see here\n");

    const { status, found } = runSecretlint(dir);
    assert.equal(status, 1, "secretlint exits 1 when it finds a secret");
    assert.deepEqual(found["real.txt"].map((f) => f.text), [a, b, c, d, e]);
    for (const f of found["real.txt"]) {
      assert.equal(f.ruleId, path.join(__dirname, "..", "index.js"));  // the rule as configured
      // secretlint masks the rule's values in messages (--maskSecrets is on by default).
      assert.match(f.message, /^found a MyDentalPractice API key/);
      assert.ok(!f.message.includes(f.text), "the message must not repeat the whole key");
    }
    for (const name of ["mistyped.txt", "lookalike.txt", "clean.txt"])
      assert.deepEqual(found[name] ?? [], [], `${name}: ${JSON.stringify(found[name])}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a tree without keys passes (exit 0)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mdp-secretlint-"));
  try {
    const [a] = realKeys(1);
    fs.writeFileSync(path.join(dir, "notes.txt"), `${mistype(a, 20)}\nmdp_${"A".repeat(58)}\n`);
    const { status, found } = runSecretlint(dir);
    assert.equal(status, 0, JSON.stringify(found));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
