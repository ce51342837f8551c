// Books an appointment through the MyDentalPractice public API: what a booking widget's backend
// does once a patient picked a slot (the browser talks to this backend, never to the API).
//
// Node.js 18 or later, no packages.
//   node book_appointment.mjs PATIENT_ID STARTS_AT [DURATION_MINUTES] [REASON]
//   MDP_API_KEY   a key with the scope appointments:write, from your secret store
//   MDP_API_BASE  the practice's server, e.g. https://practice.example (default http://127.0.0.1:8080)
// Exit status: 0 booked; 1 refused, a person must act (the message says what); 2 try again later.
//
// A booking must not be made twice. This retries only answers that say nothing was written
// (429 rate_limited, 503 service_unavailable); after a network failure the booking may or may
// not exist, so it stops and says so: list the appointments before booking again.
const BASE = (process.env.MDP_API_BASE || "http://127.0.0.1:8080").replace(/\/+$/, "");
const MAX_TRIES = 4; // the first request and up to three retries after a 429 or a 503
const MAX_WAIT = 60; // seconds; a longer Retry-After means "try again later"

// The refusals of the public API (docs/errors.md). Any other code is judged by its status.
const KNOWN_CODES = new Set([
  "missing_api_key", "invalid_api_key", "api_key_in_query_not_allowed", "revoked_api_key",
  "expired_api_key", "api_access_not_enabled", "insufficient_scope", "ip_not_allowed",
  "too_many_failed_attempts", "rate_limited", "service_unavailable",
]);

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

// POST the booking; returns the exit status.
async function book(key, appointment) {
  for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
    let response;
    try {
      response = await fetch(`${BASE}/api/v1/appointments`, {
        method: "POST",
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(appointment),
        signal: AbortSignal.timeout(30000),
      });
    } catch (failure) {
      console.error(`unknown: the server did not answer (${failure.cause?.message ?? failure.message}); ` +
                    "list the appointments before booking again");
      return 2;
    }
    if (response.status === 201) {
      const a = (await response.json()).appointment;
      console.log(`booked #${a.id}: ${a.starts_at} patient #${a.patient_id}, ${a.duration_minutes} min: ${a.reason}`);
      return 0;
    }
    const error = (await response.json().catch(() => null))?.error ?? { code: "", message: response.statusText };
    const code = error.code ?? "";
    // Decide on the code; fall back on the status only for a code this program does not know.
    if (code === "rate_limited" || code === "service_unavailable" ||
        (!KNOWN_CODES.has(code) && response.status === 429)) {
      const wait = Number.parseInt(response.headers.get("Retry-After") ?? "1", 10) || 1;
      if (attempt === MAX_TRIES || wait > MAX_WAIT) {
        console.error(`try again later: ${code || response.status}: asked to wait ${wait} s`);
        return 2;
      }
      console.error(`${code || response.status}: retrying in ${wait} s`);
      await sleep(wait);
      continue;
    }
    if (response.status >= 500) {  // e.g. a proxy's 502 or 504: the server may have booked it
      console.error(`unknown: HTTP ${response.status} ${code}; list the appointments before booking again`);
      return 2;
    }
    let message = `refused: HTTP ${response.status} ${code}: ${error.message ?? ""}`;
    if (code === "insufficient_scope") message += ` (the key needs the scope '${error.scope}')`;
    if (error.doc) message += ` See ${BASE}${error.doc}`;
    console.error(message);
    return 1;
  }
}

const [patientId, startsAt, minutes, reason] = process.argv.slice(2);
if (!process.env.MDP_API_KEY || !patientId || !startsAt) {
  console.error("usage: MDP_API_KEY=... node book_appointment.mjs PATIENT_ID STARTS_AT [DURATION_MINUTES] [REASON]");
  process.exitCode = 1;
} else {
  const appointment = { patient_id: Number(patientId), starts_at: startsAt };
  if (minutes) appointment.duration_minutes = Number(minutes);
  if (reason) appointment.reason = reason;
  process.exitCode = await book(process.env.MDP_API_KEY, appointment);
}
