"""Small patches that make localstripe answer as Stripe's documentation says it should.

Each ``install_*`` function reproduces one documented Stripe behaviour that localstripe
1.15.10 gets wrong or lacks; ``install_all`` applies them to localstripe's aiohttp app.
They patch localstripe's module-level state, so install them once per process: the
launcher runs every fake Stripe in a process of its own.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from localstripe import resources
from localstripe.errors import UserError
from localstripe.resources import PaymentIntent, PaymentMethod

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


def install_payment_methods_from_tokens() -> None:
    """Stripe "Create a PaymentMethod" with ``card[token]``: a card token becomes a card.

    Stripe accepts ``type=card&card[token]=tok_…`` (a token from Stripe.js or one of the
    test tokens such as ``tok_visa``) and returns a card PaymentMethod with that token's
    card; an unknown token is a 400 ``resource_missing`` "No such token". localstripe
    accepts only raw ``card[number]`` details here.
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


def install_all(app: web.Application) -> web.Application:
    """Apply every extension to localstripe's app and return it."""
    install_private_store()
    install_payment_methods_from_tokens()
    install_declining_test_cards()
    install_unknown_payment_details()
    install_idempotency_keys(app)
    return app


__all__ = [
    "install_all",
    "install_declining_test_cards",
    "install_idempotency_keys",
    "install_payment_methods_from_tokens",
    "install_private_store",
    "install_unknown_payment_details",
]
