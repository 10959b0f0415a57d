/*!
 * Buyflow embed library v0.1.0 (MPL-2.0)
 *
 * Include once, from the Buyflow service you sell through:
 *   <script src="https://pay.example.com/embed/v1/buyflow.js"></script>
 * then call:
 *   Buyflow.open({ seller: 'sel_...', product: 'prod_...' })
 *     .then(function (r) { <send r.result to your server and verify it there> })
 *     .catch(function (err) { <err.code: 'closed', 'failed' codes, ...> });
 *
 * The result received on the page is a hint; only your server's verification is proof.
 */
(function () {
  'use strict';

  var VERSION = '0.1.0';

  /* ======================================================================
   * 1. Protocol — the one place that knows the message names and shapes.
   *    Every message is a plain object {ns: 'buyflow', v: 1, type, ...}.
   *    The buy-flow iframe posts them to the seller's registered origin; the
   *    listener (section 3) additionally checks event.origin and
   *    event.source before anything here is trusted.
   * ==================================================================== */

  var PROTOCOL_NS = 'buyflow';
  var PROTOCOL_VERSION = 1;

  function isString(x) {
    return typeof x === 'string' && x.length > 0;
  }

  function isPlainObject(x) {
    if (x === null || typeof x !== 'object') return false;
    if (Object.prototype.toString.call(x) !== '[object Object]') return false;
    var proto = Object.getPrototypeOf(x);
    // Objects cloned by postMessage get the receiving realm's Object.prototype;
    // accept any realm's plain object (its prototype's prototype is null).
    return proto === null || Object.getPrototypeOf(proto) === null;
  }

  // Messages the iframe sends to the parent: type -> shape check (beyond ns/v/type).
  var INBOUND = {
    ready: function () { return true; },
    resize: function (m) {
      return typeof m.height === 'number' && isFinite(m.height) && m.height >= 0;
    },
    completed: function (m) {
      return isString(m.result) && isString(m.order) && isString(m.status);
    },
    close: function () { return true; },
    failed: function (m) {
      return isString(m.code) && typeof m.message === 'string';
    }
  };

  function isBuyflowMessage(data) {
    return isPlainObject(data) &&
      data.ns === PROTOCOL_NS &&
      data.v === PROTOCOL_VERSION &&
      typeof data.type === 'string' &&
      Object.prototype.hasOwnProperty.call(INBOUND, data.type) &&
      INBOUND[data.type](data);
  }

  function buyflowError(code, message) {
    var err = new Error(message);
    err.code = code;
    return err;
  }

  // The URL of the buy flow for these options; throws code 'invalid_options'.
  function buildFlowUrl(serviceOrigin, options, pageOrigin) {
    if (!isPlainObject(options)) {
      throw buyflowError('invalid_options', 'Buyflow.open: options must be an object');
    }
    ['seller', 'product'].forEach(function (name) {
      if (!isString(options[name])) {
        throw buyflowError('invalid_options', 'Buyflow.open: "' + name + '" is required');
      }
    });
    if (options.locale != null && !isString(options.locale)) {
      throw buyflowError('invalid_options', 'Buyflow.open: "locale" must be a string');
    }
    var enc = encodeURIComponent;
    var url = String(serviceOrigin).replace(/\/+$/, '') + '/flow/' +
      '?seller=' + enc(options.seller) +
      '&product=' + enc(options.product) +
      '&origin=' + enc(pageOrigin);
    if (options.locale != null) url += '&locale=' + enc(options.locale);
    return url;
  }

  // Node (unit tests) gets the pure protocol functions; browsers get no globals but window.Buyflow.
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = { isBuyflowMessage: isBuyflowMessage, buildFlowUrl: buildFlowUrl };
  }
  if (typeof window === 'undefined' || typeof document === 'undefined') return;
  if (window.Buyflow) return; // included twice: keep the first copy

  /* ======================================================================
   * 2. Configuration
   * ==================================================================== */

  var LOAD_TIMEOUT_MS = 15000; // no 'ready' by then: framing refused or service down
  var MARGIN_PX = 16;          // space kept around the iframe inside the viewport
  var DEFAULT_HEIGHT_PX = 640;

  // The service origin is wherever this script was served from.
  var SERVICE_ORIGIN = (function () {
    var script = document.currentScript;
    if (!script) { // e.g. evaluated from a callback; fall back to finding our tag
      var tags = document.querySelectorAll('script[src*="/embed/v1/buyflow.js"]');
      script = tags[tags.length - 1];
    }
    try { return new URL(script.src).origin; } catch (e) { return null; }
  })();

  /* ======================================================================
   * 3. The overlay: one open flow at a time
   * ==================================================================== */

  var current = null; // the open flow, or null

  function createOverlay(url, onClose) {
    var overlay = document.createElement('div');
    overlay.setAttribute('role', 'dialog');
    overlay.setAttribute('aria-modal', 'true');
    overlay.setAttribute('aria-label', 'Checkout');
    overlay.setAttribute('data-buyflow', 'overlay');
    setStyles(overlay, {
      position: 'fixed', top: '0', right: '0', bottom: '0', left: '0',
      zIndex: '2147483647', display: 'flex', alignItems: 'center', justifyContent: 'center',
      background: 'rgba(0, 0, 0, 0.55)', margin: '0', padding: '0'
    });

    var iframe = document.createElement('iframe');
    iframe.setAttribute('title', 'Checkout');
    iframe.setAttribute('allow', 'payment');
    iframe.src = url;
    setStyles(iframe, {
      display: 'block', border: '0', borderRadius: '8px', background: '#fff',
      width: 'calc(100% - ' + 2 * MARGIN_PX + 'px)', maxWidth: '480px',
      height: clampHeight(DEFAULT_HEIGHT_PX) + 'px',
      maxHeight: 'calc(100% - ' + 2 * MARGIN_PX + 'px)',
      boxShadow: '0 8px 32px rgba(0, 0, 0, 0.35)'
    });

    var closeButton = document.createElement('button');
    closeButton.type = 'button';
    closeButton.setAttribute('aria-label', 'Close');
    closeButton.textContent = '\u00d7';
    setStyles(closeButton, {
      position: 'absolute', top: '8px', right: '8px', width: '40px', height: '40px',
      border: '0', borderRadius: '20px', background: 'rgba(255, 255, 255, 0.9)', color: '#111',
      font: '28px/40px sans-serif', padding: '0', cursor: 'pointer', textAlign: 'center'
    });
    closeButton.addEventListener('click', onClose);

    overlay.appendChild(closeButton);
    overlay.appendChild(iframe);
    return { overlay: overlay, iframe: iframe, closeButton: closeButton };
  }

  function setStyles(el, styles) {
    Object.keys(styles).forEach(function (k) { el.style[k] = styles[k]; });
  }

  function clampHeight(height) {
    var max = Math.max(0, window.innerHeight - 2 * MARGIN_PX);
    return Math.round(Math.min(Math.max(height, 0), max));
  }

  function openFlow(options, resolve, reject) {
    if (current) throw buyflowError('already_open', 'A Buyflow checkout is already open');
    if (!SERVICE_ORIGIN) throw buyflowError('load_failed', 'Buyflow: cannot tell the service origin');
    var url = buildFlowUrl(SERVICE_ORIGIN, options, window.location.origin);

    var settled = false;
    var loadTimer = null;
    var root = document.documentElement;
    var previousOverflow = root.style.overflow;
    var previousFocus = document.activeElement;
    var ui = createOverlay(url, function () { close(); });

    function settle(fn, value) {
      if (settled) return;
      settled = true;
      fn(value);
    }

    // Message type -> action. Only called for messages that passed every check.
    var handlers = {
      ready: function () {},
      resize: function (m) { ui.iframe.style.height = clampHeight(m.height) + 'px'; },
      completed: function (m) {
        // Resolve now; the iframe shows the confirmation and posts 'close' when done.
        settle(resolve, { result: m.result, order: m.order, status: m.status });
      },
      close: function () { close(); },
      failed: function (m) {
        // The iframe shows the message; the overlay stays until the buyer closes it.
        settle(reject, buyflowError(m.code, m.message || 'The payment failed'));
      }
    };

    function onMessage(event) {
      if (event.origin !== SERVICE_ORIGIN) return;
      if (!ui.iframe.contentWindow || event.source !== ui.iframe.contentWindow) return;
      var data = event.data;
      if (!isBuyflowMessage(data)) return;
      clearTimeout(loadTimer); // any valid message proves the flow loaded
      handlers[data.type](data);
    }

    function onKeydown(event) {
      if (event.key === 'Escape' || event.key === 'Esc') {
        event.preventDefault();
        close();
      }
    }

    function close(error) {
      if (current !== flow) return;
      current = null;
      clearTimeout(loadTimer);
      window.removeEventListener('message', onMessage);
      document.removeEventListener('keydown', onKeydown, true);
      if (ui.overlay.parentNode) ui.overlay.parentNode.removeChild(ui.overlay);
      root.style.overflow = previousOverflow;
      if (previousFocus && typeof previousFocus.focus === 'function') {
        try { previousFocus.focus(); } catch (e) { /* element may be gone */ }
      }
      settle(reject, error || buyflowError('closed', 'The checkout was closed'));
    }

    var flow = { close: close };
    current = flow;
    window.addEventListener('message', onMessage);
    document.addEventListener('keydown', onKeydown, true);
    root.style.overflow = 'hidden';
    document.body.appendChild(ui.overlay);
    ui.closeButton.focus();
    loadTimer = setTimeout(function () {
      close(buyflowError('load_failed', 'The checkout could not be loaded'));
    }, LOAD_TIMEOUT_MS);
  }

  /* ======================================================================
   * 4. Public API
   * ==================================================================== */

  window.Buyflow = Object.freeze({
    version: VERSION,
    open: function (options) {
      return new Promise(function (resolve, reject) { openFlow(options, resolve, reject); });
    },
    close: function () {
      if (current) current.close();
    }
  });
})();
