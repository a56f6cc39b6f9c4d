// FrameSell's shop: a hash router (#/ the catalog for everyone, #/login, #/orders, the owner's
// #/owner/photos and #/owner/orders), the session, and the views.

import { ApiError, SessionExpiredError, createApi } from "./api.js";
import { h, loadFailed, loadingRow, photo, setButtonBusy, spinner } from "./dom.js";
import { formatDateTime, formatMoney } from "./format.js";
import { ownerOrdersView, ownerPhotosView } from "./owner.js";
import { createCheckout } from "./payment.js";
import { cart, cartView, orderView, productView } from "./shop.js";

const TOKEN_KEY = "framesell.token";
const ADMIN_KEY = "framesell.admin";
const POLL_INTERVAL_MS = 3000;
const POLL_ROUNDS = 20;
const SESSION_EXPIRED = "Your session has expired, please log in again.";
const RETURN_KEY = "framesell.return";
const SESSION_CHECK_MS = 30000;
const PASSWORD_MIN = 8;
const PASSWORD_MAX = 1024;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const STATUS_BADGES = {
  PAID: "text-bg-success",
  PARTIALLY_REFUNDED: "text-bg-info",
  PENDING: "text-bg-warning",
  FAILED: "text-bg-danger",
  PARTIALLY_REFUNDED: "text-bg-info",
  REFUNDED: "text-bg-secondary",
};

/** The JWT, kept for this tab only (sessionStorage), with a fallback when storage is blocked. */
const session = {
  memory: null,
  get token() {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return this.memory;
    }
  },
  save(token) {
    this.memory = token;
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch { /* storage blocked: the in-memory copy lasts until reload */ }
  },
  // Whether the holder is the shop's owner (GET /api/me/'s is_admin); it only decides which
  // pages the menu offers: the API itself refuses a shopper whatever the page believes.
  adminMemory: false,
  get admin() {
    try {
      return sessionStorage.getItem(ADMIN_KEY) === "true";
    } catch {
      return this.adminMemory;
    }
  },
  set admin(value) {
    this.adminMemory = Boolean(value);
    try {
      sessionStorage.setItem(ADMIN_KEY, String(Boolean(value)));
    } catch { /* storage blocked */ }
  },
  clear() {
    this.memory = null;
    this.adminMemory = false;
    try {
      sessionStorage.removeItem(TOKEN_KEY);
      sessionStorage.removeItem(ADMIN_KEY);
    } catch { /* nothing stored */ }
  },
};

const viewRoot = document.getElementById("view");
const noticeRoot = document.getElementById("notices");
const nav = document.getElementById("site-nav");
const config = window.FRAMESELL_CONFIG;

let api;
let checkout;
let authDialog;
let pendingNotice = null;
let currentView = null;
let firstRender = true;

// ---------------------------------------------------------------- notices and navigation

/** Shows a message above the next view rendered (and only that one). */
function flash(text, { kind = "info", testid = "notice", alert = false } = {}) {
  pendingNotice = { text, kind, testid, alert };
}

function renderNotice() {
  noticeRoot.replaceChildren();
  if (!pendingNotice) return;
  const { text, kind, testid, alert } = pendingNotice;
  pendingNotice = null;
  noticeRoot.append(h("div", {
    class: `alert alert-${kind} notice`, role: alert ? "alert" : "status", "data-testid": testid, text,
  }));
}

/** Remembers where to come back to after logging in (the cart survives in localStorage). */
function rememberReturn(path) {
  try {
    sessionStorage.setItem(RETURN_KEY, path);
  } catch { /* storage blocked: back to the catalog */ }
}

function takeReturn() {
  try {
    const path = sessionStorage.getItem(RETURN_KEY);
    sessionStorage.removeItem(RETURN_KEY);
    return path && path.startsWith("/") && !path.startsWith("/login") ? path : "/";
  } catch {
    return "/";
  }
}

function currentHashPath() {
  return location.hash.replace(/^#/, "") || "/";
}

/** Seconds until a JWT's `exp` (negative once passed; -1 for a token that cannot be read). */
function secondsLeft(token) {
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return typeof payload.exp === "number" ? payload.exp - Date.now() / 1000 : Infinity;
  } catch {
    return -1;
  }
}

function tokenExpired(token) {
  return secondsLeft(token) <= 0;
}

const REFRESH_BEFORE_SECONDS = 600;
let refreshing = false;

/** A token close to its end is renewed; when renewing fails the session is over (noticed now). */
async function keepSessionFresh() {
  const token = session.token;
  if (!token || refreshing) return;
  if (tokenExpired(token)) {
    onSessionExpired();
    return;
  }
  if (secondsLeft(token) > REFRESH_BEFORE_SECONDS) return;
  refreshing = true;
  try {
    session.save(await api.refreshToken());
  } catch {
    // A 403 (the login is too old) already ended the session through the API client;
    // a network failure leaves the token as it is until the next check.
  } finally {
    refreshing = false;
  }
}

/** Sends a visitor to log in, back to `path` afterwards. */
function requireLogin(path) {
  rememberReturn(path);
  flash("Log in or sign up to pay — your cart is kept.", { testid: "login-to-pay" });
  navigate("/login");
}

function navigate(path) {
  if (location.hash === `#${path}`) render();
  else location.hash = path;
}

function onSessionExpired() {
  if (!session.token) return; // already handled (several calls may fail at once)
  rememberReturn(currentHashPath());
  session.clear();
  checkout.close();
  authDialog.close();
  flash(SESSION_EXPIRED, { kind: "warning", testid: "session-expired", alert: true });
  navigate("/login");
}

function logout() {
  session.clear();
  checkout.close();
  flash("You have logged out. See you soon!", { testid: "logout-notice" });
  navigate("/");
}

/** Keeps the token, then asks the API whether its holder is the owner (for the menu). */
async function startSession(token) {
  session.save(token);
  try {
    const me = await api.me();
    session.admin = Boolean(me && me.is_admin);
  } catch {
    session.admin = false; // the shopper's pages work either way
  }
  updateNav(currentPath);
}

let currentPath = "/";

function updateNav(path) {
  const roles = { visitor: !session.token, shopper: Boolean(session.token), admin: Boolean(session.token) && session.admin };
  for (const item of nav.querySelectorAll("[data-for]")) item.hidden = !roles[item.dataset.for];
  for (const link of nav.querySelectorAll("a[href^='#/']")) {
    if (link.getAttribute("href") === `#${path}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// access: "public" (anyone), "visitor" (only while logged out), "shopper" (a token), "admin".
const routes = {
  "/": { view: catalogView, title: "Photo prints", access: "public" },
  "/login": { view: landingView, title: "Log in or sign up", access: "visitor" },
  "/orders": { view: ordersView, title: "Your orders", access: "shopper" },
  "/order": { view: (root, signal, query) => orderView(root, signal, query, { api, statusBadges: STATUS_BADGES }), title: "Your order", access: "shopper" },
  "/product": { view: (root, signal, query) => productView(root, signal, query, { api, flash, navigate }), title: "A photo", access: "public" },
  "/cart": { view: (root, signal, query) => cartView(root, signal, query, { api, config, checkout, isLoggedIn: () => Boolean(session.token), requireLogin }), title: "Your cart", access: "public" },
  "/forgot-password": { view: forgotPasswordView, title: "Forgot your password?", access: "public" },
  "/reset-password": { view: resetPasswordView, title: "Choose a new password", access: "public" },
  "/owner/photos": { view: (root, signal) => ownerPhotosView(root, signal, ownerContext()), title: "Photos for sale", access: "admin" },
  "/owner/orders": { view: (root, signal, query) => ownerOrdersView(root, signal, query, ownerContext()), title: "All orders", access: "admin" },
};
// Addresses of earlier versions of the shop.
const ALIASES = { "/shop": "/" };

function ownerContext() {
  return { api, navigate, flash, statusBadges: STATUS_BADGES };
}

function render() {
  currentView?.abort();
  currentView = new AbortController();
  const [rawPath, rawQuery = ""] = location.hash.replace(/^#/, "").split("?", 2);
  let path = ALIASES[rawPath] || rawPath;
  let query = new URLSearchParams(rawQuery);
  if (!routes[path]) path = "/";
  const { access } = routes[path];
  if (access === "visitor" && session.token) path = "/";
  else if ((access === "shopper" || access === "admin") && !session.token) path = "/login";
  else if (access === "admin" && !session.admin) path = "/";
  if (path !== (ALIASES[rawPath] || rawPath)) query = new URLSearchParams();
  const search = query.toString();
  const hash = `#${path}${search ? `?${search}` : ""}`;
  if (location.hash !== hash) history.replaceState(null, "", hash);

  currentPath = path;
  updateNav(path);
  renderNotice();
  document.title = `${routes[path].title} — FrameSell`;
  const root = h("div", { class: "view", "data-view": path.slice(1).replace("/", "-") || "catalog" });
  viewRoot.replaceChildren(root);
  routes[path].view(root, currentView.signal, query);
  // Move focus to the new page's heading so keyboard and screen-reader users start there.
  if (!firstRender) root.querySelector("h1")?.focus();
  firstRender = false;
}

// ---------------------------------------------------------------- form helpers

function field({ id, label, type = "text", autocomplete, testid }) {
  const input = h("input", {
    id, name: id, type, class: "form-control", autocomplete, required: true,
    "aria-describedby": `${id}-feedback`, "data-testid": testid,
  });
  const feedback = h("div", { id: `${id}-feedback`, class: "invalid-feedback" });
  const wrapper = h("div", { class: "mb-3" }, h("label", { for: id, class: "form-label", text: label }), input, feedback);
  return { wrapper, input, feedback };
}

function setFieldError({ input, feedback }, message) {
  input.classList.toggle("is-invalid", Boolean(message));
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  feedback.textContent = message || "";
}

/** Shows field errors; focuses the first invalid field; true when there were none. */
function showFieldErrors(fields, errors) {
  let first = null;
  for (const [name, f] of Object.entries(fields)) {
    setFieldError(f, errors[name]);
    if (errors[name] && !first) first = f.input;
  }
  first?.focus();
  return !first;
}

function formAlert(testid) {
  return h("div", { class: "alert alert-danger", role: "alert", "data-testid": testid, hidden: true });
}

function showAlert(box, message) {
  box.textContent = message || "";
  box.hidden = !message;
}

function submitButton(label, testid) {
  return h("button", { type: "submit", class: "btn btn-primary w-100", "data-testid": testid },
    h("span", { class: "btn-label", text: label }));
}

/** The number of characters as the server counts them (code points, not UTF-16 units). */
const length = (text) => [...text].length;

/** Checks the sign-up form as the API does, plus the repeated password. */
function validateSignup({ firstName, lastName, email, password, repeat }) {
  const errors = {};
  if (!firstName.trim()) errors.firstName = "Enter your first name.";
  if (!lastName.trim()) errors.lastName = "Enter your last name.";
  if (!email.trim()) errors.email = "Enter your email address.";
  else if (!EMAIL_PATTERN.test(email.trim())) errors.email = "Enter a valid email address, like name@example.com.";
  if (!password.trim()) errors.password = "Choose a password.";
  else if (length(password) < PASSWORD_MIN) errors.password = `Use at least ${PASSWORD_MIN} characters.`;
  else if (length(password) > PASSWORD_MAX) errors.password = `Use at most ${PASSWORD_MAX} characters.`;
  if (!repeat) errors.repeat = "Repeat your password.";
  else if (repeat !== password) errors.repeat = "The passwords do not match.";
  return errors;
}

function loginFailure(error) {
  if (error instanceof ApiError && error.status === 400) return "Wrong email or password.";
  if (error instanceof ApiError && error.status === 429) {
    const seconds = Number(error.retryAfter);
    const wait = seconds > 0 ? ` in ${Math.ceil(seconds / 60)} minute${seconds > 60 ? "s" : ""}` : " later";
    return `Too many attempts. Please try again${wait}.`;
  }
  return error.message;
}

// ---------------------------------------------------------------- landing: hero, login, sign-up

function hero(headingLevel = "h1") {
  return h("section", { class: "hero" },
    h("div", { class: "hero-text" },
      h("p", { class: "hero-eyebrow", text: "Photo prints, made to frame" }),
      h(headingLevel, { class: "hero-title", tabindex: "-1", text: "Buy amazing photos online!" }),
      h("p", { class: "hero-lead", text: "Cities, races, wildlife and landmarks by photographers we love — printed on archival paper and paid for safely by card." }),
      h("a", { class: "btn btn-light btn-lg hero-cta", href: "#catalog-start", "data-testid": "hero-cta", text: "See the photos",
        onclick: (event) => {
          event.preventDefault();
          const first = document.querySelector("[data-testid=product-link]");
          document.getElementById("catalog-start")?.scrollIntoView();
          first?.focus();
        } })),
    h("div", { class: "hero-art", "aria-hidden": "true" },
      h("span", { class: "hero-frame hero-frame-1" }),
      h("span", { class: "hero-frame hero-frame-2" }),
      h("span", { class: "hero-frame hero-frame-3" })));
}

function landingView(root) {
  root.append(
    h("div", { class: "page-head" },
      h("h1", { tabindex: "-1", text: "Log in or sign up" }),
      h("p", { class: "lead text-body-secondary mb-0", text: "Browse freely; an account lets you buy prints and see your orders." })),
    authPanels({ onDone: () => navigate(takeReturn()) }),
  );
}

/** The log-in and sign-up forms side by side; `onDone` runs once the visitor is logged in. */
function authPanels({ prefix = "", onDone = () => navigate("/") } = {}) {
  return h("div", { class: "row g-4 align-items-start auth-panels" },
    h("div", { class: "col-12 col-md-6" }, loginPanel({ prefix, onDone })),
    h("div", { class: "col-12 col-md-6" }, signupPanel({ prefix, onDone })));
}

function loginPanel({ prefix = "", onDone }) {
  const fields = {
    email: field({ id: `${prefix}login-email`, label: "Email", type: "email", autocomplete: "email", testid: "login-email" }),
    password: field({ id: `${prefix}login-password`, label: "Password", type: "password", autocomplete: "current-password", testid: "login-password" }),
  };
  const alert = formAlert("login-error");
  const button = submitButton("Log in", "login-submit");
  const forgot = h("p", { class: "mt-3 mb-0 small" },
    h("a", { href: "#/forgot-password", "data-testid": "forgot-password", text: "Forgot your password?" }));
  // In the pay dialog the link leaves the dialog for the page.
  forgot.querySelector("a").addEventListener("click", () => authDialog.close());
  const form = h("form", { class: "auth-form", novalidate: true, "data-testid": "login-form", "aria-labelledby": `${prefix}login-heading` },
    alert, fields.email.wrapper, fields.password.wrapper, button, forgot);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showAlert(alert, "");
    const email = fields.email.input.value.trim();
    const password = fields.password.input.value;
    const errors = {};
    if (!email) errors.email = "Enter your email address.";
    else if (!EMAIL_PATTERN.test(email)) errors.email = "Enter a valid email address, like name@example.com.";
    if (!password) errors.password = "Enter your password.";
    if (!showFieldErrors(fields, errors)) return;
    setButtonBusy(button, true, "Logging in…");
    try {
      await startSession(await api.login(email, password));
      onDone();
    } catch (error) {
      setButtonBusy(button, false);
      showAlert(alert, loginFailure(error));
      fields.password.input.focus();
    }
  });

  return h("section", { class: "card auth-card" },
    h("div", { class: "card-body p-4" },
      h("h2", { id: `${prefix}login-heading`, class: "h4 mb-1", text: "Existing user? Login" }),
      h("p", { class: "text-body-secondary mb-4", text: "Welcome back — log in to buy and see your orders." }),
      form));
}

function signupPanel({ prefix = "", onDone }) {
  const fields = {
    firstName: field({ id: `${prefix}signup-first-name`, label: "First name", autocomplete: "given-name", testid: "signup-first-name" }),
    lastName: field({ id: `${prefix}signup-last-name`, label: "Last name", autocomplete: "family-name", testid: "signup-last-name" }),
    email: field({ id: `${prefix}signup-email`, label: "Email", type: "email", autocomplete: "email", testid: "signup-email" }),
    password: field({ id: `${prefix}signup-password`, label: "Password", type: "password", autocomplete: "new-password", testid: "signup-password" }),
    repeat: field({ id: `${prefix}signup-password-repeat`, label: "Repeat password", type: "password", autocomplete: "new-password", testid: "signup-password-repeat" }),
  };
  fields.password.input.setAttribute("aria-describedby", `${prefix}signup-password-feedback ${prefix}signup-password-hint`);
  fields.password.wrapper.append(h("div", { id: `${prefix}signup-password-hint`, class: "form-text", text: `At least ${PASSWORD_MIN} characters.` }));
  const alert = formAlert("signup-error");
  const button = submitButton("Sign up", "signup-submit");
  const form = h("form", { class: "auth-form", novalidate: true, "data-testid": "signup-form", "aria-labelledby": `${prefix}signup-heading` },
    alert,
    h("div", { class: "row g-0 gx-sm-3" },
      h("div", { class: "col-12 col-sm-6" }, fields.firstName.wrapper),
      h("div", { class: "col-12 col-sm-6" }, fields.lastName.wrapper)),
    fields.email.wrapper, fields.password.wrapper, fields.repeat.wrapper, button);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showAlert(alert, "");
    const values = Object.fromEntries(Object.entries(fields).map(([name, f]) => [name, f.input.value]));
    if (!showFieldErrors(fields, validateSignup(values))) return;
    const account = {
      firstName: values.firstName.trim(), lastName: values.lastName.trim(), email: values.email.trim(), password: values.password,
    };
    setButtonBusy(button, true, "Creating your account…");
    try {
      await api.signup(account);
    } catch (error) {
      setButtonBusy(button, false);
      showAlert(alert, error.message);
      return;
    }
    try {
      await startSession(await api.login(account.email, account.password));
      flash(`Welcome to FrameSell, ${account.firstName}!`, { kind: "success", testid: "welcome" });
      onDone();
    } catch (error) {
      setButtonBusy(button, false);
      showAlert(alert, `Your account is ready, but we could not log you in: ${loginFailure(error)} Please log in.`);
    }
  });

  return h("section", { class: "card auth-card" },
    h("div", { class: "card-body p-4" },
      h("h2", { id: `${prefix}signup-heading`, class: "h4 mb-1", text: "New user? Sign up" }),
      h("p", { class: "text-body-secondary mb-4", text: "It takes a minute; you are logged in right after." }),
      form));
}

// ---------------------------------------------------------------- catalog

function printsFrom(product) {
  const prints = (Array.isArray(product.formats) ? product.formats : []).filter((f) => f.kind === "print");
  if (!prints.length) return "Digital download";
  const lowest = Math.min(...prints.map((f) => Number(f.price)));
  return `Download, or prints from ${formatMoney(lowest, product.currency)}`;
}

function productCard(product) {
  const price = formatMoney(product.price, product.currency);
  const titleId = `product-title-${product.id}`;
  // The visible text is the price; the title, read as its description, says which photo.
  const button = h("button", {
    type: "button", class: "btn btn-primary w-100 pay-button", "aria-describedby": titleId,
    "data-testid": "pay-button", dataset: { productId: product.id }, text: `Pay ${price}`,
  });
  button.addEventListener("click", () => {
    if (session.token) checkout.open(product, button);
    else authDialog.open(product, button);
  });
  return h("li", { class: "col" },
    h("article", { class: "card product-card h-100", "data-testid": "product-card", dataset: { productId: product.id } },
      photo(product.url, product.description, { className: "card-img-top" }),
      h("div", { class: "card-body d-flex flex-column" },
        h("h2", { id: titleId, class: "h5 card-title product-title", "data-testid": "product-title" },
          h("a", { href: `#/product?id=${encodeURIComponent(product.id)}`, class: "product-link", "data-testid": "product-link", text: product.description })),
        h("p", { class: "product-meta", text: printsFrom(product) }),
        h("div", { class: "mt-auto" }, button))));
}

function catalogView(root, signal) {
  const body = h("div");
  if (!session.token) {
    root.append(hero(),
      h("div", { class: "page-head", id: "catalog-start" },
        h("h2", { text: "Photo prints" }),
        h("p", { class: "lead text-body-secondary", text: "Pick a photo you love; you log in or sign up when you pay." })));
  } else {
    root.append(
      h("div", { class: "page-head" },
        h("h1", { tabindex: "-1", text: "Photo prints" }),
        h("p", { class: "lead text-body-secondary", text: "Pick a photo you love; we print it and send it your way." })));
  }
  root.append(body);
  checkout.preload();

  async function load() {
    body.replaceChildren(loadingRow("Loading photos…"));
    let products;
    try {
      products = await api.products();
    } catch (error) {
      if (!signal.aborted) body.replaceChildren(loadFailed(error, load));
      return;
    }
    if (signal.aborted) return;
    if (!Array.isArray(products) || !products.length) {
      body.replaceChildren(h("p", { class: "empty-state", "data-testid": "catalog-empty", text: "No photos are for sale right now. Please come back soon." }));
      return;
    }
    body.replaceChildren(h("ul", { class: "row row-cols-1 row-cols-sm-2 row-cols-lg-3 g-4 list-unstyled catalog", "data-testid": "catalog" },
      products.map(productCard)));
  }
  load();
}

// ---------------------------------------------------------------- orders

function newestFirst(a, b) {
  return (Date.parse(b.orderdate) || 0) - (Date.parse(a.orderdate) || 0) || Number(b.id) - Number(a.id);
}

function orderRow(order) {
  const item = order.product || {};
  const title = item.description || `Order ${order.id}`;
  const badge = h("span", { class: "badge order-status", "data-testid": "order-status" });
  const progress = h("span", { class: "order-progress small text-body-secondary", hidden: true });
  const row = h("li", { class: "card order-row", "data-testid": "order-row", dataset: { orderId: order.id } },
    h("div", { class: "order-row-inner" },
      photo(item.url, title, { className: "order-thumb", width: 160, height: 120 }),
      h("div", { class: "order-info" },
        h("h2", { class: "h6 order-title", "data-testid": "order-title" },
          h("a", { href: `#/order?id=${encodeURIComponent(order.id)}`, "data-testid": "order-link", text: title })),
        h("p", { class: "order-date" }, "Placed on ",
          h("time", { datetime: order.orderdate, "data-testid": "order-date", text: formatDateTime(order.orderdate) })),
        h("p", { class: "order-number", text: `Order #${order.id}` })),
      h("div", { class: "order-side" },
        h("p", { class: "order-price", "data-testid": "order-price", text: formatMoney(order.total ?? item.price, item.currency) }),
        h("div", { class: "order-status-wrap", "aria-live": "polite" },
          h("span", { class: "order-status-label", text: "Payment status" }), badge),
        progress)));

  const view = {
    id: order.id,
    status: null,
    row,
    setStatus(status) {
      view.status = String(status || "UNKNOWN");
      row.dataset.status = view.status;
      badge.className = `badge order-status ${STATUS_BADGES[view.status] || "text-bg-light"}`;
      badge.textContent = view.status;
      if (view.status === "PENDING") {
        progress.replaceChildren(spinner(), " Checking the payment…");
        progress.hidden = false;
      } else {
        progress.hidden = true;
      }
    },
    giveUp() {
      progress.replaceChildren("Still being settled — check again later.");
    },
  };
  view.setStatus(order.paymentstatus);
  return view;
}

/** Refreshes PENDING orders every few seconds until they settle or the rounds run out. */
function pollPending(rows, signal) {
  let round = 0;
  let timer = null;
  const tick = async () => {
    const pending = rows.filter((r) => r.status === "PENDING");
    if (signal.aborted || !pending.length) return;
    if (round >= POLL_ROUNDS) {
      pending.forEach((r) => r.giveUp());
      return;
    }
    round += 1;
    for (const r of pending) {
      try {
        const order = await api.order(r.id);
        if (signal.aborted) return;
        r.setStatus(order.paymentstatus);
      } catch (error) {
        if (error instanceof SessionExpiredError || signal.aborted) return;
        if (error instanceof ApiError && error.status === 404) r.giveUp();
        // Other failures (network, 5xx): try again next round.
      }
    }
    timer = setTimeout(tick, POLL_INTERVAL_MS);
  };
  timer = setTimeout(tick, POLL_INTERVAL_MS);
  signal.addEventListener("abort", () => clearTimeout(timer));
}

function ordersView(root, signal) {
  const greeting = h("h1", { tabindex: "-1", "data-testid": "orders-greeting", text: "Hello!" });
  const body = h("div");
  root.append(h("div", { class: "page-head" }, greeting, h("p", { class: "lead text-body-secondary mb-0", text: "Your orders" })), body);

  async function load() {
    body.replaceChildren(loadingRow("Loading your orders…"));
    const [me, orders] = await Promise.allSettled([api.me(), api.orders()]);
    if (signal.aborted) return;
    if (me.status === "fulfilled" && me.value) {
      const name = [me.value.first_name, me.value.last_name].filter(Boolean).join(" ");
      if (name) greeting.textContent = `Hello, ${name}`;
    }
    if (orders.status === "rejected") {
      if (!(orders.reason instanceof SessionExpiredError)) body.replaceChildren(loadFailed(orders.reason, load));
      return;
    }
    // Declined attempts are not orders to a shopper (the API still lists them; the owner sees them).
    const list = Array.isArray(orders.value)
      ? orders.value.filter((o) => o && o.paymentstatus !== "FAILED").sort(newestFirst)
      : [];
    if (!list.length) {
      body.replaceChildren(h("div", { class: "empty-state", "data-testid": "orders-empty" },
        h("p", { text: "You have not ordered anything yet." }),
        h("a", { class: "btn btn-primary", href: "#/", text: "Browse the photos" })));
      return;
    }
    const rows = list.map(orderRow);
    body.replaceChildren(h("ol", { class: "orders list-unstyled", "data-testid": "orders-list" }, rows.map((r) => r.row)));
    pollPending(rows, signal);
  }
  load();
}

// ---------------------------------------------------------------- a forgotten password

function forgotPasswordView(root) {
  const email = field({ id: "reset-email", label: "Email", type: "email", autocomplete: "email", testid: "reset-email" });
  const alert = formAlert("reset-request-error");
  const done = h("div", { class: "alert alert-success", role: "status", "data-testid": "reset-requested", hidden: true });
  const button = submitButton("Send me a link", "reset-request-submit");
  const form = h("form", { class: "auth-form", novalidate: true, "aria-labelledby": "forgot-heading", "data-testid": "reset-request-form" },
    alert, email.wrapper, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showAlert(alert, "");
    const value = email.input.value.trim();
    const problem = !value ? "Enter your email address." : EMAIL_PATTERN.test(value) ? "" : "Enter a valid email address, like name@example.com.";
    if (!showFieldErrors({ email }, { email: problem })) return;
    setButtonBusy(button, true, "Sending…");
    try {
      const answer = await api.requestPasswordReset(value);
      form.hidden = true;
      done.textContent = answer.detail;
      done.hidden = false;
    } catch (error) {
      setButtonBusy(button, false);
      showAlert(alert, error instanceof ApiError && error.status === 429 ? loginFailure(error) : error.message);
    }
  });
  root.append(
    h("div", { class: "page-head" },
      h("h1", { id: "forgot-heading", tabindex: "-1", text: "Forgot your password?" }),
      h("p", { class: "lead text-body-secondary mb-0", text: "Enter your account's email: we mail you a link to choose a new password." })),
    h("div", { class: "row" }, h("div", { class: "col-12 col-md-8 col-lg-6" },
      h("section", { class: "card auth-card" }, h("div", { class: "card-body p-4" }, done, form)))));
}

function resetPasswordView(root, signal, query) {
  const token = query.get("token") || "";
  const fields = {
    password: field({ id: "new-password", label: "New password", type: "password", autocomplete: "new-password", testid: "new-password" }),
    repeat: field({ id: "new-password-repeat", label: "Repeat the new password", type: "password", autocomplete: "new-password", testid: "new-password-repeat" }),
  };
  const alert = formAlert("reset-error");
  const button = submitButton("Set the new password", "reset-submit");
  const form = h("form", { class: "auth-form", novalidate: true, "aria-labelledby": "reset-heading", "data-testid": "reset-form" },
    alert, fields.password.wrapper, fields.repeat.wrapper, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showAlert(alert, "");
    const password = fields.password.input.value;
    const errors = {};
    if (length(password) < PASSWORD_MIN) errors.password = `Use at least ${PASSWORD_MIN} characters.`;
    else if (length(password) > PASSWORD_MAX) errors.password = `Use at most ${PASSWORD_MAX} characters.`;
    if (fields.repeat.input.value !== password) errors.repeat = "The passwords do not match.";
    if (!showFieldErrors(fields, errors)) return;
    setButtonBusy(button, true, "Saving…");
    try {
      await api.resetPassword(token, password);
      // The token is spent: keep it out of the address bar and the history.
      history.replaceState(null, "", "#/login");
      session.clear();
      flash("Your new password is set: log in with it.", { kind: "success", testid: "password-changed" });
      navigate("/login");
    } catch (error) {
      setButtonBusy(button, false);
      showAlert(alert, error.message);
    }
  });
  root.append(
    h("div", { class: "page-head" },
      h("h1", { id: "reset-heading", tabindex: "-1", text: "Choose a new password" }),
      h("p", { class: "lead text-body-secondary mb-0", text: "The link from the mail works once, within an hour." })),
    h("div", { class: "row" }, h("div", { class: "col-12 col-md-8 col-lg-6" },
      h("section", { class: "card auth-card" }, h("div", { class: "card-body p-4" },
        token ? form : h("div", { class: "alert alert-warning", role: "alert", "data-testid": "reset-no-token" },
          "This page needs the link from the mail. ", h("a", { href: "#/forgot-password", text: "Ask for a new one." })))))));
}

// ---------------------------------------------------------------- log in or sign up to pay

/**
 * The <dialog> that asks a visitor who pressed Pay to log in or sign up, in place: the chosen
 * photo stays chosen, and the card form opens for it right after.
 */
function createAuthDialog() {
  const dialog = document.getElementById("auth-dialog");
  const title = document.getElementById("auth-dialog-title");
  const body = document.getElementById("auth-dialog-body");
  let product = null;
  let opener = null;
  let continuing = false;

  function open(item, openerButton) {
    product = item;
    opener = openerButton;
    title.textContent = `Log in or sign up to buy “${item.description}”`;
    body.replaceChildren(
      h("p", { class: "text-body-secondary", text: `${formatMoney(item.price, item.currency)} — the card form opens for this photo as soon as you are in.` }),
      authPanels({ prefix: "dialog-", onDone: proceed }));
    dialog.showModal();
    body.querySelector("input")?.focus();
  }

  function close() {
    if (dialog.open) dialog.close();
  }

  function proceed() {
    continuing = true;
    close();
    continuing = false;
    renderNotice();
    checkout.open(product, opener);
  }

  dialog.addEventListener("close", () => {
    body.replaceChildren();
    if (!continuing && opener && opener.isConnected) opener.focus();
  });
  document.getElementById("auth-dialog-close").addEventListener("click", close);
  dialog.addEventListener("click", (event) => { if (event.target === dialog) close(); });
  return { open, close };
}

// ---------------------------------------------------------------- start

function start() {
  if (!config || typeof config !== "object") {
    viewRoot.replaceChildren(h("div", { class: "alert alert-danger", role: "alert", "data-testid": "app-error",
      text: "The shop is not configured: config.js did not set window.FRAMESELL_CONFIG." }));
    return;
  }
  api = createApi({ baseUrl: config.apiBase, getToken: () => session.token, onSessionExpired });
  checkout = createCheckout({ api, config, showOrders: () => navigate("/orders") });
  authDialog = createAuthDialog();
  document.getElementById("logout").addEventListener("click", logout);
  document.getElementById("skip-link").addEventListener("click", (event) => {
    // The hash belongs to the router, so the skip link moves focus itself.
    event.preventDefault();
    document.getElementById("main").focus();
  });
  window.addEventListener("hashchange", render);
  const count = document.getElementById("cart-count");
  const showCount = () => {
    const n = cart.count;
    count.textContent = String(n);
    count.hidden = n === 0;
  };
  cart.onChange(showCount);
  showCount();
  // An expired session is noticed on load, and while the page stays open, not only at Pay.
  const checkSession = () => { keepSessionFresh(); };
  if (session.token && tokenExpired(session.token)) {
    rememberReturn(currentHashPath());
    session.clear();
    flash(SESSION_EXPIRED, { kind: "warning", testid: "session-expired", alert: true });
    history.replaceState(null, "", "#/login");
  }
  setInterval(checkSession, SESSION_CHECK_MS);
  window.addEventListener("focus", checkSession);
  render();
  checkSession();
}

start();

