"""What every part leans on: the user's settings, resources, dialogs, diagnostics and
crash reports, quit signals, and the rotated autosaves."""
