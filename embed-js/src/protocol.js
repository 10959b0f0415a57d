/* The postMessage protocol between this library and the buy flow, in one place.
 * The flow's side is buyflow/flow/static/protocol.js. Every message is a plain object
 * {ns: 'buyflow', v: 1, type, ...fields}; the flow posts it to the seller's registered
 * origin only, and the library (buyflow.js, onMessage) trusts it only after checking
 * event.origin, event.source and the guards below. */

export var NS = 'buyflow';
export var V = 1;

export var str = (x) => typeof x == 'string' && x > '';
var yes = () => 1;

/* True for a plain object from any realm (postMessage clones into the receiving realm). */
export function isPlain(x) {
  var p;
  return !!x && typeof x == 'object' && (!(p = Object.getPrototypeOf(x)) || !Object.getPrototypeOf(p));
}

/* What the flow may send the page: type -> check of that type's fields (no prototype, so
 * 'toString' or '__proto__' are no types). */
var IN = {
  __proto__: null,
  ready: yes,
  close: yes,
  resize: (m) => Number.isFinite(m.height) && m.height >= 0,
  completed: (m) => str(m.result) && str(m.order) && str(m.status),
  failed: (m) => str(m.code) && typeof m.message == 'string'
};

/* True only for a well-formed inbound message of a known type, of our namespace and version. */
export function isMessage(m) {
  return isPlain(m) && m.ns === NS && m.v === V && typeof m.type == 'string' && !!IN[m.type]?.(m);
}

/* An Error carrying a stable code (what the promise rejects with and `failed` reports);
 * the message defaults to 'Buyflow: <code>'. */
export function err(code, message) {
  var e = new Error(message || 'Buyflow: ' + code);
  e.code = code;
  return e;
}

/* The buy flow's URL at the service origin `base` for these options, opened by a page at
 * `origin`; throws an error with code 'invalid_options' unless `seller` is a string and
 * exactly one of `product` and `request` (a seller's signed purchase request) is. A
 * `locale` that is no string is left out (the flow then follows the browser). */
export function flowUrl(base, o, origin) {
  var q = { origin }, k;
  if (!isPlain(o) || !str(o.seller) || !str(o.product) == !str(o.request)) throw err('invalid_options');
  for (k of ['seller', 'product', 'request', 'locale']) if (str(o[k])) q[k] = o[k];
  return base + '/flow/?' + new URLSearchParams(q);
}
