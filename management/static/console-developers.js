/* The console's Developers page: the buy button's snippet and preview follow the form as
 * it changes (the form's Show button does the same without a script), the snippets'
 * Copy buttons copy them, and the key form is sent once. Texts come from the page, in
 * its language. */
(function () {
  'use strict';
  var form = document.getElementById('snippet-form');
  var status = document.getElementById('copy-status');

  function escape(text) {
    return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;');
  }

  /* The same snippet as the server writes (developers.py, button_snippet). */
  function buttonSnippet(seller, product, mode, label) {
    var attributes = ['data-buyflow-seller="' + escape(seller) + '"',
                      'data-buyflow-product="' + escape(product) + '"'];
    if (mode === 'window') attributes.push('data-buyflow-mode="window"');
    if (mode === 'inline') attributes.push('data-buyflow-container="#buyflow-checkout"');
    var snippet = '<button type="button" ' + attributes.join(' ') + '>' + escape(label) + '</button>';
    return mode === 'inline' ? snippet + '\n<div id="buyflow-checkout"></div>' : snippet;
  }

  function update() {
    var product = form.elements.product.value;
    var label = form.elements.label.value.trim().replace(/\s+/g, ' ').slice(0, 80) ||
      form.elements.label.defaultValue;
    document.querySelector('#button-snippet code').textContent =
      buttonSnippet(form.dataset.seller, product || 'prod_...', form.elements.mode.value, label);
    var preview = document.getElementById('preview-button');
    preview.textContent = label;
    if (preview.tagName === 'A' && product) {
      preview.href = form.dataset.flow + '?' + new URLSearchParams(
        {seller: form.dataset.seller, product: product, origin: form.dataset.origin});
    }
  }

  if (form) {
    form.addEventListener('input', update);
    form.addEventListener('change', update);
  }

  /* A key is shown once, in the answer to its form: a second click would replace that
   * answer with "made already" (the server makes one key per form), so the button waits
   * once pressed — again usable when the page comes back from the history. */
  var keyForm = document.getElementById('key-form');
  if (keyForm) {
    var create = keyForm.querySelector('button[type="submit"]');
    keyForm.addEventListener('submit', function () {
      setTimeout(function () { create.disabled = true; }, 0);
    });
    window.addEventListener('pageshow', function () { create.disabled = false; });
  }

  document.querySelectorAll('button.copy[data-copy]').forEach(function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      var text = document.getElementById(button.dataset.copy).textContent;
      navigator.clipboard.writeText(text).then(function () {
        status.textContent = '';
        status.textContent = status.dataset.copied;
      });
    });
  });
})();
