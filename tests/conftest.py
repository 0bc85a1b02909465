import os
import shutil
import sys

import pytest
from hypothesis import HealthCheck, settings

# The numpy-free run (tests/test_no_numpy.py): numpy can't be imported, as on a
# Python without it.  A test skips in that run only if it needs numpy itself:
# its own code uses `np` (None there), or a part that needs numpy (vectorize,
# data, seeded random init) refused with the ImportError naming `pip install numpy`.
NO_NUMPY = os.environ.get("AUTOGRAD_LITE_NO_NUMPY") == "1"


class _BlockNumpy:
    """A meta-path finder under which ``import numpy`` raises ImportError."""

    def find_spec(self, name, path=None, target=None):
        if name == "numpy" or name.startswith("numpy."):
            raise ImportError(f"No module named {name!r} (blocked: the numpy-free run)")
        return None


if NO_NUMPY:
    assert "numpy" not in sys.modules, "numpy was imported before tests/conftest.py could block it"
    sys.meta_path.insert(0, _BlockNumpy())
    np = None
else:
    import numpy as np  # noqa: F401  # the test modules take np from here (None in the numpy-free run)


def _needs_numpy(excinfo) -> bool:
    """Did the test fail only because numpy is missing (see NO_NUMPY)?"""
    err = excinfo.value
    if isinstance(err, ImportError):
        return "numpy" in str(err)
    if isinstance(err, AttributeError) and str(err).startswith("'NoneType' object has no attribute"):
        last = excinfo.traceback[-1]  # raised in a test's own line that uses np
        return os.path.dirname(str(last.path)) == os.path.dirname(__file__) and "np." in str(last.statement)
    return False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if NO_NUMPY and report.failed and call.excinfo is not None and _needs_numpy(call.excinfo):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"needs numpy: {call.excinfo.value}")
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
# CI explores a fixed set of examples (no flaky landings); local runs draw new ones every time
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True,
                          derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

HAVE_DOT = shutil.which("dot") is not None


def pytest_collection_modifyitems(config, items):
    """Tests marked ``needs_dot`` skip without Graphviz -- except in CI, where they
    run anyway (and fail if .ci/run did not install it)."""
    for item in items:
        if NO_NUMPY and "needs_numpy" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs numpy (the numpy-free run)"))
    if HAVE_DOT or os.environ.get("CI"):
        return
    for item in items:
        if "needs_dot" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="Graphviz 'dot' is not installed"))


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_dot: needs the Graphviz 'dot' program")
    config.addinivalue_line("markers", "needs_numpy: needs numpy (skipped in the numpy-free run)")
    config.addinivalue_line("markers", "slow: slower tests (still run by make test)")


# ---------------------------------------------------------------------------
# the headless browser that drives the HTML pages (Debian's chromium and chromedriver)
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
HAVE_BROWSER = os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium in a 1280×720 window (a projector's, browser chrome included).
    Skipped without Chromium, except in CI, where the page tests must run."""
    if not HAVE_BROWSER and not os.environ.get("CI"):
        pytest.skip("Chromium and chromedriver are not installed (in CI they must be)")
    webdriver = pytest.importorskip("selenium.webdriver") if not os.environ.get("CI") else \
        __import__("selenium.webdriver", fromlist=["webdriver"])
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    # an explicit driver path: selenium-manager never downloads anything
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver") or CHROMEDRIVER),
                              options=options)
    driver.set_window_size(1280, 720)
    yield driver
    driver.quit()
