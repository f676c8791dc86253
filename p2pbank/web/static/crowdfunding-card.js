// Stripe's Payment Element saving a card for a crowdfunding pledge (SetupIntent), only when
// a Stripe key is configured. The card never touches our server: Stripe.js confirms the
// setup, Stripe sends the backer back to the return URL, and the server reads the setup's
// state from Stripe before it trusts it.
(function () {
  "use strict";
  var form = document.getElementById("stripe-setup");
  if (!form || typeof window.Stripe === "undefined") {
    return;
  }
  var stripe = window.Stripe(form.dataset.publishableKey);
  var elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
  elements.create("payment").mount("#stripe-setup-element");
  var errorBox = document.getElementById("stripe-setup-error");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    stripe
      .confirmSetup({ elements: elements, confirmParams: { return_url: form.dataset.returnUrl } })
      .then(function (result) {
        if (result.error) {
          errorBox.textContent = result.error.message;
        }
      });
  });
})();
