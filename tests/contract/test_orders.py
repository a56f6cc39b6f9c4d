"""The OrderRepository contract, run against every storage adapter."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from framesell.application.ports import UnitOfWorkFactory
from framesell.domain.models import PaymentAttempt, PaymentStatus
from framesell.domain.money import Money
from tests.contract.helpers import (
    T0,
    a_user,
    an_order,
    attempt_for,
    later,
    save_order,
    save_shopper_and_product,
    unique,
)

PENDING, PAID, FAILED, REFUNDED = (
    PaymentStatus.PENDING,
    PaymentStatus.PAID,
    PaymentStatus.FAILED,
    PaymentStatus.REFUNDED,
)


def test_an_added_order_gets_an_id_and_reads_back_the_same(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        order = save_order(uow)
        uow.commit()
    with uow_factory() as uow:
        reread = uow.orders.get(order.id or 0)
    assert reread == order
    assert reread is not None
    assert reread.status is PENDING
    assert reread.attempt is None
    assert reread.updated_at == order.created_at


def test_an_unknown_order_is_none(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.orders.get(987_654) is None


def test_created_at_round_trips_with_microseconds_as_aware_utc(
    uow_factory: UnitOfWorkFactory,
) -> None:
    created = datetime(2024, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    with uow_factory() as uow:
        order = save_order(uow, at=created)
        uow.commit()
    with uow_factory() as uow:
        reread = uow.orders.get(order.id or 0)
    assert reread is not None
    assert reread.created_at == created
    assert reread.created_at.microsecond == 999_999
    assert reread.created_at.utcoffset() == timedelta(0)


def test_a_created_at_in_another_zone_reads_back_as_the_same_instant(
    uow_factory: UnitOfWorkFactory,
) -> None:
    new_york = timezone(timedelta(hours=-5))
    created = datetime(2017, 2, 10, 21, 40, 24, 333_429, tzinfo=new_york)
    with uow_factory() as uow:
        order = save_order(uow, at=created)
        reread = uow.orders.get(order.id or 0)
    assert reread is not None
    assert reread.created_at == datetime(2017, 2, 11, 2, 40, 24, 333_429, tzinfo=UTC)


def test_an_order_keeps_the_price_paid_after_the_catalog_changes(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        user, product = save_shopper_and_product(uow, cents=10_000)
        order = uow.orders.add(an_order(user, product))
        uow.products.update(
            replace(product, description="renamed", url="https://x.test/new.jpg", price=Money(1))
        )
        uow.commit()
    with uow_factory() as uow:
        reread = uow.orders.get(order.id or 0)
    assert reread is not None
    assert reread.product.price == Money(10_000)
    assert reread.product.description == product.description
    assert reread.product.url == product.url
    assert reread.product.product_id == product.id


def test_a_shopper_sees_only_their_own_orders_oldest_first(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        shopper, product = save_shopper_and_product(uow)
        other = uow.users.add(a_user())
        first = uow.orders.add(an_order(shopper, product, created_at=later(1)))
        others = uow.orders.add(an_order(other, product, created_at=later(2)))
        second = uow.orders.add(an_order(shopper, product, created_at=later(3)))
        uow.commit()
    with uow_factory() as uow:
        assert uow.orders.list_for_user(shopper.id or 0) == [first, second]
        # The list's read model: the same orders, as summaries, in one query.
        assert uow.orders.list_for_account(shopper.id or 0) == [first.summary(), second.summary()]
        assert uow.orders.list_for_account(other.id or 0) == [others.summary()]


def test_a_shopper_without_orders_has_an_empty_list(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        user = uow.users.add(a_user())
        assert uow.orders.list_for_user(user.id or 0) == []


def test_an_account_without_orders_is_read_with_an_empty_list(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        user = uow.users.add(a_user())
        assert uow.orders.list_for_account(user.id or 0) == []


def test_an_unknown_account_has_no_listing(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        user = uow.users.add(a_user())
        assert uow.orders.list_for_account((user.id or 0) + 1000) is None


def test_a_recorded_attempt_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        order = save_order(uow)
        attempt = PaymentAttempt(1, order.payment_key(1), f"pi_{unique()}")
        uow.orders.record_attempt(order.id or 0, attempt)
        uow.commit()
    with uow_factory() as uow:
        reread = uow.orders.get(order.id or 0)
    assert reread is not None and reread.attempt == attempt


def test_an_attempts_payment_token_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        order = save_order(uow)
        attempt = PaymentAttempt(1, order.payment_key(1), payment_token=f"pm_{unique()}Xy")
        uow.orders.record_attempt(order.id or 0, attempt)
        uow.commit()
    with uow_factory() as uow:
        reread = uow.orders.get(order.id or 0)
        listed = uow.orders.list_for_user(order.user_id)
    assert reread is not None and reread.attempt == attempt
    assert [o.attempt for o in listed] == [attempt]


def test_an_order_added_with_a_tokened_attempt_keeps_the_token(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        user, product = save_shopper_and_product(uow)
        unsaved = an_order(user, product)
        attempt = PaymentAttempt(1, "framesell-test-attempt-1", f"pi_{unique()}", "tok_visa")
        order = uow.orders.add(replace(unsaved, attempt=attempt))
        uow.commit()
    with uow_factory() as uow:
        reread = uow.orders.get(order.id or 0)
    assert reread is not None and reread.attempt == attempt


def test_a_new_attempt_without_a_token_drops_the_previous_token(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        order = save_order(uow)
        tokened = PaymentAttempt(1, order.payment_key(1), payment_token="tok_visa")
        uow.orders.record_attempt(order.id or 0, tokened)
        uow.orders.record_attempt(order.id or 0, attempt_for(order, 2))
        reread = uow.orders.get(order.id or 0)
    assert reread is not None and reread.attempt == attempt_for(order, 2)
    assert reread.attempt.payment_token is None


def test_a_transition_keeps_the_attempts_payment_token(uow_factory: UnitOfWorkFactory) -> None:
    payment_id = f"pi_{unique()}"
    with uow_factory() as uow:
        order = save_order(uow)
        tokened = PaymentAttempt(1, order.payment_key(1), payment_token="tok_visa")
        uow.orders.record_attempt(order.id or 0, tokened)
        uow.orders.transition(order.id or 0, PENDING, PAID, payment_id=payment_id, at=T0)
        found = uow.orders.find_by_payment_id(payment_id)
    assert found is not None
    assert found.attempt == replace(tokened, payment_id=payment_id)


def test_a_new_attempt_replaces_the_previous_one(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        order = save_order(uow)
        uow.orders.record_attempt(order.id or 0, attempt_for(order, 1, f"pi_{unique()}"))
        uow.orders.record_attempt(order.id or 0, attempt_for(order, 2))
        reread = uow.orders.get(order.id or 0)
    assert reread is not None and reread.attempt == attempt_for(order, 2)


def test_an_order_added_with_an_attempt_keeps_it(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        user, product = save_shopper_and_product(uow)
        unsaved = an_order(user, product)
        attempt = attempt_for(replace(unsaved, id=1), 1, f"pi_{unique()}")
        order = uow.orders.add(replace(unsaved, attempt=attempt))
        reread = uow.orders.get(order.id or 0)
    assert reread is not None and reread.attempt == attempt


def test_a_transition_from_the_expected_status_happens(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        order = save_order(uow)
        uow.orders.record_attempt(order.id or 0, attempt_for(order))
        moved = uow.orders.transition(order.id or 0, PENDING, PAID, payment_id=None, at=later(5))
        uow.commit()
    with uow_factory() as uow:
        reread = uow.orders.get(order.id or 0)
    assert moved is True
    assert reread is not None
    assert reread.status is PAID
    assert reread.updated_at == later(5)
    assert reread.created_at == T0


def test_a_repeated_transition_changes_nothing(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        order = save_order(uow)
        first = uow.orders.transition(order.id or 0, PENDING, PAID, payment_id=None, at=later(1))
        again = uow.orders.transition(order.id or 0, PENDING, PAID, payment_id=None, at=later(2))
        reread = uow.orders.get(order.id or 0)
    assert (first, again) == (True, False)
    assert reread is not None and reread.updated_at == later(1)


def test_a_transition_from_a_status_the_order_is_not_in_changes_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        order = save_order(uow)
        moved = uow.orders.transition(order.id or 0, PAID, REFUNDED, payment_id=None, at=later(1))
        reread = uow.orders.get(order.id or 0)
    assert moved is False
    assert reread is not None and reread.status is PENDING


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (PAID, PENDING),
        (FAILED, PAID),
        (FAILED, PENDING),
        (REFUNDED, PAID),
        (PaymentStatus.PARTIALLY_REFUNDED, PAID),
        (REFUNDED, PaymentStatus.PARTIALLY_REFUNDED),
    ],
)
def test_a_backward_or_sideways_transition_is_refused(
    uow_factory: UnitOfWorkFactory, start: PaymentStatus, target: PaymentStatus
) -> None:
    with uow_factory() as uow:
        order = save_order(uow, status=start)
        moved = uow.orders.transition(order.id or 0, start, target, payment_id=None, at=later(1))
        reread = uow.orders.get(order.id or 0)
    assert moved is False
    assert reread is not None and reread.status is start


def test_a_refund_follows_a_payment(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        order = save_order(uow)
        paid = uow.orders.transition(order.id or 0, PENDING, PAID, payment_id=None, at=later(1))
        refunded = uow.orders.transition(
            order.id or 0, PAID, REFUNDED, payment_id=None, at=later(2)
        )
        reread = uow.orders.get(order.id or 0)
    assert (paid, refunded) == (True, True)
    assert reread is not None and reread.status is REFUNDED


def test_a_transition_for_another_payment_id_changes_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    current = f"pi_{unique()}"
    with uow_factory() as uow:
        order = save_order(uow)
        uow.orders.record_attempt(order.id or 0, attempt_for(order, 2, current))
        moved = uow.orders.transition(
            order.id or 0, PENDING, PAID, payment_id=f"pi_stale_{unique()}", at=later(1)
        )
        reread = uow.orders.get(order.id or 0)
    assert moved is False
    assert reread is not None
    assert reread.status is PENDING
    assert reread.attempt == attempt_for(order, 2, current)


def test_a_payment_id_differing_only_in_case_is_another_payment(
    uow_factory: UnitOfWorkFactory,
) -> None:
    current = f"pi_{unique()}Abc"
    with uow_factory() as uow:
        order = save_order(uow)
        uow.orders.record_attempt(order.id or 0, attempt_for(order, 1, current))
        moved = uow.orders.transition(
            order.id or 0, PENDING, PAID, payment_id=current.upper(), at=later(1)
        )
        found = uow.orders.find_by_payment_id(current.lower())
    assert moved is False
    assert found is None


def test_a_transition_for_the_current_payment_id_happens(uow_factory: UnitOfWorkFactory) -> None:
    current = f"pi_{unique()}"
    with uow_factory() as uow:
        order = save_order(uow)
        uow.orders.record_attempt(order.id or 0, attempt_for(order, 1, current))
        moved = uow.orders.transition(order.id or 0, PENDING, FAILED, payment_id=current, at=T0)
        reread = uow.orders.get(order.id or 0)
    assert moved is True
    assert reread is not None and reread.status is FAILED
    assert reread.attempt == attempt_for(order, 1, current)


def test_a_transition_stores_the_payment_id_when_none_was_known(
    uow_factory: UnitOfWorkFactory,
) -> None:
    payment_id = f"pi_{unique()}"
    with uow_factory() as uow:
        order = save_order(uow)
        uow.orders.record_attempt(order.id or 0, attempt_for(order))
        moved = uow.orders.transition(order.id or 0, PENDING, PAID, payment_id=payment_id, at=T0)
        uow.commit()
    with uow_factory() as uow:
        reread = uow.orders.get(order.id or 0)
        found = uow.orders.find_by_payment_id(payment_id)
    assert moved is True
    assert reread is not None and reread.attempt == attempt_for(order, 1, payment_id)
    assert found == reread


def test_a_transition_without_a_payment_id_keeps_the_known_one(
    uow_factory: UnitOfWorkFactory,
) -> None:
    current = f"pi_{unique()}"
    with uow_factory() as uow:
        order = save_order(uow)
        uow.orders.record_attempt(order.id or 0, attempt_for(order, 1, current))
        uow.orders.transition(order.id or 0, PENDING, PAID, payment_id=None, at=T0)
        reread = uow.orders.get(order.id or 0)
    assert reread is not None and reread.attempt == attempt_for(order, 1, current)


def test_a_transition_of_an_unknown_order_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.orders.transition(987_654, PENDING, PAID, payment_id=None, at=T0) is False


def test_an_order_is_found_by_its_current_payment_id(uow_factory: UnitOfWorkFactory) -> None:
    payment_id = f"pi_{unique()}"
    with uow_factory() as uow:
        save_order(uow)
        order = save_order(uow)
        uow.orders.record_attempt(order.id or 0, attempt_for(order, 1, payment_id))
        uow.commit()
    with uow_factory() as uow:
        found = uow.orders.find_by_payment_id(payment_id)
        unknown = uow.orders.find_by_payment_id(f"pi_{unique()}")
    assert found is not None and found.id == order.id
    assert unknown is None


def test_an_order_is_no_longer_found_by_a_replaced_payment_id(
    uow_factory: UnitOfWorkFactory,
) -> None:
    old = f"pi_{unique()}"
    with uow_factory() as uow:
        order = save_order(uow)
        uow.orders.record_attempt(order.id or 0, attempt_for(order, 1, old))
        uow.orders.record_attempt(order.id or 0, attempt_for(order, 2))
        assert uow.orders.find_by_payment_id(old) is None


def test_pending_orders_before_a_cutoff_are_listed_oldest_first_up_to_a_limit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        user, product = save_shopper_and_product(uow)

        def add(minutes: int, status: PaymentStatus = PENDING) -> int:
            unsaved = an_order(user, product, created_at=later(minutes), status=status)
            return uow.orders.add(unsaved).id or 0

        third = add(3)
        first = add(1)
        add(2, PAID)
        add(0, FAILED)
        second = add(2)
        add(10)  # exactly at the cutoff: not before it
        add(11)
        uow.commit()
    with uow_factory() as uow:
        all_before = uow.orders.list_pending_since(later(10), limit=100)
        limited = uow.orders.list_pending_since(later(10), limit=2)
        none_yet = uow.orders.list_pending_since(later(1), limit=100)
    assert [o.id for o in all_before] == [first, second, third]
    assert [o.id for o in limited] == [first, second]
    assert none_yet == []
    assert all(o.status is PENDING for o in all_before)


# --- refunds, disputes and reconcile backoff (refunded amount, PARTIALLY_REFUNDED) ---------

PARTIAL = PaymentStatus.PARTIALLY_REFUNDED


def test_a_partial_refund_is_settled_with_its_amount_and_read_back(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        order = save_order(uow, status=PAID)
        moved = uow.orders.settle(
            order.id or 0, expected=PAID, expected_refunded_cents=0, target=PARTIAL,
            refunded_cents=2500, payment_id=None, at=later(1),
        )
        uow.commit()
    with uow_factory() as uow:
        reread = uow.orders.get(order.id or 0)
        (listed,) = uow.orders.list_for_account(order.user_id) or []
    assert moved is True
    assert reread is not None
    assert (reread.status, reread.refunded_cents, reread.updated_at) == (PARTIAL, 2500, later(1))
    assert (listed.status, listed.refunded_cents) == (PARTIAL, 2500)


def test_a_settle_from_a_stale_refunded_amount_changes_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        order = save_order(uow, status=PAID)
        first = uow.orders.settle(
            order.id or 0, expected=PAID, expected_refunded_cents=0, target=PARTIAL,
            refunded_cents=1000, payment_id=None, at=later(1),
        )
        # A second writer still believes nothing was refunded.
        stale = uow.orders.settle(
            order.id or 0, expected=PAID, expected_refunded_cents=0, target=PARTIAL,
            refunded_cents=3000, payment_id=None, at=later(2),
        )
        more = uow.orders.settle(
            order.id or 0, expected=PARTIAL, expected_refunded_cents=1000, target=PARTIAL,
            refunded_cents=3000, payment_id=None, at=later(3),
        )
        backwards = uow.orders.settle(
            order.id or 0, expected=PARTIAL, expected_refunded_cents=3000, target=PARTIAL,
            refunded_cents=2000, payment_id=None, at=later(4),
        )
        reread = uow.orders.get(order.id or 0)
    assert (first, stale, more, backwards) == (True, False, True, False)
    assert reread is not None and reread.refunded_cents == 3000


def test_a_settle_for_another_payment_id_changes_nothing(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        order = save_order(uow)
        uow.orders.record_attempt(order.id or 0, attempt_for(order, 1, "pi_mine"))
        other = uow.orders.settle(
            order.id or 0, expected=PENDING, expected_refunded_cents=0, target=REFUNDED,
            refunded_cents=10_000, payment_id="pi_other", at=later(1),
        )
        mine = uow.orders.settle(
            order.id or 0, expected=PENDING, expected_refunded_cents=0, target=REFUNDED,
            refunded_cents=10_000, payment_id="pi_mine", at=later(1),
        )
        reread = uow.orders.get(order.id or 0)
    assert (other, mine) == (False, True)
    assert reread is not None and (reread.status, reread.refunded_cents) == (REFUNDED, 10_000)


def test_a_dispute_is_recorded_on_the_order(uow_factory: UnitOfWorkFactory) -> None:
    from framesell.domain.models import DisputeStatus

    with uow_factory() as uow:
        order = save_order(uow, status=PAID)
        uow.orders.record_dispute(order.id or 0, DisputeStatus.NEEDS_RESPONSE, at=later(1))
        uow.commit()
    with uow_factory() as uow:
        reread = uow.orders.get(order.id or 0)
    assert reread is not None and reread.dispute is DisputeStatus.NEEDS_RESPONSE


def test_a_postponed_order_waits_and_then_comes_after_the_others(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        user, product = save_shopper_and_product(uow)
        stuck = uow.orders.add(an_order(user, product, created_at=later(0))).id or 0
        fresh = uow.orders.add(an_order(user, product, created_at=later(1))).id or 0
        assert uow.leases.lease(stuck, until=later(20), now=later(10))
        uow.leases.postpone(stuck, until=later(30))
        uow.commit()
    with uow_factory() as uow:
        while_waiting = uow.orders.list_pending_since(later(5), limit=10, now=later(20))
        after = uow.orders.list_pending_since(later(5), limit=10, now=later(30))
        one = uow.orders.list_pending_since(later(5), limit=1, now=later(30))
        reread = uow.orders.get(stuck)
    assert [o.id for o in while_waiting] == [fresh]
    assert [o.id for o in after] == [fresh, stuck]
    assert [o.id for o in one] == [fresh]
    assert reread is not None and reread.reconcile_attempts == 1
