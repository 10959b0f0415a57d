/* The card provider in the browser, for Stripe: the only script of our pages that knows
 * Stripe; pages load it as providers/<browser_config().provider>.js before their own
 * script, after Stripe.js (the server's browser_config().js_url) or without it: then
 * connect() loads it, and the page need not wait for it to be drawn. It promises:
 *
 *   window.buyflowCardProvider.connect(config)       -> cards
 *       config: an object carrying browser_config()'s publishable_key and js_url
 *   cards.mount(element, {locale})                   -> field
 *       shows the card entry in element as soon as Stripe.js is there; field is opaque:
 *       only pass it back to cards. field.failed(callback): callback() if Stripe.js
 *       cannot be loaded (the card cannot be entered)
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

  /* Stripe.js: the one the page loaded, else loaded now (the page may preload it). */
  function stripeJs(url) {
    if (window.Stripe) return Promise.resolve(window.Stripe);
    return new Promise(function (resolve, reject) {
      var script = document.createElement('script');
      script.src = url;
      script.onload = function () { resolve(window.Stripe); };
      script.onerror = reject;
      document.head.append(script);
    });
  }

  var UNAVAILABLE = { ok: false, error: { code: 'processing_error' } };

  /* Stripe and the card Element of field (none without a field); null if Stripe.js could
   * not be loaded. */
  async function ready(stripe, field) {
    try {
      return { stripe: await stripe, card: field ? await field.card : null };
    } catch (e) {
      return null;
    }
  }

  function connect(config) {
    var stripe = stripeJs(config.js_url).then(function (Stripe) {
      return Stripe(config.publishable_key);
    });
    return {
      mount: function (element, options) {
        // Stripe names locales pt-BR where our pages may say pt_BR.
        var locale = options && options.locale ? options.locale.replace('_', '-') : 'auto';
        var card = stripe.then(function (s) {
          var field = s.elements({ locale: locale }).create('card', { style: elementStyle(element) });
          field.mount(element);
          return field;
        });
        card.catch(function () { /* told through failed() */ });
        return { card: card, failed: function (callback) { card.catch(callback); } };
      },
      confirmSetup: async function (clientSecret, field, details) {
        var got = await ready(stripe, field);
        if (!got) return UNAVAILABLE;
        var answer = await got.stripe.confirmCardSetup(clientSecret, {
          payment_method: paymentMethod(got.card, details)
        });
        return result(answer, answer.setupIntent);
      },
      confirmPayment: async function (clientSecret, field, details) {
        var got = await ready(stripe, field);
        if (!got) return UNAVAILABLE;
        var data;
        if (got.card) {
          data = { payment_method: paymentMethod(got.card, details) };
          // Kept cards pay later without the buyer (renewals), as our SetupIntents allow.
          if (details && details.keep) data.setup_future_usage = 'off_session';
        }
        var answer = await got.stripe.confirmCardPayment(clientSecret, data);
        return result(answer, answer.paymentIntent);
      }
    };
  }

  window.buyflowCardProvider = { connect: connect };
}());
