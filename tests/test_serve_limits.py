"""The error budget of a public ``broadsheet serve`` (pipeline.serve.limits), by itself:
buckets per client on a clock the test turns, and the client addresses they are kept by.
The budget in a running Datasette is tested in test_datasette.py."""

from __future__ import annotations

import pytest

from pipeline.serve.limits import ErrorBudget, client_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_is_served_until_its_burst_is_spent_then_one_a_second() -> None:
    clock = Clock()
    budget = ErrorBudget(burst=3, per_second=1.0, clock=clock)
    assert [budget.charge("a") for _ in range(3)] == [False, False, True]
    assert budget.wait("a") == pytest.approx(1.0)
    assert budget.wait("b") == 0  # another client is not concerned
    clock.now += 0.5
    assert budget.wait("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert budget.wait("a") == 0
    assert budget.charge("a") is False  # logged once, not at every error
    assert budget.wait("a") == pytest.approx(1.0)


def test_a_client_that_stops_erring_is_forgotten() -> None:
    clock = Clock()
    budget = ErrorBudget(burst=3, per_second=1.0, clock=clock)
    budget.charge("a")
    assert len(budget) == 1
    clock.now += 1.0
    assert budget.wait("a") == 0
    assert len(budget) == 0  # a full bucket is not kept


def test_the_client_table_is_bounded() -> None:
    budget = ErrorBudget(burst=2, per_second=0.001, max_clients=100, clock=Clock())
    for n in range(1000):
        budget.charge(f"10.0.{n // 256}.{n % 256}")
    budget.charge("10.0.3.231")  # recently charged: kept
    budget.charge("10.0.3.231")
    assert len(budget) == 100
    assert budget.wait("10.0.3.231") > 0
    assert budget.wait("10.0.0.0") == 0  # the least recently charged were forgotten


@pytest.mark.parametrize(
    ("client", "key"),
    [
        (("192.0.2.7", 5000), "192.0.2.7"),
        (("2001:db8:1:2:3:4:5:6", 5000), "2001:db8:1:2::/64"),
        (("2001:db8:1:2:ffff::1", 5000), "2001:db8:1:2::/64"),
        (("::ffff:192.0.2.7", 5000), "192.0.2.7"),
        (("unix-socket", 0), "unix-socket"),
        (None, ""),
    ],
)
def test_clients_are_addresses_and_ipv6_networks(client: tuple | None, key: str):
    assert client_key({"type": "http", "client": client}) == key
