/* Adding a card: the number goes from the card provider's field straight to the provider,
 * through its adapter (window.buyflowCardProvider, the flow's providers/<name>.js: this
 * file names no provider); this page only posts back which setup was completed. */
(function () {
  'use strict';

  var data = JSON.parse(document.getElementById('card-data').textContent);
  var form = document.getElementById('add-card-form');
  var button = document.getElementById('save-card');
  var errorBox = document.getElementById('card-error');
  // The page's data carries the provider's browser config (its publishable key).
  var provider = window.buyflowCardProvider.connect(data);
  var card = provider.mount(document.getElementById('card-element'),
                            { locale: document.documentElement.lang });

  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    errorBox.textContent = '';
    var result = await provider.confirmSetup(data.client_secret, card, { email: data.email });
    if (!result.ok) {
      errorBox.textContent = data.messages[result.error.code] || data.messages.card_declined;
      button.disabled = false;
      return;
    }
    form.elements.setup.value = result.reference;
    form.submit();
  });
}());
