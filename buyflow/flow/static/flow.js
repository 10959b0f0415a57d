/* The buy flow inside the iframe: takes the card through the card provider's adapter
 * (window.buyflowCardProvider, providers/<name>.js: this file names no provider), talks to
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
  var savedCardsButton = document.getElementById('saved-cards');
  var codeStep = document.getElementById('code-step');
  var codeInput = document.getElementById('code');
  var confirmButton = document.getElementById('confirm-code');
  var cardChoice = document.getElementById('card-choice');
  var savedCardList = document.getElementById('saved-card-list');
  var newCard = document.getElementById('new-card');
  var saveCardField = document.getElementById('save-card-field');
  var saveCard = document.getElementById('save-card');
  var emailFixed = emailInput.readOnly;  // the seller named the buyer's email
  var provider = window.buyflowCardProvider.connect(data.provider);
  var card = provider.mount(document.getElementById('card-element'), { locale: data.locale });
  // The provider's script arrives after the page is drawn; without it no card can be entered.
  card.failed(function () { showError('provider_unavailable'); });

  /* A language applies as soon as it is chosen: the page reloads in it, with the email
   * typed so far (storage is out of reach in a third-party iframe; the card cannot go
   * along, it is the provider's). After the reload the menu has the focus again. */
  var languageMenu = languageForm.elements.locale;
  languageMenu.addEventListener('change', function () {
    languageForm.elements.email.value = emailInput.value;
    languageForm.submit();
  });
  if (data.languageChosen) languageMenu.focus();

  function showError(code, message) {
    if (code === 'invalid_email') emailInput.setAttribute('aria-invalid', 'true');
    if (/^(wrong_code|expired_code|too_many_attempts)$/.test(code)) {
      codeInput.setAttribute('aria-invalid', 'true');
    }
    if (/^card_token_/.test(code)) forgetSavedCards();
    statusBox.textContent = '';
    errorBox.textContent = message || data.messages[code] || data.messages.processing_error;
    payButton.disabled = false;
    // Paid in another tab, or expired, meanwhile: nothing here can pay it any more, so the
    // page hears it now, as when the flow refuses such an order on opening.
    if (code === 'already_paid' || code === 'order_expired') {
      tellPage('failed', { code: code, message: errorBox.textContent });
    }
  }

  function say(text) {
    errorBox.textContent = '';
    statusBox.textContent = text;
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

  async function settle(answer) {
    if (answer.status === 'requires_action') {
      statusBox.textContent = data.text.authenticating;
      // Whatever the bank said, the server reads the payment's outcome from the provider.
      await provider.confirmPayment(answer.client_secret, null);
      answer = await call(data.urls.refresh, { payment: answer.payment });
    }
    // The bank (or the provider) may take a while; not for ever: after the set time the
    // buyer is told, and may try again (the same payment: never charged twice).
    var deadline = Date.now() + data.bankWaitSeconds * 1000;
    while (answer.status === 'processing' && Date.now() < deadline) {
      await wait(2000);
      answer = await call(data.urls.refresh, { payment: answer.payment });
    }
    if (answer.status === 'processing') {
      return { status: 'error', error: { code: 'bank_timeout' } };
    }
    return answer;
  }

  /* Paid: the confirmation takes the page — the language menu and the order's header give
   * way to it — and says where the receipt goes. */
  function finish(answer) {
    form.hidden = true;
    languageForm.hidden = true;
    document.getElementById('flow-header').hidden = true;
    document.getElementById('order-id').textContent = answer.order;
    document.getElementById('receipt').textContent = answer.receipt || '';
    document.getElementById('receipt-to').textContent = answer.receipt_to || '';
    var done = document.getElementById('done');
    done.hidden = false;
    done.focus();
    tellPage('completed', { result: answer.result, order: answer.order, status: 'paid' });
  }

  /* Saved cards: shown only once the buyer confirms a code mailed to the email. The
   * server then answers a card token bound to this flow and that email (so the email
   * becomes read-only); paying with a saved card, or saving a new one, needs it. */
  var saved = { email: null, token: null, cards: 0 };
  // The buyer's credit with the shop: what of it can pay this order, and whether it all.
  var credit = { usable: 0, covers: false };
  var creditField = document.getElementById('credit-field');
  var useCredit = document.getElementById('use-credit');

  function chosenSavedCard() {
    var checked = form.querySelector('input[name="card-choice"]:checked');
    return checked && checked.value !== 'new' ? checked.value : null;
  }

  function paidByCredit() { return useCredit.checked && credit.covers; }

  function showCardEntry() {
    cardChoice.hidden = !saved.cards || paidByCredit();
    newCard.hidden = paidByCredit() || chosenSavedCard() !== null;
  }

  function creditToUse() { return useCredit.checked ? credit.usable : 0; }

  savedCardsButton.addEventListener('click', async function () {
    savedCardsButton.disabled = true;
    emailInput.removeAttribute('aria-invalid');
    var email = emailInput.value.trim();
    var answer = await call(data.urls.savedCardsCode, { email: email });
    savedCardsButton.disabled = false;
    if (answer.status !== 'sent') return showError(answer.error.code, answer.error.message);
    saved.email = email;
    errorBox.textContent = '';
    document.getElementById('code-hint').textContent = answer.message;
    codeStep.hidden = false;
    codeInput.focus();  // its description says where the code went
  });

  async function confirmCode() {
    if (confirmButton.disabled) return;
    confirmButton.disabled = true;
    codeInput.removeAttribute('aria-invalid');
    var answer = await call(data.urls.savedCardsConfirm,
                            { email: saved.email, code: codeInput.value.trim() });
    confirmButton.disabled = false;
    if (answer.status !== 'confirmed') return showError(answer.error.code, answer.error.message);
    saved.token = answer.card_token;
    emailInput.value = answer.email;
    emailInput.readOnly = true;  // the card token is bound to this email
    codeInput.value = '';
    codeStep.hidden = true;
    savedCardsButton.hidden = true;
    saveCardField.hidden = false;
    if (answer.credit && answer.credit.usable > 0) {
      credit = answer.credit;
      document.getElementById('credit-label').textContent = credit.label;
      creditField.hidden = false;
    }
    listCards(answer.cards);
  }

  confirmButton.addEventListener('click', confirmCode);
  codeInput.addEventListener('keydown', function (event) {
    if (event.key === 'Enter') {  // confirms the code; it does not pay
      event.preventDefault();
      confirmCode();
    }
  });

  /* The saved cards as radio buttons, the default first and chosen, then "A new card". */
  function listCards(cards) {
    savedCardList.textContent = '';
    saved.cards = cards.length;
    cards.forEach(function (card, index) {
      var label = document.createElement('label');
      var radio = document.createElement('input');
      label.className = 'choice';
      radio.type = 'radio';
      radio.name = 'card-choice';
      radio.value = card.id;
      radio.checked = index === 0;
      label.append(radio, ' ', card.label);
      savedCardList.append(label);
    });
    if (!cards.length) {
      say(data.text.noCards);
      saveCard.focus();
      return;
    }
    cardChoice.hidden = false;
    showCardEntry();
    say(data.text.cardsShown);
    savedCardList.querySelector('input').focus();
  }

  cardChoice.addEventListener('change', showCardEntry);
  useCredit.addEventListener('change', showCardEntry);

  /* Back to before the code: the card token expired or does not count any more. */
  function forgetSavedCards() {
    saved.token = null;
    saved.cards = 0;
    credit = { usable: 0, covers: false };
    useCredit.checked = false;
    creditField.hidden = true;
    savedCardList.textContent = '';
    cardChoice.hidden = true;
    saveCard.checked = false;
    saveCardField.hidden = true;
    newCard.hidden = false;
    savedCardsButton.hidden = false;
    emailInput.readOnly = emailFixed;
  }

  /* The order opens with the credit chosen reserved for it; when that pays it all, it is
   * paid there and then, and no card is asked for. */
  function openOrder(email, keep) {
    var body = { email: email, credit: creditToUse() };
    if (keep) body.save = true;
    if (body.credit || keep) body.card_token = saved.token;
    return call(data.urls.checkout, body);
  }

  /* One payment for the new card: the server opens it, the provider's script confirms it
   * here with the card as entered (the bank asks at most once), the server reads how it
   * ended. A card refused before it was charged is said at once; the next Pay goes on
   * with the same payment. */
  async function payWithNewCard(email) {
    var keep = Boolean(saved.token && saveCard.checked);
    var opened = await openOrder(email, keep);
    if (opened.status !== 'pending') return opened;
    statusBox.textContent = data.text.processing;
    var paid = await provider.confirmPayment(opened.client_secret, card,
                                             { email: email, keep: keep });
    var told = await call(data.urls.refresh, { payment: opened.payment });
    // A card the bank refused is a failed payment, in our words; one refused before it
    // reached the provider (an incomplete number...) leaves the payment waiting: say why.
    return paid.ok || told.status === 'failed' ? told : { status: 'error', error: paid.error };
  }

  /* Each press of Pay gets its own attempt id: the server charges an attempt once, however
   * often its request arrives. */
  function payWithSavedCard(cardId) {
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    var attempt = Array.from(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); });
    return call(data.urls.paySaved, { card_token: saved.token, card: cardId,
                                      attempt: attempt.join(''), credit: creditToUse() });
  }

  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    if (payButton.disabled) return;
    payButton.disabled = true;
    // From the first Pay on an order may exist: the language stays as it is, and its
    // menu goes (it sits in the panel's foot, below all the buyer acts on: nothing moves).
    languageForm.hidden = true;
    emailInput.removeAttribute('aria-invalid');
    errorBox.textContent = '';
    statusBox.textContent = data.text.processing;

    var savedCard = paidByCredit() ? null : chosenSavedCard();
    var answer = paidByCredit() ? await openOrder(emailInput.value.trim())
               : savedCard ? await payWithSavedCard(savedCard)
               : await payWithNewCard(emailInput.value.trim());
    if (answer.status !== 'error') answer = await settle(answer);
    if (answer.status === 'paid') return finish(answer);
    showError(answer.error && answer.error.code, answer.error && answer.error.message);
  });

  frame.wireClose(data.parentOrigin, [document.getElementById('close'),
                                      document.getElementById('cancel'),
                                      document.getElementById('done-button')]);

  if (window.ResizeObserver) {
    // The content's own height (scrollHeight would never be less than the frame's).
    new ResizeObserver(function () {
      tellPage('resize', { height: Math.ceil(document.documentElement.getBoundingClientRect().height) });
    }).observe(document.body);
  }
  // The page's overlay labels its dialog in the buyer's language, and leaves closing to
  // our panel's close control from now on (older libraries label their button with close).
  payButton.disabled = savedCardsButton.disabled = false;  // wired now (checkout.html)
  tellPage('ready', { title: data.text.title, close: data.text.close });

  /* The other languages join the menu once the flow is drawn (checkout.html says why),
   * the page's own staying chosen. */
  requestAnimationFrame(function () {
    setTimeout(function () {
      languageMenu.replaceChildren(document.getElementById('languages').content);
    });
  });
}());
