// What a shopper buys: the product page (the whole photo, its formats), the cart (kept in
// localStorage, so it survives a new login), checkout with the address for prints, and the
// order page with its printable receipt and downloads.

import { ApiError, SessionExpiredError } from "./api.js";
import { h, loadFailed, loadingRow, photo, setButtonBusy } from "./dom.js";
import { formatDateTime, formatMoney } from "./format.js";

const CART_KEY = "framesell.cart";
const ADDRESS_KEY = "framesell.address";
const MAX_QUANTITY = 99;

// ---------------------------------------------------------------- the cart

function readJson(key, fallback) {
  try {
    const value = JSON.parse(localStorage.getItem(key) || "null");
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

function writeJson(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch { /* storage blocked: the cart lasts for this page only */ }
}

const listeners = new Set();
let memoryCart = null;

/** The cart: lines of {product, format, quantity}; format null is the digital download. */
export const cart = {
  get lines() {
    const stored = readJson(CART_KEY, memoryCart || []);
    return Array.isArray(stored) ? stored.filter((l) => l && Number.isInteger(l.product)) : [];
  },
  save(lines) {
    memoryCart = lines;
    writeJson(CART_KEY, lines);
    listeners.forEach((listener) => listener(lines));
  },
  add(product, format, quantity) {
    const lines = this.lines;
    const found = lines.find((l) => l.product === product && l.format === format);
    const digital = format === null;
    if (found) found.quantity = digital ? 1 : Math.min(MAX_QUANTITY, found.quantity + quantity);
    else lines.push({ product, format, quantity: digital ? 1 : quantity });
    this.save(lines);
  },
  setQuantity(index, quantity) {
    const lines = this.lines;
    if (!lines[index]) return;
    lines[index].quantity = Math.max(1, Math.min(MAX_QUANTITY, quantity));
    this.save(lines);
  },
  remove(index) {
    const lines = this.lines;
    lines.splice(index, 1);
    this.save(lines);
  },
  clear() {
    this.save([]);
  },
  get count() {
    return this.lines.reduce((sum, l) => sum + (Number(l.quantity) || 0), 0);
  },
  onChange(listener) {
    listeners.add(listener);
  },
};

window.addEventListener("storage", (event) => {
  if (event.key === CART_KEY) listeners.forEach((listener) => listener(cart.lines));
});

/** Cents from a price in major units (100, 59.99) without floating-point drift. */
function cents(price) {
  return Math.round(Number(price) * 100);
}

/** The cart's lines joined with today's catalog; lines of photos or sizes gone are dropped. */
function pricedLines(products) {
  const byId = new Map(products.map((p) => [p.id, p]));
  const priced = [];
  cart.lines.forEach((line, index) => {
    const product = byId.get(line.product);
    if (!product) return;
    const formats = Array.isArray(product.formats) ? product.formats : [];
    const format = line.format === null
      ? formats.find((f) => f.kind === "digital") || { id: null, kind: "digital", label: "Digital download", price: product.price }
      : formats.find((f) => f.id === line.format);
    if (!format) return;
    priced.push({ index, product, format, quantity: format.kind === "digital" ? 1 : line.quantity });
  });
  return priced;
}

// ---------------------------------------------------------------- the product page

function formatChoice(product, format, checked) {
  const id = `format-${product.id}-${format.id ?? "digital"}`;
  const note = format.kind === "digital" ? "Full-resolution file, download after payment" : "Archival print, shipped rolled in a tube";
  return h("div", { class: "form-check format-choice" },
    h("input", {
      class: "form-check-input", type: "radio", name: "format", id, value: String(format.id ?? ""),
      checked, "data-testid": "format-option", dataset: { kind: format.kind, label: format.label },
    }),
    h("label", { class: "form-check-label", for: id },
      h("span", { class: "format-label", text: format.label }),
      h("span", { class: "format-price", text: formatMoney(format.price, product.currency) }),
      h("span", { class: "format-note", text: note })));
}

/** A <dialog> with the photo at its full size; Escape or the button closes it. */
function enlarge(product, opener) {
  const close = h("button", { type: "button", class: "btn btn-light lightbox-close", "data-testid": "lightbox-close", text: "Close" });
  const dialog = h("dialog", { class: "lightbox", "aria-label": `${product.description}, full size`, "data-testid": "lightbox" },
    close,
    h("img", { src: product.url, alt: product.description, class: "lightbox-image" }));
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });
  dialog.addEventListener("close", () => { dialog.remove(); opener.focus(); });
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}

export function productView(root, signal, query, { api, flash, navigate }) {
  const productId = Number(query.get("id"));
  const body = h("div");
  root.append(body);

  async function load() {
    body.replaceChildren(loadingRow("Loading the photo…"));
    let products;
    try {
      products = await api.products();
    } catch (error) {
      if (!signal.aborted) body.replaceChildren(loadFailed(error, load));
      return;
    }
    if (signal.aborted) return;
    const product = (Array.isArray(products) ? products : []).find((p) => p.id === productId);
    if (!product) {
      body.replaceChildren(h("div", { class: "empty-state", "data-testid": "product-missing" },
        h("h1", { tabindex: "-1", text: "This photo is not for sale" }),
        h("a", { class: "btn btn-primary", href: "#/", text: "See the photos" })));
      return;
    }
    document.title = `${product.description} — FrameSell`;
    const formats = Array.isArray(product.formats) && product.formats.length
      ? product.formats
      : [{ id: null, kind: "digital", label: "Digital download", price: product.price }];
    const quantity = h("input", {
      id: "quantity", type: "number", class: "form-control quantity-input", min: 1, max: MAX_QUANTITY, value: 1,
      inputmode: "numeric", "data-testid": "quantity",
    });
    const quantityRow = h("div", { class: "mb-3 quantity-row", hidden: true },
      h("label", { class: "form-label", for: "quantity", text: "How many prints" }), quantity);
    const added = h("p", { class: "added-note", role: "status", "data-testid": "added-to-cart" });
    const form = h("form", { class: "buy-form", "data-testid": "buy-form" },
      h("fieldset", {},
        h("legend", { class: "h5", text: "Choose how you want it" }),
        formats.map((f, i) => formatChoice(product, f, i === 0))),
      quantityRow,
      h("button", { type: "submit", class: "btn btn-primary btn-lg w-100", "data-testid": "add-to-cart", text: "Add to cart" }),
      added,
      h("a", { class: "btn btn-outline-dark w-100 mt-2", href: "#/cart", "data-testid": "go-to-cart", text: "Go to cart" }));
    const chosen = () => form.querySelector("input[name=format]:checked");
    form.addEventListener("change", () => {
      quantityRow.hidden = chosen()?.dataset.kind !== "print";
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const input = chosen();
      const format = input && input.value ? Number(input.value) : null;
      const kind = input ? input.dataset.kind : "digital";
      const count = Math.max(1, Math.min(MAX_QUANTITY, Math.trunc(Number(quantity.value)) || 1));
      cart.add(product.id, kind === "digital" ? null : format, count);
      added.textContent = `Added to your cart: ${input ? input.dataset.label : "Digital download"}${kind === "print" ? ` × ${count}` : ""}.`;
      quantity.value = "1";
    });
    const zoom = h("button", { type: "button", class: "btn btn-outline-dark btn-sm mt-2", "data-testid": "enlarge", text: "View full size" });
    zoom.addEventListener("click", () => enlarge(product, zoom));
    body.replaceChildren(h("div", { class: "row g-4 product-page", "data-testid": "product-page" },
      h("div", { class: "col-lg-7" },
        h("figure", { class: "product-figure" },
          h("img", { src: product.url, alt: product.description, class: "product-photo", "data-testid": "product-photo" }),
          h("figcaption", {}, zoom))),
      h("div", { class: "col-lg-5" },
        h("h1", { tabindex: "-1", "data-testid": "product-heading", text: product.description }),
        h("p", { class: "lead", text: `From ${formatMoney(Math.min(...formats.map((f) => Number(f.price))), product.currency)}` }),
        form)));
    root.querySelector("h1")?.focus();
  }
  load();
  void flash; void navigate;
}

// ---------------------------------------------------------------- the cart and checkout

const ADDRESS_FIELDS = [
  { name: "name", label: "Full name", autocomplete: "shipping name" },
  { name: "line1", label: "Address", autocomplete: "shipping address-line1" },
  { name: "line2", label: "Apartment, suite (optional)", autocomplete: "shipping address-line2", optional: true },
  { name: "city", label: "City", autocomplete: "shipping address-level2" },
  { name: "postal_code", label: "Postal code", autocomplete: "shipping postal-code" },
  { name: "country", label: "Country code (two letters, e.g. US)", autocomplete: "shipping country", pattern: "[A-Za-z]{2}", maxlength: 2 },
];

function addressForm() {
  const saved = readJson(ADDRESS_KEY, {});
  const inputs = {};
  const fields = ADDRESS_FIELDS.map((f) => {
    const id = `ship-${f.name}`;
    const input = h("input", {
      id, name: f.name, class: "form-control", autocomplete: f.autocomplete, required: !f.optional,
      pattern: f.pattern, maxlength: f.maxlength || 200, value: saved[f.name] || "",
      "aria-describedby": `${id}-feedback`, "data-testid": `ship-${f.name}`,
    });
    inputs[f.name] = input;
    input.addEventListener("input", () => {
      writeJson(ADDRESS_KEY, Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.value])));
      input.classList.remove("is-invalid");
    });
    return h("div", { class: f.name === "line1" || f.name === "name" ? "col-12" : "col-sm-6" },
      h("label", { class: "form-label", for: id, text: f.label }), input,
      h("div", { id: `${id}-feedback`, class: "invalid-feedback", text: "Please fill this in." }));
  });
  const section = h("fieldset", { class: "address-form", "data-testid": "address-form" },
    h("legend", { class: "h5", text: "Where should we send the prints?" }),
    h("div", { class: "row g-3" }, fields));
  return {
    section,
    /** The address, or null (and the first bad field focused) when it is incomplete. */
    value() {
      let first = null;
      for (const f of ADDRESS_FIELDS) {
        const input = inputs[f.name];
        const text = input.value.trim();
        const bad = (!f.optional && !text) || (f.name === "country" && !/^[A-Za-z]{2}$/.test(text));
        input.classList.toggle("is-invalid", bad);
        if (bad && !first) first = input;
      }
      if (first) {
        first.focus();
        return null;
      }
      return Object.fromEntries(ADDRESS_FIELDS.map((f) => [f.name, inputs[f.name].value.trim()]));
    },
  };
}

export function cartView(root, signal, query, { api, config, checkout, isLoggedIn, requireLogin }) {
  const body = h("div");
  root.append(h("div", { class: "page-head" }, h("h1", { tabindex: "-1", text: "Your cart" })), body);

  async function load() {
    body.replaceChildren(loadingRow("Loading your cart…"));
    let products;
    try {
      products = await api.products();
    } catch (error) {
      if (!signal.aborted) body.replaceChildren(loadFailed(error, load));
      return;
    }
    if (signal.aborted) return;
    draw(Array.isArray(products) ? products : []);
  }

  function draw(products) {
    const lines = pricedLines(products);
    if (!lines.length) {
      body.replaceChildren(h("div", { class: "empty-state", "data-testid": "cart-empty" },
        h("p", { text: "Your cart is empty." }),
        h("a", { class: "btn btn-primary", href: "#/", text: "Browse the photos" })));
      return;
    }
    const currency = lines[0].product.currency || "usd";
    const ships = lines.some((l) => l.format.kind === "print");
    const subtotal = lines.reduce((sum, l) => sum + cents(l.format.price) * l.quantity, 0);
    const shipping = ships ? cents(config.shippingPrice || 0) : 0;
    const total = subtotal + shipping;
    const rows = lines.map((l) => {
      const qtyId = `qty-${l.index}`;
      const qty = l.format.kind === "print"
        ? h("input", { id: qtyId, type: "number", min: 1, max: MAX_QUANTITY, value: l.quantity, class: "form-control quantity-input", "data-testid": "cart-quantity", inputmode: "numeric" })
        : h("span", { id: qtyId, class: "quantity-fixed", text: "1" });
      if (qty.tagName === "INPUT") {
        qty.addEventListener("change", () => {
          cart.setQuantity(l.index, Math.trunc(Number(qty.value)) || 1);
          draw(products);
          body.querySelector(`#${qtyId}`)?.focus();
        });
      }
      const remove = h("button", { type: "button", class: "btn btn-outline-danger btn-sm", "data-testid": "cart-remove", "aria-label": `Remove ${l.product.description}, ${l.format.label}`, text: "Remove" });
      remove.addEventListener("click", () => { cart.remove(l.index); draw(products); body.querySelector("h2, .btn")?.focus(); });
      return h("li", { class: "card cart-line", "data-testid": "cart-line" },
        h("div", { class: "cart-line-inner" },
          photo(l.product.url, l.product.description, { className: "cart-thumb", width: 120, height: 90 }),
          h("div", { class: "cart-line-info" },
            h("h2", { class: "h6 mb-1", text: l.product.description }),
            h("p", { class: "mb-1 text-body-secondary", "data-testid": "cart-format", text: `${l.format.label} — ${formatMoney(l.format.price, currency)} each` }),
            h("div", { class: "d-flex align-items-center gap-2 flex-wrap" },
              h("label", { for: qtyId, class: "small", text: "Quantity" }), qty, remove)),
          h("p", { class: "cart-line-price", "data-testid": "cart-line-price", text: formatMoney((cents(l.format.price) * l.quantity) / 100, currency) })));
    });
    const address = ships ? addressForm() : null;
    const error = h("div", { class: "alert alert-danger", role: "alert", "data-testid": "cart-error", hidden: true });
    const pay = h("button", { type: "submit", class: "btn btn-primary btn-lg w-100", "data-testid": "checkout" },
      h("span", { class: "btn-label", text: isLoggedIn() ? `Pay ${formatMoney(total / 100, currency)}` : "Log in to pay" }));
    const form = h("form", { class: "checkout-page", novalidate: true, "data-testid": "checkout-form" },
      address ? address.section : h("p", { class: "text-body-secondary", text: "Downloads only: nothing to ship, no address needed." }),
      error, pay);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!isLoggedIn()) {
        requireLogin("/cart");
        return;
      }
      const shippingAddress = address ? address.value() : null;
      if (address && !shippingAddress) return;
      const items = lines.map((l) => ({ product: l.product.id, format: l.format.id, quantity: l.quantity }));
      checkout.open({
        title: "Pay for your order",
        description: `${lines.length === 1 ? lines[0].product.description : `${lines.length} items`}`,
        url: lines[0].product.url,
        price: total / 100,
        currency,
        note: ships ? `Shipping to ${shippingAddress.name}, ${shippingAddress.city} (${shippingAddress.country.toUpperCase()}), ${formatMoney(shipping / 100, currency)} included.` : "Digital downloads, available on your order page once paid.",
        body: { items, ...(shippingAddress ? { shipping: shippingAddress } : {}) },
        onPaid: () => cart.clear(),
      }, pay);
    });
    body.replaceChildren(h("div", { class: "row g-4" },
      h("div", { class: "col-lg-7" },
        h("ul", { class: "list-unstyled cart-lines", "data-testid": "cart-lines" }, rows)),
      h("div", { class: "col-lg-5" },
        h("dl", { class: "cart-totals", "data-testid": "cart-totals" },
          h("dt", { text: "Items" }), h("dd", { "data-testid": "cart-subtotal", text: formatMoney(subtotal / 100, currency) }),
          h("dt", { text: "Shipping" }), h("dd", { "data-testid": "cart-shipping", text: ships ? formatMoney(shipping / 100, currency) : "None (downloads)" }),
          h("dt", { class: "fw-bold", text: "Total" }), h("dd", { class: "fw-bold", "data-testid": "cart-total", text: formatMoney(total / 100, currency) })),
        form)));
  }
  load();
  void query;
}

// ---------------------------------------------------------------- the order page

const STATUS_TEXT = {
  PAID: "Paid",
  PENDING: "Payment being confirmed",
  FAILED: "Payment declined",
  PARTIALLY_REFUNDED: "Partly refunded",
  REFUNDED: "Refunded",
};

export function orderView(root, signal, query, { api, statusBadges }) {
  const orderId = Number(query.get("id"));
  const body = h("div");
  root.append(body);

  async function download(order, item, button) {
    setButtonBusy(button, true, "Preparing…");
    try {
      const link = await api.downloadLink(order.id, item.id);
      window.location.assign(link.url);
    } catch (error) {
      if (error instanceof SessionExpiredError) return;
      button.after(h("p", { class: "text-danger small", role: "alert", text: error.message }));
    } finally {
      setButtonBusy(button, false);
    }
  }

  async function load() {
    body.replaceChildren(loadingRow("Loading your order…"));
    let order;
    try {
      order = await api.order(orderId);
    } catch (error) {
      if (signal.aborted || error instanceof SessionExpiredError) return;
      if (error instanceof ApiError && error.status === 404) {
        body.replaceChildren(h("div", { class: "empty-state" },
          h("h1", { tabindex: "-1", text: "Order not found" }),
          h("a", { class: "btn btn-primary", href: "#/orders", text: "See your orders" })));
        return;
      }
      body.replaceChildren(loadFailed(error, load));
      return;
    }
    if (signal.aborted) return;
    const currency = order.product?.currency || "usd";
    const paid = order.paymentstatus === "PAID" || order.paymentstatus === "PARTIALLY_REFUNDED";
    const items = Array.isArray(order.items) && order.items.length
      ? order.items
      : [{ id: 1, product: order.product, format: { kind: "digital", label: "Digital download" }, quantity: 1, price: order.product?.price }];
    const rows = items.map((item) => {
      const action = item.format.kind === "digital" && paid
        ? h("button", { type: "button", class: "btn btn-primary btn-sm no-print", "data-testid": "download", text: "Download" })
        : null;
      action?.addEventListener("click", () => download(order, item, action));
      return h("tr", { "data-testid": "receipt-line" },
        h("td", {}, h("span", { class: "fw-semibold", text: item.product?.description || "" }), h("br"),
          h("span", { class: "text-body-secondary small", text: item.format.label }), action ? h("div", { class: "mt-1" }, action) : null),
        h("td", { class: "text-end", text: String(item.quantity) }),
        h("td", { class: "text-end", text: formatMoney(item.price, currency) }),
        h("td", { class: "text-end", text: formatMoney((cents(item.price) * item.quantity) / 100, currency) }));
    });
    const shipping = order.shipping;
    const print = h("button", { type: "button", class: "btn btn-outline-dark no-print", "data-testid": "print-receipt", text: "Print receipt" });
    print.addEventListener("click", () => window.print());
    body.replaceChildren(h("article", { class: "receipt", "data-testid": "order-page" },
      h("div", { class: "d-flex flex-wrap justify-content-between align-items-start gap-2" },
        h("div", {},
          h("h1", { tabindex: "-1", text: `Order #${order.id}` }),
          h("p", { class: "text-body-secondary mb-0" }, "Placed on ",
            h("time", { datetime: order.orderdate, text: formatDateTime(order.orderdate) }))),
        h("span", { class: `badge order-status ${statusBadges[order.paymentstatus] || "text-bg-light"}`, "data-testid": "order-page-status", text: STATUS_TEXT[order.paymentstatus] || order.paymentstatus })),
      h("div", { class: "table-responsive mt-3" },
        h("table", { class: "table receipt-table" },
          h("caption", { class: "visually-hidden", text: "What you bought" }),
          h("thead", {}, h("tr", {},
            h("th", { scope: "col", text: "Item" }), h("th", { scope: "col", class: "text-end", text: "Qty" }),
            h("th", { scope: "col", class: "text-end", text: "Price" }), h("th", { scope: "col", class: "text-end", text: "Amount" }))),
          h("tbody", {}, rows),
          h("tfoot", {},
            h("tr", {}, h("th", { scope: "row", colspan: 3, class: "text-end", text: "Shipping" }),
              h("td", { class: "text-end", "data-testid": "order-page-shipping-price", text: formatMoney(order.shipping_price || 0, currency) })),
            Number(order.refunded) > 0
              ? h("tr", {}, h("th", { scope: "row", colspan: 3, class: "text-end", text: "Refunded" }),
                h("td", { class: "text-end", text: `−${formatMoney(order.refunded, currency)}` }))
              : null,
            h("tr", {}, h("th", { scope: "row", colspan: 3, class: "text-end", text: "Total" }),
              h("td", { class: "text-end fw-bold", "data-testid": "order-page-total", text: formatMoney(order.total ?? order.product?.price, currency) }))))),
      shipping
        ? h("section", { class: "mt-3", "data-testid": "order-page-address" },
          h("h2", { class: "h6", text: "Shipping to" }),
          h("address", {},
            [shipping.name, shipping.line1, shipping.line2, `${shipping.postal_code} ${shipping.city}`, shipping.country]
              .filter(Boolean).flatMap((line, i) => (i ? [h("br"), line] : [line]))))
        : null,
      h("div", { class: "d-flex flex-wrap gap-2 mt-3" }, print,
        h("a", { class: "btn btn-link no-print", href: "#/orders", text: "All your orders" }))));
    root.querySelector("h1")?.focus();
  }
  load();
}
