/* Buyflow's development shim, served after localstripe's fake Stripe.js: what real
 * Stripe.js does and the fake does not.
 *
 * confirmCardPayment(clientSecret, {payment_method: {card: element}, setup_future_usage})
 * confirms a PaymentIntent with the card entered, as Stripe documents: the card's
 * PaymentMethod is made and the intent confirmed in one call; if the bank asks for 3-D
 * Secure, its prompt is shown once, then the payment completes. Without a card, the fake's
 * own confirmCardPayment runs (it completes an intent already waiting for 3-D Secure). */
(function () {
  'use strict';
  var fakeStripe = window.Stripe;

  window.Stripe = function (apiKey) {
    var fake = fakeStripe(apiKey);
    var completeAuthentication = fake.confirmCardPayment;
    // A new object, the fake's methods and ours: nothing of the fake's is changed.
    var stripe = Object.assign({}, fake);

    stripe.confirmCardPayment = async function (clientSecret, data) {
      var element = data && data.payment_method && data.payment_method.card;
      if (!element) return completeAuthentication(clientSecret, data);
      var intent = clientSecret.match(/^(pi_\w+)_secret_/)[1];
      var value = element.value || { card: {} };
      var body = {
        key: apiKey,
        client_secret: clientSecret,
        use_stripe_sdk: true,
        payment_method_data: {
          type: 'card',
          card: value.card,
          billing_details: { address: { postal_code: value.postal_code } }
        }
      };
      if (data.setup_future_usage) body.setup_future_usage = data.setup_future_usage;
      try {
        var response = await fetch(LOCALSTRIPE_BASE_API + '/v1/payment_intents/' + intent +
                                   '/confirm', { method: 'POST', body: JSON.stringify(body) });
        var answer = await response.json().catch(function () { return {}; });
        if (response.status !== 200 || answer.error) return { error: answer.error };
        if (answer.status === 'requires_action') {
          return completeAuthentication(clientSecret);  // the bank's one prompt
        }
        if (answer.status === 'requires_payment_method') {
          return { error: answer.last_payment_error || { code: 'card_declined' } };
        }
        return { paymentIntent: answer };
      } catch (err) {
        return { error: (err && err.error) || err };
      }
    };
    return stripe;
  };
}());

/* Stripe's card Element is one row inside the box the page draws: number, expiry, CVC,
 * postal code, in the page's type and colours. The fake's five inputs (and its
 * "localstripe:" tag) are laid out so, each with a short placeholder and an accessible
 * name, and the field it takes as its name (what tests find it by). Styles go through
 * the CSSOM, which the pages' CSP (style-src without inline) allows. */
(function () {
  'use strict';
  if (typeof Element.prototype.mount !== 'function') return;  // not the fake's Element

  // field -> [placeholder, accessible name, width (or null: takes the rest of the row)]
  var LOOK = {
    number: ['Card number', 'Card number', null],
    exp_month: ['MM', 'Expiry month', '2.6ch'],
    exp_year: ['YY', 'Expiry year', '2.6ch'],
    cvc: ['CVC', 'Security code', '3.4ch'],
    postal_code: ['ZIP', 'Postal code', '5.2ch']
  };
  var INPUT = { border: '0', borderRadius: '0', margin: '0', padding: '0', outline: 'none',
                background: 'transparent', color: 'inherit', font: 'inherit',
                minInlineSize: '0', minBlockSize: '0', blockSize: '1.5rem' };

  function layOut(element, domElement) {
    var row = document.createElement('div');
    Object.assign(row.style, { display: 'flex', alignItems: 'center', gap: '.375rem' });
    element._domChildren[0].hidden = true;  // the "localstripe:" tag
    Object.keys(LOOK).forEach(function (field) {
      var input = element._inputs[field];
      var look = LOOK[field];
      input.placeholder = look[0];
      input.setAttribute('aria-label', look[1]);
      input.name = field;
      input.inputMode = 'numeric';
      Object.assign(input.style, INPUT, look[2] ? { inlineSize: look[2], flex: 'none' }
                                                 : { inlineSize: '0', flex: '1 1 auto' });
    });
    element._domChildren.forEach(function (child) { row.append(child); });
    var slash = document.createElement('span');
    slash.textContent = '/';
    slash.setAttribute('aria-hidden', 'true');
    Object.assign(slash.style, { opacity: '.6' });
    element._inputs.exp_month.after(slash);
    element._domChildren.push(row, slash);
    domElement.append(row);
  }

  var mount = Element.prototype.mount;
  Element.prototype.mount = function (domElement) {
    mount.call(this, domElement);
    if (this._inputs) layOut(this, typeof domElement === 'string'
      ? document.querySelector(domElement) : domElement);
  };
}());
