// Northwind Coffee: open the Buyflow checkout, then let our server confirm the purchase.
(function () {
  'use strict';

  var button = document.getElementById('buy');
  var status = document.getElementById('status');

  function show(text, kind) {
    status.textContent = text;
    status.className = kind || '';
  }

  // Step 3: the result on the page is only a hint; our server checks it before we believe it.
  function confirmOnServer(token) {
    return fetch('/orders/confirm', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ token: token })
    }).then(function (response) {
      return response.json().catch(function () {
        return { ok: false, message: 'The order could not be confirmed (HTTP ' + response.status + ').' };
      });
    }).then(function (answer) {
      if (!answer.ok) throw new Error(answer.message || 'The order could not be confirmed.');
      return answer;
    });
  }

  button.addEventListener('click', function () {
    if (!window.Buyflow) {
      show('Checkout is unavailable right now. Please try again later.', 'error');
      return;
    }
    button.disabled = true;
    show('');
    // Step 2: open the checkout for our seller id and product.
    window.Buyflow.open({ seller: button.dataset.seller, product: button.dataset.product })
      .then(function (purchase) {
        show('Confirming your order…');
        return confirmOnServer(purchase.result);
      })
      .then(function (answer) {
        show(answer.message, 'success');
      }, function (err) {
        show(err && err.code === 'closed' ? 'Checkout closed.' : (err && err.message) || 'Something went wrong.', 'error');
      })
      .then(function () {
        button.disabled = false;
      });
  });
})();
