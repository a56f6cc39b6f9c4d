// Small DOM helpers. Every piece of text goes in through text nodes or attributes, never as
// HTML, so data from the API cannot inject markup.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Builds an element: h("p", {class: "lead", text: "Hi"}, child, "more text").
 * Attributes: class, text (textContent), dataset (object), on<event> (listener),
 * true (boolean attribute), false/null/undefined (skipped); everything else setAttribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

/** Appends nodes and strings (as text nodes), skipping null, undefined and false. */
export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
  return parent;
}

/** Builds an SVG element with the given attributes (constant markup only). */
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children) el.append(child);
  return el;
}

/** A framed-picture icon: a frame, a mat, a mountain and a sun. */
export function frameIcon(className = "photo-placeholder-icon") {
  return svg(
    "svg",
    { class: className, viewBox: "0 0 64 64", width: 64, height: 64, "aria-hidden": "true", focusable: "false" },
    svg("rect", { x: 4, y: 6, width: 56, height: 52, rx: 3, fill: "none", stroke: "currentColor", "stroke-width": 4 }),
    svg("rect", { x: 12, y: 14, width: 40, height: 36, rx: 1, fill: "none", stroke: "currentColor", "stroke-width": 2, opacity: 0.6 }),
    svg("circle", { cx: 40, cy: 24, r: 4, fill: "currentColor", opacity: 0.7 }),
    svg("path", { d: "M14 48 L27 30 L36 41 L41 35 L50 48 Z", fill: "currentColor", opacity: 0.85 }),
  );
}

/** The tidy stand-in for a picture that could not load: the frame icon and the title. */
export function photoPlaceholder(title) {
  return h(
    "div",
    { class: "photo-placeholder", role: "img", "aria-label": `${title} (picture unavailable)`, "data-testid": "photo-placeholder" },
    frameIcon(),
    h("span", { class: "photo-placeholder-title", "aria-hidden": "true", text: title }),
  );
}

function isWebUrl(url) {
  try {
    const { protocol } = new URL(url, document.baseURI);
    return protocol === "https:" || protocol === "http:";
  } catch {
    return false;
  }
}

/**
 * A lazily loaded picture inside a fixed-ratio frame (no layout shift); if it cannot load
 * (or the URL is not a web address) the frame shows the placeholder instead.
 */
export function photo(url, title, { className = "", width = 800, height = 600 } = {}) {
  const frame = h("div", { class: `photo-frame ${className}`.trim() });
  if (!url || !isWebUrl(url)) {
    frame.append(photoPlaceholder(title));
    return frame;
  }
  const img = h("img", {
    src: url, alt: title, width, height, loading: "lazy", decoding: "async", referrerpolicy: "no-referrer",
  });
  img.addEventListener("error", () => img.replaceWith(photoPlaceholder(title)), { once: true });
  frame.append(img);
  return frame;
}

/** A small spinner for buttons and loading rows (hidden from screen readers). */
export function spinner() {
  return h("span", { class: "spinner-border spinner-border-sm", "aria-hidden": "true" });
}

/** Puts a button into (or out of) its busy state: disabled, aria-busy, spinner, label. */
export function setButtonBusy(button, busy, busyLabel) {
  const label = button.querySelector(".btn-label");
  if (busy) {
    if (label && button.dataset.idleLabel === undefined) button.dataset.idleLabel = label.textContent;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    if (!button.querySelector(".spinner-border")) button.prepend(spinner());
    if (label && busyLabel) label.textContent = busyLabel;
  } else {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.querySelector(".spinner-border")?.remove();
    if (label && button.dataset.idleLabel !== undefined) label.textContent = button.dataset.idleLabel;
    delete button.dataset.idleLabel;
  }
}

/** The elements inside root that Tab can reach, in order. */
export function focusableIn(root) {
  const selector = [
    "a[href]", "button:not([disabled])", "input:not([disabled]):not([type=hidden])", "select:not([disabled])",
    "textarea:not([disabled])", "iframe", "[tabindex]:not([tabindex='-1'])",
  ].join(",");
  return [...root.querySelectorAll(selector)].filter((el) => el.getClientRects().length > 0 && !el.closest("[hidden]"));
}

/** A "loading…" line with a spinner, announced politely. */
export function loadingRow(text) {
  return h("div", { class: "loading-row", role: "status" }, spinner(), h("span", { text }));
}

/** The error of a failed load, with a button that tries again. */
export function loadFailed(error, retry) {
  return h("div", { class: "alert alert-danger d-flex flex-wrap align-items-center gap-3", role: "alert", "data-testid": "load-error" },
    h("span", { class: "me-auto", text: error.message }),
    h("button", { type: "button", class: "btn btn-sm btn-outline-danger", onclick: retry, text: "Try again" }));
}
