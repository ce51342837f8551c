// The manifest schema shipped with the SDK (host_interface/schema/manifest.schema.json), checked
// with Ajv, a complete JSON Schema implementation: the repository's manifest.json must validate,
// and each malformed manifest below must fail on the field it breaks. The same mutations are
// refused by the devhost's loader (tests/host/loader_test.cpp, ManifestErrors), so the schema
// and the loader cannot drift apart silently.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const Ajv = require('ajv');

const root = path.resolve(__dirname, '..', '..');
const schema = JSON.parse(fs.readFileSync(path.join(root, 'host_interface/schema/manifest.schema.json'), 'utf8'));
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'manifest.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);

// The field an Ajv error is about, in the loader's notation: features[0].tiers[0], migrations.sqlite.
function fieldOf(error) {
  let p = error.instancePath.replace(/^\//, '').replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.');
  if (error.keyword === 'required') p = p ? `${p}.${error.params.missingProperty}` : error.params.missingProperty;
  return p;
}

test('the repository manifest.json validates against the shipped schema', () => {
  const ok = validate(manifest);
  assert.ok(ok, JSON.stringify(validate.errors));
});

const feature0 = (m) => m.features[0];
const cases = [
  ['missing_id', 'id', (m) => { delete m.id; }],
  ['id_not_string', 'id', (m) => { m.id = 42; }],
  ['id_with_slash', 'id', (m) => { m.id = '../evil'; }],
  ['id_uppercase', 'id', (m) => { m.id = 'Api-Access'; }],
  ['missing_name', 'name', (m) => { delete m.name; }],
  ['empty_name', 'name', (m) => { m.name = ''; }],
  ['name_too_long', 'name', (m) => { m.name = 'x'.repeat(1001); }],
  ['description_not_string', 'description', (m) => { m.description = 7; }],
  ['missing_version', 'version', (m) => { delete m.version; }],
  ['bad_version', 'version', (m) => { m.version = 'one'; }],
  ['missing_abi', 'host_interface_abi', (m) => { delete m.host_interface_abi; }],
  ['abi_no_minor', 'host_interface_abi', (m) => { m.host_interface_abi = '1'; }],
  ['abi_number', 'host_interface_abi', (m) => { m.host_interface_abi = 1.0; }],
  ['missing_library', 'library', (m) => { delete m.library; }],
  ['library_with_path', 'library', (m) => { m.library = '/usr/lib/libc.so'; }],
  ['missing_entry_symbol', 'entry_symbol', (m) => { delete m.entry_symbol; }],
  ['entry_symbol_invalid', 'entry_symbol', (m) => { m.entry_symbol = 'not a symbol'; }],
  ['missing_features', 'features', (m) => { delete m.features; }],
  ['features_not_array', 'features', (m) => { m.features = 'api_access'; }],
  ['feature_not_object', 'features[0]', (m) => { m.features = ['x']; }],
  ['feature_missing_label', 'features[0].label', (m) => { delete feature0(m).label; }],
  ['feature_bad_id', 'features[0].id', (m) => { feature0(m).id = 'Api Access'; }],
  ['feature_tiers_not_array', 'features[0].tiers', (m) => { feature0(m).tiers = 'enterprise'; }],
  ['feature_tier_not_string', 'features[0].tiers[0]', (m) => { feature0(m).tiers = [1]; }],
  ['feature_tier_repeated', 'features[0].tiers', (m) => { feature0(m).tiers = ['pro', 'pro']; }],
  ['feature_missing_addon', 'features[0].addon', (m) => { delete feature0(m).addon; }],
  ['feature_bad_addon', 'features[0].addon', (m) => { feature0(m).addon = 'API-ACCESS'; }],
  ['missing_permissions', 'permissions', (m) => { delete m.permissions; }],
  ['permission_not_string', 'permissions[0]', (m) => { m.permissions = [true]; }],
  ['permission_repeated', 'permissions', (m) => { m.permissions = ['a.b', 'a.b']; }],
  ['too_many_permissions', 'permissions', (m) => { m.permissions = Array.from({ length: 65 }, (_, i) => `p${i}`); }],
  ['version_too_long', 'version', (m) => { m.version = `1.0.0-${'a'.repeat(130)}`; }],
  ['missing_migrations', 'migrations', (m) => { delete m.migrations; }],
  ['migrations_not_object', 'migrations', (m) => { m.migrations = 'sql'; }],
  ['migrations_missing_sqlite', 'migrations.sqlite', (m) => { delete m.migrations.sqlite; }],
  ['migrations_escape', 'migrations.sqlite', (m) => { m.migrations.sqlite = '../../etc'; }],
  ['migrations_dot_segment', 'migrations.postgresql', (m) => { m.migrations.postgresql = 'sql/./pg'; }],
  ['migrations_absolute', 'migrations.postgresql', (m) => { m.migrations.postgresql = '/sql'; }],
];

for (const [name, field, mutate] of cases) {
  test(`schema refuses ${name} on field ${field}`, () => {
    const m = structuredClone(manifest);
    mutate(m);
    assert.strictEqual(validate(m), false, `accepted: ${JSON.stringify(m)}`);
    const fields = validate.errors.map(fieldOf);
    assert.ok(fields.includes(field), `errors name ${JSON.stringify(fields)}, not ${field}`);
  });
}

test('fields the schema does not name are ignored (reserved for later minor versions)', () => {
  const m = structuredClone(manifest);
  m.homepage = 'https://example.test/';
  assert.ok(validate(m), JSON.stringify(validate.errors));
});
