"""The browser fixtures (tests/browser/conftest.py), for test_rights_in_browser.py."""

from tests.browser.conftest import (  # noqa: F401
    browser_page,
    chromium,
    demo_practice,
    demo_therapist,
    live_site,
    screenshot,
    sign_in,
)
