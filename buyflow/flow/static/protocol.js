/* The iframe's side of the postMessage protocol with the embed library
 * (embed-js/src/buyflow.js, section 1): every message carries the namespace and version,
 * and goes only to the seller's origin that the server checked — never to "*". */
(function () {
  'use strict';
  var NS = 'buyflow';
  var VERSION = 1;

  /* Post {ns, v, type, ...fields} to the page that framed us, at exactly parentOrigin. */
  function tellPage(parentOrigin, type, fields) {
    if (window.parent === window || !parentOrigin) return;
    var message = { ns: NS, v: VERSION, type: type };
    Object.keys(fields || {}).forEach(function (key) { message[key] = fields[key]; });
    window.parent.postMessage(message, parentOrigin);
  }

  /* The buyer's ways out: Escape anywhere in the flow, and the given close buttons. */
  function wireClose(parentOrigin, buttons) {
    buttons.forEach(function (button) {
      button.addEventListener('click', function () { tellPage(parentOrigin, 'close'); });
    });
    document.addEventListener('keydown', function (event) {
      if (event.key === 'Escape') tellPage(parentOrigin, 'close');
    });
  }

  window.buyflowFrame = { tellPage: tellPage, wireClose: wireClose };
}());
