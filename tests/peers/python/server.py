"""A Streamable HTTP MCP server peer on the official Python SDK (`mcp` 2.x, `MCPServer`).

Listens on 127.0.0.1 only, serves MCP at /mcp, prints one JSON start line on stdout
once listening ({"url": ..., "port": ...}), logs to stderr, exits 0 on SIGTERM/SIGINT.

    .venv/bin/python server.py --port 0 --console-origin http://127.0.0.1:8080
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import socket
import sys
import warnings
from collections.abc import Generator
from typing import Any

import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.types import (
    EmptyResult,
    LoggingLevel,
    SamplingMessage,
    SetLevelRequestParams,
    TextContent,
)
from pydantic import BaseModel, Field
from starlette.middleware.cors import CORSMiddleware

# Sampling, roots and logging are deprecated as of protocol 2026-07-28 (SEP-2577), but they
# are exactly what this peer exists to exercise on the handshake revisions (<= 2025-11-25).
warnings.filterwarnings("ignore", category=MCPDeprecationWarning)

HOST = "127.0.0.1"
MCP_PATH = "/mcp"
# The SDK's own default allow-lists for a server bound to loopback
# (mcp.server.lowlevel.server.Server.streamable_http_app); --console-origin adds to them.
DEFAULT_ALLOWED_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
DEFAULT_ALLOWED_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
CORS_ALLOW_HEADERS = [
    "Content-Type",
    "Mcp-Session-Id",
    "MCP-Protocol-Version",
    "Last-Event-ID",
    "Authorization",
    "Accept",
]
CORS_EXPOSE_HEADERS = ["Mcp-Session-Id", "MCP-Protocol-Version", "WWW-Authenticate"]
# The standard headers every 2026-07-28 request carries. Without them in the allow-list a browser
# cannot send that revision's requests, and a console falls back to initialize (2025-11-25).
CORS_ALLOW_HEADERS_2026 = ["Mcp-Method", "Mcp-Name"]
CORS_ALLOW_METHODS = ["GET", "POST", "DELETE", "OPTIONS"]

LOG_LEVELS: list[LoggingLevel] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]

log = logging.getLogger("python-peer")


class AddResult(BaseModel):
    sum: float = Field(description="a + b")


class NameForm(BaseModel):
    name: str = Field(description="Your name")


def build_server() -> MCPServer:
    mcp = MCPServer(
        "python-peer",
        version="1.0.0",
        instructions="Test peer for mcp-console, built on the official Python SDK (MCPServer).",
        log_level="WARNING",
    )

    # logging/setLevel. MCPServer registers no handler for it (so without this the method is
    # "Method not found" and the logging capability is not advertised); the low-level Server's
    # add_request_handler is the SDK's way to add one. Levels are kept per Mcp-Session-Id.
    session_levels: dict[str, LoggingLevel] = {}

    def session_key(headers: Any) -> str:
        return (headers.get("mcp-session-id") if headers is not None else None) or ""

    async def on_set_level(ctx: Any, params: SetLevelRequestParams) -> EmptyResult:
        session_levels[session_key(getattr(ctx.request, "headers", None))] = params.level
        return EmptyResult()

    mcp._lowlevel_server.add_request_handler("logging/setLevel", SetLevelRequestParams, on_set_level)

    @mcp.tool(description="Echo the message back.")
    def echo(message: str) -> str:
        return message

    @mcp.tool(description="Add two numbers; the result is also returned as structuredContent.")
    def add(a: float, b: float) -> AddResult:
        return AddResult(sum=a + b)

    @mcp.tool(description="Count down `steps` steps, `delay_ms` apart, reporting progress after each step.")
    async def countdown(ctx: Context, steps: int = 5, delay_ms: int = 100) -> str:
        steps = max(0, min(steps, 1000))
        for i in range(1, steps + 1):
            await asyncio.sleep(max(0, delay_ms) / 1000)
            await ctx.report_progress(i, steps, f"step {i} of {steps}")
        return f"countdown finished after {steps} steps"

    @mcp.tool(description="Ask the user for a name (form elicitation) and return what came back.")
    async def ask_name(ctx: Context) -> str:
        result = await ctx.elicit("What is your name?", schema=NameForm)
        if result.action == "accept":
            return f"accept: {result.data.name}"
        return result.action

    @mcp.tool(description="Summarize text with the client's model (sampling) and return the model's text.")
    async def summarize(ctx: Context, text: str) -> str:
        result = await ctx.session.create_message(
            messages=[SamplingMessage(role="user", content=TextContent(type="text", text=f"Summarize:\n\n{text}"))],
            max_tokens=200,
            system_prompt="You summarize text in one sentence.",
            related_request_id=ctx.request_id,
        )
        content = result.content
        if isinstance(content, TextContent):
            return content.text
        return json.dumps(content.model_dump(mode="json", by_alias=True, exclude_none=True))

    @mcp.tool(description="Ask the client for its roots and return them.")
    async def list_roots(ctx: Context) -> list[dict[str, Any]]:
        result = await ctx.session.list_roots()
        return [root.model_dump(mode="json", by_alias=True, exclude_none=True) for root in result.roots]

    @mcp.tool(description="Emit `count` log messages via the context, cycling through the levels.")
    async def log_burst(ctx: Context, count: int = 8) -> str:
        count = max(0, min(count, 1000))
        minimum = session_levels.get(session_key(ctx.headers), "debug")
        sent = 0
        for i in range(count):
            level = LOG_LEVELS[i % len(LOG_LEVELS)]
            if LOG_LEVELS.index(level) < LOG_LEVELS.index(minimum):
                continue
            await ctx.log(level, f"log_burst message {i + 1} of {count} at {level}", logger_name="log_burst")
            sent += 1
        return f"sent {sent} of {count} log messages (minimum level {minimum})"

    @mcp.resource("peer://readme", name="readme", mime_type="text/markdown", description="About this peer.")
    def readme() -> str:
        return "# python-peer\n\nAn MCP test peer on the official Python SDK (`mcp` 2.x, `MCPServer`).\n"

    @mcp.prompt(description="Greet someone by name.")
    def greet(name: str = "world") -> str:
        return f"Please greet {name} warmly."

    return mcp


class PeerServer(uvicorn.Server):
    """uvicorn re-raises a caught SIGTERM/SIGINT after shutting down (so the process dies by the
    signal); a peer must exit 0 instead, so the signals only ask for a graceful shutdown here."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        def on_signal(signum: int, frame: Any) -> None:
            if self.should_exit and signum == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = a free port)")
    parser.add_argument(
        "--console-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="an origin added to the Origin allow-list and given CORS access (repeatable)",
    )
    parser.add_argument(
        "--cors-2026",
        action="store_true",
        help="also allow the 2026-07-28 standard headers (Mcp-Method, Mcp-Name) through CORS",
    )
    return parser.parse_args(argv)


async def amain(args: argparse.Namespace) -> None:
    console_origins = [origin.rstrip("/") for origin in args.console_origin]

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, args.port))
    sock.listen(128)
    sock.set_inheritable(True)
    port = sock.getsockname()[1]

    mcp = build_server()
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(DEFAULT_ALLOWED_HOSTS),
        allowed_origins=DEFAULT_ALLOWED_ORIGINS + console_origins,
    )
    app = mcp.streamable_http_app(streamable_http_path=MCP_PATH, transport_security=security, host=HOST)
    cors_app = CORSMiddleware(
        app,
        allow_origins=console_origins,
        allow_methods=CORS_ALLOW_METHODS,
        allow_headers=CORS_ALLOW_HEADERS + (CORS_ALLOW_HEADERS_2026 if args.cors_2026 else []),
        expose_headers=CORS_EXPOSE_HEADERS,
        max_age=600,
    )

    config = uvicorn.Config(
        cors_app,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,
        access_log=False,
    )
    server = PeerServer(config)

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.01)
        url = f"http://{HOST}:{port}{MCP_PATH}"
        sys.stdout.write(json.dumps({"url": url, "port": port}, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        log.info("listening on %s", url)

    announcer = asyncio.create_task(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        announcer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await announcer
        sock.close()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parse_args(argv)
    asyncio.run(amain(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
