"""The experiment spec: a TOML file validated by pydantic.

Example (``experiments/quick.toml`` is a complete one)::

    name = "quick"
    scenarios = ["tiny", "default"]      # shipped names, paths to .toml, or globs
    horizons = [24]                      # slots per episode
    starts = [0]                         # first slot of each episode (or: episodes = N)
    seeds = [0, 1]                       # seeds of stochastic methods (noisy forecasts, random)
    bound = "lp"                         # certified bound each policy job solves: lp|milp|none
    # split = "test"                     # draw the `episodes` starts from this split instead

    [[methods]]
    kind = "oracle"                      # perfect-foresight program: milp | lp | convex
    program = "milp"

    [[methods]]
    kind = "mpc"
    forecast = "noisy:0.1"               # perfect | persistence | seasonal | noisy:σ | mod:fn
    lookahead = 12

    [[methods]]
    kind = "heuristic"
    name = "greedy"                      # greedy | price-greedy | random

    [[methods]]
    kind = "policy"                      # a trained policy: .zip, .onnx, .pt/.pt2, mod:fn
    path = "policies/ppo.onnx"
    label = "PPO"
    trust = false                        # .zip/.pt/.pt2 unpickle: they need trust = true

    [[train]]                            # a learner trained per seed, then evaluated
    label = "PPO-sparse+diffusion"       # as a policy method of this label
    algo = "ppo"                         # ppo | sac | td3 | a2c | d2sac | ippo
    reward = "sparse"                    # dense | sparse | delayed:k
    shaping = "diffusion"                # none | diffusion | rrd
    timesteps = 8192                     # budget per run; eval_every, eval_episodes optional

Deterministic methods (the oracle programs, MPC with a noise-free forecaster, the greedy
heuristics, trained policies) run once per episode with the first seed; stochastic ones
(``noisy:σ`` forecasts, ``random``) run once per seed. `load_spec` turns every problem
(TOML syntax, unknown key, bad value) into a `SpecError` whose message names the file,
the key and the value on one line.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aigc_opt.experiments import adapter


class SpecError(ValueError):
    """An invalid spec; ``str(err)`` is ``file: key = value: message`` on one line."""

    def __init__(self, source: str | Path, key: str, value: Any, message: str):
        text = repr(value)
        text = text if len(text) <= 80 else text[:77] + "..."
        super().__init__(f"{source}: {key} = {text}: {message}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OracleMethod(_Model):
    """Perfect-foresight program on the episode: ``milp`` (HiGHS; incumbent + best bound),
    ``lp`` (its LP relaxation) or ``convex`` (continuous steps, cvxpy/Clarabel)."""

    kind: Literal["oracle"]
    program: Literal["milp", "lp", "convex"] = "milp"
    label: str | None = None
    time_limit: float | None = Field(default=None, gt=0, description="seconds per solve")
    mip_gap: float = Field(default=1e-4, ge=0, description="relative MIP gap (milp)")
    integer_jobs: bool = False

    @property
    def name(self) -> str:
        return self.label or f"oracle-{self.program}"

    @property
    def stochastic(self) -> bool:
        return False


class MPCMethod(_Model):
    """Rolling-horizon MPC with a forecaster and a lookahead of ``lookahead`` slots."""

    kind: Literal["mpc"]
    forecast: str = "perfect"
    lookahead: int = Field(default=24, ge=1, description="window length (slots)")
    window: Literal["lp", "milp"] = "lp"
    carry_weight: float = Field(default=0.0, ge=0)
    label: str | None = None

    @field_validator("forecast")
    @classmethod
    def _forecast(cls, v: str) -> str:
        adapter.check_forecast(v)
        return v

    @property
    def name(self) -> str:
        return self.label or f"mpc-{self.forecast}-L{self.lookahead}"

    @property
    def stochastic(self) -> bool:
        return self.forecast.startswith("noisy")

    @property
    def noise(self) -> float | None:
        """Relative forecast noise σ (0 for ``perfect``; None for other forecasters)."""
        if self.forecast == "perfect":
            return 0.0
        if self.forecast.startswith("noisy:"):
            return float(self.forecast.split(":", 1)[1])
        return None


class HeuristicMethod(_Model):
    """A heuristic policy by name (``greedy``, ``price-greedy``, ``random``)."""

    kind: Literal["heuristic"]
    name_: str = Field(alias="name")
    label: str | None = None
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("name_")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in adapter.HEURISTIC_NAMES:
            raise ValueError(
                f"unknown heuristic (choose from {', '.join(adapter.HEURISTIC_NAMES)})"
            )
        return v

    @property
    def name(self) -> str:
        return self.label or self.name_

    @property
    def stochastic(self) -> bool:
        return self.name_ == "random"


class PolicyMethod(_Model):
    """A trained policy file (``.zip`` SB3, ``.onnx``, ``.pt``/``.pt2``) or
    ``package.module:function``; ``trust`` allows formats that unpickle Python objects."""

    kind: Literal["policy"]
    path: str
    label: str | None = None
    trust: bool = False
    squashed: bool = False

    @property
    def name(self) -> str:
        return self.label or Path(self.path.split(":")[-1]).stem

    @property
    def stochastic(self) -> bool:
        return False


class TrainEntry(_Model):
    """A learned agent: one `aigc_opt.drl_compare.train.train` run per seed on the
    scenario's ``train`` split, whose deterministic ONNX actor then plays the spec's
    episodes as a policy method labelled ``label``. ``timesteps`` is the budget of each run
    (env steps; agent-steps for ``ippo``); every ``eval_every`` steps (default: a tenth of
    the budget) the actor plays ``eval_episodes`` validation episodes (learning curve)."""

    label: str
    algo: Literal["ppo", "sac", "td3", "a2c", "d2sac", "ippo"]
    reward: str = "dense"
    shaping: Literal["none", "diffusion", "rrd"] = "none"
    timesteps: int = Field(ge=1, description="env steps per run (agent-steps for ippo)")
    eval_every: int | None = Field(default=None, ge=1, description="steps between evaluations")
    eval_episodes: int = Field(default=3, ge=1)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _combination(self) -> TrainEntry:
        from aigc_opt.drl_compare.reward_options import check_options

        try:
            check_options(self.algo, self.reward, self.shaping)
        except ValueError as exc:
            raise ValueError(str(exc).replace("--", "")) from None
        return self

    @property
    def every(self) -> int:
        return self.eval_every or max(1, self.timesteps // 10)


Method = Annotated[
    OracleMethod | MPCMethod | HeuristicMethod | PolicyMethod, Field(discriminator="kind")
]


class Spec(_Model):
    """A whole experiment (see the module docstring)."""

    name: str | None = None
    description: str = ""
    scenarios: list[str] = Field(min_length=1)
    horizons: list[Annotated[int, Field(ge=1)]] = Field(default=[24], min_length=1)
    starts: list[Annotated[int, Field(ge=0)]] = Field(default=[0], min_length=1)
    episodes: int | None = Field(default=None, ge=1, description="random starts per horizon")
    episode_seed: int = 0
    seeds: list[int] = Field(default=[0], min_length=1)
    bound: Literal["lp", "milp", "none"] = "lp"
    split: Literal["train", "val", "test", "all"] | None = None
    methods: list[Method] = Field(min_length=1)
    train: list[TrainEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _checks(self) -> Spec:
        if self.episodes is not None and "starts" in self.model_fields_set:
            raise ValueError("give either starts or episodes, not both")
        if self.split is not None and "starts" in self.model_fields_set:
            raise ValueError("split draws the starts: give episodes with it, not starts")
        seen: dict[str, str] = {}
        labels = [(f"methods[{i}]", m.name) for i, m in enumerate(self.methods)]
        labels += [(f"train[{i}]", t.label) for i, t in enumerate(self.train)]
        for where, name in labels:
            if name in seen:
                raise ValueError(
                    f"{where} has the label {name!r} of {seen[name]}; set label to tell them apart"
                )
            seen[name] = where
        for key in ("horizons", "starts", "seeds", "scenarios"):
            values = getattr(self, key)
            if len(set(values)) != len(values):
                raise ValueError(f"{key} lists a value twice: {values}")
        return self


SHIPPED = Path(__file__).resolve().parent
"""Folder of the shipped specs (``quick.toml``, ``paper.toml``)."""


def resolve_spec_path(path: str | Path) -> Path:
    """``path`` itself when it exists, else the shipped spec of that name (``quick``)."""
    path = Path(path)
    shipped = SHIPPED / f"{path.stem}.toml"
    if not path.exists() and path.parent == Path(".") and shipped.is_file():
        return shipped
    return path


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file; every problem is a one-line `SpecError`."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(path, "file", str(path), "spec file not found")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(path, "toml", path.name, f"not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise SpecError(path, "toml", path.name, "not a UTF-8 text file") from None
    try:
        return Spec.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err.get("loc", ()))
        key, value = _locate(raw, loc)
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "missing":
            value, msg = "<missing>", "required key is missing"
        raise SpecError(path, key or "<root>", value, msg) from None


_TAGS = ("oracle", "mpc", "heuristic", "policy")


def _locate(raw: Any, loc: tuple[Any, ...]) -> tuple[str, Any]:
    """The dotted key of a pydantic error location and the raw value found there."""
    key, value = "", raw
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
            value = value[part] if isinstance(value, list) and part < len(value) else None
        elif part in _TAGS and not (isinstance(value, dict) and part in value):
            continue  # the discriminated union's tag, not a key of the file
        else:
            key += ("." if key else "") + str(part)
            value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, dict) and "kind" in value and loc and isinstance(loc[-1], int):
        key, value = key + ".kind", value["kind"]
    elif isinstance(value, dict) and loc and loc[0] == "train" and isinstance(loc[-1], int):
        field = "shaping" if value.get("shaping", "none") != "none" else "reward"
        key, value = f"{key}.{field}", value.get(field, "dense")  # a combination refused
    return key, value
