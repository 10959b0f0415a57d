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
