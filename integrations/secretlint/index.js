// Secretlint rule: finds MyDentalPractice API keys, and only real ones.
//
// A key is "mdp_" followed by 58 characters of RFC 4648 base32 (A-Z, 2-7, no padding) that
// encode 36 bytes: 32 random bytes and the CRC-32 (ISO-HDLC, as zlib computes it) of those 32
// bytes, big-endian. The last character carries only 3 data bits, so its 2 low bits are zero:
// it is one of A E I M Q U Y 4. The regular expression finds candidates; the rule reports only
// those whose checksum verifies, so a mistyped key, a truncated one or a look-alike made up for
// documentation ("mdp_XXXX...") is not reported, while every key the plugin ever issued is.
//
// The same pattern, for scanners that take a regular expression (GitHub custom patterns,
// gitleaks, trufflehog): \bmdp_[A-Z2-7]{57}[AEIMQUY4]\b  (then verify the checksum as below).
"use strict";

const KEY_PATTERN = /\bmdp_[A-Z2-7]{57}[AEIMQUY4]\b/g;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// CRC-32/ISO-HDLC (reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF).
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// The 36 bytes behind the 58 characters after "mdp_".
function decodeBody(body) {
  const out = new Uint8Array(36);
  let buffer = 0;
  let bits = 0;
  let n = 0;
  for (const ch of body) {
    buffer = (buffer << 5) | ALPHABET.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (buffer >>> bits) & 0xff;
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

// True for a string that is exactly one MyDentalPractice API key with a valid checksum.
function isValidKey(text) {
  if (!/^mdp_[A-Z2-7]{57}[AEIMQUY4]$/.test(text)) return false;
  const raw = decodeBody(text.slice(4));
  const expected = ((raw[32] << 24) | (raw[33] << 16) | (raw[34] << 8) | raw[35]) >>> 0;
  return crc32(raw.subarray(0, 32)) === expected;
}

const messages = {
  MDP_API_KEY: {
    en: (props) =>
      `found a MyDentalPractice API key: ${props.PREVIEW}. Revoke it in Settings > Integrations > API Keys ` +
      `(or report it to the leaked-keys endpoint) and issue a new one.`,
  },
};

const creator = {
  messages,
  meta: {
    id: "secretlint-rule-mdp-api-key",
    recommended: true,
    type: "scanner",
    supportedContentTypes: ["text"],
  },
  create(context) {
    const t = context.createTranslator(messages);
    return {
      file(source) {
        for (const match of source.content.matchAll(KEY_PATTERN)) {
          if (!isValidKey(match[0])) continue;
          context.report({
            // Only the preview ("mdp_…WXYZ") goes into the message: the report must not copy the
            // secret into CI logs a second time.
            message: t("MDP_API_KEY", { PREVIEW: `mdp_\u2026${match[0].slice(-4)}` }),
            range: [match.index, match.index + match[0].length],
          });
        }
      },
    };
  },
};

exports.creator = creator;
exports.isValidKey = isValidKey;
exports.KEY_PATTERN = KEY_PATTERN;
