"""The page as a user loads it, for deploy/swarm/run.py, deploy/swarm/cluster.py and
checks/observability.py: one page load, steady page traffic that classifies every page, and
waiting for a condition. Not run on its own.
"""

import re
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

from lib import fail

# What the home page says when a backend call failed (web-service/templates/home.html).
DEGRADED = ('id="tasks-unavailable"', 'class="views unavailable"')
VIEWS = re.compile(r"viewed <strong>(\d+)")


def fetch(url, data=None, request_id=None, timeout=5):
    """(status, body) of one request; status 0 when nothing answered."""
    headers = {"x-request-id": request_id} if request_id else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


def is_whole(status, body):
    return status == 200 and not any(marker in body for marker in DEGRADED)


def views(body):
    """The view count a page shows, or None when it shows the counter as unavailable."""
    match = VIEWS.search(body)
    return int(match.group(1)) if match else None


def wait_for(what, condition, timeout, every=0.5):
    """Polls `condition` until it returns something true; returns it and the seconds waited."""
    begun = time.monotonic()
    while True:
        outcome = condition()
        if outcome:
            return outcome, time.monotonic() - begun
        if time.monotonic() - begun > timeout:
            fail(f"{what}: not within {timeout} s")
        time.sleep(every)


class PageLoad(threading.Thread):
    """Steady page traffic, one page at a time with 50 ms between pages (about 20 pages a
    second), each classified: whole, degraded or failed. `bad` holds when (time.monotonic())
    and what for every page that was not whole; `most_views` is the highest count a page
    showed."""

    def __init__(self, page, timeout=5):
        super().__init__(daemon=True)
        self.page = page
        self.timeout = timeout
        self.outcomes = Counter()
        self.bad = []
        self.most_views = 0
        self.halt = threading.Event()

    def run(self):
        number = 0
        while not self.halt.is_set():
            number += 1
            status, body = fetch(self.page, request_id=f"load-{number}", timeout=self.timeout)
            if status != 200:
                self.outcomes["failed"] += 1
                self.bad.append((time.monotonic(), f"status {status}"))
            elif not is_whole(status, body):
                self.outcomes["degraded"] += 1
                marker = next(m for m in DEGRADED if m in body)
                self.bad.append((time.monotonic(), f"degraded: {marker}"))
            else:
                self.outcomes["whole"] += 1
                self.most_views = max(self.most_views, views(body) or 0)
            self.halt.wait(0.05)

    def stop(self):
        self.halt.set()
        self.join()
        return self.outcomes
