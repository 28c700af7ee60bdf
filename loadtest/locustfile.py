"""Locust version of the HTTP part of Buko's load test (issue 9), for people who already use Locust.

It browses as `buko-load` does: the library and book pages (session cookie, after a password login)
and the REST API v1 (book list, book detail, events with an advancing cursor) with an API key.
WebSockets, writing books and the verification are `buko-load`'s job (scripts/loadtest.sh).

Setup: accounts with an API key and a password, e.g.
    buko admin create-user --email load1@example.com --password 'load-test-password-1'
    buko admin create-api-key --email load1@example.com
and one or more books (POST /api/v1/books). Then:
    BUKO_USERS='load1@example.com:load-test-password-1:buko_…' \
    locust -f loadtest/locustfile.py --host http://127.0.0.1:8080 -u 200 -r 50 --run-time 5m --headless
BUKO_USERS is a comma-separated list of email:password:api_key. Raise the nodes' request limits for a
run from one address (BUKO_RATE_IP_PER_MIN, BUKO_RATE_ENDPOINT_PER_MIN), as scripts/loadtest.sh does.
Locust users are closed-loop (each waits for its answer); `buko-load` is open-loop at a fixed rate.
"""

import itertools
import os
import re

from locust import HttpUser, between, task

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def accounts():
    raw = os.environ.get("BUKO_USERS", "")
    out = []
    for item in filter(None, (s.strip() for s in raw.split(","))):
        email, password, key = item.split(":", 2)
        out.append((email, password, key))
    if not out:
        raise SystemExit("set BUKO_USERS=email:password:api_key[,…]")
    return out


ACCOUNTS = itertools.cycle(accounts())


class Reader(HttpUser):
    """One signed-in author browsing their library and polling a book's events."""

    wait_time = between(0.5, 2.0)

    def on_start(self):
        self.email, password, self.key = next(ACCOUNTS)
        page = self.client.get("/login", name="GET /login")
        match = CSRF.search(page.text)
        token = match.group(1) if match else ""
        self.client.post(
            "/login",
            data={"csrf_token": token, "email": self.email, "password": password},
            allow_redirects=False,
            name="POST /login",
        )
        books = self.client.get(
            "/api/v1/books", headers={"X-API-Key": self.key}, name="GET /api/v1/books"
        )
        ids = [b["id"] for b in books.json()] if books.ok else []
        self.book = ids[0] if ids else None
        self.cursor = 0

    @task(2)
    def library(self):
        self.client.get("/books", name="GET /books (page)")

    @task(2)
    def book_page(self):
        if self.book:
            self.client.get(f"/books/{self.book}", name="GET /books/{id} (page)")

    @task(2)
    def api_list(self):
        self.client.get("/api/v1/books", headers={"X-API-Key": self.key}, name="GET /api/v1/books")

    @task(2)
    def api_book(self):
        if self.book:
            self.client.get(
                f"/api/v1/books/{self.book}",
                headers={"X-API-Key": self.key},
                name="GET /api/v1/books/{id}",
            )

    @task(2)
    def api_events(self):
        if not self.book:
            return
        res = self.client.get(
            f"/api/v1/books/{self.book}/events?after={self.cursor}",
            headers={"X-API-Key": self.key},
            name="GET /api/v1/books/{id}/events",
        )
        if res.ok:
            events = res.json()
            if events:
                self.cursor = events[-1]["seq"]
