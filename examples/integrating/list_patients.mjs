// Lists a clinic's patients and appointments through the MyDentalPractice public API.
//
// Node.js 18 or later (fetch is built in), no packages. Server side only: a browser page must
// never hold the key; a booking widget calls its own backend, which runs code like this.
//   MDP_API_KEY   the API key, from your secret store (never in code, a committed file or a URL)
//   MDP_API_BASE  the practice's server, e.g. https://practice.example (default http://127.0.0.1:8080)
// Exit status: 0 done; 1 refused, a person must act (the message says what); 2 try again later.
const BASE = (process.env.MDP_API_BASE || "http://127.0.0.1:8080").replace(/\/+$/, "");
const MAX_TRIES = 4; // the first request and up to three retries after a 429 or a 503
const MAX_WAIT = 60; // seconds; a longer Retry-After means "run again later"

// The refusals of the public API (docs/errors.md). Any other code is judged by its status.
const KNOWN_CODES = new Set([
  "missing_api_key", "invalid_api_key", "api_key_in_query_not_allowed", "revoked_api_key",
  "expired_api_key", "api_access_not_enabled", "insufficient_scope", "ip_not_allowed",
  "too_many_failed_attempts", "rate_limited", "service_unavailable",
]);

class Refused extends Error {} // a person must act: a new key, another scope, an address, the plan
class TryLater extends Error {} // the server asked us to come back later

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

// GET path; returns { body, headers }. Branches on the error code.
async function get(path, key) {
  for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
    let response;
    try {
      response = await fetch(BASE + path, {
        headers: { Authorization: `Bearer ${key}`, Accept: "application/json" },
        signal: AbortSignal.timeout(30000),
      });
    } catch (failure) {
      throw new TryLater(`cannot reach ${BASE}: ${failure.cause?.message ?? failure.message}`);
    }
    if (response.ok) return { body: await response.json(), headers: response.headers };

    const error = (await response.json().catch(() => null))?.error ?? { code: "", message: response.statusText };
    const code = error.code ?? "";
    // Decide on the code; fall back on the status only for a code this program does not know.
    if (code === "rate_limited" || code === "service_unavailable" ||
        (!KNOWN_CODES.has(code) && [429, 502, 503, 504].includes(response.status))) {
      const wait = Number.parseInt(response.headers.get("Retry-After") ?? "1", 10) || 1;
      if (attempt === MAX_TRIES || wait > MAX_WAIT) throw new TryLater(`${code || response.status}: asked to wait ${wait} s`);
      console.error(`${code || response.status}: retrying in ${wait} s`);
      await sleep(wait);
      continue;
    }
    let message = `HTTP ${response.status} ${code}: ${error.message ?? ""}`;
    if (code === "insufficient_scope") message += ` (the key needs the scope '${error.scope}')`;
    if (error.doc) message += ` See ${BASE}${error.doc}`;
    throw new Refused(message);
  }
}

async function main() {
  const key = process.env.MDP_API_KEY;
  if (!key) {
    console.error("Set MDP_API_KEY to the API key.");
    return 1;
  }
  let patients, appointments;
  try {
    patients = await get("/api/v1/patients", key);
    appointments = await get("/api/v1/appointments", key);
  } catch (failure) {
    if (failure instanceof Refused) { console.error(`refused: ${failure.message}`); return 1; }
    if (failure instanceof TryLater) { console.error(`try again later: ${failure.message}`); return 2; }
    throw failure;
  }

  console.log(`clinic: ${patients.body.clinic.name}`);
  console.log(`patients: ${patients.body.patients.length}`);
  for (const p of patients.body.patients) console.log(`  #${p.id} ${p.first_name} ${p.last_name}, born ${p.birth_date}`);
  console.log(`appointments: ${appointments.body.appointments.length}`);
  for (const a of appointments.body.appointments) {
    console.log(`  #${a.id} ${a.starts_at} patient #${a.patient_id}, ${a.duration_minutes} min: ${a.reason}`);
  }
  // RateLimit: "per-key";r=<requests left>;t=<seconds until the window resets>
  const left = /;r=(\d+);t=(\d+)/.exec(appointments.headers.get("RateLimit") ?? "");
  if (left) console.log(`requests left: ${left[1]} for ${left[2]} s`);
  return 0;
}

process.exitCode = await main();
