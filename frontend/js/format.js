// Money and dates in the shopper's own locale (the browser's language).

const moneyFormats = new Map();
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Formats an API price (major units, e.g. 100 or 59.99) in its currency: "$100.00". */
export function formatMoney(price, currency = "usd") {
  const code = String(currency || "usd").toUpperCase();
  const amount = Number(price);
  try {
    if (!moneyFormats.has(code)) {
      moneyFormats.set(code, new Intl.NumberFormat(undefined, { style: "currency", currency: code }));
    }
    return moneyFormats.get(code).format(amount);
  } catch {
    // An unknown currency code: still show the amount rather than nothing.
    return `${amount.toFixed(2)} ${code}`;
  }
}

/** Formats an ISO 8601 timestamp as a local date and time: "Feb 10, 2017, 7:52 PM". */
export function formatDateTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso ?? "") : dateFormat.format(date);
}
