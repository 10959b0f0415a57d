/* Buyflow embed library (MPL-2.0). Selling pages include it with one script tag from the
 * Buyflow service; it defines window.Buyflow and nothing else. See README.md, "Selling
 * through Buyflow", for every option and event. Built by scripts/build.mjs into
 * dist/buyflow.min.js, which the service serves; the budget is 2,048 bytes gzipped. */
import { err, flowUrl, isMessage, str } from './protocol.js';

/* ---- Visible strings: the corner close button's, shown only until the flow is ready
 * (then its panel has its own), and the title, until 'ready' brings it in the buyer's
 * language. ---- */
var TEXT = { close: 'Close', title: 'Checkout' };

var w = window;
var d = document;
var LOAD_MS = 15e3; // no 'ready' from the flow by then: it could not load

if (!w.Buyflow) init(); // included twice: the first copy stays, the second does nothing

function init() {
  /* The service is wherever this script came from; flows open there and only its
   * messages are heard. */
  var ORIGIN = new URL(d.currentScript.src).origin;
  var current = null; // the open flow's handlers {c: close, m: message, k: keydown, b: blocked}, or null
  w.addEventListener('message', (e) => current?.m(e));
  d.addEventListener('keydown', (e) => current?.k(e), true);
  d.addEventListener('securitypolicyviolation', (e) => current?.b(e));

  /* Open one flow; resolves with the purchase, rejects with an Error carrying `code`.
   * Its events are DOM CustomEvents 'buyflow:<name>' that bubble from `btn`, the declarative
   * button that opened it, to the document (where Buyflow.on listens), or are dispatched on
   * the document when there is no such button in the page. The browser runs every listener
   * even when one throws. */
  function open(o, btn) {
    return new Promise((resolve, reject) => {
      var settled, mode, box, ifr, win, ui, x, timer, poll;
      var fire = (name, detail) =>
        (btn?.isConnected ? btn : d).dispatchEvent(new CustomEvent('buyflow:' + name, { bubbles: true, detail }));
      var settle = (ok, v) => {
        if (settled) return;
        settled = 1;
        if (ok) return resolve(v);
        if (v.code != 'closed') fire('failed', v);
        reject(v);
      };
      try {
        if (current) throw err('already_open');
        var url = flowUrl(ORIGIN, o, location.origin);
        box = o.container;
        mode = o.mode || (box ? 'inline' : 'overlay');
        if (typeof box == 'string') box = d.querySelector(box);
        if (!/^(overlay|inline|window)$/.test(mode) || (mode == 'inline') != !!box) {
          throw err('invalid_options');
        }
      } catch (e) {
        return settle(0, e);
      }
      var root = d.documentElement;
      var overflow = root.style.overflow;
      var opener = btn || d.activeElement;

      var unmount = () => {
        if (ui) {
          ui.remove();
          ui = ifr = x = null;
          root.style.overflow = overflow;
        }
      };
      var close = (e) => {
        if (current != flow) return;
        current = null;
        clearTimeout(timer);
        clearInterval(poll);
        if (win && !win.closed) win.close();
        if (mode == 'overlay') opener?.focus();
        unmount();
        settle(0, e || err('closed'));
        fire('closed', { mode });
      };

      var mount = () => {
        if (mode == 'window') {
          win = w.open(url, '_blank', 'popup');
          if (!win) return close(err('popup_blocked'));
          poll = setInterval(() => win.closed && close(), 400);
          return;
        }
        ifr = d.createElement('iframe');
        ifr.title = TEXT.title;
        ifr.allow = 'payment';
        ifr.src = url;
        // No background of its own: the flow paints its panel, light or dark.
        ifr.style.cssText = 'display:block;border:0;width:100%;height:640px';
        if (mode == 'inline') return box.append(ui = ifr);
        // Anchored at the top: as the flow grows (a message, the saved cards), what the
        // buyer is looking at stays where it is.
        ifr.style.cssText += ';width:min(480px,100vw - 32px);max-height:90vh;margin-top:5vh;border-radius:12px';
        ui = d.createElement('div');
        ui.role = 'dialog'; // ARIA reflection: every current browser, Firefox since 119
        ui.ariaModal = 'true';
        ui.ariaLabel = TEXT.title;
        ui.style.cssText = 'position:fixed;inset:0;z-index:2147483647;display:grid;place-content:start center;background:#0009';
        x = d.createElement('button');
        x.type = 'button';
        x.ariaLabel = TEXT.close;
        x.textContent = '\u00d7';
        x.style.cssText = 'position:absolute;top:8px;right:8px;font:24px sans-serif';
        x.onclick = () => close();
        // A click on the backdrop must not move focus out of the dialog, to the page.
        ui.onmousedown = (e) => e.preventDefault();
        /* Focus stops around the flow keep Tab in the dialog: Shift+Tab before it goes into
         * the flow; Tab after it comes back to the close button, or to the flow once the
         * flow has its own. */
        var stop = (f) => {
          var s = d.createElement('span');
          s.tabIndex = 0;
          s.onfocus = f;
          return s;
        };
        ui.append(stop(() => ifr.focus()), x, ifr, stop(() => (x || ifr).focus()));
        root.style.overflow = 'hidden';
        d.body.append(ui);
        x.focus();
      };

      /* Only messages from our flow's window, from the service's exact origin, well formed. */
      function onMessage(e) {
        var m = e.data;
        if (e.origin !== ORIGIN || e.source !== (win || ifr?.contentWindow) || !isMessage(m)) return;
        clearTimeout(timer);
        var t = m.type;
        if (t == 'ready') {
          // The flow knows the buyer's language: its title replaces the English default.
          if (ui?.role && str(m.title)) ui.ariaLabel = ifr.title = m.title;
          // The flow draws its own close control on its panel: the corner one goes, and
          // the focus it had moves into the flow.
          if (x) {
            if (d.activeElement == x) ifr.focus();
            x.remove();
            x = null;
          }
          fire('loaded', { mode });
        }
        if (t == 'resize' && ifr) {
          ifr.style.height = m.height + 'px';
          fire('resized', { height: m.height });
        }
        if (t == 'completed') {
          var p = { result: m.result, order: m.order, status: m.status };
          if (!settled) fire('completed', p);
          settle(1, p);
        }
        if (t == 'failed') settle(0, err(m.code, m.message)); // the flow shows why; the buyer closes it
        if (t == 'close') close();
      }

      /* Overlay keys: Escape closes (the overlay is the one flow ui with a role). */
      function onKey(e) {
        if (ui?.role && e.key == 'Escape') {
          e.preventDefault();
          close();
        }
      }

      /* The page's own CSP refused to frame the flow (frame-src, or the child-src or
       * default-src it falls back to, all reported as frame-src): the same flow in a new window. */
      function onBlocked(e) {
        if (ifr && e.effectiveDirective == 'frame-src' && !e.blockedURI.indexOf(ORIGIN)) {
          unmount();
          mode = 'window';
          mount();
        }
      }

      var flow = current = { c: close, m: onMessage, k: onKey, b: onBlocked };
      timer = setTimeout(() => close(err('load_failed')), LOAD_MS);
      mount();
    });
  }

  /* Declarative buttons, now and added later: one listener on the document. Each option
   * comes from the nearest data-buyflow-<option> attribute, on the button or an ancestor. */
  d.addEventListener('click', (e) => {
    var b = e.target.closest?.('[data-buyflow-product]');
    var o = {};
    if (!b || e.defaultPrevented) return;
    e.preventDefault();
    ['seller', 'product', 'locale', 'mode', 'container'].forEach((k) => {
      o[k] = b.closest('[data-buyflow-' + k + ']')?.getAttribute('data-buyflow-' + k);
    });
    open(o, b).catch(() => {}); // reported by the 'buyflow:failed' event
  });

  w.Buyflow = Object.freeze({
    version: VERSION,
    open, // a second argument is the declarative button, which callers do not pass
    close: () => current?.c(),
    on: (name, h) => d.addEventListener('buyflow:' + name, h),
    off: (name, h) => d.removeEventListener('buyflow:' + name, h)
  });
}
