"""The action decoder of the environment: one Box action → one slot of `SlotDecisions`.

Layout (every entry in [−1, 1]; only entries that can change a decision exist, so the
length depends on the scenario; `ActionLayout.parts` lists the index of every entry):

==============  ====================================================================
``route``       one entry per (origin a, class k, server b) with b allowed for (a, k)
                (transfer permitted, an admissible level at b), b not the default
                server of (a, k) (direct mode), and at least two allowed servers.
                Server b weighs w_b = 4 · max(0, (u − θ) / (1 − θ)), the default server
                1; shares are the weights normalised (w = 0 everywhere: all jobs to the
                default server; one other server at u = 1: 80 % of the jobs to it). In
                residual mode every allowed server has an entry, and the entry of the
                slot's default (price-greedy's first choice, which moves with prices) is
                ignored in that slot.
``level``       one entry per (pool b, class k) with at least two admissible step
                levels: position round(max(0, (u − θ) / (1 − θ)) · (n − 1)) in the
                admissible levels of (b, k), fewest steps first.
``serve``       one entry per (origin a, class k) that can wait (W_k ≥ 1) and has a
                server: fraction f = clip((u + 1) / (1 − θ), 0, 1) of every pending
                cohort of (a, k) is requested now; cohorts in their last allowed slot
                are always requested in full.
``battery``     one entry per data center with a battery: u > θ charges
                (u − θ) / (1 − θ) · charge room, u < −θ discharges likewise (MWh);
                the terminal-floor charge is always applied.
``generator``   one entry per data center with a generator: u > 1/2 switches it on with
                output min + (2u − 1)(max − min) (MWh); otherwise off.
==============  ====================================================================

θ = `DEADBAND` = 0.25: thresholds sit off 0, the mean of a freshly initialised Gaussian
policy, so a fresh policy's noise does not flip decisions. The default server of (a, k)
is its home pool when admissible, else the allowed pool with the lowest transfer cost
(``action_mode="direct"``), or the pool cheapest now for it by price-greedy's rule
(``action_mode="residual"``). The zero action therefore routes every job to its default
server at the fewest admissible steps, serves everything, idles the battery and keeps
generators off: in direct mode that is the greedy heuristic's decision, in residual mode
price-greedy's first choice.

Requested jobs are then *filled* oldest cohort first (fewest slots of wait left, then
the higher-priced class): each pool up to its GPU time, then each data center up to its
energy budget (grid cap + renewables + discharge + generator − charge − one idle GPU per
pool, as the heuristics). In residual mode the rows are filled one at a time, in the same
order, by price-greedy's rule: a row on its default server spills to the next cheapest
server when one is full — so the zero action decodes to price-greedy's decision. GPUs
are left to the simulator's default (just enough).
`Decoded.requested` / `Decoded.served` count jobs before and after the fill.

The loops of these rules (rows requested, battery and generator flows, the server order
and both fills) are compiled: `aigc_opt.drl_compare.decoder_kernels`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aigc_opt.data.scenario import Scenario
from aigc_opt.drl_compare.decoder_kernels import (
    energy_flows,
    fill_direct,
    fill_in_turn,
    price_order,
    requested_rows,
)
from aigc_opt.solvers.sim_types import Observation, ScenarioArrays, SlotDecisions

DEADBAND = 0.25
ROUTE_MAX = 4.0
ACTION_MODES = ("direct", "residual")
PARTS = ("route", "level", "serve", "battery", "generator")


@dataclass
class Decoded:
    """A decoded action: the decisions and the jobs requested / kept by the fill."""

    decisions: SlotDecisions
    requested: float
    served: float


class ActionLayout:
    """Index tables of the action vector for one scenario shape (see the module doc)."""

    def __init__(self, scn: Scenario, mode: str = "direct"):
        if mode not in ACTION_MODES:
            raise ValueError(f"action_mode must be one of {ACTION_MODES}, got {mode!r}")
        self.mode = mode
        self.st = st = ScenarioArrays.of(scn)
        A = st.A
        adm = scn.admissible  # (B, K, S)
        allowed = ~np.isnan(scn.transfer_cost)  # (A, B)
        self.ok = allowed[:, None, :] & adm.any(axis=2).T[None, :, :]  # (A, K, B)
        n_ok = self.ok.sum(axis=2)
        tc = np.where(self.ok, np.nan_to_num(scn.transfer_cost, nan=np.inf)[:, None, :], np.inf)
        home = self.ok[np.arange(A), :, np.arange(A)]  # (A, K)
        self.default = np.where(home, np.arange(A)[:, None], np.argmin(tc, axis=2))
        self.default = np.where(n_ok > 0, self.default, -1)
        route = self.ok & (n_ok[:, :, None] >= 2)
        if mode == "direct":  # the default server's weight is fixed at 1
            aa, kk = np.nonzero(self.default >= 0)
            route[aa, kk, self.default[aa, kk]] = False
        self.route_idx = np.nonzero(route)  # (a, k, b)
        # admissible levels of (b, k), fewest steps first, padded with the last one
        n_lv = adm.sum(axis=2)
        S = adm.shape[2]
        order = np.argsort(~adm, axis=2, kind="stable")  # admissible levels first
        pos = np.minimum(np.arange(S)[None, None, :], np.maximum(n_lv - 1, 0)[:, :, None])
        self.levels = np.take_along_axis(order, pos, axis=2)  # (B, K, S)
        self.n_levels = n_lv
        self.level_idx = np.nonzero(n_lv >= 2)  # (b, k)
        self.serve_idx = np.nonzero((st.W[None, :] >= 1) & (n_ok > 0))  # (a, k)
        bat = (st.smax > 0) & ((st.pch > 0) | (st.pdis > 0))
        self.battery_idx = np.flatnonzero(bat)
        self.generator_idx = np.flatnonzero(st.omax > 0)
        sizes = {
            "route": self.route_idx[0].size,
            "level": self.level_idx[0].size,
            "serve": self.serve_idx[0].size,
            "battery": self.battery_idx.size,
            "generator": self.generator_idx.size,
        }
        self.slices: dict[str, slice] = {}
        i = 0
        for name in PARTS:
            self.slices[name] = slice(i, i + sizes[name])
            i += sizes[name]
        self.size = i
        # static quantities of the fill
        pue_b = st.pue[st.dc_of]
        self.e_fac = (
            pue_b[:, None, None]
            * (scn.job_kwh + st.idle_kw[:, None, None] * scn.gpu_seconds / 3600.0)
            / 1000.0
        )  # MWh of facility energy per job (B, K, S)
        self.reserve = np.bincount(
            st.dc_of, weights=pue_b * st.idle_kw * scn.dt / 1000.0, minlength=st.D
        )
        self.gpu_s = scn.gpu_seconds
        self.sigma = scn.params.carbon_price_usd_per_t
        # price-greedy's cost of a job of (a, k) at b = transfer + energy at the fewest
        # admissible steps × (price + σ · carbon): the static parts
        first = np.take_along_axis(self.e_fac, self.levels[:, :, :1], axis=2)[:, :, 0]
        self._e_first = first.T  # MWh/job (K, B)
        tc = np.nan_to_num(scn.transfer_cost, nan=0.0)
        self._tc_ok = np.where(self.ok, tc[:, None, :], np.inf)  # $/job (A, K, B)
        # every (a, k, age, b) cell in fill priority: fewest slots of wait left, then the
        # higher-priced class, then a, k, age, b
        ca, ck, cg, cb = np.indices((A, st.K, st.Wmax + 1, A)).reshape(4, -1)
        price_k = scn.class_arrays["price"]
        self._perm = np.lexsort((cb, cg, ck, ca, -price_k[ck], st.W[ck] - cg))
        self.static_servers = np.full((A, st.K, A), -1)
        self.static_servers[:, :, 0] = self.default
        # index of each target's entry in the action vector, -1 where it has none
        self._route_of = self._entries("route", (A, st.K, A), self.route_idx)
        self._level_of = self._entries("level", (A, st.K), self.level_idx)
        self._serve_of = self._entries("serve", (A, st.K), self.serve_idx)
        self._battery_of = self._entries("battery", (st.D,), (self.battery_idx,))
        self._generator_of = self._entries("generator", (st.D,), (self.generator_idx,))
        self._level_top = np.maximum(self.n_levels - 1, 0)  # highest position (B, K)

    def _entries(
        self, part: str, shape: tuple[int, ...], idx: tuple[np.ndarray, ...]
    ) -> np.ndarray:
        """(shape) index into the action vector of each target of ``part``, -1 if none."""
        out = np.full(shape, -1, dtype=np.int64)
        sl = self.slices[part]
        out[idx] = np.arange(sl.start, sl.stop)
        return out

    # ---- named parts --------------------------------------------------------------------
    def split_action(self, action: np.ndarray) -> dict[str, np.ndarray]:
        """The action vector cut into its named parts (1-D arrays, see the module doc)."""
        act = np.asarray(action, dtype=float).reshape(-1)
        if act.size != self.size:
            raise ValueError(f"action has {act.size} entries, expected {self.size}")
        return {name: act[self.slices[name]].copy() for name in PARTS}

    def build_action(self, **parts: np.ndarray) -> np.ndarray:
        """Inverse of `split_action`: parts by name (missing parts are zero) → float32 vector."""
        unknown = set(parts) - set(PARTS)
        if unknown:
            raise ValueError(f"unknown action parts {sorted(unknown)} (parts: {PARTS})")
        out = np.zeros(self.size, dtype=np.float32)
        for name, v in parts.items():
            sl = self.slices[name]
            arr = np.asarray(v, dtype=np.float32).reshape(-1)
            if arr.size != sl.stop - sl.start:
                raise ValueError(f"part {name!r}: expected {sl.stop - sl.start}, got {arr.size}")
            out[sl] = arr
        return out

    # ---- decoding -----------------------------------------------------------------------
    def _servers(self, obs: Observation) -> np.ndarray:
        """(A, K, B) servers of each (a, k) by preference: default first, then (residual
        mode) the cheapest now; -1 pads."""
        st = self.st
        if self.mode == "direct":
            return self.static_servers
        unit = obs.price[st.dc_of] + self.sigma * obs.carbon[st.dc_of]  # $/MWh (B,)
        return price_order(self._tc_ok, self._e_first, unit)

    def decode(self, action: np.ndarray, obs: Observation) -> Decoded:
        """Decisions of slot ``obs.t`` from ``action`` (clipped to [−1, 1], NaN → 0)."""
        st = self.st
        act = np.asarray(action, dtype=float).reshape(-1)
        if np.isnan(act.sum()):
            act = np.nan_to_num(act)
        act = np.minimum(np.maximum(act, -1.0), 1.0)
        if act.size != self.size:
            raise ValueError(f"action has {act.size} entries, expected {self.size}")
        servers = self._servers(obs)
        a, k, g, b, s, x, level, requested = requested_rows(
            act,
            self._route_of,
            self._level_of,
            self._level_top,
            self._serve_of,
            servers,
            self.levels,
            obs.pending,
            st.W,
            self._perm,
            DEADBAND,
            ROUTE_MAX,
        )
        lim = obs.limits
        ch, dis, gen, on, e_left = energy_flows(
            act,
            self._battery_of,
            self._generator_of,
            lim.charge_max,
            lim.discharge_max,
            lim.charge_min,
            lim.generator_min,
            lim.generator_max,
            st.cap + obs.renewable,
            self.reserve,
            DEADBAND,
        )
        gpu_left = lim.gpu_seconds.copy()
        if self.mode == "residual":
            rows = self._fill_in_turn((a, k, g, b, s, x), servers, level, gpu_left, e_left)
        else:
            rows = self._fill(a, k, g, b, s, x, gpu_left, e_left)
        a, k, g, b, s, x = rows
        if x.size and x.min() <= 1e-12:
            keep = x > 1e-12
            a, k, g, b, s, x = a[keep], k[keep], g[keep], b[keep], s[keep], x[keep]
        dec = SlotDecisions(
            a=a,
            b=b,
            k=k,
            s=s,
            tau=obs.t - g,
            x=x,
            charge=ch,
            discharge=dis,
            generator=gen,
            generator_on=on,
        )
        return Decoded(dec, requested, float(x.sum()))

    def _fill(self, a, k, g, b, s, x, gpu_left, e_left):  # type: ignore[no-untyped-def]
        """Direct mode: rows (already in priority order) cut to the GPU time of their pool,
        then to the energy budget of their data center (`decoder_kernels.fill_direct`)."""
        x = fill_direct(
            b, self.st.dc_of[b], self.gpu_s[b, k, s] * x, self.e_fac[b, k, s], x, gpu_left, e_left
        )
        return a, k, g, b, s, x

    def _fill_in_turn(self, rows, servers, level, gpu_left, e_left):  # type: ignore[no-untyped-def]
        """Residual mode: rows one at a time in priority order, by price-greedy's rule
        (`decoder_kernels.fill_in_turn`), at the slot's levels."""
        a, k, g, b, _s, x = rows
        kk = np.arange(self.st.K)[None, :]
        bb = np.arange(self.st.A)[:, None]
        oa, ok, og, ob, ox = fill_in_turn(
            a,
            k,
            g,
            b,
            x,
            servers,
            self.gpu_s[bb, kk, level],
            self.e_fac[bb, kk, level],
            self.st.dc_of,
            gpu_left,
            e_left,
        )
        return oa, ok, og, ob, level[ob, ok], ox
