"""The submit workload's arithmetic: requests split into alternating blocks, and figures over blocks
taken together (bench/submit.py). No server: `Load`s are built by hand."""

from __future__ import annotations

import pytest

from bench import submit
from bench.submit import Load


def test_blocks_split_in_order_into_near_equal_nonempty_parts() -> None:
    items = list(range(12))
    parts = submit.blocks(items, 5)
    assert [len(p) for p in parts] == [3, 3, 2, 2, 2]
    assert [x for p in parts for x in p] == items
    assert submit.blocks(items, 1) == [items]
    assert submit.blocks(items, 12) == [[i] for i in items]


@pytest.mark.parametrize("rounds", [0, -1, 13])
def test_blocks_refuse_a_split_that_leaves_a_block_empty(rounds: int) -> None:
    with pytest.raises(ValueError, match="cannot split 12 requests"):
        submit.blocks(list(range(12)), rounds)


def test_figures_of_several_blocks_are_over_all_their_requests() -> None:
    fast = Load(latencies=[0.010, 0.020], statuses=[201, 201], seconds=1.0, concurrency=8)
    slow = Load(latencies=[0.030, 0.040, 0.050], statuses=[201, 500, 0], seconds=4.0, concurrency=8)
    together = submit.figures([fast, slow])
    assert together["requests"] == 5
    assert together["seconds"] == 5.0
    # 3 answered in 5 seconds: not the mean of the blocks' rates (2/s and 0.25/s).
    assert together["throughput_per_s"] == 0.6
    assert submit.throughput([fast, slow]) == pytest.approx(0.6)
    assert together["errors"] == 2
    assert (fast.errors, slow.errors) == (0, 2)  # a 500 and an unanswered request
    assert together["status_counts"] == {"201": 3, "500": 1, "no answer": 1}
    assert together["latency_ms"]["max"] == 50.0
    assert together["latency_ms"]["p50"] == 30.0
    assert together["concurrency"] == 8


def test_floor_requests_carry_the_submissions_body_and_a_key_only_where_they_authenticate() -> None:
    template = submit.Call(
        "POST",
        "/api/v1/assignments/1/responses",
        b'{"answers": {"phq9_1": 2}}',
        (("Authorization", "Bearer k"), ("Content-Type", "application/json")),
    )
    by_name = {floor.name: submit._floor_calls(floor, template, 3) for floor in submit.FLOORS}
    assert set(by_name) == {"django_write", "api_read", "api_write"}
    for floor in submit.FLOORS:
        calls = by_name[floor.name]
        assert len(calls) == 3 and {c.path for c in calls} == {floor.path}
        assert all(c.method == "POST" and c.body == template.body for c in calls)
        headers = dict(calls[0].headers)
        assert ("Authorization" in headers) is floor.authenticated, floor.name
        assert headers["Content-Type"] == "application/json"
    assert set(submit.WRITING_FLOORS) < set(by_name)
