/* The flow's side of the postMessage protocol with the embed library
 * (embed-js/src/protocol.js): every message carries the namespace and version, and goes
 * only to the seller's origin that the server checked — never to "*". The seller's page is
 * the window that opened us (the library's new-window fallback), else the one framing us. */
(function () {
  'use strict';
  var NS = 'buyflow';
  var VERSION = 1;

  /* Post {ns, v, type, ...fields} to the seller's page (opener, else parent), at exactly
   * parentOrigin; nothing when there is no such page. */
  function tellPage(parentOrigin, type, fields) {
    var page = window.opener || (window.parent !== window && window.parent);
    if (!page || !parentOrigin) return;
    var message = { ns: NS, v: VERSION, type: type };
    Object.keys(fields || {}).forEach(function (key) { message[key] = fields[key]; });
    page.postMessage(message, parentOrigin);
  }

  /* The buyer's ways out: Escape anywhere in the flow, and the given close buttons. */
  // Wire the frame's close controls; they wait disabled in the page until then (a press
  // before this ran would be lost).
  function wireClose(parentOrigin, buttons) {
    buttons.forEach(function (button) {
      button.addEventListener('click', function () { tellPage(parentOrigin, 'close'); });
      button.disabled = false;
    });
    // On keyup, not keydown: closing removes this frame, and a frame removed between a
    // key's down and up leaves the up with nowhere to go (Chromium's input routing to a
    // cross-site frame then never answers; seen as hangs in the browser tests).
    document.addEventListener('keyup', function (event) {
      if (event.key === 'Escape') tellPage(parentOrigin, 'close');
    });
  }

  window.buyflowFrame = { tellPage: tellPage, wireClose: wireClose };
}());
