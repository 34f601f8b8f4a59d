"""End to end: `spacebetween demo --serve` on a fresh data directory answers over HTTP, with the
worker running beside it and stopped with it."""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from bench.harness import free_port

DEADLINE_SECONDS = 150  # loading the demo (without history) takes about 20-40 s; generous for CI


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - http://127.0.0.1 only
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


@pytest.mark.e2e
def test_demo_serve_loads_the_demo_and_answers_login_and_static(cli: Any) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # noqa: S603 - our own console command
        cli.command("demo", "--serve", "--port", str(port), "--history", "0"),
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        login = None
        while login is None and server.poll() is None and time.monotonic() < deadline:
            try:
                login = _get(f"{base}/login/")
            except OSError:
                time.sleep(0.25)
        assert login is not None, f"the server did not answer within {DEADLINE_SECONDS} s"
        assert login[0] == 200, login[2][:2000]
        css = _get(f"{base}/static/spacebetween/site.css")
        assert css[0] == 200 and css[1].startswith("text/css")
    finally:
        server.terminate()
        try:
            output, _ = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    assert "therapist@demo.spacebetween.test" in output
    assert f"Serving the demo on {base}/" in output
    # The worker ran beside the site, writing e-mails to files, and stopped with the demo.
    started = re.search(r"Started the worker \(pid (\d+)\)", output)
    assert started is not None, output[-2000:]
    with pytest.raises(ProcessLookupError):
        os.kill(int(started.group(1)), 0)
