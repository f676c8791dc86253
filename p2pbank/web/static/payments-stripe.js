// Stripe's Payment Element on the deposit page (only when a Stripe key is configured).
// The card never touches our server: Stripe.js confirms the PaymentIntent, Stripe sends
// the payer back to the return URL, and our webhook credits the wallet.
(function () {
  "use strict";
  var form = document.getElementById("stripe-payment");
  if (!form || typeof window.Stripe === "undefined") {
    return;
  }
  var stripe = window.Stripe(form.dataset.publishableKey);
  var elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
  elements.create("payment").mount("#stripe-payment-element");
  var errorBox = document.getElementById("stripe-payment-error");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    stripe
      .confirmPayment({ elements: elements, confirmParams: { return_url: form.dataset.returnUrl } })
      .then(function (result) {
        if (result.error) {
          errorBox.textContent = result.error.message;
        }
      });
  });
})();
