/* The flow could not start (unknown product, say): tell the seller's page, whose origin
 * the server checked, so its Buyflow.open() promise rejects at once with the code. */
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('flow-data').textContent);
  var frame = window.buyflowFrame;
  frame.wireClose(data.parentOrigin, [document.getElementById('close')]);
  frame.tellPage(data.parentOrigin, 'failed', { code: data.code, message: data.message });
}());
