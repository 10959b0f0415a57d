// Buyflow for a Node.js seller: sign purchase requests, verify results and webhooks.
// Node's own crypto and zlib only; copy this file into your server.
//
//   import { signRequest, verifyResult, verifyWebhook } from './buyflow-seller.mjs';
//
// Tokens use the format of Python's itsdangerous URLSafeTimedSerializer with SHA-256:
// base64url(payload) "." base64url(timestamp) "." base64url(HMAC-SHA256), the key being
// SHA-256(salt + "signer" + secret). A payload starting with "." is zlib-compressed.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { inflateSync } from 'node:zlib';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function signingKey(secret, salt) {
  return createHash('sha256').update(salt + 'signer' + secret).digest();
}

function timestampBytes(seconds) {
  const bytes = [];
  for (let n = BigInt(seconds); n > 0n; n >>= 8n) bytes.unshift(Number(n & 0xffn));
  return Buffer.from(bytes);
}

function sign(payload, secret, salt) {
  const value = b64url(JSON.stringify(payload)) + '.' +
    b64url(timestampBytes(Math.floor(Date.now() / 1000)));
  return value + '.' + b64url(createHmac('sha256', signingKey(secret, salt)).update(value).digest());
}

function unsign(token, secrets, salt, maxAgeSeconds) {
  const parts = String(token).split('.');
  if (parts.length < 3) throw new Error('invalid token');
  const signature = Buffer.from(parts.pop(), 'base64url');
  const value = parts.join('.');
  const valid = [].concat(secrets).some((secret) => {
    const expected = createHmac('sha256', signingKey(secret, salt)).update(value).digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  });
  if (!valid) throw new Error('invalid token');
  const issued = Number(Buffer.from(parts.pop(), 'base64url').reduce((n, b) => n * 256n + BigInt(b), 0n));
  if (Date.now() / 1000 - issued > maxAgeSeconds) throw new Error('expired token');
  const body = parts.join('.');
  const json = body.startsWith('.')
    ? inflateSync(Buffer.from(body.slice(1), 'base64url'))
    : Buffer.from(body, 'base64url');
  return JSON.parse(json.toString('utf8'));
}

/** Sign a purchase request: {items: [{name, unit_amount, quantity?, product?}], currency,
 *  email?, reference?, passthrough?}, unit_amount being the unit price in minor units
 *  (`amount` is its deprecated name). Buyflow checks it when the buyer opens the flow. */
export function signRequest(request, signingSecret) {
  return sign(request, signingSecret, 'buyflow.request.v1');
}

/** The result's payload if one of the secrets signed it at most maxAge seconds ago;
 *  throws otherwise. Then check payload.status === 'paid' before you fulfil. */
export function verifyResult(token, signingSecrets, maxAgeSeconds = 3600) {
  return unsign(token, signingSecrets, 'buyflow.result.v1', maxAgeSeconds);
}

/** The webhook's parsed body if its Standard Webhooks signature is valid and at most
 *  5 minutes old; throws otherwise. Pass the raw body string, not a re-serialized one. */
export function verifyWebhook(rawBody, headers, webhookSecret, toleranceSeconds = 300) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = String(headers['webhook-signature'] || '').split(' ');
  if (!id || !timestamp) throw new Error('missing webhook headers');
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) {
    throw new Error('webhook timestamp out of tolerance');
  }
  const key = Buffer.from(webhookSecret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${rawBody}`).digest();
  const ok = signatures.some((entry) => {
    const [version, value] = entry.split(',');
    const given = Buffer.from(value || '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!ok) throw new Error('invalid webhook signature');
  return JSON.parse(rawBody);
}

// Command line, used by Buyflow's tests:  node buyflow-seller.mjs <command> <secret>
// with the token, request JSON or {headers, body} JSON on standard input.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [command, secret] = process.argv.slice(2);
  const input = await new Promise((resolve) => {
    let data = '';
    process.stdin.on('data', (chunk) => { data += chunk; }).on('end', () => resolve(data));
  });
  try {
    const output = {
      'sign-request': () => signRequest(JSON.parse(input), secret),
      'verify-result': () => verifyResult(input.trim(), [secret]),
      'verify-webhook': () => {
        const { headers, body } = JSON.parse(input);
        return verifyWebhook(body, headers, secret);
      },
    }[command]();
    process.stdout.write(typeof output === 'string' ? output : JSON.stringify(output));
  } catch (error) {
    process.stderr.write(String(error.message));
    process.exit(1);
  }
}
