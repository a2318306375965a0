"""Review mode: a video or a recorded session with its hierarchies, played back
(a model without Qt, a controller without widgets, a window)."""
