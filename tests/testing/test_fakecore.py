"""The fake node's invoice indexes answer as a scan over every invoice would."""

from __future__ import annotations

from switchgeard.testing.fakecore import FakeInvoice, FakeNodeCore


def _add(core: FakeNodeCore, label: str) -> FakeInvoice:
    return core.add_invoice(
        amount_msat=1000, description="d", description_hash=None, expiry=60, label=label
    )


def _scan_settled(core: FakeNodeCore, index: int) -> list[FakeInvoice]:
    found = [inv for inv in core.invoices.values() if inv.settle_index > index]
    return sorted(found, key=lambda inv: inv.settle_index)


def test_indexes_match_a_full_scan() -> None:
    core = FakeNodeCore()
    made = [_add(core, f"label-{n}") for n in range(10)]
    assert [inv.add_index for inv in made] == list(range(1, 11))
    for n in (7, 2, 9, 2):
        core.settle(made[n].payment_hash.hex())
    for index in range(6):  # node indexes are unsigned
        assert core.settled_after(index) == _scan_settled(core, index)
        expected = sorted(
            (inv for inv in core.invoices.values() if inv.add_index > index),
            key=lambda inv: inv.add_index,
        )
        assert core.added_after(index) == expected
    assert [inv.settle_index for inv in core.settled_after(0)] == [1, 2, 3]
    assert core.last_settle_index == 3
    assert core.has_label("label-4") and not core.has_label("label-10")
