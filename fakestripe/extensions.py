"""Small patches that make localstripe answer as Stripe's documentation says it should.

Each ``install_*`` function reproduces one documented Stripe behaviour that localstripe
1.15.10 gets wrong or lacks; ``install_all`` applies them to localstripe's aiohttp app.
They patch localstripe's module-level state, so install them once per process: the
launcher runs every fake Stripe in a process of its own.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from localstripe import resources
from localstripe.errors import UserError, json_response
from localstripe.resources import PaymentIntent, PaymentMethod, Refund
from localstripe.webhooks import schedule_webhook

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DECLINED = "Your card was declined."
GENERIC_DECLINE = "4000000000000002"

# Stripe's reusable test tokens and PaymentMethods (Stripe's "Testing" page), by the card
# number each stands for. localstripe itself knows only pm_card_visa and two others.
TEST_TOKENS = {
    "tok_visa": "4242424242424242",
    "tok_visa_debit": "4000056655665556",
    "tok_mastercard": "5555555555554444",
    "tok_chargeDeclined": GENERIC_DECLINE,
    "tok_visa_chargeDeclined": GENERIC_DECLINE,
    "tok_threeDSecure2Required": "4000000000003220",
}
TEST_PAYMENT_METHODS = {
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_chargeDeclined": GENERIC_DECLINE,
    "pm_card_authenticationRequired": "4000002500003155",
    "pm_card_threeDSecure2Required": "4000000000003220",
}

IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60
# Not saved, as Stripe does not save them: the request never started executing.
_NOT_SAVED = frozenset({401, 409, 429})


def install_idempotency_keys(app: web.Application) -> None:
    """Stripe "Idempotent requests": a POST repeated with its Idempotency-Key is replayed.

    Stripe saves the status code and body of the first request made with a key and returns
    them (with ``Idempotent-Replayed: true``) for every later request with that key from the
    same account, for at least 24 hours, whether the first succeeded or failed. Reusing a key
    with other parameters is a 400 ``idempotency_error``; reusing it while the first request
    is still running is a 409. localstripe ignores the header and creates a second object.
    """
    saved: dict[tuple[str, str], tuple[float, tuple[Any, ...], int, bytes, str]] = {}
    in_flight: set[tuple[str, str]] = set()

    @web.middleware
    async def idempotency_middleware(
        request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return await handler(request)
        account = hashlib.sha256(request.headers.get("Authorization", "").encode()).hexdigest()
        slot = (account, key)
        fingerprint = (request.path, await _parameters(request))
        now = time.time()
        for stale in [k for k, v in saved.items() if now - v[0] > IDEMPOTENCY_TTL_SECONDS]:
            del saved[stale]
        if slot in saved:
            _, first, status, body, content_type = saved[slot]
            if first != fingerprint:
                return _idempotency_error(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters"
                    f" they were first used with. Try using a key other than '{key}' if you"
                    " meant to execute a different request.",
                )
            replay = web.Response(status=status, body=body, content_type=content_type)
            replay.headers["Idempotent-Replayed"] = "true"
            replay.headers["Idempotency-Key"] = key
            return replay
        if slot in in_flight:
            return _idempotency_error(
                409,
                "There is currently another in-progress request using this Idempotent Key"
                " (that probably means you submitted twice, and the other request is still"
                " going through): " + key + ". Please try again later.",
            )
        in_flight.add(slot)
        try:
            response = await handler(request)
        finally:
            in_flight.discard(slot)
        if isinstance(response, web.Response) and response.status not in _NOT_SAVED:
            body = response.body if isinstance(response.body, bytes) else b""
            saved[slot] = (now, fingerprint, response.status, body,
                           response.content_type)
        response.headers["Idempotency-Key"] = key
        return response

    # Outermost, so it saves what the client really got (errors already rendered as JSON).
    app.middlewares.insert(0, idempotency_middleware)


async def _parameters(request: web.Request) -> tuple[Any, ...]:
    raw = await request.read()
    if request.content_type == "application/x-www-form-urlencoded":
        return tuple(sorted(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
    return (raw,)


def _idempotency_error(status: int, message: str) -> web.Response:
    body = {"error": {"type": "idempotency_error", "message": message}}
    return web.json_response(body, status=status)


# Card tokens from Stripe.js that were turned into a PaymentMethod once already.
_SPENT_TOKENS: set[str] = set()


def install_payment_methods_from_tokens() -> None:
    """Stripe "Create a PaymentMethod" with ``card[token]``: a card token becomes a card.

    Stripe accepts ``type=card&card[token]=tok_…`` (a token from Stripe.js or one of the
    test tokens such as ``tok_visa``) and returns a card PaymentMethod with that token's
    card; an unknown token is a 400 ``resource_missing`` "No such token". A token made by
    Stripe.js can be used once: the second use is a 400 ``token_already_used`` (Stripe's
    test shortcuts such as ``tok_visa`` stay reusable). localstripe accepts only raw
    ``card[number]`` details here.
    """
    original = PaymentMethod._api_create.__func__

    def _api_create(cls: type[PaymentMethod], /, **data: Any) -> PaymentMethod:
        card = data.get("card")
        if data.get("type") == "card" and isinstance(card, dict) and "token" in card:
            data["card"] = _card_of_token(card["token"])
        return original(cls, **data)

    PaymentMethod._api_create = classmethod(_api_create)


def _card_of_token(token_id: Any) -> dict[str, str]:
    number = TEST_TOKENS.get(token_id) if isinstance(token_id, str) else None
    if number is not None:
        return {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"}
    token = resources.store.get(f"token:{token_id}") if isinstance(token_id, str) else None
    if token is None:
        raise UserError(400, f"No such token: '{token_id}'",
                        {"code": "resource_missing", "param": "card[token]"})
    if token_id in _SPENT_TOKENS:
        raise UserError(400, f"You cannot use a Stripe token more than once: {token_id}.",
                        {"code": "token_already_used", "param": "card[token]"})
    _SPENT_TOKENS.add(token_id)
    card = token.card
    return {
        "number": card._card_number,
        "exp_month": str(card.exp_month),
        "exp_year": str(card.exp_year),
        "cvc": "123",  # Stripe keeps no CVC after tokenizing; localstripe wants one
    }


def install_declining_test_cards() -> None:
    """Stripe "Testing", declined payments: 4000000000000002 is declined when charged.

    Stripe's generic-decline test card (also ``pm_card_chargeDeclined`` and
    ``tok_chargeDeclined``) is refused when a PaymentIntent is confirmed, with a 402
    ``card_error``, code ``card_declined``, decline code ``generic_decline``, the message
    "Your card was declined." and the PaymentIntent in the error. localstripe declines it
    only when attaching it to a customer, reports its declines as ``invalid_request_error``
    without the PaymentIntent, and lacks most of the documented ``pm_card_*`` shortcuts
    (for example ``pm_card_authenticationRequired`` for 3-D Secure), which are added here.
    """
    original_charging = PaymentMethod._charging_is_declined

    def _charging_is_declined(self: Any) -> bool:
        if getattr(self, "type", None) == "card" and self._card_number == GENERIC_DECLINE:
            return True
        return bool(original_charging(self))

    PaymentMethod._charging_is_declined = _charging_is_declined

    original_report = PaymentIntent._report_failure

    def _report_failure(self: PaymentIntent) -> None:
        try:
            original_report(self)
        except UserError as error:
            if error.code == 402:
                details = error.body["error"]
                details["type"] = "card_error"
                details.setdefault("decline_code", "generic_decline")
                details["payment_intent"] = self._export()
            raise

    PaymentIntent._report_failure = _report_failure

    original_canonical = PaymentMethod._try_get_canonical_test_article.__func__

    def _try_get_canonical_test_article(cls: type[PaymentMethod], id: str) -> Any:
        number = TEST_PAYMENT_METHODS.get(id)
        if number is not None:
            return cls(type="card", card={"number": number, "exp_month": "12",
                                          "exp_year": "2034", "cvc": "123"})
        return original_canonical(cls, id)

    PaymentMethod._try_get_canonical_test_article = classmethod(
        _try_get_canonical_test_article
    )


def install_unknown_payment_details() -> None:
    """Stripe "Create a PaymentIntent" with payment details it does not know: 400, not 404.

    An unknown ``payment_method`` is a 400 ``invalid_request_error``, code
    ``resource_missing``, param ``payment_method``, "No such PaymentMethod: '…'"; an unknown
    ``confirmation_token`` (Stripe.js's ``createConfirmationToken`` gives the browser a
    ``ctoken_…``) is the same with param ``confirmation_token``, "No such
    confirmationtoken: '…'". localstripe answers a bare 404 "Not Found" for the first, as if
    the shop had called a wrong URL, and refuses the second parameter itself ("Unexpected
    confirmation_token"), having no ConfirmationTokens: this fake issues none, so every
    ConfirmationToken it sees is unknown.
    """
    original = PaymentIntent._api_create.__func__

    def _api_create(cls: type[PaymentIntent], /, **data: Any) -> PaymentIntent:
        if "confirmation_token" in data:
            token = data["confirmation_token"]
            raise UserError(400, f"No such confirmationtoken: '{token}'",
                            {"code": "resource_missing", "param": "confirmation_token"})
        method = data.get("payment_method")
        if isinstance(method, str) and method.startswith("pm_"):
            try:
                PaymentMethod._api_retrieve(method)
            except UserError as error:
                if error.code != 404:
                    raise
                raise UserError(400, f"No such PaymentMethod: '{method}'",
                                {"code": "resource_missing", "param": "payment_method"}) from None
        return original(cls, **data)

    PaymentIntent._api_create = classmethod(_api_create)


MINIMUM_CHARGE_CENTS = {"usd": 50}


def install_minimum_charge() -> None:
    """Stripe "Minimum and maximum charge amounts": $0.50 for USD.

    A PaymentIntent for less is refused with a 400 ``amount_too_small``, param ``amount``,
    "Amount must be at least $0.50 usd". localstripe accepts any positive amount.
    """
    original = PaymentIntent._api_create.__func__

    def _api_create(cls: type[PaymentIntent], /, **data: Any) -> PaymentIntent:
        currency = str(data.get("currency", "")).lower()
        amount = resources.try_convert_to_int(data.get("amount"))
        minimum = MINIMUM_CHARGE_CENTS.get(currency)
        if minimum is not None and isinstance(amount, int) and 0 < amount < minimum:
            raise UserError(400, f"Amount must be at least ${minimum / 100:.2f} {currency}",
                            {"code": "amount_too_small", "param": "amount"})
        return original(cls, **data)

    PaymentIntent._api_create = classmethod(_api_create)


def install_refunds_as_stripe_makes_them() -> None:
    """Stripe "Refunds" and "Types of events": every refund sends ``charge.refunded``.

    Stripe sends ``charge.refunded`` for each refund, full or partial, with the charge
    (its ``amount_refunded``, ``refunded`` once all is back, and ``payment_intent``). It
    refuses a refund of more than is left ("Refund amount ($…) is greater than unrefunded
    amount on charge ($…)", param ``amount``), of a charge refunded in full already
    (``charge_already_refunded``), and of a PaymentIntent with no successful charge; a
    refund without ``amount`` gives back what is left. localstripe sends no event, lets
    refunds exceed the charge, and refunds the whole charge again without ``amount``.
    """
    original = Refund.__init__

    def __init__(self: Refund, charge: Any = None, payment_intent: Any = None,
                 amount: Any = None, metadata: Any = None, **kwargs: Any) -> None:
        charge_obj = None
        if isinstance(payment_intent, str) and payment_intent.startswith("pi_"):
            intent = PaymentIntent._api_retrieve(payment_intent)
            charge_obj = intent.latest_charge
            if charge_obj is None or charge_obj.status != "succeeded":
                raise UserError(400, f"This PaymentIntent ({payment_intent}) does not have a"
                                " successful charge to refund.",
                                {"code": "charge_not_refundable"})
        elif isinstance(charge, str) and charge.startswith("ch_"):
            charge_obj = resources.Charge._api_retrieve(charge)
        if charge_obj is not None:
            left = charge_obj.amount - charge_obj.amount_refunded
            cents = resources.try_convert_to_int(amount)
            if left <= 0:
                raise UserError(400, f"Charge {charge_obj.id} has already been refunded.",
                                {"code": "charge_already_refunded"})
            if isinstance(cents, int) and cents > left:
                raise UserError(
                    400,
                    f"Refund amount (${cents / 100:.2f}) is greater than unrefunded amount"
                    f" on charge (${left / 100:.2f})",
                    {"param": "amount"},
                )
            if amount is None:
                amount = left  # without an amount Stripe refunds what is left, not all
        original(self, charge=charge, payment_intent=payment_intent, amount=amount,
                 metadata=metadata, **kwargs)
        if charge_obj is not None:
            schedule_webhook(resources.Event("charge.refunded", charge_obj))

    Refund.__init__ = __init__


def install_payment_intent_listing() -> None:
    """Stripe "List all PaymentIntents": ``created[gte|gt|lte|lt]`` filter, newest first.

    localstripe refuses every list parameter but ``limit`` and ``starting_after``, so a
    shop cannot look up the PaymentIntents made in an order's window.
    """
    original = PaymentIntent._api_list_all.__func__

    def _api_list_all(cls: type[PaymentIntent], url: str, created: Any = None,
                      **kwargs: Any) -> Any:
        bounds = created if isinstance(created, dict) else {}
        if created is not None and (not bounds or set(bounds) - {"gte", "gt", "lte", "lt"}):
            raise UserError(400, "Invalid created: must be a hash of gt, gte, lt, lte")
        listed = original(cls, url, **kwargs)
        tests = {
            "gte": lambda c, v: c >= v, "gt": lambda c, v: c > v,
            "lte": lambda c, v: c <= v, "lt": lambda c, v: c < v,
        }
        for name, value in bounds.items():
            limit = resources.try_convert_to_int(value)
            if not isinstance(limit, int):
                raise UserError(400, f"Invalid created[{name}]: must be an integer")
            listed._list = [i for i in listed._list if tests[name](i.created, limit)]
        listed._list.sort(key=lambda i: i.created, reverse=True)
        return listed

    PaymentIntent._api_list_all = classmethod(_api_list_all)


_CANCEL_PATH = re.compile(r"^/v1/payment_intents/(pi_\w+)/cancel$")


def install_cancel_events(app: web.Application) -> None:
    """Stripe "Types of events": canceling a PaymentIntent sends ``payment_intent.canceled``.

    localstripe sends nothing (and its cancel route holds the original function, so this
    is a middleware after the route rather than a patch of the method).
    """

    @web.middleware
    async def cancel_events(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        found = _CANCEL_PATH.match(request.path) if request.method == "POST" else None
        if found and response.status == 200:
            intent = PaymentIntent._api_retrieve(found.group(1))
            schedule_webhook(resources.Event("payment_intent.canceled", intent))
        return response

    app.middlewares.append(cancel_events)


DISPUTED_CARD = "4000000000000259"


class Dispute(resources.StripeObject):  # type: ignore[misc]
    """A chargeback on a charge, as Stripe's Dispute object (the fields FrameSell reads)."""

    object = "dispute"
    _id_prefix = "dp_"

    def __init__(self, charge: Any) -> None:
        super().__init__()
        self.charge = charge.id
        self.payment_intent = charge.payment_intent
        self.amount = charge.amount
        self.currency = charge.currency
        self.reason = "fraudulent"
        self.status = "needs_response"
        self.metadata: dict[str, str] = {}

    @classmethod
    def _api_close(cls, id: str, **kwargs: Any) -> Dispute:
        dispute = cls._api_retrieve(id)
        if dispute.status in ("won", "lost", "warning_closed"):
            raise UserError(400, f"The dispute {id} is already closed.")
        dispute.status = "lost"  # closing a dispute accepts it
        schedule_webhook(resources.Event("charge.dispute.closed", dispute))
        return dispute


def install_disputes(app: web.Application) -> None:
    """Stripe "Testing", disputes: 4000000000000259 pays, then is disputed as fraudulent.

    The successful charge gets a Dispute (``needs_response``) and Stripe sends
    ``charge.dispute.created``; ``POST /v1/disputes/{id}/close`` accepts it (``lost``) and
    sends ``charge.dispute.closed``; ``GET /v1/disputes/{id}`` reads it. localstripe has no
    disputes.
    """
    original = PaymentIntent._on_success

    def _on_success(self: PaymentIntent) -> None:
        original(self)
        charge = self.latest_charge
        method = PaymentMethod._api_retrieve(self.payment_method) if self.payment_method else None
        if charge is not None and getattr(method, "_card_number", None) == DISPUTED_CARD:
            schedule_webhook(resources.Event("charge.dispute.created", Dispute(charge)))

    PaymentIntent._on_success = _on_success

    async def close(request: web.Request) -> web.StreamResponse:
        return json_response(Dispute._api_close(request.match_info["id"])._export())

    async def retrieve(request: web.Request) -> web.StreamResponse:
        return json_response(Dispute._api_retrieve(request.match_info["id"])._export())

    app.router.add_post("/v1/disputes/{id}/close", close)
    app.router.add_get("/v1/disputes/{id}", retrieve)


def install_private_store() -> None:
    """One fake Stripe account per instance: nothing is read from or written to disk.

    Each Stripe test-mode account has its own objects, and a new account starts empty.
    localstripe pickles its whole store to one shared file in the temporary directory on
    every write (so two instances overwrite each other's state, and each write gets slower
    as the store grows) and reloads that file at start-up unless told ``--from-scratch``.
    """
    resources.Store.try_load_from_disk = lambda self: None
    resources.Store.dump_to_disk = lambda self: None
    resources.store.clear()
    _SPENT_TOKENS.clear()


# Appended to localstripe's Stripe.js stand-in, whose createPaymentMethod answers nothing:
# the method as Stripe.js documents it, for a card Element (both of its call forms).
STRIPE_JS_CREATE_PAYMENT_METHOD = """
// fakestripe: stripe.createPaymentMethod as Stripe.js answers it ({paymentMethod} or {error}).
(function () {
  const makeStripe = Stripe;
  Stripe = function (apiKey, options) {
    const stripe = makeStripe(apiKey, options);
    stripe.createPaymentMethod = async function (data, element, extra) {
      const params = typeof data === 'string'
        ? {type: data, card: element, ...(extra || {})} : (data || {});
      const value = params.card && params.card.value;
      if (params.type !== 'card' || !value || !value.card) {
        return {error: {type: 'validation_error', message: 'Your card number is incomplete.'}};
      }
      const body = new URLSearchParams({type: 'card', key: apiKey,
                                        payment_user_agent: 'localstripe'});
      for (const field of ['number', 'exp_month', 'exp_year', 'cvc']) {
        body.append(`card[${field}]`, value.card[field]);
      }
      if (value.postal_code) {
        body.append('billing_details[address][postal_code]', value.postal_code);
      }
      try {
        const response = await fetch(`${LOCALSTRIPE_BASE_API}/v1/payment_methods`, {
          method: 'POST',
          headers: {'Content-Type': 'application/x-www-form-urlencoded'},
          body,
        });
        const answer = await response.json().catch(() => ({}));
        if (response.status !== 200 || answer.error) {
          return {error: answer.error || {message: 'Your card details could not be read.'}};
        }
        return {paymentMethod: answer};
      } catch (err) {
        return {error: {type: 'api_connection_error', message: String(err)}};
      }
    };
    return stripe;
  };
})();
"""
# What the stand-in's publishable-key requests are let in as: localstripe checks secret
# keys by their prefix only, and one fake Stripe is one account.
_STRIPE_JS_AUTHORIZATION = "Bearer sk_test_stripe_js_stand_in"


def install_stripe_js_payment_methods(app: web.Application) -> None:
    """Stripe.js "Create a PaymentMethod": ``stripe.createPaymentMethod({type: "card", card})``.

    Stripe.js posts the card Element's details to ``/v1/payment_methods`` with the
    publishable key (``key=pk_…``) and resolves to ``{paymentMethod}`` (a ``pm_…``) or
    ``{error}``; the server then needs one call, the PaymentIntent's. localstripe's Stripe.js
    stand-in returns nothing from ``createPaymentMethod``, and its API accepts a publishable
    key only for tokens and sources: this serves the stand-in with the method added and
    lets a publishable key create a PaymentMethod, as Stripe does.
    """
    script = (
        Path(resources.__file__).with_name("localstripe-v3.js").read_text()
        + STRIPE_JS_CREATE_PAYMENT_METHOD
    )

    @web.middleware
    async def stripe_js_payment_methods(
        request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        if request.method == "GET" and request.path == "/js.stripe.com/v3/":
            return web.Response(text=script, content_type="application/javascript")
        if (
            request.method == "POST"
            and request.path == "/v1/payment_methods"
            and "Authorization" not in request.headers
        ):
            # A request cannot be cloned once read: clone first, then read the clone.
            let_in = request.clone(
                headers={**request.headers, "Authorization": _STRIPE_JS_AUTHORIZATION}
            )
            raw = await let_in.read()
            key = dict(parse_qsl(raw.decode("utf-8", "replace"))).get("key", "")
            if not key.startswith("pk_"):
                raise UserError(401, "Unauthorized")  # as localstripe answers it
            return await handler(let_in)
        return await handler(request)

    # Just before localstripe's authentication (so inside its error handling).
    names = [getattr(middleware, "__name__", "") for middleware in app.middlewares]
    app.middlewares.insert(names.index("auth_middleware"), stripe_js_payment_methods)


def install_all(app: web.Application) -> web.Application:
    """Apply every extension to localstripe's app and return it."""
    install_private_store()
    install_payment_methods_from_tokens()
    install_declining_test_cards()
    install_unknown_payment_details()
    install_minimum_charge()
    install_refunds_as_stripe_makes_them()
    install_payment_intent_listing()
    install_cancel_events(app)
    install_disputes(app)
    install_stripe_js_payment_methods(app)
    install_idempotency_keys(app)
    return app


__all__ = [
    "install_all",
    "install_cancel_events",
    "install_declining_test_cards",
    "install_disputes",
    "install_idempotency_keys",
    "install_minimum_charge",
    "install_payment_intent_listing",
    "install_payment_methods_from_tokens",
    "install_private_store",
    "install_refunds_as_stripe_makes_them",
    "install_stripe_js_payment_methods",
    "install_unknown_payment_details",
]
