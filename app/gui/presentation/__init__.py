"""The window explaining itself: presentation mode for an audience, the first-run guide
and shortcut list, and the status line in words."""
