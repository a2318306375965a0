"""The live window: the main window (menus, docks, wiring) and its views: the picture,
the per-layer timelines, the controls panel and its sensitivity knobs, the status bar."""
