"""Tiny scenarios whose optimum is worked out by hand (docstrings show the arithmetic).

Each optimum is checked for the default MILP (continuous job counts), the exact MILP
with integer job counts, and the LP relaxation (the optima here are integral, so all three
coincide). Every schedule is re-accounted by `evaluate` and must be violation-free.
"""

from __future__ import annotations

import numpy as np
import pytest

from aigc_opt import evaluate, solve_oracle
from tests.conftest import unit_scenario

VARIANTS = [dict(), dict(integer_jobs=True), dict(relax=True)]


def solve_all(scn):
    out = []
    for kw in VARIANTS:
        res = solve_oracle(scn, **kw)
        assert res.status == "optimal", (kw, res.status, res.message)
        ev = evaluate(scn, res.schedule, relaxed=kw.get("relax", False))
        assert ev.violations == []
        assert ev.utility == pytest.approx(res.utility, rel=1e-9, abs=1e-9)
        assert res.best_bound >= res.utility - 1e-6
        out.append(res)
    return out


def test_battery_arbitrage_between_two_prices():
    """1 MWh load in each of two slots at 10 and 100 $/MWh; battery 1 MWh, 1 MW,
    η_c = η_d = 0.9, wear 1 $/MWh, empty at start and end.
    Charge 1 MWh at slot 0 (SoC 0.9), discharge 0.81 MWh at slot 1:
    energy 10·2 + 100·0.19 = 39, wear 1·(1 + 0.81) = 1.81, revenue 200 → U = 159.19.
    Every charged MWh costs 11 and saves 0.81·99 = 80.19, so charging fully is optimal."""
    scn = unit_scenario(
        {
            "data_centers": [
                {
                    "name": "dc",
                    "pue": 1.0,
                    "battery": {
                        "capacity_mwh": 1.0,
                        "charge_mw": 1.0,
                        "discharge_mw": 1.0,
                        "eta_charge": 0.9,
                        "eta_discharge": 0.9,
                        "soc_initial_mwh": 0.0,
                        "wear_usd_per_mwh": 1.0,
                    },
                }
            ]
        },
        price=[10.0, 100.0],
        arrivals=[1, 1],
    )
    for res in solve_all(scn):
        assert res.utility == pytest.approx(159.19, abs=1e-6)
        assert res.terms["energy_cost"] == pytest.approx(39.0, abs=1e-6)
        assert res.terms["battery_wear"] == pytest.approx(1.81, abs=1e-6)
        np.testing.assert_allclose(res.schedule.charge[0], [1.0, 0.0], atol=1e-7)
        np.testing.assert_allclose(res.schedule.discharge[0], [0.0, 0.81], atol=1e-7)


def test_transfer_to_another_asp_beats_local_service():
    """10 jobs (price 1 $) arrive at ASP a (quality 0.5); ASP b (quality 1.0) is 0.1 $/job
    away. Local: 10·0.5 = 5. Transfer: 10·(1.0 − 0.1) = 9 → U = 9, all 10 transferred."""
    q = lambda v: {"form": "table", "steps": [1, 2], "quality": [v, v]}  # noqa: E731
    asp = {"data_center": "dc", "gpus": 10, "gpu_seconds_per_step": 3600.0, "kwh_per_step": 0.0}
    scn = unit_scenario(
        {
            "asps": [
                {**asp, "name": "a", "quality": q(0.5)},
                {**asp, "name": "b", "quality": q(1.0)},
            ],
            "job_classes": [{"name": "k", "price_usd": 1.0}],
            "transfer": {"default_usd_per_job": 0.1},
        },
        price=[50.0],
        arrivals=np.array([[[10]], [[0]]]),
    )
    for res in solve_all(scn):
        assert res.utility == pytest.approx(9.0, abs=1e-6)
        assert res.kpis["jobs_transferred"] == pytest.approx(10.0, abs=1e-6)
        assert res.terms["transfer_cost"] == pytest.approx(1.0, abs=1e-6)


def test_drop_when_drop_penalty_is_below_cost_of_serving():
    """Serving the job earns 10 but costs 1 MWh at 100 $/MWh: U = −90. Dropping it costs
    the penalty 5: U = −5, which is optimal."""
    scn = unit_scenario(
        {"job_classes": [{"name": "k", "price_usd": 10.0, "drop_usd": 5.0}]},
        price=[100.0],
        arrivals=[1],
    )
    for res in solve_all(scn):
        assert res.utility == pytest.approx(-5.0, abs=1e-6)
        assert res.kpis["jobs_dropped"] == pytest.approx(1.0, abs=1e-6)
        assert res.kpis["jobs_served"] == pytest.approx(0.0, abs=1e-6)


def test_defer_to_a_cheaper_slot_inside_the_wait_window():
    """One job (price 200, wait ≤ 1 slot, delay 5 $/slot) needs 1 MWh; prices 100 then 10.
    Now: 200 − 100 = 100. Next slot: 200 − 10 − 5 = 185 → U = 185, served at slot 1."""
    scn = unit_scenario(
        {
            "job_classes": [
                {
                    "name": "k",
                    "price_usd": 200.0,
                    "max_wait_slots": 1,
                    "delay_usd_per_slot": 5.0,
                    "drop_usd": 1000.0,
                }
            ]
        },
        price=[100.0, 10.0],
        arrivals=[1, 0],
    )
    for res in solve_all(scn):
        assert res.utility == pytest.approx(185.0, abs=1e-6)
        assert res.kpis["mean_wait_slots"] == pytest.approx(1.0, abs=1e-6)
        assert res.terms["delay_penalty"] == pytest.approx(5.0, abs=1e-6)


@pytest.mark.parametrize(
    "startup, initially_on, expected",
    [
        (150.0, False, 10.0),  # 2·20 fuel + 150 start = 190 < 200 grid → generator on
        (170.0, False, 0.0),  # 40 + 170 = 210 > 200 → grid; U = 200 − 200
        (170.0, True, 160.0),  # already on: no start-up → 200 − 40
    ],
)
def test_generator_commitment_with_start_up_cost(startup, initially_on, expected):
    """1 MWh load in each of two slots (revenue 2·100 = 200); grid at 100 $/MWh; generator
    0.5–1 MW at 20 $/MWh fuel with a start-up cost. The commitment decision flips with
    the start-up cost and the initial status."""
    scn = unit_scenario(
        {
            "data_centers": [
                {
                    "name": "dc",
                    "pue": 1.0,
                    "generator": {
                        "min_mw": 0.5,
                        "max_mw": 1.0,
                        "fuel_usd_per_mwh": 20.0,
                        "startup_usd": startup,
                        "initially_on": initially_on,
                    },
                }
            ]
        },
        price=[100.0, 100.0],
        arrivals=[1, 1],
    )
    for res in solve_all(scn)[:2]:  # the LP relaxes u: its value may be higher
        assert res.utility == pytest.approx(expected, abs=1e-6)
    lp = solve_oracle(scn, relax=True)
    assert lp.utility >= expected - 1e-6


def test_quality_floor_excludes_configurations():
    """Two step levels: 1 step gives Q = 0.4, 2 steps Q = 0.9; the class floor is 0.5, so
    only 2 steps are admissible. One GPU-hour fits one 2-step job (1800 GPU-s/step)
    → revenue 100·0.9 = 90 for one job, the second of two arrivals is dropped (ρ = 1)."""
    scn = unit_scenario(
        {
            "steps": [1, 2],
            "asps": [
                {
                    "name": "a",
                    "data_center": "dc",
                    "gpus": 1,
                    "gpu_seconds_per_step": 1800.0,
                    "kwh_per_step": 0.0,
                    "quality": {"form": "table", "steps": [1, 2], "quality": [0.4, 0.9]},
                }
            ],
            "job_classes": [
                {"name": "k", "price_usd": 100.0, "quality_floor": 0.5, "drop_usd": 1.0}
            ],
        },
        price=[0.0],
        arrivals=[2],
    )
    for res in solve_all(scn):
        assert res.utility == pytest.approx(89.0, abs=1e-6)
        assert res.kpis["jobs_served_by_steps"] == {"2": pytest.approx(1.0)}
