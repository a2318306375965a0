"""Work off the GUI thread: the capture and learner workers (QThreads), the bounded
mailboxes between them (and which snippets a learner behind learns from), the camera
scan, exports and file segmentation (pool workers)."""
