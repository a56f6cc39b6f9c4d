// The owner's pages (admins only; the API refuses anyone else): the photos for sale (add,
// edit, remove, with a preview of the picture) and every shopper's orders (filter, search,
// pages, refunds in full or in part).

import { ApiError, SessionExpiredError } from "./api.js";
import { h, loadFailed, loadingRow, photo, setButtonBusy } from "./dom.js";
import { formatDateTime, formatMoney } from "./format.js";

const PER_PAGE = 20;
const STATUSES = ["PENDING", "PAID", "PARTIALLY_REFUNDED", "REFUNDED", "FAILED"];
const REFUNDABLE = new Set(["PAID", "PARTIALLY_REFUNDED"]);
const PRICE_PATTERN = /^[0-9]{1,6}(\.[0-9]{1,2})?$/;
const URL_PATTERN = /^https:\/\/[^\s/$.?#][^\s]*$/;

/** Whole cents of an API amount in major units (59.99 → 5999), without float surprises. */
const cents = (major) => Math.round(Number(major || 0) * 100);

function labelled(id, label, control, hint) {
  const feedback = h("div", { id: `${id}-feedback`, class: "invalid-feedback" });
  control.setAttribute("aria-describedby", hint ? `${id}-feedback ${id}-hint` : `${id}-feedback`);
  return {
    input: control,
    feedback,
    wrapper: h("div", { class: "mb-3" },
      h("label", { for: id, class: "form-label", text: label }), control, feedback,
      hint ? h("div", { id: `${id}-hint`, class: "form-text", text: hint }) : null),
  };
}

function setError({ input, feedback }, message) {
  input.classList.toggle("is-invalid", Boolean(message));
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  feedback.textContent = message || "";
}

function errorBox(testid) {
  return h("div", { class: "alert alert-danger", role: "alert", "data-testid": testid, hidden: true });
}

function show(box, message) {
  box.textContent = message || "";
  box.hidden = !message;
}

// ---------------------------------------------------------------- photos

/** #/owner/photos: the add/edit form with a live preview, and the photos on sale. */
export function ownerPhotosView(root, signal, { api }) {
  const list = h("div");
  const fields = {
    description: labelled("photo-description", "Description",
      h("input", { id: "photo-description", class: "form-control", required: true, maxlength: 500, "data-testid": "photo-description" })),
    url: labelled("photo-url", "Image URL",
      h("input", { id: "photo-url", type: "url", class: "form-control", required: true, inputmode: "url", "data-testid": "photo-url" }),
      "An https:// address of the picture."),
    price: labelled("photo-price", "Price in dollars",
      h("input", { id: "photo-price", class: "form-control", required: true, inputmode: "decimal", "data-testid": "photo-price" }),
      "For example 59.99."),
  };
  const preview = h("div", { class: "photo-preview", "data-testid": "photo-preview", "aria-live": "polite" });
  const heading = h("h2", { id: "photo-form-heading", class: "h5", text: "Add a photo" });
  const alert = errorBox("photo-error");
  const save = h("button", { type: "submit", class: "btn btn-primary", "data-testid": "photo-save" }, h("span", { class: "btn-label", text: "Add the photo" }));
  const cancel = h("button", { type: "button", class: "btn btn-outline-secondary", "data-testid": "photo-cancel", hidden: true, text: "Cancel" });
  const form = h("form", { class: "owner-form", novalidate: true, "aria-labelledby": "photo-form-heading", "data-testid": "photo-form" },
    alert, fields.description.wrapper, fields.url.wrapper, fields.price.wrapper,
    h("p", { class: "form-label mb-1", id: "photo-preview-label", text: "Preview" }), preview,
    h("div", { class: "d-flex gap-2 mt-3" }, save, cancel));
  let editing = null;

  function updatePreview() {
    const url = fields.url.input.value.trim();
    const title = fields.description.input.value.trim() || "The new photo";
    preview.replaceChildren(URL_PATTERN.test(url)
      ? photo(url, title, { className: "photo-preview-frame" })
      : h("p", { class: "text-body-secondary small mb-0", text: "Enter an https:// image URL to see the picture here." }));
  }
  fields.url.input.addEventListener("input", updatePreview);
  fields.description.input.addEventListener("change", updatePreview);

  function reset() {
    editing = null;
    form.reset();
    heading.textContent = "Add a photo";
    save.querySelector(".btn-label").textContent = "Add the photo";
    cancel.hidden = true;
    Object.values(fields).forEach((f) => setError(f, ""));
    show(alert, "");
    updatePreview();
  }
  cancel.addEventListener("click", reset);

  function edit(product) {
    editing = product;
    fields.description.input.value = product.description;
    fields.url.input.value = product.url;
    fields.price.input.value = (cents(product.price) / 100).toFixed(2);
    heading.textContent = `Edit “${product.description}”`;
    save.querySelector(".btn-label").textContent = "Save the changes";
    cancel.hidden = false;
    updatePreview();
    fields.description.input.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    show(alert, "");
    const values = {
      description: fields.description.input.value.trim(),
      url: fields.url.input.value.trim(),
      price: fields.price.input.value.trim(),
    };
    const errors = {};
    if (!values.description) errors.description = "Describe the photo.";
    if (!URL_PATTERN.test(values.url)) errors.url = "Enter an https:// address of the picture.";
    if (!PRICE_PATTERN.test(values.price) || cents(values.price) <= 0) errors.price = "Enter a price like 59.99.";
    let first = null;
    for (const [name, f] of Object.entries(fields)) {
      setError(f, errors[name]);
      if (errors[name] && !first) first = f.input;
    }
    if (first) {
      first.focus();
      return;
    }
    setButtonBusy(save, true, "Saving…");
    try {
      if (editing) await api.updateProduct(editing.id, values);
      else await api.createProduct(values);
      setButtonBusy(save, false);
      notice.textContent = editing ? `“${values.description}” is saved.` : `“${values.description}” is now for sale.`;
      notice.hidden = false;
      reset();
      load();
    } catch (error) {
      setButtonBusy(save, false);
      if (!(error instanceof SessionExpiredError)) show(alert, error.message);
    }
  });

  const notice = h("div", { class: "alert alert-success", role: "status", "data-testid": "photo-saved", hidden: true });

  function row(product) {
    const remove = h("button", { type: "button", class: "btn btn-sm btn-outline-danger", "data-testid": "photo-remove", text: "Remove", "aria-describedby": `owner-photo-${product.id}` });
    // Toggled with `hidden`, so the flex layout sits on an inner element (Bootstrap's d-flex
    // would win over the hidden attribute).
    const confirm = h("div", { hidden: true }, h("div", { class: "d-flex flex-wrap gap-2 align-items-center" },
      h("span", { class: "small", text: "Take it off sale?" }),
      h("button", { type: "button", class: "btn btn-sm btn-danger", "data-testid": "photo-remove-confirm", text: "Yes, remove it" }),
      h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", text: "Keep it" })));
    const [yes, keep] = confirm.querySelectorAll("button");
    const actions = h("div", {}, h("div", { class: "d-flex flex-wrap gap-2" },
      h("button", { type: "button", class: "btn btn-sm btn-outline-primary", "data-testid": "photo-edit", text: "Edit", "aria-describedby": `owner-photo-${product.id}`, onclick: () => edit(product) }),
      remove));
    remove.addEventListener("click", () => { actions.hidden = true; confirm.hidden = false; yes.focus(); });
    keep.addEventListener("click", () => { confirm.hidden = true; actions.hidden = false; remove.focus(); });
    yes.addEventListener("click", async () => {
      setButtonBusy(yes, true);
      try {
        await api.removeProduct(product.id);
        if (editing && editing.id === product.id) reset();
        load();
      } catch (error) {
        setButtonBusy(yes, false);
        if (!(error instanceof SessionExpiredError)) show(alert, error.message);
      }
    });
    return h("li", { class: "card owner-photo", "data-testid": "owner-photo", dataset: { productId: product.id } },
      h("div", { class: "owner-photo-inner" },
        photo(product.url, product.description, { className: "order-thumb", width: 160, height: 120 }),
        h("div", { class: "owner-photo-info" },
          h("h3", { id: `owner-photo-${product.id}`, class: "h6 mb-1", "data-testid": "owner-photo-title", text: product.description }),
          h("p", { class: "mb-2", "data-testid": "owner-photo-price", text: formatMoney(product.price, product.currency) }),
          actions, confirm, formatsPanel(product))));
  }

  /** The photo's print sizes (add, remove) and the full-resolution file a download delivers. */
  function formatsPanel(product) {
    const prints = (Array.isArray(product.formats) ? product.formats : []).filter((f) => f.kind === "print");
    const problem = errorBox("format-error");
    const sizes = h("ul", { class: "list-unstyled mb-2", "data-testid": "owner-sizes" }, prints.map((f) => {
      const drop = h("button", { type: "button", class: "btn btn-sm btn-link text-danger p-0 ms-2", "data-testid": "size-remove", text: "Remove", "aria-label": `Remove ${f.label} of ${product.description}` });
      drop.addEventListener("click", async () => {
        try {
          await api.removeFormat(product.id, f.id);
          load();
        } catch (error) {
          if (!(error instanceof SessionExpiredError)) show(problem, error.message);
        }
      });
      return h("li", { "data-testid": "owner-size" }, `${f.label} — ${formatMoney(f.price, product.currency)}`, drop);
    }));
    const labelId = `size-label-${product.id}`;
    const priceId = `size-price-${product.id}`;
    const fileId = `size-file-${product.id}`;
    const label = h("input", { id: labelId, class: "form-control form-control-sm", maxlength: 100, required: true, "data-testid": "size-label", placeholder: "30x45 cm" });
    const price = h("input", { id: priceId, class: "form-control form-control-sm", inputmode: "decimal", required: true, "data-testid": "size-price", placeholder: "79.00" });
    const addForm = h("form", { class: "row g-2 align-items-end mb-3", novalidate: true },
      h("div", { class: "col-6" }, h("label", { class: "form-label small", for: labelId, text: "Size" }), label),
      h("div", { class: "col-3" }, h("label", { class: "form-label small", for: priceId, text: "Price" }), price),
      h("div", { class: "col-3" }, h("button", { type: "submit", class: "btn btn-sm btn-primary w-100", "data-testid": "size-add", text: "Add" })));
    addForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      show(problem, "");
      try {
        await api.addFormat(product.id, { label: label.value.trim(), price: price.value.trim() });
        load();
      } catch (error) {
        if (!(error instanceof SessionExpiredError)) show(problem, error.message);
      }
    });
    const file = h("input", { id: fileId, type: "url", class: "form-control form-control-sm", "data-testid": "file-url", placeholder: "https://…/original.tif" });
    const fileSaved = h("span", { class: "small text-success ms-2", role: "status" });
    const fileForm = h("form", { class: "d-flex flex-wrap gap-2 align-items-end", novalidate: true },
      h("div", { class: "flex-grow-1" }, h("label", { class: "form-label small", for: fileId, text: "Full-resolution file (what a download delivers)" }), file),
      h("button", { type: "submit", class: "btn btn-sm btn-outline-primary", "data-testid": "file-save", text: "Save file" }), fileSaved);
    fileForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      show(problem, "");
      try {
        await api.setProductFile(product.id, file.value.trim());
        fileSaved.textContent = "Saved.";
      } catch (error) {
        if (!(error instanceof SessionExpiredError)) show(problem, error.message);
      }
    });
    const panel = h("details", { class: "owner-formats mt-2", "data-testid": "owner-formats" },
      h("summary", { text: `Print sizes (${prints.length}) and file` }),
      h("div", { class: "pt-2" }, problem, sizes, addForm, fileForm));
    panel.addEventListener("toggle", async () => {
      if (!panel.open || file.dataset.loaded) return;
      file.dataset.loaded = "true";
      try {
        const found = await api.productFile(product.id);
        if (found && found.file && !file.value) file.value = found.file;
      } catch { /* the field stays empty; saving still works */ }
    });
    return panel;
  }

  async function load() {
    list.replaceChildren(loadingRow("Loading the photos…"));
    let products;
    try {
      products = await api.products();
    } catch (error) {
      if (!signal.aborted) list.replaceChildren(loadFailed(error, load));
      return;
    }
    if (signal.aborted) return;
    list.replaceChildren(products.length
      ? h("ul", { class: "list-unstyled owner-photos", "data-testid": "owner-photos" }, products.map(row))
      : h("p", { class: "empty-state", text: "No photos are for sale yet: add the first one." }));
  }

  root.append(
    h("div", { class: "page-head" },
      h("h1", { tabindex: "-1", text: "Photos for sale" }),
      h("p", { class: "lead text-body-secondary mb-0", text: "What shoppers see in the catalog. Orders keep the photo and price they were bought at." })),
    notice,
    h("div", { class: "row g-4 align-items-start" },
      h("section", { class: "col-12 col-lg-5" }, h("div", { class: "card" }, h("div", { class: "card-body p-4" }, heading, form))),
      h("section", { class: "col-12 col-lg-7", "aria-labelledby": "owner-photos-heading" },
        h("h2", { id: "owner-photos-heading", class: "h5", text: "On sale now" }), list)));
  updatePreview();
  load();
}

// ---------------------------------------------------------------- orders

function statusBadge(status, badges) {
  return h("span", { class: `badge order-status ${badges[status] || "text-bg-light"}`, "data-testid": "owner-order-status", text: status });
}

/** The refund dialog for one order: everything that is left, or a part of it. */
function refundDialog(order, { api, onRefunded }) {
  const currency = order.product.currency;
  const left = cents(order.product.price) - cents(order.refunded);
  const amount = labelled("refund-amount", "Amount to refund in dollars",
    h("input", { id: "refund-amount", class: "form-control", inputmode: "decimal", required: true, value: (left / 100).toFixed(2), "data-testid": "refund-amount" }),
    `Up to ${formatMoney(left / 100, currency)}; leave it as is to refund everything that is left.`);
  const alert = errorBox("refund-error");
  const submit = h("button", { type: "submit", class: "btn btn-danger", "data-testid": "refund-submit" }, h("span", { class: "btn-label", text: "Refund" }));
  const close = h("button", { type: "button", class: "btn-close", "aria-label": "Close", "data-testid": "refund-close" });
  const form = h("form", { novalidate: true, "aria-label": `Refund order ${order.id}` }, alert, amount.wrapper,
    h("div", { class: "d-flex gap-2" }, submit,
      h("button", { type: "button", class: "btn btn-outline-secondary", text: "Cancel", onclick: () => dialog.close() })));
  const dialog = h("dialog", { class: "checkout", "aria-labelledby": "refund-title", "data-testid": "refund-dialog" },
    h("div", { class: "modal-content" },
      h("div", { class: "modal-header" },
        h("h2", { id: "refund-title", class: "modal-title h5", text: `Refund order #${order.id}` }), close),
      h("div", { class: "modal-body" },
        h("p", { text: `${order.product.description}, bought by ${order.email} for ${formatMoney(order.product.price, currency)}.` }),
        form)));
  close.addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    show(alert, "");
    const text = amount.input.value.trim();
    const wanted = cents(text);
    if (!PRICE_PATTERN.test(text) || wanted <= 0 || wanted > left) {
      setError(amount, `Enter an amount from 0.01 to ${(left / 100).toFixed(2)}.`);
      amount.input.focus();
      return;
    }
    setError(amount, "");
    setButtonBusy(submit, true, "Refunding…");
    try {
      const refunded = await api.refund(order.id, wanted === left ? null : text);
      dialog.close();
      onRefunded(refunded);
    } catch (error) {
      setButtonBusy(submit, false);
      if (!(error instanceof SessionExpiredError)) show(alert, error.message);
    }
  });
  return dialog;
}

/** #/owner/orders?status=&q=&page=: every shopper's orders, newest first. */
export function ownerOrdersView(root, signal, query, { api, navigate, statusBadges }) {
  const status = STATUSES.includes(query.get("status")) ? query.get("status") : "";
  const q = (query.get("q") || "").trim();
  const page = Math.max(1, Number.parseInt(query.get("page") || "1", 10) || 1);
  const body = h("div");
  const announcer = h("p", { class: "visually-hidden", role: "status", "data-testid": "owner-orders-summary-live" });

  const statusSelect = h("select", { id: "orders-status", class: "form-select", "data-testid": "orders-status" },
    h("option", { value: "", text: "Every status" }),
    STATUSES.map((value) => h("option", { value, text: value, selected: value === status })));
  const search = h("input", { id: "orders-q", type: "search", class: "form-control", value: q, "data-testid": "orders-q" });
  const filters = h("form", { class: "row g-2 align-items-end owner-filters", role: "search", "aria-label": "Find orders", "data-testid": "orders-filter" },
    h("div", { class: "col-12 col-sm-4" }, h("label", { for: "orders-status", class: "form-label", text: "Status" }), statusSelect),
    h("div", { class: "col-12 col-sm-5" }, h("label", { for: "orders-q", class: "form-label", text: "Order number or shopper's email" }), search),
    h("div", { class: "col-12 col-sm-3" }, h("button", { type: "submit", class: "btn btn-primary w-100", "data-testid": "orders-search", text: "Search" })));

  function go(changes) {
    const next = new URLSearchParams({ status, q, page: String(page), ...changes });
    for (const [key, value] of [...next]) if (!value || (key === "page" && value === "1")) next.delete(key);
    const text = next.toString();
    navigate(`/owner/orders${text ? `?${text}` : ""}`);
  }
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    go({ status: statusSelect.value, q: search.value.trim(), page: "1" });
  });

  function orderRow(order, refresh) {
    const refundable = REFUNDABLE.has(order.paymentstatus) && cents(order.refunded) < cents(order.product.price);
    const refund = refundable
      ? h("button", { type: "button", class: "btn btn-sm btn-outline-danger", "data-testid": "order-refund", "aria-label": `Refund order ${order.id}`, text: "Refund" })
      : null;
    refund?.addEventListener("click", () => {
      const dialog = refundDialog(order, {
        api,
        onRefunded: (changed) => {
          announcer.textContent = `Order ${changed.id} is now ${changed.paymentstatus}.`;
          refresh();
        },
      });
      dialog.addEventListener("close", () => { dialog.remove(); if (refund.isConnected) refund.focus(); });
      document.body.append(dialog);
      dialog.showModal();
      dialog.querySelector("input")?.focus();
    });
    const currency = order.product.currency;
    return h("tr", { "data-testid": "owner-order", dataset: { orderId: order.id, status: order.paymentstatus } },
      h("th", { scope: "row", text: `#${order.id}` }),
      h("td", {}, h("time", { datetime: order.orderdate, text: formatDateTime(order.orderdate) })),
      h("td", { class: "text-break", "data-testid": "owner-order-email", text: order.email }),
      h("td", { "data-testid": "owner-order-product", text: order.product.description }),
      h("td", { class: "text-end", "data-testid": "owner-order-amount", text: formatMoney(order.product.price, currency) }),
      h("td", { class: "text-end", "data-testid": "owner-order-refunded", text: formatMoney(order.refunded, currency) }),
      h("td", {}, statusBadge(order.paymentstatus, statusBadges)),
      h("td", { class: "small text-break" },
        h("code", { "data-testid": "owner-order-payment", text: order.payment_id || "—" }),
        order.dispute ? h("div", { class: "badge text-bg-danger mt-1 d-block", "data-testid": "owner-order-dispute", text: `Dispute: ${order.dispute}` }) : null),
      h("td", {}, refund));
  }

  async function load() {
    body.replaceChildren(loadingRow("Loading the orders…"));
    let found;
    try {
      found = await api.allOrders({ status, q, page, perPage: PER_PAGE });
    } catch (error) {
      if (signal.aborted || error instanceof SessionExpiredError) return;
      body.replaceChildren(error instanceof ApiError && error.status === 400
        ? h("div", { class: "alert alert-warning", role: "alert", text: error.message })
        : loadFailed(error, load));
      return;
    }
    if (signal.aborted) return;
    const pages = Math.max(1, Math.ceil(found.total / found.per_page));
    const summary = `${found.total} order${found.total === 1 ? "" : "s"}${status || q ? " found" : ""} · page ${found.page} of ${pages}`;
    announcer.textContent = summary;
    if (!found.orders.length) {
      body.replaceChildren(h("p", { class: "empty-state", "data-testid": "owner-orders-empty", text: status || q ? "No order matches." : "No orders yet." }));
      return;
    }
    const table = h("div", { class: "table-responsive owner-orders-wrap" },
      h("table", { class: "table table-sm align-middle owner-orders", "data-testid": "owner-orders" },
        h("caption", { text: summary, "data-testid": "owner-orders-summary" }),
        h("thead", {}, h("tr", {},
          ["Order", "Date", "Shopper", "Photo", "Amount", "Refunded", "Status", "Payment", "Actions"].map((label, index) =>
            h("th", { scope: "col", class: index === 4 || index === 5 ? "text-end" : null, text: label })))),
        h("tbody", {}, found.orders.map((order) => orderRow(order, load)))));
    const pager = h("nav", { "aria-label": "Pages of orders", class: "d-flex gap-2 justify-content-between align-items-center" },
      h("button", { type: "button", class: "btn btn-outline-primary", "data-testid": "orders-previous", disabled: found.page <= 1, text: "Previous page", onclick: () => go({ page: String(found.page - 1) }) }),
      h("span", { class: "small text-body-secondary", text: `Page ${found.page} of ${pages}` }),
      h("button", { type: "button", class: "btn btn-outline-primary", "data-testid": "orders-next", disabled: found.page >= pages, text: "Next page", onclick: () => go({ page: String(found.page + 1) }) }));
    body.replaceChildren(table, pager);
  }

  root.append(
    h("div", { class: "page-head" },
      h("h1", { tabindex: "-1", text: "All orders" }),
      h("p", { class: "lead text-body-secondary mb-0", text: "Every shopper's orders, newest first. Refund a paid order in full or in part." })),
    filters, announcer, body);
  load();
}
