#!/usr/bin/env python3
"""Lists a clinic's patients and appointments through the MyDentalPractice public API.

Python 3.8 or later, standard library only.
  MDP_API_KEY   the API key, from your secret store (never in code, a committed file or a URL)
  MDP_API_BASE  the practice's server, e.g. https://practice.example (default http://127.0.0.1:8080)
Exit status: 0 done; 1 refused, a person must act (the message says what); 2 try again later.
"""
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

BASE = os.environ.get("MDP_API_BASE", "http://127.0.0.1:8080").rstrip("/")
MAX_TRIES = 4  # the first request and up to three retries after a 429 or a 503
MAX_WAIT = 60  # seconds; a longer Retry-After means "run again later"


class Refused(Exception):
    """A person must act: a new key, another scope, an allowed address, the clinic's plan."""


class TryLater(Exception):
    """Nothing is wrong with the request: the server asked us to come back later."""


def get(path, key):
    """GET path; returns (JSON body, response headers). Branches on the error code."""
    for attempt in range(1, MAX_TRIES + 1):
        request = urllib.request.Request(
            BASE + path, headers={"Authorization": "Bearer " + key, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response), response.headers
        except urllib.error.HTTPError as answer:
            status, headers = answer.code, answer.headers
            try:
                error = json.load(answer)["error"]
            except (ValueError, KeyError, TypeError):
                error = {"code": "", "message": answer.reason}
        except (urllib.error.URLError, OSError) as failure:
            raise TryLater(f"cannot reach {BASE}: {failure}") from None

        code = error.get("code", "")
        # Decide on the code; fall back on the status only for a code this program does not know.
        if code in ("rate_limited", "service_unavailable") or (
                code not in KNOWN_CODES and status in (429, 502, 503, 504)):
            wait = int(headers.get("Retry-After") or 1)
            if attempt == MAX_TRIES or wait > MAX_WAIT:
                raise TryLater(f"{code or status}: asked to wait {wait} s")
            print(f"{code or status}: retrying in {wait} s", file=sys.stderr, flush=True)
            time.sleep(wait)
            continue
        message = f"HTTP {status} {code}: {error.get('message', '')}"
        if code == "insufficient_scope":
            message += f" (the key needs the scope '{error.get('scope')}')"
        if error.get("doc"):
            message += f" See {BASE}{error['doc']}"
        raise Refused(message)


# The refusals of the public API (docs/errors.md). Any other code is judged by its status.
KNOWN_CODES = {
    "missing_api_key", "invalid_api_key", "api_key_in_query_not_allowed", "revoked_api_key",
    "expired_api_key", "api_access_not_enabled", "insufficient_scope", "ip_not_allowed",
    "too_many_failed_attempts", "rate_limited", "service_unavailable",
}


def main():
    key = os.environ.get("MDP_API_KEY", "")
    if not key:
        print("Set MDP_API_KEY to the API key.", file=sys.stderr)
        return 1
    try:
        patients, _ = get("/api/v1/patients", key)
        appointments, headers = get("/api/v1/appointments", key)
    except Refused as refusal:
        print(f"refused: {refusal}", file=sys.stderr)
        return 1
    except TryLater as reason:
        print(f"try again later: {reason}", file=sys.stderr)
        return 2

    print(f"clinic: {patients['clinic']['name']}")
    print(f"patients: {len(patients['patients'])}")
    for p in patients["patients"]:
        print(f"  #{p['id']} {p['first_name']} {p['last_name']}, born {p['birth_date']}")
    print(f"appointments: {len(appointments['appointments'])}")
    for a in appointments["appointments"]:
        print(f"  #{a['id']} {a['starts_at']} patient #{a['patient_id']}, "
              f"{a['duration_minutes']} min: {a['reason']}")
    # RateLimit: "per-key";r=<requests left>;t=<seconds until the window resets>
    left = re.search(r";r=(\d+);t=(\d+)", headers.get("RateLimit", ""))
    if left:
        print(f"requests left: {left[1]} for {left[2]} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
