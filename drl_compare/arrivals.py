"""Stochastic arrivals around a scenario's profile, for the environment and `compare`.

``arrivals="profile"`` (the default) plays the scenario's arrival series as it is.
``arrivals="poisson"`` replaces it, per episode, by independent Poisson draws whose means
are the profile: jobs of (origin a, class k, slot t) ~ Poisson(arrivals[a, k, t]) — the
same expected load, with the variance of independent requests. The draw is seeded by the
episode's seed, so the same seed and options give the same realised episode.

Every method of a comparison plays the same realised episode, and the oracle is solved on
it: the bound is the bound of the arrivals that happened (`aigc_opt.drl_compare.compare`).
"""

from __future__ import annotations

import numpy as np

from aigc_opt.data.scenario import Scenario

ARRIVALS = ("profile", "poisson")


def check_arrivals(mode: str) -> str:
    """``mode`` when it is one of `ARRIVALS`, else ValueError (one line)."""
    if mode not in ARRIVALS:
        raise ValueError(f"arrivals must be one of {', '.join(ARRIVALS)}, got {mode!r}")
    return mode


def realise_arrivals(
    episode: Scenario, mode: str, seed: int | np.random.Generator | None
) -> Scenario:
    """The episode with its arrivals realised by ``mode`` (a copy; ``profile``: unchanged).

    ``seed``: an int (or None) seeds ``numpy.random.default_rng``; a Generator is used as
    given (the environment passes its ``np_random``)."""
    if check_arrivals(mode) == "profile":
        return episode
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    jobs = rng.poisson(np.maximum(episode.arrivals, 0.0)).astype(float)
    return episode.with_series(arrivals=jobs)
