"""The simulator: oracle replay reproduces the oracle's utility; decisions out of bounds
are rejected or repaired exactly as docs/simulator.md says."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigc_opt import evaluate, load_scenario, solve_oracle
from aigc_opt.data.catalog import quick_names
from aigc_opt.data.scenario import Scenario, make_scenario
from aigc_opt.formulations.accounting import TERMS
from aigc_opt.solvers.policy import OracleReplay, Policy, ScheduleReplay, run_episode
from aigc_opt.solvers.simulator import (
    DecisionError,
    Simulator,
    SlotDecisions,
    repair_decisions,
)


def stress_scenario(T: int = 8, seed: int = 3) -> Scenario:
    """Two regions, three pools, two classes; a binding grid cap, a generator with a
    start-up cost, a battery with losses, a negative price, a forbidden transfer, waits
    and drops: every term of the utility is non-zero at the optimum."""
    p = {
        "name": "stress",
        "slot_hours": 1.0,
        "carbon_price_usd_per_t": 30.0,
        "steps": [10, 20],
        "data_centers": [
            {
                "name": "north",
                "pue": 1.1,
                "grid_cap_mw": 0.05,
                "battery": {
                    "capacity_mwh": 0.1,
                    "soc_min_mwh": 0.01,
                    "charge_mw": 0.04,
                    "discharge_mw": 0.04,
                    "eta_charge": 0.9,
                    "eta_discharge": 0.9,
                    "soc_initial_mwh": 0.05,
                    "wear_usd_per_mwh": 2.0,
                },
                "generator": {
                    "min_mw": 0.01,
                    "max_mw": 0.04,
                    "fuel_usd_per_mwh": 120.0,
                    "emission_t_per_mwh": 0.6,
                    "startup_usd": 3.0,
                    "initially_on": False,
                },
            },
            {"name": "south", "pue": 1.3},
        ],
        "asps": [
            {
                "name": "n1",
                "data_center": "north",
                "gpus": 3,
                "idle_kw_per_gpu": 2.0,
                "gpu_seconds_per_step": 36.0,
                "kwh_per_step": 0.2,
                "quality": {"form": "exp", "q_max": 0.95, "beta": 0.15},
            },
            {
                "name": "n2",
                "data_center": "north",
                "gpus": 2,
                "idle_kw_per_gpu": 1.0,
                "gpu_seconds_per_step": 18.0,
                "kwh_per_step": 0.1,
                "quality": {"form": "table", "steps": [10, 20], "quality": [0.6, 0.75]},
            },
            {
                "name": "s1",
                "data_center": "south",
                "gpus": 3,
                "idle_kw_per_gpu": 3.0,
                "gpu_seconds_per_step": 30.0,
                "kwh_per_step": 0.3,
                "quality": {"form": "exp", "q_max": 0.9, "beta": 0.2},
            },
        ],
        "job_classes": [
            {
                "name": "std",
                "price_usd": 1.0,
                "quality_floor": 0.5,
                "max_wait_slots": 2,
                "delay_usd_per_slot": 0.05,
                "drop_usd": 0.3,
            },
            {
                "name": "prem",
                "price_usd": 3.0,
                "quality_floor": 0.8,
                "max_wait_slots": 0,
                "delay_usd_per_slot": 0.1,
                "drop_usd": 1.5,
                "work_factor": 1.5,
            },
        ],
        "transfer": {"default_usd_per_job": 0.05, "forbidden": [["s1", "n2"]]},
    }
    rng = np.random.default_rng(seed)
    price = np.vstack(
        [
            np.array([30, 80, -10, 120, 150, 40, 20, 90] * 4, float)[:T],
            np.array([60, 55, 50, 70, 65, 60, 45, 50] * 4, float)[:T],
        ]
    )
    carbon = np.vstack([np.full(T, 0.4), np.full(T, 0.3)])
    renewable = np.vstack(
        [np.array([0.0, 0.01, 0.03, 0.02, 0.0, 0.0, 0.01, 0.0] * 4)[:T], np.zeros(T)]
    )
    arrivals = rng.integers(5, 30, size=(3, 2, T)).astype(float)
    return make_scenario(p, price, carbon, renewable, arrivals, source="<stress>")


def _tiny_with(**dc: object) -> Scenario:
    """The shipped tiny scenario with data-center fields replaced."""
    scn = load_scenario("tiny")
    raw = scn.params.model_dump(by_alias=True)
    raw["data_centers"][0].update(dc)
    raw.pop("series")
    return make_scenario(raw, scn.price, scn.carbon, scn.renewable, scn.arrivals)


EPISODES = [(name, None if name == "tiny" else 24) for name in quick_names()] + [("default", 48)]


def _cut(name: str, horizon: int | None) -> Scenario:
    scn = load_scenario(name)
    return scn if horizon is None else scn.cut(horizon=min(horizon, scn.T))


# ---------------------------------------------------------------------------------------
# oracle replay: the central consistency test
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "horizon"), EPISODES)
def test_oracle_replay_reproduces_oracle_utility(name, horizon):
    scn = _cut(name, horizon)
    res = solve_oracle(scn)
    assert res.status == "optimal"
    ep = run_episode(scn, OracleReplay(result=res), mode="strict")
    assert ep.utility == pytest.approx(res.utility, rel=1e-6, abs=1e-9)
    for n in TERMS:
        assert ep.terms[n] == pytest.approx(res.terms[n], rel=1e-6, abs=1e-6)
    assert ep.repairs == [] and ep.violations == []
    # the per-slot terms the simulator booked step by step add up to the solver's own
    # objective value (computed by HiGHS from the model, not by the accounting)
    per = ep.per_slot
    assert per[:, 0].sum() - per[:, 1:].sum() == pytest.approx(res.objective, rel=1e-6)
    assert ep.utility <= res.best_bound + 1e-6 * abs(res.best_bound)


def test_oracle_replay_on_a_scenario_using_every_term():
    scn = stress_scenario()
    res = solve_oracle(scn)
    assert all(abs(res.terms[n]) > 0 for n in TERMS)
    policy = OracleReplay(result=res)
    assert isinstance(policy, Policy)
    ep = run_episode(scn, policy, mode="strict")
    assert ep.utility == pytest.approx(res.utility, rel=1e-6)
    assert ep.repairs == [] and ep.violations == []
    np.testing.assert_allclose(ep.schedule.drops, res.schedule.drops, atol=1e-7)


def test_oracle_replay_solves_at_reset_and_checks_the_horizon():
    scn = load_scenario("tiny")
    pol = OracleReplay()
    ep = run_episode(scn, pol)
    assert pol.result is not None and ep.utility == pytest.approx(pol.result.utility)
    with pytest.raises(ValueError, match="slots"):
        ScheduleReplay(pol.result.schedule).reset(stress_scenario())


def test_step_returns_slot_terms_and_observations_move_on():
    scn = stress_scenario()
    sim = Simulator(scn)
    obs = sim.reset()
    assert obs.t == 0 and obs.pending[:, :, 0].tolist() == scn.arrivals[:, :, 0].tolist()
    assert obs.pending[:, :, 1:].sum() == 0
    step = sim.step(SlotDecisions())
    assert set(step.terms) == set(TERMS)
    # nothing served: no revenue; the class with W = 0 is dropped whole in slot 0
    assert step.terms["revenue"] == 0.0 and step.terms["delay_penalty"] == 0.0
    drop = scn.class_arrays["drop"][1] * scn.arrivals[:, 1, 0].sum()
    assert drop > 0 and step.terms["drop_penalty"] == pytest.approx(drop, rel=1e-12)
    nxt = step.observation
    assert nxt.t == 1 and not step.done
    # the class with W = 0 was dropped at once; the other waits with age 1
    assert nxt.pending[:, 1, 1].sum() == 0
    np.testing.assert_allclose(nxt.pending[:, 0, 1], scn.arrivals[:, 0, 0])
    assert step.dropped == pytest.approx(scn.arrivals[:, 1, 0].sum())
    assert step.terms["drop_penalty"] == pytest.approx(1.5 * scn.arrivals[:, 1, 0].sum())


def test_doing_nothing_drops_every_job_at_its_window_close():
    scn = stress_scenario()
    sim = Simulator(scn, mode="strict")
    obs = sim.reset()
    while obs is not None:
        obs = sim.step(SlotDecisions()).observation
    assert sim.done
    sch = sim.schedule()
    np.testing.assert_allclose(sch.drops, scn.arrivals)
    ev = evaluate(scn, sch)
    assert ev.violations == []
    assert ev.utility == pytest.approx(
        -(0.3 * scn.arrivals[:, 0].sum() + 1.5 * scn.arrivals[:, 1].sum())
    )
    # std (W = 2) arriving in slot 6 is dropped at the horizon's end, slot T − 1 = 7
    per = sim.per_slot_terms[:, TERMS.index("drop_penalty")]
    assert per[7] == pytest.approx(
        0.3 * scn.arrivals[:, 0, 5:].sum() + 1.5 * scn.arrivals[:, 1, 7].sum()
    )
    with pytest.raises(RuntimeError):
        sim.step(SlotDecisions())


# ---------------------------------------------------------------------------------------
# rejection (R0): malformed decisions, in both modes
# ---------------------------------------------------------------------------------------
def _row(**kw: object) -> SlotDecisions:
    base = {"a": [0], "b": [0], "k": [0], "s": [0], "tau": [0], "x": [5.0]}
    base.update(kw)
    return SlotDecisions(**{k: np.asarray(v) for k, v in base.items()})


@pytest.mark.parametrize(
    ("dec", "match"),
    [
        (_row(x=[np.nan]), "not finite"),
        (_row(b=[7]), "out of range"),
        (_row(tau=[1]), "not waiting"),
        (_row(tau=[-1]), "not waiting"),
        (_row(k=[1], s=[0], b=[1]), "not admissible"),  # n2 never reaches the premium floor
        (_row(a=[2], b=[1]), "forbidden"),
        (_row(x=[1.0, 2.0]), "same length"),
        (SlotDecisions(gpus=np.ones(2)), "expected 3"),
        (SlotDecisions(charge=np.array([np.inf, 0.0])), "finite"),
    ],
)
@pytest.mark.parametrize("mode", ["repair", "strict"])
def test_malformed_decisions_are_rejected(dec, match, mode):
    sim = Simulator(stress_scenario(), mode=mode)
    sim.reset()
    with pytest.raises(DecisionError, match=match):
        sim.step(dec)
    assert sim.t == 0  # nothing applied


def test_cohort_past_its_window_is_rejected():
    scn = stress_scenario()
    sim = Simulator(scn)
    sim.reset()
    for _ in range(3):
        sim.step(SlotDecisions())
    with pytest.raises(DecisionError, match="not waiting"):
        sim.step(_row(tau=[0]))  # std waits 2 slots: the slot-0 cohort closed in slot 2


# ---------------------------------------------------------------------------------------
# repairs R1–R6 (and strict mode refusing them)
# ---------------------------------------------------------------------------------------
def _rules(repairs) -> list[str]:
    return [r.rule for r in repairs]


def _apply(scn: Scenario, dec: SlotDecisions, *, t: int = 0, soc=None, mode="repair"):
    sim = Simulator(scn, mode=mode)
    obs = sim.reset()
    for _ in range(t):
        obs = sim.step(SlotDecisions()).observation
    pending = obs.pending
    return repair_decisions(
        scn, t, pending, obs.soc if soc is None else np.asarray(soc), dec, mode=mode
    )


def test_r1_negative_jobs_are_clipped():
    applied, rep = _apply(load_scenario("tiny"), _row(x=[-3.0]))
    assert applied.x.tolist() == [0.0] and _rules(rep) == ["R1 jobs_nonnegative"]


def test_r2_overserved_cohort_is_scaled_proportionally():
    scn = stress_scenario()
    lam = scn.arrivals[0, 0, 0]
    dec = _row(a=[0, 0], b=[0, 2], k=[0, 0], s=[0, 0], tau=[0, 0], x=[lam, lam])
    applied, rep = _apply(scn, dec)
    assert applied.x == pytest.approx([lam / 2, lam / 2])
    assert _rules(rep) == ["R2 cohort_overserved"]
    with pytest.raises(DecisionError, match="R2 cohort_overserved"):
        _apply(scn, dec, mode="strict")


def test_r3_gpus_rounded_up_clipped_and_activated():
    scn = load_scenario("tiny")  # one GPU per pool; 'fast' serves 20 jobs (10 steps) per GPU-h
    applied, rep = _apply(scn, _row(x=[10.0], gpus=[0.3, 0.0]))
    assert applied.gpus.tolist() == [1.0, 0.0]
    assert _rules(rep) == ["R3 gpus_integer"]
    applied, rep = _apply(scn, _row(x=[10.0], gpus=[5.0, 0.0]))
    assert applied.gpus.tolist() == [1.0, 0.0] and _rules(rep) == ["R3 gpus_bounds"]
    applied, rep = _apply(scn, _row(x=[10.0], gpus=[0.0, 0.0]))
    assert applied.gpus.tolist() == [1.0, 0.0] and _rules(rep) == ["R3 gpus_activated"]
    applied, rep = _apply(scn, _row(x=[10.0]))  # gpus None: just enough, no repair
    assert applied.gpus.tolist() == [1.0, 0.0] and rep == []


def test_r3_gpu_time_beyond_the_pool_sheds_service():
    scn = load_scenario("tiny")
    applied, rep = _apply(scn, _row(x=[30.0]))  # 30 jobs need 1.5 GPU-hours, pool has 1
    assert applied.x == pytest.approx([20.0]) and applied.gpus[0] == 1.0
    assert "R3 gpu_time_shed" in _rules(rep)


def test_r4_charge_and_discharge_become_the_net_flow():
    scn = stress_scenario()
    applied, rep = _apply(
        scn, SlotDecisions(charge=np.array([0.03, 0.0]), discharge=np.array([0.01, 0.0]))
    )
    assert applied.charge[0] == pytest.approx(0.02) and applied.discharge[0] == 0.0
    assert "R4 charge_xor_discharge" in _rules(rep)


def test_r4_soc_room_and_power_limits():
    scn = stress_scenario()  # capacity 0.1, SoC 0.05, η_c 0.9: room 0.05/0.9 > P^ch Δ = 0.04
    applied, rep = _apply(scn, SlotDecisions(charge=np.array([0.2, 0.0])))
    assert applied.charge[0] == pytest.approx(0.04) and "R1 charge_bounds" in _rules(rep)
    applied, rep = _apply(scn, SlotDecisions(charge=np.array([0.04, 0.0])), soc=[0.08, 0.0])
    assert applied.charge[0] == pytest.approx(0.02 / 0.9) and _rules(rep) == ["R4 soc_max"]
    # serve 10 jobs at north (0.0242 MWh) so that a discharge has a load to supply
    applied, rep = _apply(scn, _north(discharge=[0.04, 0.0]), soc=[0.02, 0.0])
    assert applied.discharge[0] == pytest.approx(0.01 * 0.9)
    assert _rules(rep) == ["R4 soc_min_or_terminal"]


def _north(**kw: object) -> SlotDecisions:
    """10 std jobs of slot 0 served by n1 at 10 steps: one GPU, 0.0242 MWh at the bus."""
    return _row(a=[0], b=[0], k=[0], s=[0], tau=[0], x=[10.0], **kw)


def test_r4_terminal_floor_is_always_met():
    """Discharging every slot: the reachability floor stops it in time and forces the
    charge back, so e_{T−1} ≥ e^end whatever the policy does."""
    scn = stress_scenario()
    sim = Simulator(scn)
    obs = sim.reset()
    while obs is not None:
        obs = sim.step(SlotDecisions(discharge=np.array([0.04, 0.0]))).observation
    soc = sim.schedule().soc(scn)
    assert soc[0, -1] >= 0.05 - 1e-9
    assert evaluate(scn, sim.schedule()).violations == []
    rules = _rules(sim.repairs)
    assert "R4 soc_min_or_terminal" in rules
    with pytest.raises(DecisionError):
        s2 = Simulator(scn, mode="strict")
        o = s2.reset()
        while o is not None:
            o = s2.step(SlotDecisions(discharge=np.array([0.04, 0.0]))).observation


def test_r4_forced_charge_when_below_the_floor():
    scn = stress_scenario()
    last = scn.T - 1
    applied, rep = _apply(scn, SlotDecisions(), t=last, soc=[0.03, 0.0])
    assert applied.charge[0] == pytest.approx(0.02 / 0.9)
    assert _rules(rep) == ["R4 terminal_charge"]


def test_r5_generator_status_rounded_and_absent_generator_off():
    scn = stress_scenario()
    applied, rep = _apply(scn, _north(generator=[0.02, 0.0], generator_on=[0.7, 1.0]))
    assert applied.generator_on.tolist() == [1.0, 0.0]
    assert applied.generator[0] == pytest.approx(0.02)
    assert _rules(rep) == ["R5 generator_binary", "R5 generator_absent"]
    applied, rep = _apply(scn, _north(generator=[0.001, 0.0], generator_on=[1.0, 0.0]))
    assert applied.generator[0] == pytest.approx(0.01)  # raised to O^min Δ
    assert _rules(rep) == ["R1 generator_bounds"]


def test_r6_grid_is_the_slack_and_a_balanced_decision_is_kept_exactly():
    scn = load_scenario("tiny")
    # 10 fast jobs at 10 steps: 25 kWh + one idle GPU 50 kWh = 0.075 MWh, PUE 1
    applied, rep = _apply(scn, _row(x=[10.0], gpus=[1.0, 0.0], grid=[0.075], renewable=[0.0]))
    assert rep == [] and applied.grid[0] == 0.075
    applied, rep = _apply(scn, _row(x=[10.0], gpus=[1.0, 0.0], grid=[0.5], renewable=[0.0]))
    assert applied.grid[0] == pytest.approx(0.075) and _rules(rep) == ["R6 balance_grid_slack"]


def test_r6_surplus_discharge_is_reduced():
    scn = stress_scenario()  # serving nothing: a discharge has nowhere to go
    applied, rep = _apply(scn, SlotDecisions(discharge=np.array([0.02, 0.0])))
    assert applied.discharge[0] == pytest.approx(0.0) and applied.grid[0] == 0.0
    assert "R6 discharge_reduced" in _rules(rep)


def test_r6_surplus_generator_down_to_minimum_then_off():
    scn = stress_scenario()
    applied, rep = _apply(
        scn, SlotDecisions(generator=np.array([0.03, 0.0]), generator_on=np.array([1.0, 0.0]))
    )
    assert applied.generator[0] == 0.0 and applied.generator_on[0] == 0.0
    assert _rules(rep) == ["R6 generator_reduced", "R6 generator_off"]


def test_r6_grid_cap_switches_off_idle_gpus_then_sheds_service():
    # tiny: 20 fast jobs at 10 steps = 50 kWh, plus 50 kWh per active GPU, PUE 1
    scn = _tiny_with(grid_cap_mw=0.1)
    applied, rep = _apply(scn, _row(x=[20.0], gpus=[1.0, 1.0]))
    assert _rules(rep) == ["R6 idle_gpus_off"]  # hq's GPU serves nothing: off, and it fits
    assert applied.x.tolist() == [20.0] and applied.gpus.tolist() == [1.0, 0.0]
    assert applied.grid[0] == pytest.approx(0.1)
    # cap 0.08: 50 f + 50 ≤ 80 kWh → f = 0.6, 12 jobs served, 18 stay pending
    sim = Simulator(_tiny_with(grid_cap_mw=0.08))
    sim.reset()
    step = sim.step(_row(x=[20.0]))
    assert _rules(step.repairs) == ["R6 service_shed"]
    assert step.decisions.x == pytest.approx([12.0])
    assert step.decisions.grid[0] == pytest.approx(0.08)
    assert step.observation.pending[0, 0, 1] == pytest.approx(18.0)
    with pytest.raises(DecisionError, match="R6 service_shed"):
        _apply(_tiny_with(grid_cap_mw=0.08), _row(x=[20.0]), mode="strict")


def test_defaults_none_mean_just_enough_and_renewables_first():
    scn = stress_scenario()
    obs = Simulator(scn).reset()
    applied, rep = _apply(scn, _row(a=[2], b=[2], k=[0], s=[0], tau=[0], x=[5.0]))
    assert rep == []
    assert applied.gpus.tolist() == [0.0, 0.0, 1.0]
    assert applied.renewable.tolist() == [0.0, 0.0] and applied.grid[0] == 0.0
    assert applied.grid[1] > 0 and obs.renewable[1] == 0.0


def test_r6_grid_above_its_cap_is_a_deficit_even_when_balanced():
    scn = _tiny_with(grid_cap_mw=0.08)
    # 20 jobs (50 kWh) + one GPU (50 kWh) = 0.1 MWh, declared as grid 0.1 > cap 0.08
    applied, rep = _apply(scn, _row(x=[20.0], gpus=[1.0, 0.0], grid=[0.1], renewable=[0.0]))
    assert _rules(rep) == ["R6 service_shed"]
    assert applied.x == pytest.approx([12.0]) and applied.grid[0] == pytest.approx(0.08)


@pytest.fixture(scope="module")
def stress_bound() -> float:
    return solve_oracle(stress_scenario()).best_bound


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_any_well_formed_decision_is_repaired_into_the_feasible_set(stress_bound, seed):
    """Random decisions, far out of bounds, every slot: the realized schedule satisfies
    every constraint of MODEL.md §4, and its utility is below the oracle bound."""
    scn = stress_scenario()
    rng = np.random.default_rng(seed)
    sim = Simulator(scn)
    obs = sim.reset()
    adm = scn.admissible
    allowed = ~np.isnan(scn.transfer_cost)
    while obs is not None:
        a_i, k_i, g_i = np.nonzero(obs.pending >= 0)
        keep = (g_i <= scn.class_arrays["wait"][k_i]) & (g_i <= obs.t)
        a_i, k_i, g_i = a_i[keep], k_i[keep], g_i[keep]
        rows = []
        for a, k, g in zip(a_i, k_i, g_i, strict=True):
            opts = [
                (b, s) for b in range(scn.A) if allowed[a, b] for s in np.flatnonzero(adm[b, k])
            ]
            for _ in range(int(rng.integers(0, 3))):
                b, s = opts[int(rng.integers(len(opts)))]
                rows.append((a, b, k, s, obs.t - g, rng.normal(10.0, 20.0)))
        arr = np.array(rows, dtype=float).reshape(-1, 6)

        def maybe(shape, scale):
            return None if rng.random() < 0.3 else rng.normal(0.0, scale, shape)

        dec = SlotDecisions(
            a=arr[:, 0].astype(int),
            b=arr[:, 1].astype(int),
            k=arr[:, 2].astype(int),
            s=arr[:, 3].astype(int),
            tau=arr[:, 4].astype(int),
            x=arr[:, 5],
            gpus=maybe(scn.A, 3.0),
            grid=maybe(scn.D, 0.1),
            renewable=maybe(scn.D, 0.05),
            charge=maybe(scn.D, 0.05),
            discharge=maybe(scn.D, 0.05),
            generator=maybe(scn.D, 0.05),
            generator_on=maybe(scn.D, 1.0),
        )
        step = sim.step(dec)
        obs = step.observation
    ev = sim.evaluation()
    assert ev.violations == [], ev.violations[:3]
    assert ev.utility <= stress_bound + 1e-6 * abs(stress_bound)
    assert sim.per_slot_terms.sum() != 0
