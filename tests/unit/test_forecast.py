"""The pure parts of ``--repro-plan``: why a run would execute, its estimate, the lines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pytest_repro.forecast import (
    FORCED,
    NEVER_RUN,
    ItemPlan,
    PlannedRun,
    describe_change,
    duration,
    estimate,
    forecast_line,
    plan_lines,
    plan_runs,
    spread_over,
    summarize,
    why,
)
from pytest_repro.records import RunRecord

BASE: dict[str, Any] = {
    "v": 1,
    "paper": "p1",
    "config": {"lr": 0.01, "epochs": 5},
    "seed": 0,
    "code": "c1",
    "data": {"digits": "d1"},
    "environment": {"python": "3.11", "packages": {"torch": "2.1"}},
    "threads": 1,
}


@dataclass(frozen=True)
class Request:
    cache_key: str
    key_fields: Mapping[str, Any]
    force: bool = False
    purpose: str = ""
    label: str = "p1 [defaults] seed 0"
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return int(self.key_fields["seed"])


def fields(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


def record(
    key: str, key_fields: Mapping[str, Any], *, status: str = "ok", wall: float = 60.0
) -> RunRecord:
    return RunRecord(
        run_id=f"run-{key}",
        cache_key=key,
        paper_id="p1",
        paper_path="papers/p1/paper.yaml",
        variant="v",
        config=dict(key_fields.get("config", {})),
        seed=int(key_fields["seed"]),
        status=status,  # type: ignore[arg-type]
        evidence={"key": dict(key_fields)},
        started_at=1000.0,
        ended_at=1000.0 + wall,
    )


def test_a_config_change_names_the_key_and_the_old_and_new_value() -> None:
    new = fields(config={"lr": 0.02, "epochs": 5})
    assert describe_change(BASE, new) == "config changed: lr 0.01 → 0.02"


def test_an_added_config_key_shows_none_for_the_old_value() -> None:
    new = fields(config={"lr": 0.01, "epochs": 5, "wd": 0.1})
    assert describe_change(BASE, new) == "config changed: wd (none) → 0.1"


def test_code_data_and_environment_changes_are_named_config_first() -> None:
    new = fields(
        config={"lr": 0.02, "epochs": 5},
        code="c2",
        data={"digits": "d2"},
        environment={"python": "3.11", "packages": {"torch": "2.13"}},
    )
    assert describe_change(BASE, new) == (
        "config changed: lr 0.01 → 0.02; code changed; data changed: digits; "
        "environment changed: torch 2.1 → 2.13"
    )


def test_a_cached_request_has_no_reason() -> None:
    old = record("k", BASE)
    assert why(Request("k", BASE), cached={"k": old}, history=[old]) is None


def test_a_forced_request_is_forced_even_when_cached() -> None:
    old = record("k", BASE)
    assert why(Request("k", BASE, force=True), cached={"k": old}, history=[old]) == FORCED


def test_a_request_with_nothing_similar_was_never_run() -> None:
    other_seed = record("k1", fields(seed=1))
    assert why(Request("k0", BASE), cached={}, history=[other_seed]) == NEVER_RUN


def test_a_request_whose_key_only_failed_says_the_last_run_failed() -> None:
    failed = record("k", BASE, status="timeout")
    assert why(Request("k", BASE), cached={}, history=[failed]) == "last run failed (timeout)"


def test_the_reason_compares_with_the_most_similar_recorded_run() -> None:
    far = record("far", fields(code="c0", config={"lr": 0.5, "epochs": 5}))
    near = record("near", fields(config={"lr": 0.5, "epochs": 5}))
    new = fields(config={"lr": 0.02, "epochs": 5})
    reason = why(Request("new", new), cached={}, history=[near, far])
    assert reason == "config changed: lr 0.5 → 0.02"


def test_a_sanity_run_is_compared_only_with_runs_of_the_same_purpose() -> None:
    claim_run = record("c", BASE)
    sanity = fields(purpose="sanity#1")
    assert (
        why(Request("s", sanity, purpose="sanity#1"), cached={}, history=[claim_run]) == NEVER_RUN
    )


def test_the_estimate_is_the_wall_time_of_a_run_of_the_same_config() -> None:
    same_config_other_seed = record("a", fields(seed=1), wall=120.0)
    other_config = record("b", fields(config={"lr": 9.0}), wall=10.0)
    assert estimate(Request("new", BASE), [other_config, same_config_other_seed]) == 120.0


def test_without_a_run_of_the_config_the_estimate_is_the_papers_median() -> None:
    runs = [
        record(f"k{i}", fields(config={"lr": i}), wall=w) for i, w in enumerate((10.0, 20.0, 90.0))
    ]
    assert estimate(Request("new", BASE), runs) == 20.0


def test_without_recorded_runs_there_is_no_estimate() -> None:
    assert estimate(Request("new", BASE), []) is None


def test_runs_shared_by_two_items_count_once_in_the_forecast() -> None:
    shared = PlannedRun(key="s", what="seed 0", reason=NEVER_RUN, estimate=60.0)
    a = ItemPlan(item="a", paper="p", runs=(shared,))
    b = ItemPlan(item="b", paper="p", runs=(shared, PlannedRun(key="c", what="seed 1")))
    forecast = summarize([a, b], workers=2)
    assert (forecast.runs, forecast.cached, forecast.to_run) == (2, 1, 1)
    assert forecast.compute == 60.0


def test_the_forecast_line_gives_compute_wall_time_and_runs_without_an_estimate() -> None:
    runs = tuple(
        PlannedRun(key=str(i), what=str(i), reason=NEVER_RUN, estimate=e)
        for i, e in enumerate((300.0, 300.0, 60.0, None))
    )
    line = forecast_line(summarize([ItemPlan(item="a", paper="p", runs=runs)], workers=2))
    assert line == (
        "repro plan: 4 runs, 0 cached, 4 to run; ~11 min of compute, ~6 min on 2 workers "
        "(estimated from recorded runs; 1 without an estimate)"
    )


def test_runs_spread_over_workers_longest_first() -> None:
    assert spread_over([300.0, 300.0, 60.0], 2) == 360.0
    assert spread_over([300.0, 300.0, 60.0], 1) == 660.0


def test_durations_read_in_seconds_minutes_or_hours() -> None:
    assert [duration(s) for s in (0.2, 45, 660, 9000)] == ["~1 s", "~45 s", "~11 min", "~2.5 h"]


def test_plan_runs_dedupes_requests_and_estimates_only_runs_to_execute() -> None:
    old = record("k", BASE, wall=30.0)
    new = fields(config={"lr": 0.02, "epochs": 5})
    runs = plan_runs(
        [Request("k", BASE), Request("k", BASE), Request("n", new)],
        cached={"k": old},
        history=[old],
    )
    assert [(r.key, r.reason, r.estimate) for r in runs] == [
        ("k", None, None),
        ("n", "config changed: lr 0.01 → 0.02", 30.0),
    ]


def test_the_label_and_lines_escape_text_from_the_spec() -> None:
    run = PlannedRun(key="k", what="p1 [x\x1b[2J] seed 0", reason="config changed: a 1 → 2")
    plan = ItemPlan(item="acc\n", paper="papers/p1/paper.yaml", runs=(run,), up_to=True)
    assert plan.label() == "[plan: up to 1 to run (config changed), 0 cached]"
    lines = plan_lines([plan])
    assert lines[0] == "papers/p1/paper.yaml::acc\\n: up to 1 to run, 0 cached"
    assert "\x1b" not in lines[1] and "\\x1b" in lines[1]


def test_an_item_plan_survives_its_json_round_trip() -> None:
    plan = ItemPlan(
        item="a",
        paper="p",
        up_to=True,
        runs=(PlannedRun(key="k", what="w", reason=NEVER_RUN, estimate=1.5),),
    )
    assert ItemPlan.from_json(plan.to_json()) == plan


# -- estimates from smoke stages -----------------------------------------------------------
def smoke_record(budget: int, reached: int, wall: float, **changes: Any) -> RunRecord:
    key_fields = fields(purpose=f"smoke:{budget} steps", max_steps=budget, **changes)
    base = record(f"smoke{budget}", key_fields, wall=wall)
    series = tuple({"epoch": e, "acc": 0.5} for e in range(1, reached + 1))
    return replace(base, series=series, smoke=True)


def test_two_smoke_stages_give_a_fixed_cost_and_a_cost_per_epoch_out_to_the_claims_epoch() -> None:
    from pytest_repro.forecast import Reach, smoke_estimate

    # 1 epoch in 3 s, 20 epochs in 41 s: 2 s per epoch after a 1 s start.
    history = [smoke_record(1, 1, 3.0), smoke_record(20, 20, 41.0)]
    request = Request("k", fields())
    assert smoke_estimate(request, history, Reach("epoch", 100)) == 201.0
    # one stage: its cost per epoch, start-up included (errs long)
    assert smoke_estimate(request, history[:1], Reach("epoch", 100)) == 300.0
    # a stage of another config, or of another axis, tells nothing
    other = [smoke_record(1, 1, 3.0, config={"lr": 0.5})]
    assert smoke_estimate(request, other, Reach("epoch", 100)) is None
    assert smoke_estimate(request, history, Reach("step", 100)) is None


def test_a_plan_uses_a_recorded_full_run_first_then_smoke_stages_and_says_which() -> None:
    from pytest_repro.forecast import Reach

    smoke = [smoke_record(1, 1, 3.0), smoke_record(20, 20, 41.0)]
    request = Request("k", fields())
    (run,) = plan_runs([request], cached={}, history=smoke, reach={"k": Reach("epoch", 100)})
    assert (run.estimate, run.basis) == (201.0, "smoke")
    full = record("old", fields(seed=1), wall=150.0)  # another seed of the same config
    (run,) = plan_runs(
        [request], cached={}, history=[*smoke, full], reach={"k": Reach("epoch", 100)}
    )
    assert (run.estimate, run.basis) == (150.0, "recorded")
    plan = ItemPlan(
        item="acc",
        paper="papers/p1",
        runs=(
            PlannedRun(key="k", what="p1 seed 0", reason=NEVER_RUN, estimate=201.0, basis="smoke"),
        ),
    )
    assert plan_lines([plan])[1] == "    p1 seed 0: never run (~3 min, from smoke stages)"
    assert forecast_line(summarize([plan], workers=1)).endswith(
        "~3 min of compute, ~3 min on 1 worker (estimated from smoke stages)"
    )
    assert PlannedRun.from_json(plan.runs[0].to_json()) == plan.runs[0]
