// The FrameSell API client: JSON over fetch, `Authorization: JWT <token>`, errors carrying
// the server's own message, and an Idempotency-Key on purchases that is reused when the
// same attempt is retried after a network failure.

/** An answer from the API other than 2xx; `message` is the server's own message. */
export class ApiError extends Error {
  constructor(message, { status, body = null, retryAfter = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

/** A 403 from an authenticated call: the token is missing, expired or invalid. */
export class SessionExpiredError extends ApiError {
  constructor(message, options) {
    super(message, options);
    this.name = "SessionExpiredError";
  }
}

/** The server could not be reached (or did not answer in time): the outcome is unknown. */
export class NetworkError extends Error {
  constructor(message = "The shop could not be reached. Check your connection and try again.") {
    super(message);
    this.name = "NetworkError";
  }
}

/** A fresh Idempotency-Key; one per purchase attempt. */
export function newIdempotencyKey() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  // crypto.randomUUID exists only in secure contexts (https or localhost); same format here.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const TROUBLE = "Something went wrong on our side. Please try again in a minute.";

/** Whether a server text is fit for a shopper: no markup, not a bare server phrase. */
function humanText(text) {
  return typeof text === "string" && text.trim() !== "" && !/[<>]/.test(text)
    && !/internal server error|bad gateway|service unavailable|traceback|exception/i.test(text);
}

/** The most useful message in an error body of any of the API's shapes, for people. */
export function errorMessage(body, status) {
  if (status === 429) return "Too many attempts. Please wait a few minutes and try again.";
  if (status >= 500 || !body) return TROUBLE;
  const message = rawMessage(body);
  return humanText(message) ? message : TROUBLE;
}

function rawMessage(body) {
  if (body && typeof body === "object") {
    if (typeof body.error === "string" && body.error) return body.error;
    if (typeof body.detail === "string" && body.detail) return body.detail;
    if (Array.isArray(body.errors) && body.errors.length) {
      const text = body.errors.map((e) => e?.description).filter(Boolean).join(" ");
      if (text) return text;
    }
  }
  return "";
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function timeoutSignal(ms) {
  return typeof AbortSignal.timeout === "function" ? AbortSignal.timeout(ms) : undefined;
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null; // a proxy's HTML page, never shown to the shopper
  }
}

/**
 * Creates the client.
 * - baseUrl: where the API lives ("" = this origin).
 * - getToken(): the current JWT or null.
 * - onSessionExpired(error): called on a 403 from an authenticated call.
 */
export function createApi({ baseUrl = "", getToken, onSessionExpired = () => {} }) {
  const root = String(baseUrl || "").replace(/\/+$/, "");

  async function send(method, path, { body, auth, idempotencyKey, timeoutMs }) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth) {
      const token = getToken();
      if (!token) {
        const error = new SessionExpiredError("Please log in.", { status: 403 });
        onSessionExpired(error);
        throw error;
      }
      headers.Authorization = `JWT ${token}`;
    }
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    let response;
    try {
      response = await fetch(`${root}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: auth ? "no-store" : "default",
        signal: timeoutSignal(timeoutMs),
      });
    } catch {
      throw new NetworkError();
    }
    const data = await readBody(response);
    if (response.ok) return data;
    const options = { status: response.status, body: data, retryAfter: response.headers.get("Retry-After") };
    if (auth && response.status === 403) {
      const error = new SessionExpiredError(errorMessage(data, response.status), options);
      onSessionExpired(error);
      throw error;
    }
    throw new ApiError(errorMessage(data, response.status), options);
  }

  /**
   * One call, retried (with the very same request, Idempotency-Key included) up to `retries`
   * times when the network fails or the server says the same key is still in flight (409).
   */
  async function request(method, path, { body, auth = false, idempotencyKey, retries = 0, timeoutMs = 30000 } = {}) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await send(method, path, { body, auth, idempotencyKey, timeoutMs });
      } catch (error) {
        const inFlight = error instanceof ApiError && error.status === 409 && idempotencyKey;
        const retryable = error instanceof NetworkError || inFlight;
        if (!retryable || attempt >= retries) throw error;
        await sleep(inFlight ? 1500 : 500 * 2 ** attempt);
      }
    }
  }

  const id = (value) => encodeURIComponent(String(value));

  return {
    /** POST /api/api-token-auth/ → the JWT. */
    async login(email, password) {
      const data = await request("POST", "/api/api-token-auth/", { body: { username: email, password } });
      return data.token;
    },
    /** POST /api/signup/ → {success: true}. */
    signup({ firstName, lastName, email, password }) {
      return request("POST", "/api/signup/", {
        body: { first_name: firstName, last_name: lastName, email, password },
      });
    },
    /** POST /api/password-reset/ → 202 for any well-formed email (a link is mailed if it has an account); 400 for one that is not. */
    requestPasswordReset(email) {
      return request("POST", "/api/password-reset/", { body: { email } });
    },
    /** POST /api/password-reset/confirm/ with the mailed token → {success: true}. */
    resetPassword(token, password) {
      return request("POST", "/api/password-reset/confirm/", { body: { token, password } });
    },
    /** GET /api/product/ → the catalog, ordered by id. */
    products() {
      return request("GET", "/api/product/", { retries: 1 });
    },
    /** POST /api/api-token-refresh/ → a new JWT for the still-valid one (same login time). */
    async refreshToken() {
      const data = await request("POST", "/api/api-token-refresh/", { body: {}, auth: true });
      return data.token;
    },
    /** GET /api/me/ → {id, email, first_name, last_name}. */
    me() {
      return request("GET", "/api/me/", { auth: true, retries: 1 });
    },
    /** GET /api/order/ → the shopper's orders, oldest first. */
    orders() {
      return request("GET", "/api/order/", { auth: true, retries: 1 });
    },
    /** GET /api/order/{id}/ → one of the shopper's orders. */
    async order(orderId) {
      const data = await request("GET", `/api/order/${id(orderId)}/`, { auth: true });
      return data && data.order ? data.order : data;
    },
    /**
     * POST /api/order/ with the Stripe token or PaymentMethod id; the Idempotency-Key belongs
     * to the purchase attempt, so retries of this attempt can never buy twice.
     */
    placeOrder(body, idempotencyKey) {
      return request("POST", "/api/order/", {
        body, auth: true, idempotencyKey, retries: 3, timeoutMs: 60000,
      });
    },
    /** GET /api/order/{id}/download/{item}/ → {url, expires}: a signed link to a paid file. */
    downloadLink(orderId, itemId) {
      return request("GET", `/api/order/${id(orderId)}/download/${id(itemId)}/`, { auth: true });
    },
    /** POST /api/product/ (admin) → the new product. */
    createProduct({ description, url, price }) {
      return request("POST", "/api/product/", { body: { description, url, price }, auth: true });
    },
    /** PUT /api/product/{id}/ (admin) → the changed product. */
    updateProduct(productId, { description, url, price }) {
      return request("PUT", `/api/product/${id(productId)}/`, { body: { description, url, price }, auth: true });
    },
    /** DELETE /api/product/{id}/ (admin): the photo leaves the catalog. */
    removeProduct(productId) {
      return request("DELETE", `/api/product/${id(productId)}/`, { auth: true });
    },
    /** POST /api/product/{id}/formats/ (admin) → the new print size {id, kind, label, price}. */
    addFormat(productId, { label, price }) {
      return request("POST", `/api/product/${id(productId)}/formats/`, { body: { label, price }, auth: true });
    },
    /** DELETE /api/product/{id}/formats/{format}/ (admin): the photo is no longer sold in it. */
    removeFormat(productId, formatId) {
      return request("DELETE", `/api/product/${id(productId)}/formats/${id(formatId)}/`, { auth: true });
    },
    /** GET /api/product/{id}/file/ (admin) → {id, file}: the file a download delivers. */
    productFile(productId) {
      return request("GET", `/api/product/${id(productId)}/file/`, { auth: true });
    },
    /** PUT /api/product/{id}/file/ (admin): set the full-resolution file. */
    setProductFile(productId, file) {
      return request("PUT", `/api/product/${id(productId)}/file/`, { body: { file }, auth: true });
    },
    /** GET /api/admin/orders/?status=&q=&page=&per_page= (admin) → {orders, total, page, per_page}. */
    allOrders({ status = "", q = "", page = 1, perPage = 20 } = {}) {
      const query = new URLSearchParams({ page: String(page), per_page: String(perPage) });
      if (status) query.set("status", status);
      if (q) query.set("q", q);
      return request("GET", `/api/admin/orders/?${query}`, { auth: true, retries: 1 });
    },
    /** POST /api/order/{id}/refund/ (admin): `amount` in major units, or all that is left when null. */
    async refund(orderId, amount = null) {
      const data = await request("POST", `/api/order/${id(orderId)}/refund/`, {
        body: amount === null ? undefined : { amount }, auth: true,
      });
      return data && data.order ? data.order : data;
    },
    /** POST /api/order/{id}/confirm/ after 3-D Secure → the settled order. */
    async confirmOrder(orderId) {
      const data = await request("POST", `/api/order/${id(orderId)}/confirm/`, { body: {}, auth: true, retries: 2 });
      return data && data.order ? data.order : data;
    },
  };
}
