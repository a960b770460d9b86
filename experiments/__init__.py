"""Experiments: one TOML spec → a list of jobs → an executor → one Parquet file per job.

* `spec`: the pydantic model of a spec file (scenarios, horizons, starts, methods, seeds).
* `jobs`: expansion of a spec into jobs, each keyed by a hash of its resolved inputs.
* `adapter`: the only module that calls the solvers (oracle, convex, MPC, heuristics,
  trained policies); it turns their results into one flat `Outcome`.
* `training`: the ``[[train]]`` entries — one training job per entry and seed, then the
  trained ONNX actors' episode jobs.
* `run`: one job → its tidy row (never raises: a failure is a row with its message).
* `store`: the experiment folder (manifest, ``results/<key>.parquet``, ``failed/``).
* `executor`: a local process pool or a Dask ``distributed`` client behind
  `concurrent.futures.Executor`, and the resume/interrupt logic.
* `progress`: a Rich bar on a terminal, plain periodic lines otherwise.

Shipped specs: ``quick.toml`` (two scenarios, a few minutes of CPU at most) and
``paper.toml`` (every shipped scenario × every method × 5 seeds).
"""
