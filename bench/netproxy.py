"""A TCP proxy for the benchmarks: it can delay everything a few milliseconds each way (a
database farther away), and it counts the round trips the client makes. Its own thread and
event loop, so synchronous code can pass through it; or its own process (`Proxy.spawn`), so a
busy benchmark driver does not add its own waiting to the delay.

    python bench/netproxy.py TARGET_PORT DELAY_SECONDS   (prints the port it listens on)
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # (run as a script, too)
from tests.live import free_port  # noqa: E402


class Proxy:
    def __init__(self, target_port: int, delay: float = 0.0) -> None:
        self.target_port, self.delay, self.port = target_port, delay, free_port()
        # Round trips as the client waits for them: a request is what the client sends after the
        # server last answered it (pipelined messages sent before any answer are one request,
        # however the kernel cuts them into chunks).
        self.requests = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> Proxy:
        self.thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._connection, "127.0.0.1", self.port), self.loop).result(10)
        return self

    def stop(self) -> None:
        async def close() -> None:  # (the connections' tasks too, so none is left pending)
            self._server.close()
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        answered = [True]  # whether the server has sent something since the client last did

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, from_client: bool) -> None:
            # Latency, not bandwidth: each chunk arrives `delay` after it was sent, and chunks
            # sent close together arrive close together (not one delay after another).
            queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

            async def deliver() -> None:
                while (item := await queue.get()) is not None:
                    wait = item[0] - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    sink.write(item[1])
                    await sink.drain()
                sink.close()

            delivering = asyncio.ensure_future(deliver())
            with contextlib.suppress(ConnectionError):
                while chunk := await source.read(65536):
                    if from_client and answered[0]:
                        self.requests += 1
                    answered[0] = not from_client
                    queue.put_nowait((time.monotonic() + self.delay, chunk))
            queue.put_nowait(None)
            with contextlib.suppress(ConnectionError):
                await delivering

        await asyncio.gather(pipe(reader, upstream_writer, True), pipe(upstream_reader, writer, False))


class SpawnedProxy:
    """The same proxy in a process of its own (no round trips counted)."""

    def __init__(self, target_port: int, delay: float) -> None:
        self.process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), str(target_port), str(delay)],
                                        stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def through(url: str, proxy_port: int) -> str:
    """`url` (a PostgreSQL URL on 127.0.0.1) pointed at the proxy instead."""
    host = url.split("@", 1)[1].split("/", 1)[0]
    return url.replace(f"@{host}/", f"@127.0.0.1:{proxy_port}/", 1)


if __name__ == "__main__":
    proxy = Proxy(int(sys.argv[1]), float(sys.argv[2])).start()
    print(proxy.port, flush=True)
    proxy.thread.join()
