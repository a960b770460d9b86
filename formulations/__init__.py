"""Programs of MODEL.md: admissible index sets, the Pyomo MILP/LP, the cvxpy convex
program, and the one accounting of utility (`accounting.evaluate`)."""
