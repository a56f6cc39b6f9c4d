// Where this shop finds its API and Stripe. Edit for your deployment (see README.md).
// In development the API server serves its own /config.js from its settings instead.
window.FRAMESELL_CONFIG = {
  // Origin of the FrameSell API, e.g. "https://api.framesell.example"; "" = same origin.
  apiBase: "",
  // Your Stripe publishable key (pk_live_… in production, pk_test_… for testing).
  stripePublishableKey: "pk_test_replace_with_your_publishable_key",
  // Stripe.js itself; always https://js.stripe.com/v3/ in production.
  stripeJsUrl: "https://js.stripe.com/v3/",
  // The flat shipping price of an order with prints (dollars), as framesell.shipping.price
  // says; the cart shows it, the server charges its own.
  shippingPrice: 9,
};
