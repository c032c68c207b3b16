"""Experiments: the default demo job, and (later) configs, the runner, sweeps and reports."""
