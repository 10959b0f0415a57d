/* Buyflow's development shim: the expiry year of localstripe's fake card field, as buyers
 * type it into Stripe's. The fake sends "20" + the year typed, so "2034" became "202034",
 * and it moved on to the CVC once the year held two digits, so "2034" typed key by key was
 * cut in two. Here the year may be typed as "34" or "2034"; the focus moves on once the
 * field is complete. Served after the fake's script (buyflow/dev/card_expiry.py), whose
 * class Element is the fake card field. */
(function () {
  'use strict';
  if (typeof Element.prototype.mount !== 'function') return;  // not the fake's Element

  var FIELDS = ['number', 'exp_month', 'exp_year', 'cvc', 'postal_code'];
  // Whether what was typed in a field is complete, so that the focus moves to the next.
  var COMPLETE = {
    number: function (typed) { return typed.length >= 16; },
    exp_month: function (typed) { return typed.length >= 2 || parseInt(typed, 10) > 1; },
    exp_year: function (typed) { return typed.length >= 4 || (typed.length === 2 && typed !== '20'); },
    cvc: function (typed) { return typed.length >= 3; }
  };

  /* The year sent for what was typed: two digits are this century's ("34" is 2034); four,
   * or anything else, go as typed (the provider refuses what is no year). */
  function fullYear(typed) {
    return /^\d{2}$/.test(typed) ? '20' + typed : typed;
  }

  var mount = Element.prototype.mount;
  Element.prototype.mount = function (domElement) {
    mount.call(this, domElement);
    var element = this;
    var inputs = element._inputs;
    if (!inputs) return;
    var typed = function (field) { return inputs[field] ? inputs[field].value.trim() : ''; };
    FIELDS.forEach(function (field, index) {
      if (!inputs[field]) return;
      inputs[field].oninput = function () {
        element.value = {
          card: { number: typed('number'), exp_month: typed('exp_month'),
                  exp_year: fullYear(typed('exp_year')), cvc: typed('cvc') },
          postal_code: typed('postal_code')
        };
        var next = inputs[FIELDS[index + 1]];
        if (next && COMPLETE[field] && COMPLETE[field](typed(field))) next.focus();
        (element.listeners.change || []).forEach(function (handler) { handler(); });
      };
    });
  };
}());
