'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const vm = require('node:vm');

const { isBuyflowMessage, buildFlowUrl } = require('../src/buyflow.js');

const SERVICE = 'http://127.0.0.1:5000';
const PAGE = 'http://localhost:5001';

function msg(type, extra) {
  return Object.assign({ ns: 'buyflow', v: 1, type }, extra);
}

test('isBuyflowMessage accepts every valid message type', () => {
  assert.equal(isBuyflowMessage(msg('ready')), true);
  assert.equal(isBuyflowMessage(msg('close')), true);
  assert.equal(isBuyflowMessage(msg('resize', { height: 420 })), true);
  assert.equal(isBuyflowMessage(msg('resize', { height: 0 })), true);
  assert.equal(isBuyflowMessage(msg('completed', { result: 'a.b.c', order: 'ord_1', status: 'paid' })), true);
  assert.equal(isBuyflowMessage(msg('failed', { code: 'card_declined', message: 'Your card was declined.' })), true);
});

test('isBuyflowMessage accepts plain objects from another realm (as postMessage delivers them)', () => {
  const foreign = vm.runInNewContext('({ ns: "buyflow", v: 1, type: "ready" })');
  assert.equal(isBuyflowMessage(foreign), true);
  assert.equal(isBuyflowMessage(Object.assign(Object.create(null), msg('ready'))), true);
});

test('isBuyflowMessage rejects a wrong namespace or version', () => {
  assert.equal(isBuyflowMessage({ v: 1, type: 'ready' }), false);
  assert.equal(isBuyflowMessage({ ns: 'penpal', v: 1, type: 'ready' }), false);
  assert.equal(isBuyflowMessage({ ns: 'Buyflow', v: 1, type: 'ready' }), false);
  assert.equal(isBuyflowMessage({ ns: 'buyflow', type: 'ready' }), false);
  assert.equal(isBuyflowMessage({ ns: 'buyflow', v: 2, type: 'ready' }), false);
  assert.equal(isBuyflowMessage({ ns: 'buyflow', v: '1', type: 'ready' }), false);
});

test('isBuyflowMessage rejects unknown or inherited types', () => {
  for (const type of ['open', 'READY', '', 'toString', '__proto__', 'constructor', 'hasOwnProperty']) {
    assert.equal(isBuyflowMessage(msg(type)), false, type);
  }
  assert.equal(isBuyflowMessage({ ns: 'buyflow', v: 1 }), false);
  assert.equal(isBuyflowMessage({ ns: 'buyflow', v: 1, type: 1 }), false);
});

test('isBuyflowMessage rejects non-objects, arrays, null and class instances', () => {
  const values = [null, undefined, 0, 1, true, 'buyflow', '{"ns":"buyflow","v":1,"type":"ready"}',
    [], ['buyflow', 1, 'ready'], () => {}, new Date(), new Map()];
  for (const value of values) {
    assert.equal(isBuyflowMessage(value), false, String(value));
  }
  class Message { constructor() { this.ns = 'buyflow'; this.v = 1; this.type = 'ready'; } }
  assert.equal(isBuyflowMessage(new Message()), false);
});

test('isBuyflowMessage rejects resize without a usable numeric height', () => {
  for (const height of [undefined, null, '300', '300px', NaN, Infinity, -1, {}]) {
    assert.equal(isBuyflowMessage(msg('resize', { height })), false, String(height));
  }
  assert.equal(isBuyflowMessage(msg('resize')), false);
});

test('isBuyflowMessage rejects completed and failed messages missing their fields', () => {
  assert.equal(isBuyflowMessage(msg('completed', { order: 'ord_1', status: 'paid' })), false);
  assert.equal(isBuyflowMessage(msg('completed', { result: '', order: 'ord_1', status: 'paid' })), false);
  assert.equal(isBuyflowMessage(msg('completed', { result: 'tok', status: 'paid' })), false);
  assert.equal(isBuyflowMessage(msg('completed', { result: 'tok', order: 42, status: 'paid' })), false);
  assert.equal(isBuyflowMessage(msg('completed', { result: 'tok', order: 'ord_1' })), false);
  assert.equal(isBuyflowMessage(msg('failed', { message: 'no code' })), false);
  assert.equal(isBuyflowMessage(msg('failed', { code: 'card_declined' })), false);
  assert.equal(isBuyflowMessage(msg('failed', { code: 'card_declined', message: 3 })), false);
});

test('buildFlowUrl builds the flow URL with seller, product and origin', () => {
  const url = buildFlowUrl(SERVICE, { seller: 'pk_123', product: 'prod_9' }, PAGE);
  assert.equal(url, 'http://127.0.0.1:5000/flow/?seller=pk_123&product=prod_9&origin=' +
    encodeURIComponent(PAGE));
  const parsed = new URL(url);
  assert.equal(parsed.origin, SERVICE);
  assert.equal(parsed.pathname, '/flow/');
  assert.equal(parsed.searchParams.get('origin'), PAGE);
});

test('buildFlowUrl encodes every parameter', () => {
  const url = buildFlowUrl(SERVICE, { seller: 'a&b=c', product: 'p/1?x#y', locale: 'fr CA' }, PAGE);
  assert.ok(!url.includes('#'));
  assert.ok(url.includes('seller=a%26b%3Dc'));
  assert.ok(url.includes('product=p%2F1%3Fx%23y'));
  assert.ok(url.includes('origin=http%3A%2F%2Flocalhost%3A5001'));
  const params = new URL(url).searchParams;
  assert.equal(params.get('seller'), 'a&b=c');
  assert.equal(params.get('product'), 'p/1?x#y');
  assert.equal(params.get('locale'), 'fr CA');
  assert.deepEqual([...params.keys()], ['seller', 'product', 'origin', 'locale']);
});

test('buildFlowUrl includes locale when given and omits it when absent', () => {
  assert.ok(buildFlowUrl(SERVICE, { seller: 's', product: 'p', locale: 'fr' }, PAGE).endsWith('&locale=fr'));
  assert.ok(!buildFlowUrl(SERVICE, { seller: 's', product: 'p' }, PAGE).includes('locale'));
  assert.ok(!buildFlowUrl(SERVICE, { seller: 's', product: 'p', locale: undefined }, PAGE).includes('locale'));
  assert.ok(!buildFlowUrl(SERVICE, { seller: 's', product: 'p', locale: null }, PAGE).includes('locale'));
});

test('buildFlowUrl tolerates a trailing slash on the service base', () => {
  assert.ok(buildFlowUrl(SERVICE + '/', { seller: 's', product: 'p' }, PAGE)
    .startsWith('http://127.0.0.1:5000/flow/?'));
});

test('buildFlowUrl rejects missing or invalid options with code invalid_options', () => {
  const bad = [undefined, null, 'pk_123', [], {}, { seller: 's' }, { product: 'p' },
    { seller: '', product: 'p' }, { seller: 's', product: 42 }, { seller: 's', product: 'p', locale: 7 },
    { seller: 's', product: 'p', locale: '' }];
  for (const options of bad) {
    assert.throws(() => buildFlowUrl(SERVICE, options, PAGE),
      (err) => err instanceof Error && err.code === 'invalid_options',
      JSON.stringify(options));
  }
});

test('loading under Node defines no globals', () => {
  assert.equal(typeof globalThis.Buyflow, 'undefined');
});
