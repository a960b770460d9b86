"""Measured model profiles: GPU time, GPU energy and quality of text-to-image models.

GPU time and energy (MODEL.md §2: τ(n) = τ⁰ + τ¹·n GPU-seconds, e(n) = e⁰ + e¹·n kWh above
idle) come from two sources:

* ML.ENERGY leaderboard v3 (``text-to-image_configurations.csv``): per-image energy (J) and
  per-batch latency (s) on one H100 or B200, 1024×1024 px, bf16, at batch sizes 1..32, each
  model at its fixed step count n₀. Steps are not varied there, so the step-independent
  part is identified by **batch scaling**: a least-squares line through the batch
  latency, L(B) = a + b·B, and through the batch energy, B·E(B) = c + d·B, gives the cost
  that batching amortises (a, c: per-request overhead — pipeline launch, text-encoder call,
  scheduler set-up) and the cost that every image pays (b, d). The fixed part of a job at
  batch 1 is τ⁰ = clip(a, 0, L(1)) and E⁰ = clip(c, 0, E(1)); the per-step part is what
  is left of the batch-1 measurement, τ¹ = (L(1) − τ⁰)/n₀ and E¹ = (E(1) − E⁰)/n₀, so that
  τ(n₀) and E(n₀) reproduce the batch-1 measurement exactly. Per-image work that does not
  depend on batching (VAE decode, text encoding of the prompt) is thereby folded into the
  per-step part — an approximation stated in docs/data.md.
* Published per-step figures at batch 1 on an A100 (SDXL: 42.3 J and 0.108 s per step;
  SD 2.1: 17.0 J and 0.0425 s per step). Their fixed part is not published; it is taken
  as the median, over the ML.ENERGY H100 models, of the fixed part expressed in steps
  (τ⁰/τ¹ and E⁰/E¹).

ML.ENERGY and the published figures are total GPU energy; the model wants energy above
idle, so P_idle·τ is subtracted (floored at 0): e⁰ = (E⁰ − P_idle·τ⁰)/3.6e6 kWh,
e¹ = (E¹ − P_idle·τ¹)/3.6e6 kWh.

Quality Q_b(n) ∈ [0, 1] is the GenEval overall score (object-focused text-image alignment,
a fraction of prompts rendered correctly) of model b at its reference step count n_ref,
scaled below n_ref by the logarithmic quality-vs-steps fit of an edge-AIGC scheduler,
q(s) = 0.16·ln(s)/ln(6) − 0.02 (5–30 steps), and held flat above n_ref (no gain is claimed
beyond the measured configuration):

    Q_b(n) = min(G_b, G_b · q(n)/q(n_ref))  =  min(q_max, α·ln(n) + c)

with q_max = G_b, α = G_b·0.16/(ln 6 · q(n_ref)), c = −0.02·G_b/q(n_ref) — the ``log`` form
of `aigc_opt.data.quality.LogQuality`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "GPUS",
    "GENEVAL",
    "PUBLISHED_PER_STEP",
    "EDGE_LOG_FIT",
    "edge_log_quality",
    "derive_model_profiles",
    "quality_table",
    "gpu_table",
]

J_PER_KWH = 3.6e6


@dataclass(frozen=True)
class Gpu:
    """GPU type: idle power with a model resident (kW), board power limit (kW)."""

    name: str
    idle_kw: float
    tdp_kw: float
    source: str


GPUS: dict[str, Gpu] = {
    "A100": Gpu(
        "A100",
        0.09,
        0.40,
        "idle: assumption (bare idle plus the 26-50 W CUDA-context step measured in "
        "arXiv:2605.23918); TDP: NVIDIA A100 SXM4 datasheet",
    ),
    "H100": Gpu(
        "H100",
        0.12,
        0.70,
        "idle: assumption (bare idle plus the 26-50 W CUDA-context step measured in "
        "arXiv:2605.23918); TDP: NVIDIA H100 SXM5 datasheet",
    ),
    "B200": Gpu(
        "B200",
        0.15,
        1.00,
        "idle: assumption scaled from H100 by board power; TDP: NVIDIA B200 datasheet",
    ),
}


@dataclass(frozen=True)
class PerStep:
    """A published per-step figure at batch size 1 (total GPU energy)."""

    model: str
    gpu: str
    joules_per_step: float
    seconds_per_step: float
    steps_ref: int
    source: str


PUBLISHED_PER_STEP: tuple[PerStep, ...] = (
    PerStep(
        "SDXL 1.0",
        "A100",
        42.3,
        0.108,
        50,
        "published per-step figure, A100, batch 1 (MODEL.md §2; issue 7)",
    ),
    PerStep(
        "Stable Diffusion 2.1",
        "A100",
        17.0,
        0.0425,
        50,
        "published per-step figure, A100, batch 1 (MODEL.md §2; issue 7)",
    ),
)


@dataclass(frozen=True)
class QualityLevel:
    """Published quality level of a model: GenEval overall at ``steps_ref`` steps."""

    model: str
    geneval: float
    steps_ref: int
    source: str
    proxy_for: str = ""


GENEVAL: dict[str, QualityLevel] = {
    q.model: q
    for q in (
        QualityLevel(
            "Stable Diffusion 2.1",
            0.50,
            50,
            "GenEval paper (Ghosh et al. 2023, arXiv:2310.11513), README table; "
            "50 sampling steps (generation script default)",
        ),
        QualityLevel(
            "SDXL 1.0",
            0.55,
            50,
            "GenEval paper (Ghosh et al. 2023, arXiv:2310.11513), README table; "
            "50 sampling steps (generation script default)",
        ),
        QualityLevel(
            "PixArt-Σ",
            0.54,
            20,
            "Sana paper (Xie et al. 2024, arXiv:2410.10629), 1024 px comparison table",
        ),
        QualityLevel(
            "Stable Diffusion 3.5 Medium",
            0.62,
            28,
            "Sana paper (arXiv:2410.10629), 1024 px table, SD3-medium",
            "SD3-medium",
        ),
        QualityLevel(
            "FLUX.1 Dev", 0.67, 50, "Sana paper (arXiv:2410.10629), 1024 px table, FLUX-dev"
        ),
        QualityLevel(
            "Hunyuan-DiT 1.2",
            0.63,
            50,
            "Sana paper (arXiv:2410.10629), 1024 px table, Hunyuan-DiT",
            "Hunyuan-DiT",
        ),
        QualityLevel(
            "SANA 1.5 1.6B",
            0.66,
            20,
            "Sana paper (arXiv:2410.10629), 1024 px table, Sana-1.6B (1.0)",
            "Sana-1.6B",
        ),
    )
}

#: q(s) = A·ln(s)/ln(6) + B, the edge-AIGC scheduler's fit for 5..30 steps.
EDGE_LOG_FIT = {"scale": 0.16, "log_base": 6.0, "offset": -0.02, "steps_min": 5, "steps_max": 30}


def edge_log_quality(steps: float) -> float:
    """q(s) = 0.16·ln(s)/ln(6) − 0.02 (dimensionless)."""
    f = EDGE_LOG_FIT
    return f["scale"] * math.log(steps) / math.log(f["log_base"]) + f["offset"]


def _fit_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares intercept and slope of y = a + b·x."""
    A = np.column_stack([np.ones_like(x), x])
    (a, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    return float(a), float(b)


def derive_model_profiles(ml: pd.DataFrame) -> pd.DataFrame:
    """Per (model, GPU): fixed and per-step GPU time and energy, total and above idle.

    Parameters
    ----------
    ml : ML.ENERGY text-to-image table (`loaders.load_ml_energy_t2i`).

    Returns
    -------
    DataFrame, one row per (model, gpu), columns: ``model, gpu, source, steps_ref,
    batch_sizes, latency_b1_s, energy_per_image_b1_j, gpu_seconds_fixed,
    gpu_seconds_per_step, energy_fixed_j, energy_per_step_j, idle_kw_per_gpu, kwh_fixed,
    kwh_per_step, energy_per_image_bmax_j, images_per_s_bmax`` (times in GPU-s, energies
    in J per job or per step, kWh above idle).
    """
    sel = ml[(ml["num_gpus"] == 1) & (ml["image_height"] == 1024) & (ml["image_width"] == 1024)]
    if "weight_precision" in sel.columns:
        sel = sel[sel["weight_precision"] == "bfloat16"]
    rows = []
    for (model, gpu), g in sel.groupby(["nickname", "gpu_model"], sort=True):
        g = g.sort_values("batch_size")
        if (g["batch_size"] == 1).sum() != 1:
            continue
        B = g["batch_size"].to_numpy(dtype=float)
        lat = g["batch_latency_s"].to_numpy(dtype=float)
        e_img = g["energy_per_image_joules"].to_numpy(dtype=float)
        n0 = int(g["inference_steps"].iloc[0])
        L1, E1 = float(lat[0]), float(e_img[0])
        a, _ = _fit_line(B, lat)
        c, _ = _fit_line(B, B * e_img)
        tau0 = min(max(a, 0.0), L1)
        e0 = min(max(c, 0.0), E1)
        rows.append(
            _row(
                str(model),
                str(gpu),
                "ML.ENERGY leaderboard v3, batch scaling",
                n0,
                "/".join(str(int(b)) for b in B),
                L1,
                E1,
                tau0,
                (L1 - tau0) / n0,
                e0,
                (E1 - e0) / n0,
                float(e_img[-1]),
                float(B[-1] / lat[-1]),
            )
        )
    table = pd.DataFrame(rows)
    h100 = table[table["gpu"] == "H100"]
    steps_t = float(np.median(h100["gpu_seconds_fixed"] / h100["gpu_seconds_per_step"]))
    steps_e = float(np.median(h100["energy_fixed_j"] / h100["energy_per_step_j"]))
    extra = []
    for p in PUBLISHED_PER_STEP:
        tau0 = steps_t * p.seconds_per_step
        e0 = steps_e * p.joules_per_step
        extra.append(
            _row(
                p.model,
                p.gpu,
                p.source + f"; fixed part = median H100 ratio "
                f"({steps_t:.2f} steps of time, {steps_e:.2f} steps of energy)",
                p.steps_ref,
                "1",
                tau0 + p.seconds_per_step * p.steps_ref,
                e0 + p.joules_per_step * p.steps_ref,
                tau0,
                p.seconds_per_step,
                e0,
                p.joules_per_step,
                float("nan"),
                float("nan"),
            )
        )
    table = pd.concat([table, pd.DataFrame(extra)], ignore_index=True)
    return table.sort_values(["gpu", "model"], kind="stable").reset_index(drop=True)


def _row(
    model: str,
    gpu: str,
    source: str,
    n0: int,
    batches: str,
    L1: float,
    E1: float,
    tau0: float,
    tau1: float,
    e0: float,
    e1: float,
    e_bmax: float,
    thr_bmax: float,
) -> dict[str, object]:
    idle = GPUS[gpu].idle_kw
    return {
        "model": model,
        "gpu": gpu,
        "source": source,
        "steps_ref": n0,
        "batch_sizes": batches,
        "latency_b1_s": L1,
        "energy_per_image_b1_j": E1,
        "gpu_seconds_fixed": tau0,
        "gpu_seconds_per_step": tau1,
        "energy_fixed_j": e0,
        "energy_per_step_j": e1,
        "idle_kw_per_gpu": idle,
        "kwh_fixed": max(e0 - 1000.0 * idle * tau0, 0.0) / J_PER_KWH,
        "kwh_per_step": max(e1 - 1000.0 * idle * tau1, 0.0) / J_PER_KWH,
        "energy_per_image_bmax_j": e_bmax,
        "images_per_s_bmax": thr_bmax,
    }


def quality_table() -> pd.DataFrame:
    """Per model: GenEval level, reference steps and the ``log`` quality parameters.

    Returns
    -------
    DataFrame ``model, geneval, steps_ref, alpha, c, q_max, proxy_for, source`` where
    Q(n) = min(q_max, alpha·ln(n) + c) (dimensionless).
    """
    rows = []
    for q in GENEVAL.values():
        ref = edge_log_quality(q.steps_ref)
        f = EDGE_LOG_FIT
        rows.append(
            {
                "model": q.model,
                "geneval": q.geneval,
                "steps_ref": q.steps_ref,
                "alpha": q.geneval * f["scale"] / (math.log(f["log_base"]) * ref),
                "c": q.geneval * f["offset"] / ref,
                "q_max": q.geneval,
                "proxy_for": q.proxy_for,
                "source": q.source,
            }
        )
    return pd.DataFrame(rows).sort_values("model", kind="stable").reset_index(drop=True)


def gpu_table() -> pd.DataFrame:
    """GPU types: ``gpu, idle_kw, tdp_kw, source``."""
    return pd.DataFrame(
        [
            {"gpu": g.name, "idle_kw": g.idle_kw, "tdp_kw": g.tdp_kw, "source": g.source}
            for g in GPUS.values()
        ]
    )
