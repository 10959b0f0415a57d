// The protocol module: message guards, the flow URL, errors with codes.
import test from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';

import { NS, V, err, flowUrl, isMessage, isPlain } from '../src/protocol.js';

const SERVICE = 'http://127.0.0.1:5000';
const PAGE = 'http://localhost:5001';

function msg(type, extra) {
  return Object.assign({ ns: 'buyflow', v: 1, type }, extra);
}

test('namespace and version are those the flow sends', () => {
  assert.equal(NS, 'buyflow');
  assert.equal(V, 1);
});

test('isMessage accepts every valid message type', () => {
  assert.equal(isMessage(msg('ready')), true);
  assert.equal(isMessage(msg('close')), true);
  assert.equal(isMessage(msg('resize', { height: 420 })), true);
  assert.equal(isMessage(msg('resize', { height: 0 })), true);
  assert.equal(isMessage(msg('completed', { result: 'a.b.c', order: 'ord_1', status: 'paid' })), true);
  assert.equal(isMessage(msg('failed', { code: 'card_declined', message: 'Your card was declined.' })), true);
});

test('isMessage accepts plain objects from another realm (as postMessage delivers them)', () => {
  const foreign = vm.runInNewContext('({ ns: "buyflow", v: 1, type: "ready" })');
  assert.equal(isMessage(foreign), true);
  assert.equal(isMessage(Object.assign(Object.create(null), msg('ready'))), true);
});

test('isMessage rejects a wrong namespace or version', () => {
  assert.equal(isMessage({ v: 1, type: 'ready' }), false);
  assert.equal(isMessage({ ns: 'penpal', v: 1, type: 'ready' }), false);
  assert.equal(isMessage({ ns: 'Buyflow', v: 1, type: 'ready' }), false);
  assert.equal(isMessage({ ns: 'buyflow', type: 'ready' }), false);
  assert.equal(isMessage({ ns: 'buyflow', v: 2, type: 'ready' }), false);
  assert.equal(isMessage({ ns: 'buyflow', v: '1', type: 'ready' }), false);
});

test('isMessage rejects unknown, inherited or non-string types', () => {
  for (const type of ['open', 'READY', '', 'toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf']) {
    assert.equal(isMessage(msg(type)), false, type);
  }
  assert.equal(isMessage({ ns: 'buyflow', v: 1 }), false);
  assert.equal(isMessage({ ns: 'buyflow', v: 1, type: 1 }), false);
  assert.equal(isMessage({ ns: 'buyflow', v: 1, type: ['ready'] }), false);
});

test('isMessage and isPlain reject non-objects, arrays, null and class instances', () => {
  const values = [null, undefined, 0, 1, true, 'buyflow', '{"ns":"buyflow","v":1,"type":"ready"}',
    [], ['buyflow', 1, 'ready'], () => {}, new Date(), new Map(), vm.runInNewContext('new Date()')];
  for (const value of values) {
    assert.equal(isMessage(value), false, String(value));
    assert.equal(isPlain(value), false, String(value));
  }
  class Message { constructor() { this.ns = 'buyflow'; this.v = 1; this.type = 'ready'; } }
  assert.equal(isMessage(new Message()), false);
});

test('isMessage rejects resize without a usable numeric height', () => {
  for (const height of [undefined, null, '300', '300px', NaN, Infinity, -1, {}]) {
    assert.equal(isMessage(msg('resize', { height })), false, String(height));
  }
  assert.equal(isMessage(msg('resize')), false);
});

test('isMessage rejects completed and failed messages missing their fields', () => {
  assert.equal(isMessage(msg('completed', { order: 'ord_1', status: 'paid' })), false);
  assert.equal(isMessage(msg('completed', { result: '', order: 'ord_1', status: 'paid' })), false);
  assert.equal(isMessage(msg('completed', { result: 'tok', status: 'paid' })), false);
  assert.equal(isMessage(msg('completed', { result: 'tok', order: 42, status: 'paid' })), false);
  assert.equal(isMessage(msg('completed', { result: 'tok', order: 'ord_1' })), false);
  assert.equal(isMessage(msg('failed', { message: 'no code' })), false);
  assert.equal(isMessage(msg('failed', { code: 'card_declined' })), false);
  assert.equal(isMessage(msg('failed', { code: 'card_declined', message: 3 })), false);
});

test('flowUrl builds the flow URL with seller, product and origin', () => {
  const url = flowUrl(SERVICE, { seller: 'sel_1', product: 'prod_9' }, PAGE);
  assert.equal(url, 'http://127.0.0.1:5000/flow/?origin=' + encodeURIComponent(PAGE) +
    '&seller=sel_1&product=prod_9');
  const parsed = new URL(url);
  assert.equal(parsed.origin, SERVICE);
  assert.equal(parsed.pathname, '/flow/');
  assert.equal(parsed.searchParams.get('origin'), PAGE);
});

test('flowUrl encodes every parameter', () => {
  const url = flowUrl(SERVICE, { seller: 'a&b=c', product: 'p/1?x#y', locale: 'fr CA' }, PAGE);
  assert.ok(!url.includes('#'));
  assert.ok(url.includes('seller=a%26b%3Dc'));
  assert.ok(url.includes('product=p%2F1%3Fx%23y'));
  assert.ok(url.includes('origin=http%3A%2F%2Flocalhost%3A5001'));
  const params = new URL(url).searchParams;
  assert.equal(params.get('seller'), 'a&b=c');
  assert.equal(params.get('product'), 'p/1?x#y');
  assert.equal(params.get('locale'), 'fr CA');
  assert.deepEqual([...params.keys()], ['origin', 'seller', 'product', 'locale']);
});

test('flowUrl includes locale when given and omits it when absent or not a string', () => {
  assert.ok(flowUrl(SERVICE, { seller: 's', product: 'p', locale: 'fr' }, PAGE).endsWith('&locale=fr'));
  for (const locale of [undefined, null, '', 7]) {
    assert.ok(!flowUrl(SERVICE, { seller: 's', product: 'p', locale }, PAGE).includes('locale'));
  }
});

test('flowUrl passes a signed purchase request instead of a product', () => {
  const params = new URL(flowUrl(SERVICE, { seller: 's', request: 'eyJ.abc.def' }, PAGE)).searchParams;
  assert.equal(params.get('request'), 'eyJ.abc.def');
  assert.equal(params.get('product'), null);
});

test('flowUrl rejects missing or invalid options with code invalid_options', () => {
  const bad = [undefined, null, 'sel_1', [], {}, { seller: 's' }, { product: 'p' },
    { seller: '', product: 'p' }, { seller: 's', product: 42 }, { seller: 's', request: 42 },
    { seller: 's', product: 'p', request: 'r' }];
  for (const options of bad) {
    assert.throws(() => flowUrl(SERVICE, options, PAGE),
      (e) => e instanceof Error && e.code === 'invalid_options' && e.message === 'Buyflow: invalid_options',
      JSON.stringify(options));
  }
});

test('err carries a code and a default message', () => {
  assert.equal(err('closed').message, 'Buyflow: closed');
  assert.equal(err('card_declined', 'Declined.').message, 'Declined.');
  assert.equal(err('x').code, 'x');
});
