/* The flow could not start (unknown product, say): tell the seller's page, whose origin
 * the server checked, so its Buyflow.open() promise rejects at once with the code, and
 * how tall this page is, so its frame is no taller than the message. */
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('flow-data').textContent);
  var frame = window.buyflowFrame;
  frame.wireClose(data.parentOrigin, [document.getElementById('close')]);
  frame.tellPage(data.parentOrigin, 'failed', { code: data.code, message: data.message });
  frame.tellPage(data.parentOrigin, 'resize',
                 { height: Math.ceil(document.documentElement.getBoundingClientRect().height) });
}());
