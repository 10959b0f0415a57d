/* Adding a card: the number goes from the provider's card Element straight to the
 * provider (confirmCardSetup); this page only posts back which setup was completed. */
(function () {
  'use strict';

  var data = JSON.parse(document.getElementById('card-data').textContent);
  var form = document.getElementById('add-card-form');
  var button = document.getElementById('save-card');
  var errorBox = document.getElementById('card-error');
  var stripe = window.Stripe(data.publishable_key);
  var card = stripe.elements({ locale: document.documentElement.lang }).create('card');
  card.mount('#card-element');

  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    errorBox.textContent = '';
    var result = await stripe.confirmCardSetup(data.client_secret, {
      payment_method: { card: card, billing_details: { email: data.email } }
    });
    if (result.error) {
      var code = result.error.code || result.error.decline_code;
      errorBox.textContent = data.messages[code] || data.messages.card_declined;
      button.disabled = false;
      return;
    }
    form.elements.setup.value = result.setupIntent.id;
    form.submit();
  });
}());
