"""Checks server.py with the SDK's own client (mcp.client.streamable_http) and plain HTTP.

Run with the venv's python (stdlib unittest + mcp only):
    .venv/bin/python test_server.py        # or: .venv/bin/python -m unittest -q test_server
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import warnings
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import mcp.types as types
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPDeprecationWarning

warnings.filterwarnings("ignore", category=MCPDeprecationWarning)

HERE = Path(__file__).resolve().parent
CONSOLE_ORIGIN = "http://127.0.0.1:8080"
# Not covered by the SDK's default loopback allow-list: only --console-origin lets it in.
EXTRA_CONSOLE_ORIGIN = "https://console.example.test"
FOREIGN_ORIGIN = "http://evil.example"
# Covered by the SDK's default allow-list (any loopback port) but not a console origin.
OTHER_LOOPBACK_ORIGIN = "http://127.0.0.1:9"
EXPECTED_TOOLS = {"echo", "add", "countdown", "ask_name", "summarize", "list_roots", "log_burst"}
INIT_BODY = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
    }
)


class Peer:
    """server.py as a subprocess on a free port; stderr is drained into a buffer."""

    def __init__(self, port: int = 0) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "server.py"),
                "--port",
                str(port),
                "--console-origin",
                CONSOLE_ORIGIN,
                "--console-origin",
                EXTRA_CONSOLE_ORIGIN + "/",  # a trailing slash is tolerated
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr: list[str] = []
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()
        line = self._read_start_line(timeout=30)
        self.start = json.loads(line)
        self.url: str = self.start["url"]
        self.port: int = self.start["port"]
        self.extra_stdout = ""

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    def _read_start_line(self, timeout: float) -> str:
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout)
        if not result or not result[0]:
            self.proc.kill()
            raise RuntimeError("server.py printed no start line:\n" + "".join(self.stderr))
        return result[0]

    def stop(self) -> tuple[int, float]:
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        took = time.monotonic() - t0
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.extra_stdout = self.proc.stdout.read()
        self.proc.stdout.close()
        self._drainer.join(timeout=5)
        self.proc.stderr.close()
        return rc, took


def http_request(
    url: str, method: str, headers: dict[str, str], body: str | None = None, read_body: bool = True
) -> tuple[int, dict[str, str], str]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, parts.path, body=body, headers=headers)
        resp = conn.getresponse()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        # An accepted initialize answers with an SSE stream: read only what a test needs.
        text = resp.read().decode() if read_body and "text/event-stream" not in hdrs.get("content-type", "") else ""
        return resp.status, hdrs, text
    finally:
        conn.close()


def header_set(value: str | None) -> set[str]:
    return {h.strip().lower() for h in (value or "").split(",") if h.strip()}


class PeerTest(unittest.IsolatedAsyncioTestCase):
    peer: Peer

    @classmethod
    def setUpClass(cls) -> None:
        cls.peer = Peer()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.peer.stop()

    def setUp(self) -> None:
        self.logs: list[types.LoggingMessageNotificationParams] = []
        self.elicit_answer: types.ElicitResult = types.ElicitResult(action="accept", content={"name": "Ada"})

    async def _on_log(self, params: types.LoggingMessageNotificationParams) -> None:
        self.logs.append(params)

    async def _on_elicit(self, context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.elicit_params = params
        return self.elicit_answer

    async def _on_sample(self, context: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        self.sample_params = params
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="A short summary."), model="fake-model"
        )

    async def _on_roots(self, context: Any) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri="file:///tmp/project", name="project")])

    @asynccontextmanager
    async def session(self):
        async with streamable_http_client(self.peer.url) as (read, write):
            async with ClientSession(
                read,
                write,
                read_timeout_seconds=30,
                logging_callback=self._on_log,
                elicitation_callback=self._on_elicit,
                sampling_callback=self._on_sample,
                list_roots_callback=self._on_roots,
            ) as session:
                self.init = await session.initialize()
                yield session

    # --- the start line -------------------------------------------------------------------

    def test_start_line(self) -> None:
        self.assertEqual(set(self.peer.start), {"url", "port"})
        self.assertEqual(self.peer.url, f"http://127.0.0.1:{self.peer.port}/mcp")
        self.assertGreater(self.peer.port, 0)

    # --- MCP through the SDK client --------------------------------------------------------

    async def test_initialize(self) -> None:
        async with self.session():
            self.assertEqual(self.init.protocol_version, "2025-11-25")
            self.assertEqual(self.init.server_info.name, "python-peer")
            caps = self.init.capabilities
            self.assertIsNotNone(caps.tools)
            self.assertIsNotNone(caps.resources)
            self.assertIsNotNone(caps.prompts)
            self.assertIsNotNone(caps.logging)

    async def test_tools_list_all_pages(self) -> None:
        async with self.session() as s:
            names: list[str] = []
            pages = 0
            cursor: str | None = None
            while True:
                params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
                result = await s.list_tools(params=params)
                pages += 1
                names += [t.name for t in result.tools]
                cursor = result.next_cursor
                if not cursor:
                    break
                self.assertLess(pages, 50)
            self.assertEqual(set(names), EXPECTED_TOOLS)
            self.assertEqual(len(names), len(set(names)))
            # MCPServer answers tools/list on one page (no cursor support in the high-level server).
            self.assertEqual(pages, 1)
            add = next(t for t in result.tools if t.name == "add")
            self.assertIsNotNone(add.output_schema)

    async def test_echo(self) -> None:
        async with self.session() as s:
            r = await s.call_tool("echo", {"message": "hello"})
            self.assertFalse(r.is_error)
            self.assertEqual(r.content[0].text, "hello")

    async def test_add_structured(self) -> None:
        async with self.session() as s:
            r = await s.call_tool("add", {"a": 2, "b": 3.5})
            self.assertFalse(r.is_error)
            self.assertEqual(r.structured_content, {"sum": 5.5})

    async def test_countdown_progress(self) -> None:
        progress: list[tuple[float, float | None, str | None]] = []

        async def on_progress(p: float, total: float | None, message: str | None) -> None:
            progress.append((p, total, message))

        async with self.session() as s:
            r = await s.call_tool("countdown", {"steps": 4, "delay_ms": 20}, progress_callback=on_progress)
            self.assertFalse(r.is_error)
            self.assertIn("4 steps", r.content[0].text)
        self.assertEqual([p for p, _, _ in progress], [1, 2, 3, 4])
        self.assertTrue(all(total == 4 for _, total, _ in progress))

    async def test_logging_set_level(self) -> None:
        async with self.session() as s:
            await s.set_logging_level("warning")
            r = await s.call_tool("log_burst", {"count": 8})
            self.assertFalse(r.is_error)
            levels = [m.level for m in self.logs]
            self.assertEqual(levels, ["warning", "error", "critical", "alert", "emergency"])
            self.assertTrue(all(m.logger == "log_burst" for m in self.logs))
            self.logs.clear()
            await s.set_logging_level("debug")
            await s.call_tool("log_burst", {"count": 3})
            self.assertEqual([m.level for m in self.logs], ["debug", "info", "notice"])

    async def test_ask_name_elicitation(self) -> None:
        async with self.session() as s:
            r = await s.call_tool("ask_name", {})
            self.assertEqual(r.content[0].text, "accept: Ada")
            self.assertIn("name", self.elicit_params.requested_schema["properties"])
            self.elicit_answer = types.ElicitResult(action="decline")
            r = await s.call_tool("ask_name", {})
            self.assertEqual(r.content[0].text, "decline")
            self.elicit_answer = types.ElicitResult(action="cancel")
            r = await s.call_tool("ask_name", {})
            self.assertEqual(r.content[0].text, "cancel")

    async def test_summarize_sampling(self) -> None:
        async with self.session() as s:
            r = await s.call_tool("summarize", {"text": "Lots of words."})
            self.assertFalse(r.is_error)
            self.assertEqual(r.content[0].text, "A short summary.")
            self.assertIn("Lots of words.", self.sample_params.messages[0].content.text)

    async def test_list_roots(self) -> None:
        async with self.session() as s:
            r = await s.call_tool("list_roots", {})
            self.assertFalse(r.is_error)
            self.assertIn("file:///tmp/project", r.content[0].text)

    async def test_resource_and_prompt(self) -> None:
        async with self.session() as s:
            resources = await s.list_resources()
            self.assertEqual([str(r.uri) for r in resources.resources], ["peer://readme"])
            contents = await s.read_resource("peer://readme")
            self.assertIn("python-peer", contents.contents[0].text)
            prompts = await s.list_prompts()
            self.assertEqual([p.name for p in prompts.prompts], ["greet"])
            prompt = await s.get_prompt("greet", {"name": "Bob"})
            self.assertIn("Bob", prompt.messages[0].content.text)

    # --- Origin, Host and CORS over plain HTTP ------------------------------------------------

    def test_preflight_from_console_origin(self) -> None:
        for origin in (CONSOLE_ORIGIN, EXTRA_CONSOLE_ORIGIN):
            status, h, _ = http_request(
                self.peer.url,
                "OPTIONS",
                {
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": (
                        "content-type, mcp-session-id, mcp-protocol-version, last-event-id, authorization, accept"
                    ),
                },
            )
            self.assertEqual(status, 200, origin)
            self.assertEqual(h.get("access-control-allow-origin"), origin)
            self.assertTrue(
                {"get", "post", "delete", "options"} <= header_set(h.get("access-control-allow-methods")), h
            )
            self.assertTrue(
                {"content-type", "mcp-session-id", "mcp-protocol-version", "last-event-id", "authorization", "accept"}
                <= header_set(h.get("access-control-allow-headers")),
                h,
            )

    def test_post_from_console_origin_exposes_headers(self) -> None:
        status, h, _ = http_request(
            self.peer.url,
            "POST",
            {
                "Origin": EXTRA_CONSOLE_ORIGIN,
                "Content-Type": "application/json",
                "Accept": "application/json, text/event-stream",
            },
            INIT_BODY,
        )
        self.assertEqual(status, 200)
        self.assertEqual(h.get("access-control-allow-origin"), EXTRA_CONSOLE_ORIGIN)
        self.assertEqual(
            header_set(h.get("access-control-expose-headers")),
            {"mcp-session-id", "mcp-protocol-version", "www-authenticate"},
        )
        self.assertTrue(h.get("mcp-session-id"))

    def test_foreign_origin_refused(self) -> None:
        status, h, body = http_request(
            self.peer.url,
            "POST",
            {"Origin": FOREIGN_ORIGIN, "Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
            INIT_BODY,
        )
        self.assertEqual(status, 403)
        self.assertIn("Origin", body)
        self.assertNotIn("access-control-allow-origin", h)
        status, h, _ = http_request(
            self.peer.url,
            "OPTIONS",
            {"Origin": FOREIGN_ORIGIN, "Access-Control-Request-Method": "POST"},
        )
        self.assertNotEqual(status, 200)
        self.assertNotIn("access-control-allow-origin", h)

    def test_other_loopback_origin_gets_no_cors(self) -> None:
        # The SDK's default allow-list admits any loopback origin (DNS-rebinding check passes),
        # but only console origins get CORS headers, so a browser page there cannot read anything.
        status, h, _ = http_request(
            self.peer.url,
            "OPTIONS",
            {"Origin": OTHER_LOOPBACK_ORIGIN, "Access-Control-Request-Method": "POST"},
        )
        self.assertNotEqual(status, 200)
        self.assertNotIn("access-control-allow-origin", h)

    def test_foreign_host_refused(self) -> None:
        status, _, body = http_request(
            self.peer.url,
            "POST",
            {"Host": "evil.example", "Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
            INIT_BODY,
        )
        self.assertEqual(status, 421)
        self.assertIn("Host", body)


class LifecycleTest(unittest.TestCase):
    def test_sigterm_exits_zero_and_stdout_is_one_line(self) -> None:
        peer = Peer()
        # One request first, so a session exists when the signal comes.
        status, _, _ = http_request(
            peer.url,
            "POST",
            {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
            INIT_BODY,
        )
        self.assertEqual(status, 200)
        rc, took = peer.stop()
        self.assertEqual(rc, 0, "".join(peer.stderr))
        self.assertLess(took, 10)
        self.assertEqual(peer.extra_stdout, "")

    def test_fixed_port(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        peer = Peer(port)
        try:
            self.assertEqual(peer.start, {"url": f"http://127.0.0.1:{port}/mcp", "port": port})
        finally:
            rc, _ = peer.stop()
        self.assertEqual(rc, 0)


def main() -> int:
    os.chdir(HERE)
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    # A plain closing line that CI recognises in any language.
    print(f"python-peer: {passed} passed, {failed} failed" + (f", {len(result.skipped)} skipped" if result.skipped else ""))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
