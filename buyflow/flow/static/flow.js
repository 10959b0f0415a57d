/* The buy flow inside the iframe: takes the card through the provider's script, talks to
 * our server with the signed flow token, and tells the seller's page how it ended.
 * Messages go through protocol.js, to the seller's origin the server checked only. */
(function () {
  'use strict';

  var data = JSON.parse(document.getElementById('flow-data').textContent);
  var frame = window.buyflowFrame;

  function tellPage(type, fields) { frame.tellPage(data.parentOrigin, type, fields); }

  var form = document.getElementById('pay-form');
  var payButton = document.getElementById('pay');
  var emailInput = document.getElementById('email');
  var languageForm = document.getElementById('language-form');
  var errorBox = document.getElementById('flow-error');
  var statusBox = document.getElementById('flow-status');
  var stripe = window.Stripe(data.provider.publishable_key);
  var card = stripe.elements({ locale: data.locale }).create('card');
  card.mount('#card-element');

  /* Switching language reloads the page: the email typed so far goes along (storage is
   * out of reach in a third-party iframe; the card cannot go along, it is the provider's). */
  languageForm.addEventListener('submit', function () {
    languageForm.elements.email.value = emailInput.value;
  });

  function showError(code, message) {
    if (code === 'invalid_email') emailInput.setAttribute('aria-invalid', 'true');
    statusBox.textContent = '';
    errorBox.textContent = message || data.messages[code] || data.messages.processing_error;
    payButton.disabled = false;
  }

  function call(url, body) {
    body.flow = data.flow;
    return fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'omit'
    }).then(function (response) {
      return response.json().catch(function () {
        return { status: 'error', error: { code: 'processing_error' } };
      });
    }, function () {
      return { status: 'error', error: { code: 'provider_unavailable' } };
    });
  }

  function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function providerErrorCode(error) {
    var code = error && (error.code || error.decline_code);
    if (code === 'payment_intent_authentication_failure' || code === 'setup_intent_authentication_failure') {
      return 'authentication_failed';
    }
    return data.messages[code] ? code : 'card_declined';
  }

  async function settle(answer) {
    if (answer.status === 'requires_action') {
      statusBox.textContent = data.text.authenticating;
      await stripe.confirmCardPayment(answer.client_secret);
      answer = await call(data.urls.refresh, { payment: answer.payment });
    }
    for (var tries = 0; answer.status === 'processing' && tries < 30; tries++) {
      await wait(2000);
      answer = await call(data.urls.refresh, { payment: answer.payment });
    }
    return answer;
  }

  function finish(answer) {
    form.hidden = true;
    document.getElementById('order-id').textContent = answer.order;
    document.getElementById('receipt').textContent = answer.receipt || '';
    var done = document.getElementById('done');
    done.hidden = false;
    done.focus();
    tellPage('completed', { result: answer.result, order: answer.order, status: 'paid' });
  }

  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    if (payButton.disabled) return;
    payButton.disabled = true;
    // From the first Pay on an order may exist: the language stays as it is. (Disabled,
    // not hidden: the page must not shift under a second click.)
    languageForm.locale.disabled = true;
    document.getElementById('change-language').disabled = true;
    emailInput.removeAttribute('aria-invalid');
    errorBox.textContent = '';
    statusBox.textContent = data.text.processing;

    var email = emailInput.value.trim();
    var opened = await call(data.urls.checkout, { email: email });
    if (opened.status === 'error') return showError(opened.error.code, opened.error.message);

    var setup = await stripe.confirmCardSetup(opened.client_secret, {
      payment_method: { card: card, billing_details: { email: email } }
    });
    if (setup.error) return showError(providerErrorCode(setup.error));

    var answer = await settle(await call(data.urls.pay, { setup: setup.setupIntent.id }));
    if (answer.status === 'paid') return finish(answer);
    showError(answer.error && answer.error.code, answer.error && answer.error.message);
  });

  frame.wireClose(data.parentOrigin, [document.getElementById('cancel'),
                                      document.getElementById('done-button')]);

  if (window.ResizeObserver) {
    // The content's own height (scrollHeight would never be less than the frame's).
    new ResizeObserver(function () {
      tellPage('resize', { height: Math.ceil(document.documentElement.getBoundingClientRect().height) });
    }).observe(document.body);
  }
  // The page's overlay labels its dialog and close button in the buyer's language.
  tellPage('ready', { title: data.text.title, close: data.text.close });
}());
