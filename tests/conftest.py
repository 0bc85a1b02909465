import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
# CI explores a fixed set of examples (no flaky landings); local runs draw new ones every time
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True,
                          derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

HAVE_DOT = shutil.which("dot") is not None


def pytest_collection_modifyitems(config, items):
    """Tests marked ``needs_dot`` skip without Graphviz -- except in CI, where they
    run anyway (and fail if .ci/run did not install it)."""
    if HAVE_DOT or os.environ.get("CI"):
        return
    for item in items:
        if "needs_dot" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="Graphviz 'dot' is not installed"))


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_dot: needs the Graphviz 'dot' program")
    config.addinivalue_line("markers", "slow: slower tests (still run by make test)")
