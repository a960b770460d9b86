"""pytest plugin of aigc-opt (registered through the ``pytest11`` entry point)."""
