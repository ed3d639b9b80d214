"""Load: latency at fixed request rates against a real `goodwill serve` over a demo SQLite store.

Workload: the demo business (`goodwill demo --no-serve`, 300 clients by default) served by
`goodwill serve` in a child process on loopback, with one process and with `--workers 2`. For each
route, requests are sent open-loop at a fixed rate (one every 1/rate seconds, whatever the answers
do) for a fixed time, by an async httpx client; a request's latency runs from the moment it was
due to be sent to its answer, so a server that falls behind shows it. Each step is bounded in
count (rate x seconds) and time (each request 10 s at most; a step ends 15 s after its last send).

Routes: ``GET /api/v1/clients`` (API token), a client's page, ``/today`` and the reply check
(``POST /inbox/ID/check``, the guardrails over a draft), the pages logged in as the owner.

Printed: for each rate the p50 and p99 latency of the answered requests, how many were shed (503)
or failed otherwise (errors, 10 s timeouts), how many were dropped (not sent because 64 were
already waiting: the server had fallen that far behind), and the first rate at which p99 passes
50 ms. Peer, in the same run on the
same server: ``GET /healthz`` (no database, no login): the ratio is a route's p50 over the peer's at
the same rate.

Run: python -m bench.load [--rates 10,20,50,100,200] [--seconds 5] [--workers 1,2]
     [--pythonpath DIR] (serve another checkout's source, e.g. to measure before a change)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

THRESHOLD_MS = 50.0
#: Requests waiting for an answer at once; one due beyond this is not sent and counted as dropped
#: (a server this far behind has collapsed; queueing more would only measure the client).
MAX_IN_FLIGHT = 64
REQUEST_TIMEOUT = 10.0
GRACE = 15.0
OWNER = "owner@demo.goodwill.example"
PASSWORD = "goodwill-demo"
DRAFT = (
    "Dear client, thank you for your message. Your order is on its way and should arrive by "
    "Friday. If anything is not right, reply to this mail and I will sort it out myself."
)


@dataclass
class Step:
    """One rate on one route: latencies of the answered requests (ms) and what went wrong."""

    rate: float
    sent: int = 0
    latencies: list[float] = field(default_factory=list)
    shed: int = 0
    failed: int = 0
    dropped: int = 0
    elapsed: float = 0.0

    def within(self, threshold_ms: float) -> bool:
        """p99 within the threshold, and at most 1% of the requests shed, failed or dropped."""
        lost = self.shed + self.failed + self.dropped
        return (
            bool(self.latencies)
            and self.quantile(0.99) <= threshold_ms
            and lost <= 0.01 * (self.sent + self.dropped)
        )

    def quantile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str] | None = None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _goodwill(*args: str) -> list[str]:
    return [sys.executable, "-m", "goodwill", *args]


def _env(pythonpath: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("GOODWILL_DATABASE_URL", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def build_demo(folder: Path, clients: int, pythonpath: str | None) -> str:
    url = f"sqlite:///{folder / 'demo.db'}"
    subprocess.run(
        _goodwill("--db", url, "demo", "--no-serve", "--clients", str(clients)),
        check=True,
        capture_output=True,
        env=_env(pythonpath),
        timeout=600,
    )
    return url


def api_token(url: str, pythonpath: str | None) -> str:
    done = subprocess.run(
        _goodwill("--db", url, "user", "token", OWNER),
        check=True,
        capture_output=True,
        text=True,
        env=_env(pythonpath),
        timeout=120,
    )
    return done.stdout.strip().splitlines()[-1].strip()


@contextmanager
def serving(url: str, config: Path, *, workers: int, pythonpath: str | None) -> Iterator[str]:
    port = _free_port()
    args = ["--db", url, "--config", str(config), "serve", "--port", str(port)]
    if workers > 1:
        args += ["--workers", str(workers)]
    process = subprocess.Popen(
        _goodwill(*args),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(pythonpath),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"goodwill serve exited with {process.returncode}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("goodwill serve did not start within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def routes(base: str, token: str) -> list[Route]:
    """The measured routes, with a logged-in session and the ids they need."""
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=30, follow_redirects=False) as browser:
        login = browser.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login)
        assert csrf, "the login page has no CSRF field"
        form = {"email": OWNER, "password": PASSWORD, "csrf_token": csrf.group(1)}
        assert browser.post("/login", data=form).status_code == 303, "could not log in"
        today = browser.get("/today")
        page_csrf = re.search(r'name="csrf_token" value="([^"]+)"', today.text)
        assert page_csrf, "the today page has no CSRF field"
        cookie = f"goodwill_session={browser.cookies['goodwill_session']}"
        first = browser.get("/api/v1/clients", params={"limit": 1}, headers=auth).json()
        ref = first["clients"][0]["id"]
        conversations = browser.get("/api/v1/conversations", headers=auth).json()
        conversation = conversations[0]["id"]
    page = {"Cookie": cookie}
    check = {"Cookie": cookie, "X-CSRF-Token": page_csrf.group(1), "HX-Request": "true"}
    return [
        Route("healthz (peer)", "GET", "/healthz", {}),
        Route("GET /api/v1/clients", "GET", "/api/v1/clients", auth),
        Route("client page", "GET", "/clients/" + quote(ref, safe="@"), page),
        Route("/today", "GET", "/today", page),
        Route("reply check", "POST", f"/inbox/{conversation}/check", check, {"text": DRAFT}),
    ]


async def run_step(base: str, route: Route, rate: float, seconds: float) -> Step:
    """Send ``rate * seconds`` requests at ``rate`` per second; gather the answers."""
    step = Step(rate=rate)
    count = max(1, int(rate * seconds))
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT)
    in_flight = 0
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, limits=limits) as client:

        async def one(due: float) -> None:
            nonlocal in_flight
            in_flight += 1
            try:
                answer = await client.request(
                    route.method, route.path, headers=route.headers, data=route.form
                )
            except httpx.HTTPError:
                step.failed += 1
                return
            finally:
                in_flight -= 1
            if answer.status_code == 503:
                step.shed += 1
            elif answer.status_code >= 400:
                step.failed += 1
            else:
                step.latencies.append((time.perf_counter() - due) * 1000)

        start = time.perf_counter()
        tasks = []
        for i in range(count):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if in_flight >= MAX_IN_FLIGHT:
                step.dropped += 1
                continue
            tasks.append(asyncio.create_task(one(due)))
            step.sent += 1
        _, pending = await asyncio.wait(tasks, timeout=GRACE)
        for task in pending:
            task.cancel()
            step.failed += 1
        step.elapsed = time.perf_counter() - start
    return step


def measure(
    base: str, token: str, rates: list[float], seconds: float, page_rates: list[float]
) -> dict[str, list[Step]]:
    found: dict[str, list[Step]] = {}
    for route in routes(base, token):
        chosen = page_rates if route.name == "client page" else rates
        steps = []
        asyncio.run(run_step(base, route, chosen[0], 1.0))  # warm up (caches, connections)
        for rate in chosen:
            step = asyncio.run(run_step(base, route, rate, seconds))
            steps.append(step)
            print(
                f"  {route.name} at {rate:g}/s: p50 {step.quantile(0.5):.1f} ms, p99 "
                f"{step.quantile(0.99):.1f} ms, {step.shed} shed, {step.failed} failed, "
                f"{step.dropped} dropped, {step.elapsed:.1f} s",
                flush=True,
            )
            time.sleep(0.5)
        found[route.name] = steps
    return found


def report(title: str, found: dict[str, list[Step]]) -> None:
    print(f"\n## {title}")
    peer = {s.rate: s.quantile(0.5) for s in found.get("healthz (peer)", [])}
    print("| route | rate/s | p50 ms | p99 ms | shed 503 | failed | dropped | p50 / peer p50 |")
    print("|---|---|---|---|---|---|---|---|")
    for name, steps in found.items():
        for s in steps:
            ratio = s.quantile(0.5) / peer[s.rate] if peer.get(s.rate) else None
            ratio_text = f"{ratio:.1f}x" if ratio is not None else "—"
            print(
                f"| {name} | {s.rate:g} | {s.quantile(0.5):.1f} | {s.quantile(0.99):.1f} | "
                f"{s.shed} | {s.failed} | {s.dropped} | {ratio_text} |"
            )
    for name, steps in found.items():
        over = [s.rate for s in steps if not s.within(THRESHOLD_MS)]
        passes = f"{over[0]:g} req/s" if over else f"not within {steps[-1].rate:g} req/s"
        print(f"{name}: p99 passes {THRESHOLD_MS:g} ms (or over 1% lost) at {passes}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="10,20,50,100,200,500")
    parser.add_argument("--page-rates", default="5,10,20,50,100")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--pythonpath", default=None, help="Serve this source tree instead.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the results here.")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    page_rates = [float(r) for r in args.page_rates.split(",")]
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = folder / "goodwill.toml"
        config.write_text(f'uploads = "{folder / "uploads"}"\n', encoding="utf-8")
        started = time.perf_counter()
        url = build_demo(folder, args.clients, args.pythonpath)
        token = api_token(url, args.pythonpath)
        took = time.perf_counter() - started
        print(f"demo business of {args.clients} clients built in {took:.0f} s")
        for workers in (int(w) for w in args.workers.split(",")):
            with serving(url, config, workers=workers, pythonpath=args.pythonpath) as base:
                found = measure(base, token, rates, args.seconds, page_rates)
            title = f"goodwill serve, {workers} process{'es' if workers > 1 else ''}"
            report(title, found)
            results[title] = {
                name: [
                    {
                        "rate": s.rate,
                        "p50": s.quantile(0.5),
                        "p99": s.quantile(0.99),
                        "shed": s.shed,
                        "failed": s.failed,
                        "dropped": s.dropped,
                    }
                    for s in steps
                ]
                for name, steps in found.items()
            }
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
