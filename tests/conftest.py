"""Shared test setup: headless Qt, the tests folder importable for its helpers, and
garbage collected between tests on the main thread."""

import gc
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session", autouse=True)
def no_collection_on_worker_threads():
    """As in the app (make_application): Python's automatic collector would run on
    whichever thread allocates, and a Qt widget it frees on a worker thread deadlocks
    (a test hung inside torch.save on the learner thread)."""
    gc.disable()
    yield
    gc.enable()


@pytest.fixture(autouse=True)
def collect_on_the_main_thread():
    """What a test leaves behind is collected after it, on the main thread."""
    yield
    gc.collect()
