"""Work off the GUI thread: the capture and learner workers (QThreads), the one-slot
mailboxes between them, the camera scan, exports and file segmentation (pool workers)."""
