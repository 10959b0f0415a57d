/* The card provider in the browser, for Stripe: the only script of our pages that knows
 * Stripe; pages load it as providers/<browser_config().provider>.js, after Stripe.js (the
 * server's browser_config().js_url) and before their own script. It promises:
 *
 *   window.buyflowCardProvider.connect(config)       -> cards
 *       config: an object carrying browser_config()'s publishable_key
 *   cards.mount(element, {locale})                   -> field
 *       shows the card entry in element; field is opaque: only pass it back to cards
 *   cards.confirmSetup(clientSecret, field, {email}) -> Promise of a result
 *       keeps the card in field for the setup named by clientSecret (the bank may ask)
 *   cards.confirmPayment(clientSecret, field, {email, keep}) -> Promise of a result
 *       field null or left out: finishes a payment the server already confirmed (the
 *       bank's check); else pays with the card in field, and keep: the card stays with
 *       the buyer for later payments made without them
 *
 * A result is {ok: true, reference} (the setup's or payment's id, for the server) or
 * {ok: false, error: {code}}, code one of ours (flow/messages.py), never the provider's:
 * authentication_failed, card_declined, expired_card, incorrect_cvc, incorrect_number,
 * insufficient_funds, invalid_expiry, processing_error. The server still decides how a
 * payment ended. */
(function () {
  'use strict';

  // Folded as payments/stripe.py:buyer_code folds them, so both sides name a failure alike.
  var AUTHENTICATION_FAILED = ['payment_intent_authentication_failure',
                               'setup_intent_authentication_failure', 'authentication_required'];
  var SAME_CODES = ['card_declined', 'expired_card', 'incorrect_cvc', 'incorrect_number',
                    'insufficient_funds', 'processing_error'];
  // The API's codes, and those Stripe.js's card Element gives before anything is sent.
  var INVALID_EXPIRY = ['invalid_expiry_month', 'invalid_expiry_year', 'incomplete_expiry',
                        'invalid_expiry_month_past', 'invalid_expiry_year_past'];

  function errorCode(error) {
    var code = error.code || error.decline_code;
    if (AUTHENTICATION_FAILED.indexOf(code) !== -1) return 'authentication_failed';
    if (INVALID_EXPIRY.indexOf(code) !== -1) return 'invalid_expiry';
    return SAME_CODES.indexOf(code) !== -1 ? code : 'card_declined';
  }

  function result(answer, intent) {
    if (answer.error) return { ok: false, error: { code: errorCode(answer.error) } };
    return { ok: true, reference: intent && intent.id };
  }

  function paymentMethod(field, details) {
    return { card: field, billing_details: { email: details && details.email } };
  }

  /* The card Element draws its own text in its frame: in the page's colours and type
   * (read from the element it is mounted in, so dark mode and the page's font follow). */
  function elementStyle(element) {
    var look = window.getComputedStyle(element);
    var token = function (name) { return look.getPropertyValue(name).trim(); };
    var base = { color: look.color, fontFamily: look.fontFamily, fontSize: look.fontSize };
    if (token('--muted')) base['::placeholder'] = { color: token('--muted') };
    return { base: base, invalid: token('--error') ? { color: token('--error') } : {} };
  }

  function connect(config) {
    var stripe = window.Stripe(config.publishable_key);
    return {
      mount: function (element, options) {
        // Stripe names locales pt-BR where our pages may say pt_BR.
        var locale = options && options.locale ? options.locale.replace('_', '-') : 'auto';
        var card = stripe.elements({ locale: locale }).create('card', { style: elementStyle(element) });
        card.mount(element);
        return card;
      },
      confirmSetup: async function (clientSecret, field, details) {
        var answer = await stripe.confirmCardSetup(clientSecret, {
          payment_method: paymentMethod(field, details)
        });
        return result(answer, answer.setupIntent);
      },
      confirmPayment: async function (clientSecret, field, details) {
        var data;
        if (field) {
          data = { payment_method: paymentMethod(field, details) };
          // Kept cards pay later without the buyer (renewals), as our SetupIntents allow.
          if (details && details.keep) data.setup_future_usage = 'off_session';
        }
        var answer = await stripe.confirmCardPayment(clientSecret, data);
        return result(answer, answer.paymentIntent);
      }
    };
  }

  window.buyflowCardProvider = { connect: connect };
}());
