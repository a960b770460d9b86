"""Scenarios: the validated parameter model, shipped scenarios and data loaders."""
