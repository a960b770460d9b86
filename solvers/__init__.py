"""Solvers and controllers: HiGHS backend, oracle, simulator, MPC, heuristics."""
