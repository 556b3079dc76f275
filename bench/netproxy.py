"""A TCP proxy for the benchmarks: it can hold every chunk a few milliseconds each way (a
database farther away), and it counts the requests the client sends (round trips, as the
database sees them). Its own thread and event loop, so synchronous code can pass through it."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from tests.live import free_port


class Proxy:
    def __init__(self, target_port: int, delay: float = 0.0) -> None:
        self.target_port, self.delay, self.port = target_port, delay, free_port()
        self.requests = 0  # chunks from client to server: about one per round trip
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> Proxy:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._connection, "127.0.0.1", self.port), self.loop).result(10)
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, requests: bool) -> None:
            with contextlib.suppress(ConnectionError):
                while chunk := await source.read(65536):
                    if requests:
                        self.requests += 1
                    if self.delay:
                        await asyncio.sleep(self.delay)
                    sink.write(chunk)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer, True), pipe(upstream_reader, writer, False))


def through(url: str, proxy_port: int) -> str:
    """`url` (a PostgreSQL URL on 127.0.0.1) pointed at the proxy instead."""
    host = url.split("@", 1)[1].split("/", 1)[0]
    return url.replace(f"@{host}/", f"@127.0.0.1:{proxy_port}/", 1)
