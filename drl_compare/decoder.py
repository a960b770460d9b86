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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aigc_opt.data.scenario import Scenario
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
        self._first_n_ok = np.arange(A)[None, None, :] < n_ok[:, :, None]  # (A, K, B)
        self._n_ok = n_ok.tolist()
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
        self._lvl_base = (np.arange(A * st.K) * S).reshape(A, st.K)  # flat offset of (b, k)
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
        self.price_k = scn.class_arrays["price"]
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
        self.tc = np.nan_to_num(scn.transfer_cost, nan=0.0)
        self.sigma = scn.params.carbon_price_usd_per_t
        # every (a, k, age, b) cell in fill priority: fewest slots of wait left, then the
        # higher-priced class, then a, k, age, b
        ca, ck, cg, cb = np.indices((A, st.K, st.Wmax + 1, A)).reshape(4, -1)
        self._perm = np.lexsort((cb, cg, ck, ca, -self.price_k[ck], st.W[ck] - cg))
        self._cell_a, self._cell_k, self._cell_g, self._cell_b = ca, ck, cg, cb
        ages = np.arange(st.Wmax + 1)
        self.last = (ages[None, :] >= st.W[:, None])[None]  # (1, K, W+1) last allowed slot
        self.static_servers = np.full((A, st.K, A), -1)
        self.static_servers[:, :, 0] = self.default
        self.to_default = np.zeros((A, st.K, A))
        aa, kk = np.nonzero(self.default >= 0)
        self.to_default[aa, kk, self.default[aa, kk]] = 1.0
        # flat indices of the parts' targets (one fancy index per part and step)
        ra, rk, rb = self.route_idx
        self._route_flat = (ra * st.K + rk) * A + rb
        self._ak_flat = np.flatnonzero(self.default >= 0)  # (a, k) with a default server
        self._level_flat = self.level_idx[0] * st.K + self.level_idx[1]
        self._level_top = self.n_levels[self.level_idx] - 1  # highest position (int)
        self._serve_flat = self.serve_idx[0] * st.K + self.serve_idx[1]

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
        K, B = st.K, st.A
        first = self.levels[:, :, 0]  # (B, K)
        d = st.dc_of
        unit = obs.price[d] + self.sigma * obs.carbon[d]  # (B,)
        e = self.e_fac[np.arange(B)[:, None], np.arange(K)[None, :], first]  # (B, K)
        cost = self.tc[:, None, :] + (unit[:, None] * e).T[None, :, :]  # (A, K, B)
        cost = np.where(self.ok, cost, np.inf)
        order = np.argsort(cost, axis=2, kind="stable")  # allowed servers (finite) first
        return np.where(self._first_n_ok, order, -1)

    def decode(self, action: np.ndarray, obs: Observation) -> Decoded:
        """Decisions of slot ``obs.t`` from ``action`` (clipped to [−1, 1], NaN → 0)."""
        st = self.st
        A, K, B = st.A, st.K, st.A
        act = np.asarray(action, dtype=float).reshape(-1)
        if np.isnan(act.sum()):
            act = np.nan_to_num(act)
        act = np.minimum(np.maximum(act, -1.0), 1.0)
        if act.size != self.size:
            raise ValueError(f"action has {act.size} entries, expected {self.size}")
        th = DEADBAND
        sl = self.slices
        servers = self._servers(obs)
        default = servers[:, :, 0]
        # routing weights (A, K, B), flat; the default server weighs 1
        w = np.zeros(A * K * B)
        w[self._route_flat] = ROUTE_MAX * np.maximum(0.0, (act[sl["route"]] - th) / (1.0 - th))
        if self.mode == "direct":  # no route entry on the (static) default server
            dflt = self.to_default
        else:  # the entry of this slot's first choice is ignored
            first = self._ak_flat * B + default.reshape(-1)[self._ak_flat]
            w[first] = 0.0
            dflt = np.zeros((A, K, B))
            dflt.reshape(-1)[first] = 1.0
        w = w.reshape(A, K, B)
        share = (w + dflt) / (w.sum(axis=2, keepdims=True) + 1.0)
        # step levels (B, K): position in the admissible levels
        pos = np.zeros(B * K, dtype=int)
        frac = np.maximum(0.0, (act[sl["level"]] - th) / (1.0 - th))
        pos[self._level_flat] = np.rint(frac * self._level_top).astype(int)
        level = self.levels.reshape(-1)[self._lvl_base.reshape(-1) + pos].reshape(B, K)
        # serve fractions (A, K, W+1); last allowed slot always in full
        f = np.ones(A * K)
        f[self._serve_flat] = np.minimum(
            np.maximum((act[sl["serve"]] + 1.0) / (1.0 - th), 0.0), 1.0
        )
        want = obs.pending * np.where(self.last, 1.0, f.reshape(A, K, 1))  # (A, K, W+1)
        # battery and generator
        lim = obs.limits
        ch = np.zeros(st.D)
        dis = np.zeros(st.D)
        ub = act[sl["battery"]]
        di = self.battery_idx
        amt = np.maximum(0.0, (np.abs(ub) - th) / (1.0 - th))
        ch[di] = amt * (ub > 0) * lim.charge_max[di]
        dis[di] = amt * (ub < 0) * lim.discharge_max[di]
        ch = np.maximum(ch, lim.charge_min)
        dis[lim.charge_min > 0] = 0.0
        gen = np.zeros(st.D)
        on = np.zeros(st.D)
        gi = self.generator_idx
        if gi.size:
            ug = act[sl["generator"]]
            g_on = ug > 0.5
            on[gi] = g_on
            lo, hi = lim.generator_min[gi], lim.generator_max[gi]
            gen[gi] = np.where(g_on, lo + (2 * ug - 1) * (hi - lo), 0.0)
        # requested rows (a, k, age, b) in fill priority order (static permutation)
        req = (want[:, :, :, None] * share[:, :, None, :]).reshape(-1)[self._perm]
        nz = np.flatnonzero(req > 1e-12)
        x = req[nz]
        cell = self._perm[nz]
        a, k, g, b = self._cell_a[cell], self._cell_k[cell], self._cell_g[cell], self._cell_b[cell]
        requested = float(want.sum())
        s = level[b, k]
        gpu_left = lim.gpu_seconds.copy()
        e_left = np.maximum(st.cap + obs.renewable + dis + gen - ch - self.reserve, 0.0)
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
        then to the energy budget of their data center, each in priority order."""
        st = self.st
        gs = self.gpu_s[b, k, s] * x
        x = x * _prefix_fit(b, gs, gpu_left)
        d = st.dc_of[b]
        e = self.e_fac[b, k, s] * x
        x = x * _prefix_fit(d, e, e_left)
        return a, k, g, b, s, x

    def _fill_in_turn(self, rows, servers, level, gpu_left, e_left):  # type: ignore[no-untyped-def]
        """Residual mode: rows in priority order, one at a time (price-greedy's rule): a row
        on its default server tries the servers of (a, k) in price order, the next when
        one is full; a row the action sent elsewhere tries only its server. Each takes
        min(jobs left, GPU time left / τ, energy left / facility energy per job)."""
        a, k, g, b, _s, x = rows
        kk = np.arange(self.st.K)[None, :]
        bb = np.arange(self.st.A)[:, None]
        tau = self.gpu_s[bb, kk, level].tolist()  # (B, K) at the chosen levels
        efac = self.e_fac[bb, kk, level].tolist()
        dc = self.st.dc_of.tolist()
        gl, el = gpu_left.tolist(), e_left.tolist()
        # the servers of each (a, k) in price order, padding dropped (once per slot)
        chains = [
            [ch[:n] for ch, n in zip(per_a, n_a, strict=True)]
            for per_a, n_a in zip(servers.tolist(), self._n_ok, strict=True)
        ]
        oa: list[int] = []
        ok_: list[int] = []
        og: list[int] = []
        ob: list[int] = []
        ox: list[float] = []
        cols = (a.tolist(), k.tolist(), g.tolist(), b.tolist(), x.tolist())
        for ai, ki, gi, bi, xi in zip(*cols, strict=True):
            chain = chains[ai][ki]
            left = xi
            for c in chain if bi == chain[0] else (bi,):
                if left <= 0:
                    break
                t, e, d = tau[c][ki], efac[c][ki], dc[c]
                q = min(left, gl[c] / t, el[d] / e) if e > 0 else min(left, gl[c] / t)
                if q <= 1e-9:
                    continue
                oa.append(ai)
                ok_.append(ki)
                og.append(gi)
                ob.append(c)
                ox.append(q)
                left -= q
                gl[c] -= q * t
                el[d] -= q * e
        if not ox:
            z = np.zeros(0, dtype=int)
            return z, z, z, z, z, np.zeros(0)
        oka, okk, okg, okb = (np.array(v, dtype=int) for v in (oa, ok_, og, ob))
        return oka, okk, okg, okb, level[okb, okk], np.array(ox)


def _prefix_fit(group: np.ndarray, use: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Fraction (0..1) of each row kept when rows, in their given order, take ``cap[group]``
    first come first served (``use`` per row)."""
    n = use.size
    if n == 0 or (np.bincount(group, use, minlength=cap.size) <= cap).all():
        return np.ones(n)
    rows = np.arange(n)
    per_group = np.zeros((n, cap.size))  # a few groups (pools or data centers)
    per_group[rows, group] = use
    before = per_group.cumsum(axis=0)[rows, group] - use  # earlier rows of the same group
    kept = np.clip(cap[group] - before, 0.0, use)
    return np.where(use > 0, kept / np.where(use > 0, use, 1.0), 1.0)
