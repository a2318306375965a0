"""The live session without widgets: its state, the source, learner and settings
controllers, the model files, session recording, and the bounded history views read."""
