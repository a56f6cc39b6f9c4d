// The card form: Stripe.js loaded at runtime, a Stripe Elements card element in a modal
// <dialog>, and the purchase flow against POST /api/order/ (with 3-D Secure and retries).

import { ApiError, NetworkError, SessionExpiredError, newIdempotencyKey } from "./api.js";
import { focusableIn, h, photo, setButtonBusy } from "./dom.js";
import { formatMoney } from "./format.js";

const STRIPE_LOAD_TIMEOUT_MS = 20000;

const CARD_STYLE = {
  base: {
    color: "#1f2430",
    fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
    fontSize: "16px",
    "::placeholder": { color: "#6b7280" },
  },
  invalid: { color: "#b42318", iconColor: "#b42318" },
};

let stripeLoading = null;

/** Loads Stripe.js once from `url` (a <script> added at runtime) and returns Stripe(key). */
export function loadStripe(url, publishableKey) {
  if (!stripeLoading) {
    stripeLoading = new Promise((resolve, reject) => {
      let script = null;
      let timer = null;
      const fail = (reason) => {
        clearTimeout(timer);
        script?.remove();
        reject(new Error(`Card payments are unavailable right now (${reason}). Please try again later.`));
      };
      // True once window.Stripe exists and the instance is made (or its failure reported).
      const start = () => {
        if (typeof window.Stripe !== "function") return false;
        clearTimeout(timer);
        try {
          resolve(window.Stripe(publishableKey));
        } catch (error) {
          fail(error.message || "Stripe.js refused the publishable key");
        }
        return true;
      };
      if (start()) return;
      script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.addEventListener("load", () => { if (!start()) fail("Stripe.js did not start"); });
      script.addEventListener("error", () => fail("Stripe.js could not be loaded"));
      timer = setTimeout(() => fail("Stripe.js took too long to load"), STRIPE_LOAD_TIMEOUT_MS);
      document.head.append(script);
    });
    // A failed load may be retried the next time the card form opens.
    stripeLoading.catch(() => { stripeLoading = null; });
  }
  return stripeLoading;
}

/** What Stripe.js said about the card (incomplete number, declined at tokenisation…). */
class CardError extends Error {}

/**
 * Wires the checkout <dialog> in index.html. Returns {open(product, opener), close(),
 * preload()}. `api` is the client from api.js; `config` is window.FRAMESELL_CONFIG;
 * `showOrders()` navigates to the orders page.
 */
export function createCheckout({ api, config, showOrders }) {
  const dialog = document.getElementById("checkout");
  const form = document.getElementById("checkout-form");
  const title = document.getElementById("checkout-title");
  const summary = document.getElementById("checkout-summary");
  const cardLabel = document.getElementById("card-element-label");
  const cardLoading = document.getElementById("card-loading");
  const testHint = document.getElementById("card-test-hint");
  const errorBox = document.getElementById("payment-error");
  const payButton = document.getElementById("submit-payment");
  const payLabel = payButton.querySelector(".btn-label");
  const closeButton = document.getElementById("checkout-close");
  const result = document.getElementById("checkout-result");

  let stripe = null;
  let card = null;
  let product = null;
  let opener = null;
  let busy = false;
  // True while the dialog is closed for Stripe's 3-D Secure challenge (the purchase goes on).
  let suspended = false;
  let errorFromCard = false;
  // A purchase attempt whose outcome is unknown (the network failed): pressing Pay again
  // resends exactly the same request with the same Idempotency-Key.
  let attempt = null;

  testHint.hidden = !String(config.stripePublishableKey || "").startsWith("pk_test_");

  function showError(message, { fromCard = false } = {}) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    errorFromCard = fromCard;
  }

  function clearError() {
    errorBox.textContent = "";
    errorBox.hidden = true;
    errorFromCard = false;
  }

  function setBusy(value) {
    busy = value;
    form.setAttribute("aria-busy", String(value));
    closeButton.disabled = value;
    setButtonBusy(payButton, value, "Processing…");
  }

  function setPayLabel(text) {
    // While busy the button shows "Processing…"; the label is restored when it ends.
    if (payButton.dataset.idleLabel !== undefined) payButton.dataset.idleLabel = text;
    else payLabel.textContent = text;
  }

  async function ensureCard() {
    if (card) return card;
    const instance = await loadStripe(config.stripeJsUrl, config.stripePublishableKey);
    if (!card) {
      stripe = instance;
      card = stripe.elements().create("card", { style: CARD_STYLE });
      card.mount("#card-element");
      if (typeof card.on === "function") {
        card.on("change", (event) => {
          if (event && event.error) showError(event.error.message, { fromCard: true });
          else if (errorFromCard) clearError();
        });
      }
    }
    return card;
  }

  function focusCard() {
    if (card && typeof card.focus === "function") card.focus();
  }

  function resetView() {
    attempt = null;
    clearError();
    result.replaceChildren();
    result.hidden = true;
    form.hidden = false;
    setBusy(false);
  }

  /** Opens the card form for one product; focus returns to `openerButton` on close. */
  function open(item, openerButton) {
    if (busy) return; // a purchase is in flight (its 3-D Secure challenge may be showing)
    product = item;
    opener = openerButton || document.activeElement;
    resetView();
    const price = formatMoney(item.price, item.currency);
    title.textContent = item.title || `Buy “${item.description}”`;
    summary.replaceChildren(
      photo(item.url, item.description, { className: "checkout-thumb", width: 160, height: 120 }),
      h("div", {},
        h("p", { class: "checkout-product-title", text: item.description }),
        h("p", { class: "checkout-product-price", "data-testid": "checkout-total", text: price }),
        h("p", { class: "checkout-product-note", text: item.note || "Digital download of the full-resolution photo, yours as soon as it is paid." })),
    );
    setPayLabel(`Pay ${price}`);
    if (card) card.clear?.();
    dialog.showModal();
    if (card) {
      focusCard();
      return;
    }
    payButton.disabled = true;
    cardLoading.hidden = false;
    closeButton.focus();
    ensureCard()
      .then(() => {
        if (!dialog.open || product !== item) return;
        payButton.disabled = false;
        focusCard();
      })
      .catch((error) => {
        if (dialog.open && product === item) showError(error.message);
      })
      .finally(() => { cardLoading.hidden = true; });
  }

  function close() {
    if (dialog.open) dialog.close();
  }

  async function tokenize() {
    try {
      return await tokenizeWithStripe();
    } catch (error) {
      if (error instanceof CardError) throw error;
      // Stripe.js itself failed (it could not read the card field, or not reach Stripe).
      throw new CardError("Your card details could not be read. Check them and try again.");
    }
  }

  async function tokenizeWithStripe() {
    // A PaymentMethod (pm_…) made here by Stripe.js: the server then makes one Stripe call,
    // the PaymentIntent (a card token, tok_…, would cost it a second to make the method).
    const outcome = await stripe.createPaymentMethod({ type: "card", card });
    if (outcome && outcome.error) {
      throw new CardError(outcome.error.message || "Your card details could not be read.");
    }
    if (!outcome || !outcome.paymentMethod) throw new Error("Stripe.js made no PaymentMethod");
    return outcome.paymentMethod.id;
  }

  function finish(panel, focusTarget) {
    form.hidden = true;
    result.replaceChildren(panel);
    result.hidden = false;
    focusTarget.focus();
  }

  function afterButtons(order) {
    const orderLink = order && order.id !== undefined
      ? h("a", { class: "btn btn-outline-dark", href: `#/order?id=${encodeURIComponent(order.id)}`, "data-testid": "view-order", onclick: close }, "See this order")
      : null;
    return h("div", { class: "d-flex flex-wrap gap-2 mt-4" }, orderLink,
      h("button", { type: "button", class: "btn btn-primary", "data-testid": "view-orders", onclick: () => { close(); showOrders(); } }, "See my orders"),
      h("button", { type: "button", class: "btn btn-outline-secondary", onclick: close }, "Keep shopping"));
  }

  function succeed(order) {
    if (typeof product?.onPaid === "function") product.onPaid(order);
    const heading = h("h3", { class: "h4 checkout-result-title", tabindex: "-1", text: "Thank you!" });
    const paid = order && order.paymentstatus === "PAID";
    const what = order && order.product ? order.product : product;
    const detail = paid
      ? `Payment of ${formatMoney(what.price, what.currency)} received for “${what.description}”.`
      : "We are confirming the payment with your bank; your orders page shows when it is settled.";
    finish(h("div", { class: "checkout-success", role: "status", "data-testid": "order-success" },
      h("div", { class: "checkout-result-icon", "aria-hidden": "true", text: "✓" }),
      heading,
      h("p", { class: "lead mb-1", text: "Your order has been submitted for processing." }),
      h("p", { class: "text-body-secondary mb-0", text: detail }),
      afterButtons(order)), heading);
  }

  function pendingSettlement() {
    const heading = h("h3", { class: "h5 checkout-result-title", tabindex: "-1", text: "Your order is saved" });
    finish(h("div", { class: "checkout-pending", "data-testid": "payment-pending" },
      heading,
      h("div", { class: "alert alert-warning mb-0", role: "alert" },
        "Payment service unavailable — your order is saved as pending; we'll settle it."),
      afterButtons()), heading);
  }

  async function authenticate(body) {
    // The bank wants 3-D Secure: Stripe.js shows the challenge, then the server settles.
    let stripeError = null;
    // Stripe.js draws its challenge over the page; a modal <dialog> sits in the top layer
    // and makes the rest of the page inert, so the card form steps aside until it is done.
    suspended = true;
    dialog.close();
    try {
      const outcome = typeof stripe.handleNextAction === "function"
        ? await stripe.handleNextAction({ clientSecret: body.client_secret })
        : await stripe.confirmCardPayment(body.client_secret);
      stripeError = outcome && outcome.error ? outcome.error : null;
    } catch (error) {
      stripeError = error;
    } finally {
      suspended = false;
      dialog.showModal();
    }
    const orderId = body.order && body.order.id;
    if (orderId === undefined || orderId === null) {
      showError("The payment could not be confirmed. Please try again.");
      return;
    }
    let order;
    try {
      order = await api.confirmOrder(orderId);
    } catch (error) {
      if (error instanceof SessionExpiredError) return;
      showError(error.message);
      return;
    }
    if (order && (order.paymentstatus === "PAID" || order.paymentstatus === "PENDING")) {
      succeed(order);
    } else {
      // Stripe's own text here is written for developers; the shopper gets ours.
      showError("Your bank did not confirm this payment, so your card was not charged. Try again or use another card.");
    }
  }

  async function placeOrder() {
    if (!attempt) {
      const token = await tokenize();
      // A cart sends its items (and address); the catalog's Pay buys the photo's download.
      const purchase = product.body ? product.body : { product: product.id };
      attempt = { key: newIdempotencyKey(), body: { token, ...purchase } };
    }
    let data;
    try {
      data = await api.placeOrder(attempt.body, attempt.key);
    } catch (error) {
      if (error instanceof NetworkError || (error instanceof ApiError && error.status === 409)) {
        // Unknown outcome: keep the attempt, so "Retry payment" cannot buy twice.
        showError("We could not confirm your payment because the connection failed. "
          + "Press “Retry payment”; you will not be charged twice.");
        setPayLabel("Retry payment");
        return;
      }
      attempt = null;
      if (error instanceof SessionExpiredError) return;
      const body = error.body || {};
      if (error.status === 402 && body.requires_action && body.client_secret) {
        await authenticate(body);
      } else if (error.status === 402) {
        showError(error.message);
        card.clear?.();
      } else if (error.status === 503) {
        pendingSettlement();
      } else {
        showError(error.message);
      }
      return;
    }
    attempt = null;
    succeed(data && data.order);
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (busy || !card || !product) return;
    setBusy(true);
    clearError();
    try {
      await placeOrder();
    } catch (error) {
      showError(error instanceof CardError || error instanceof ApiError
        ? error.message
        : "The payment could not be completed. Please try again.");
    } finally {
      setBusy(false);
      if (!errorBox.hidden && !form.hidden) {
        if (!attempt && product) setPayLabel(`Pay ${formatMoney(product.price, product.currency)}`);
        focusCard();
      }
    }
  }

  form.addEventListener("submit", onSubmit);
  closeButton.addEventListener("click", close);
  cardLabel.addEventListener("click", focusCard);
  // Escape closes the dialog, but not while a payment is in flight.
  dialog.addEventListener("cancel", (event) => { if (busy) event.preventDefault(); });
  // A click on the backdrop (the dialog itself, outside its content) closes it.
  dialog.addEventListener("click", (event) => { if (event.target === dialog && !busy) close(); });
  dialog.addEventListener("keydown", (event) => {
    // Keep Tab inside the dialog (the page behind is inert already; this also skips the
    // browser's own toolbar) — focus wraps from the last control to the first and back.
    if (event.key !== "Tab") return;
    const items = focusableIn(dialog);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });
  dialog.addEventListener("close", () => {
    if (suspended || dialog.open) return; // stepped aside for 3-D Secure, or open again
    attempt = null;
    setBusy(false);
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  });

  return {
    open,
    close,
    /** Starts loading Stripe.js early so the card form opens at once. */
    preload() {
      ensureCard().catch(() => {});
    },
  };
}
