"""Experiments: definitions, tasks, the runner, sweeps, the results store, reports and the demo."""
