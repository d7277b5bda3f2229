"""Measuring the engine: held-out solver evaluation, live-path metrics, the model step benchmark."""
