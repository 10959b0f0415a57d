// The built library (dist/buyflow.min.js, as served) on a seller's page in jsdom: globals,
// double inclusion, the events API, overlay and inline modes, the message checks,
// declarative buttons and the new-window mode (window.open stubbed).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { JSDOM, ResourceLoader } from 'jsdom';

const SERVICE = 'http://127.0.0.1:5000';
const PAGE = 'http://localhost:5001';
const LIB = readFileSync(new URL('../dist/buyflow.min.js', import.meta.url));
const TAG = `<script src="${SERVICE}/embed/v1/buyflow.js"></script>`;

class Loader extends ResourceLoader {
  fetch(url) {
    return Promise.resolve(url.endsWith('/buyflow.js') ? LIB : Buffer.from('<p>the flow</p>'));
  }
}

/* Objects from the page's realm, as plain objects of ours (to compare them). */
const plain = (x) => (x === undefined ? x : JSON.parse(JSON.stringify(
  Object.prototype.toString.call(x) == '[object Error]' ? { code: x.code, message: x.message } : x)));
const pages = [];
test.afterEach(() => pages.splice(0).forEach((w) => w.close())); // stops their timers

/* A seller page with `body` (HTML) and the library's script tag(s); resolves once loaded. */
async function sellerPage(body = '', tags = TAG) {
  const dom = new JSDOM(`<!doctype html><html><body>${body}${tags}</body></html>`,
    { url: PAGE + '/shop', runScripts: 'dangerously', resources: new Loader() });
  await new Promise((resolve) => dom.window.addEventListener('load', resolve));
  const w = dom.window;
  pages.push(w);
  const events = [];
  for (const name of ['loaded', 'closed', 'completed', 'failed', 'resized']) {
    w.Buyflow.on(name, (e) => events.push([name, plain(e.detail)]));
  }
  return {
    w, d: w.document, events,
    iframe: () => w.document.querySelector('iframe'),
    overlay: () => w.document.querySelector('[role="dialog"]'),
    closeButton: () => w.document.querySelector('[role="dialog"] button'),
    /* A message event as the browser delivers it; from the flow's iframe unless told. */
    post(data, { origin = SERVICE, source = w.document.querySelector('iframe')?.contentWindow } = {}) {
      w.dispatchEvent(new w.MessageEvent('message', { data, origin, source }));
    },
    settled: (promise) => promise.then((v) => ['resolved', plain(v)], (e) => ['rejected', e.code])
  };
}

const msg = (type, extra) => Object.assign({ ns: 'buyflow', v: 1, type }, extra);
const PAID = { result: 'tok.en', order: 'ord_1', status: 'paid' };
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

test('the library adds exactly one global, a frozen window.Buyflow', async () => {
  const bare = new JSDOM('<!doctype html><body></body>', { url: PAGE + '/', runScripts: 'dangerously' });
  pages.push(bare.window);
  const before = new Set(Object.getOwnPropertyNames(bare.window));
  const { w } = await sellerPage();
  const added = Object.getOwnPropertyNames(w).filter((k) => !before.has(k));
  assert.deepEqual(added, ['Buyflow']);
  assert.ok(Object.isFrozen(w.Buyflow));
  assert.equal(w.Buyflow.version, JSON.parse(readFileSync(new URL('../package.json', import.meta.url))).version);
});

test('included twice, the first copy stays and a button opens one flow', async () => {
  const p = await sellerPage(
    '<button data-buyflow-seller="sel_1" data-buyflow-product="prod_1">Buy</button>',
    TAG + '<script>window.first = window.Buyflow</script>' + TAG);
  assert.equal(p.w.Buyflow, p.w.first);
  p.d.querySelector('button').click();
  assert.equal(p.d.querySelectorAll('iframe').length, 1);
});

test('overlay: a modal dialog with a focused close button, page scroll locked', async () => {
  const p = await sellerPage('<button id="opener">Open</button>');
  p.d.documentElement.style.overflow = 'scroll';
  p.d.getElementById('opener').focus();
  const done = p.settled(p.w.Buyflow.open({ seller: 'sel_1', product: 'prod_1', locale: 'fr' }));
  const url = new URL(p.iframe().src);
  assert.equal(url.origin + url.pathname, SERVICE + '/flow/');
  assert.deepEqual(Object.fromEntries(url.searchParams),
    { seller: 'sel_1', product: 'prod_1', origin: PAGE, locale: 'fr' });
  assert.equal(p.iframe().title, 'Checkout');
  assert.equal(p.overlay().getAttribute('aria-modal'), 'true');
  assert.equal(p.d.activeElement, p.closeButton());
  assert.equal(p.closeButton().getAttribute('aria-label'), 'Close');
  assert.equal(p.d.documentElement.style.overflow, 'hidden');

  p.closeButton().click();
  assert.deepEqual(await done, ['rejected', 'closed']);
  assert.equal(p.overlay(), null);
  assert.equal(p.d.documentElement.style.overflow, 'scroll');
  assert.equal(p.d.activeElement.id, 'opener');
  assert.deepEqual(p.events, [['closed', { mode: 'overlay' }]]);
});

test('overlay keys: Escape closes, Shift+Tab from the close button goes to the flow, Tab past the flow comes back', async () => {
  const p = await sellerPage();
  const done = p.settled(p.w.Buyflow.open({ seller: 's', product: 'p' }));
  const [before, after] = [p.overlay().firstElementChild, p.overlay().lastElementChild];
  assert.equal(before.nextElementSibling, p.closeButton()); // where Shift+Tab from it lands
  before.focus();
  assert.equal(p.d.activeElement, p.iframe());
  after.focus(); // where Tab out of the flow's last field lands
  assert.equal(p.d.activeElement, p.closeButton());
  p.d.activeElement.dispatchEvent(new p.w.KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true }));
  assert.deepEqual(await done, ['rejected', 'closed']);
});

test("once the flow is ready its panel's close control replaces the corner button; the focus stays in the dialog", async () => {
  const p = await sellerPage();
  const done = p.settled(p.w.Buyflow.open({ seller: 's', product: 'p', locale: 'fr' }));
  assert.equal(p.d.activeElement, p.closeButton());
  p.post(msg('ready', { title: 42, close: 'Fermer' })); // a malformed title changes nothing
  assert.equal(p.closeButton(), null);
  assert.equal(p.d.activeElement, p.iframe()); // the focus the corner button had
  assert.equal(p.iframe().title, 'Checkout');
  p.post(msg('ready', { title: 'Paiement', close: 'Fermer' })); // after a change of language
  assert.equal(p.overlay().getAttribute('aria-label'), 'Paiement');
  assert.equal(p.iframe().title, 'Paiement');
  for (const stop of [p.overlay().firstElementChild, p.overlay().lastElementChild]) {
    p.d.body.focus();
    stop.focus(); // Tab or Shift+Tab out of the flow comes back into it
    assert.equal(p.d.activeElement, p.iframe());
  }
  p.d.body.dispatchEvent(new p.w.KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true }));
  assert.deepEqual(await done, ['rejected', 'closed']);
  assert.equal(p.overlay(), null);
});

test('inline, Escape in the page closes nothing', async () => {
  const p = await sellerPage('<div id="box"></div>');
  p.settled(p.w.Buyflow.open({ seller: 's', product: 'p', container: '#box' }));
  p.d.body.dispatchEvent(new p.w.KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true }));
  assert.equal(p.d.querySelectorAll('#box iframe').length, 1);
  p.w.Buyflow.close();
});

test('messages from our iframe drive the events; resolve with the purchase', async () => {
  const p = await sellerPage();
  const done = p.settled(p.w.Buyflow.open({ seller: 's', product: 'p' }));
  p.post(msg('ready'));
  p.post(msg('resize', { height: 500 }));
  assert.equal(p.iframe().style.height, '500px');
  p.post(msg('completed', PAID));
  assert.deepEqual(await done, ['resolved', PAID]);
  p.post(msg('close'));
  assert.equal(p.iframe(), null);
  assert.deepEqual(p.events, [['loaded', { mode: 'overlay' }], ['resized', { height: 500 }],
    ['completed', PAID], ['closed', { mode: 'overlay' }]]);
});

test('spoofed, foreign and malformed messages are ignored', async () => {
  const p = await sellerPage('<iframe id="other"></iframe>');
  const done = p.settled(p.w.Buyflow.open({ seller: 's', product: 'p' }));
  const flowFrame = p.d.querySelector('iframe:not(#other)');
  const from = (source, origin = SERVICE) => ({ source, origin });
  p.post(msg('completed', PAID), from(flowFrame.contentWindow, PAGE)); // wrong origin
  p.post(msg('completed', PAID), from(flowFrame.contentWindow, 'http://127.0.0.1:5000.evil.test'));
  p.post(msg('completed', PAID), from(p.d.getElementById('other').contentWindow)); // another frame
  p.post(msg('completed', PAID), from(p.w)); // the page itself
  p.post({ ...msg('completed', PAID), v: 2 }, from(flowFrame.contentWindow));
  p.post(msg('resize', { height: '9999px' }), from(flowFrame.contentWindow));
  p.post(JSON.stringify(msg('close')), from(flowFrame.contentWindow));
  await tick();
  assert.deepEqual(p.events, []);
  assert.ok(flowFrame.isConnected);
  p.w.Buyflow.close();
  assert.deepEqual(await done, ['rejected', 'closed']);
});

test('a flow that cannot start rejects with its code, fires failed, stays until closed', async () => {
  const p = await sellerPage();
  const done = p.settled(p.w.Buyflow.open({ seller: 's', product: 'p' }));
  p.post(msg('failed', { code: 'unknown_product', message: 'No such product.' }));
  assert.deepEqual(await done, ['rejected', 'unknown_product']);
  assert.ok(p.iframe());
  assert.equal(p.events[0][0], 'failed');
  assert.equal(p.events[0][1].code, 'unknown_product');
  assert.equal(p.events[0][1].message, 'No such product.');
  p.post(msg('close'));
  assert.deepEqual(p.events.map((e) => e[0]), ['failed', 'closed']);
});

test('bad options and a second open reject without touching the page', async () => {
  const p = await sellerPage();
  for (const options of [undefined, {}, { seller: 's' }, { seller: 's', product: 'p', mode: 'popup' },
    { seller: 's', product: 'p', mode: 'inline' }, { seller: 's', product: 'p', container: '#missing' }]) {
    assert.deepEqual(await p.settled(p.w.Buyflow.open(options)), ['rejected', 'invalid_options']);
  }
  assert.equal(p.iframe(), null);
  const first = p.settled(p.w.Buyflow.open({ seller: 's', product: 'p' }));
  assert.deepEqual(await p.settled(p.w.Buyflow.open({ seller: 's', product: 'p' })), ['rejected', 'already_open']);
  assert.equal(p.d.querySelectorAll('iframe').length, 1);
  p.w.Buyflow.close();
  assert.deepEqual(await first, ['rejected', 'closed']);
  assert.deepEqual(p.events.filter((e) => e[0] == 'failed').map((e) => e[1].code),
    Array(6).fill('invalid_options').concat('already_open'));
});

test('off removes a handler; a handler that throws stops neither the others nor the flow', async () => {
  const p = await sellerPage();
  const seen = [];
  const h = () => seen.push('h');
  p.w.Buyflow.on('loaded', () => { throw new Error('seller bug'); });
  p.w.Buyflow.on('loaded', h);
  const errors = [];
  p.w.addEventListener('error', (e) => { e.preventDefault(); errors.push(e.message); });
  p.w.Buyflow.open({ seller: 's', product: 'p' }).catch(() => {});
  p.post(msg('ready'));
  p.w.Buyflow.off('loaded', h);
  p.post(msg('ready'));
  assert.deepEqual(seen, ['h']);
  assert.equal(p.events.filter((e) => e[0] == 'loaded').length, 2);
  p.w.Buyflow.close();
});

test('inline: mounted in the container (element or selector), sized by resize, no overlay', async () => {
  const p = await sellerPage('<div id="pay"></div>');
  const done = p.settled(p.w.Buyflow.open({ seller: 's', product: 'p', container: '#pay' }));
  assert.equal(p.iframe().parentNode.id, 'pay');
  assert.equal(p.overlay(), null);
  assert.equal(p.d.documentElement.style.overflow, '');
  p.post(msg('ready'));
  p.post(msg('resize', { height: 321 }));
  assert.equal(p.iframe().style.height, '321px');
  p.post(msg('completed', PAID));
  assert.deepEqual(await done, ['resolved', PAID]);
  assert.deepEqual(p.events.slice(0, 2), [['loaded', { mode: 'inline' }], ['resized', { height: 321 }]]);

  p.post(msg('close'));
  const again = p.settled(p.w.Buyflow.open({ seller: 's', product: 'p', container: p.d.getElementById('pay') }));
  assert.equal(p.iframe().parentNode.id, 'pay');
  p.w.Buyflow.close();
  assert.deepEqual(await again, ['rejected', 'closed']);
  assert.equal(p.d.getElementById('pay').children.length, 0);
});

test('declarative buttons, also added later, open the flow and get the events as DOM events', async () => {
  const p = await sellerPage('<section data-buyflow-seller="sel_9" data-buyflow-locale="fr"></section>');
  const button = p.d.createElement('button');
  button.dataset.buyflowProduct = 'prod_5';
  button.innerHTML = '<span>Buy</span>';
  p.d.querySelector('section').append(button); // added after the library ran
  const onButton = [];
  for (const name of ['loaded', 'completed', 'closed']) {
    button.addEventListener('buyflow:' + name, (e) => onButton.push([name, plain(e.detail)]));
  }
  button.querySelector('span').click();
  const params = new URL(p.iframe().src).searchParams;
  assert.equal(params.get('seller'), 'sel_9');
  assert.equal(params.get('product'), 'prod_5');
  assert.equal(params.get('locale'), 'fr');
  p.post(msg('ready'));
  p.post(msg('completed', PAID));
  p.post(msg('close')); // the flow's Done
  assert.deepEqual(onButton, [['loaded', { mode: 'overlay' }], ['completed', PAID], ['closed', { mode: 'overlay' }]]);
  assert.deepEqual(p.events.map((e) => e[0]), ['loaded', 'completed', 'closed']); // bubbled to Buyflow.on
  assert.equal(p.d.activeElement, button);
});

test('a declarative button whose click the seller cancelled opens nothing; a bad one reports failed', async () => {
  const p = await sellerPage('<button id="a" data-buyflow-seller="s" data-buyflow-product="p">A</button>' +
    '<button id="b" data-buyflow-product="p">B (no seller)</button>');
  p.d.getElementById('a').addEventListener('click', (e) => e.preventDefault());
  p.d.getElementById('a').click();
  assert.equal(p.iframe(), null);
  const failures = [];
  p.d.getElementById('b').addEventListener('buyflow:failed', (e) => failures.push(e.detail.code));
  p.d.getElementById('b').click();
  await tick();
  assert.deepEqual(failures, ['invalid_options']);
  assert.equal(p.iframe(), null);
});

test('window mode: the flow in a new window, its messages heard, closing it is closed', async () => {
  const p = await sellerPage();
  const popup = { closed: false, close() { this.closed = true; } };
  const opened = [];
  p.w.open = (...args) => { opened.push(args); return popup; };
  const done = p.settled(p.w.Buyflow.open({ seller: 's', product: 'p', mode: 'window' }));
  assert.equal(opened.length, 1);
  assert.equal(new URL(opened[0][0]).pathname, '/flow/');
  assert.equal(p.iframe(), null);
  assert.equal(p.overlay(), null);
  p.post(msg('ready'), { source: popup });
  p.post(msg('completed', PAID), { source: p.w }); // not from our window: ignored
  p.post(msg('completed', PAID), { source: popup });
  assert.deepEqual(await done, ['resolved', PAID]);
  popup.closed = true; // the buyer closes the window
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(p.events, [['loaded', { mode: 'window' }], ['completed', PAID], ['closed', { mode: 'window' }]]);
});

test('window mode: a blocked popup rejects with popup_blocked', async () => {
  const p = await sellerPage();
  p.w.open = () => null;
  assert.deepEqual(await p.settled(p.w.Buyflow.open({ seller: 's', product: 'p', mode: 'window' })),
    ['rejected', 'popup_blocked']);
  assert.deepEqual(p.events.map((e) => e[0]), ['failed', 'closed']);
});
