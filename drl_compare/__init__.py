"""DRL comparison harness: Gymnasium environment, policy loaders, comparison, training."""
