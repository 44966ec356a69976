#!/usr/bin/env python3
"""A minimal HTTP/1.1 server on Python's asyncio streams, for contrast with the C servers.

Usage: asyncio_http.py --host HOST --port PORT

Answers every request with 200 and the reference servers' 64-byte body, honours keep-alive
(HTTP/1.1 default, `Connection: close` ends it), and prints `listening on HOST:PORT` once ready.
Standard library only. Request bodies are read by Content-Length; chunked requests get a 501.
"""
import argparse
import asyncio
import signal
import sys

BODY = b"c10k-bench reference response body.............................\n"
HEAD_LIMIT = 16384


def response(keep_alive):
    return (b"HTTP/1.1 200 OK\r\nServer: c10k-asyncio\r\nContent-Type: text/plain\r\n"
            b"Content-Length: %d\r\nConnection: %s\r\n\r\n" % (len(BODY), b"keep-alive" if keep_alive else b"close")
            ) + BODY


ANSWERS = {True: response(True), False: response(False)}


async def handle(reader, writer):
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                writer.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
                break
            lines = head.split(b"\r\n")
            version = lines[0].rsplit(b" ", 1)[-1]
            keep_alive = version == b"HTTP/1.1"
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == b"connection":
                    keep_alive = value == b"keep-alive" or (keep_alive and value != b"close")
                elif name == b"content-length" and value.isdigit():
                    length = int(value)
                elif name == b"transfer-encoding":
                    writer.write(b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
            if length:
                await reader.readexactly(length)
            writer.write(ANSWERS[keep_alive])
            await writer.drain()
            if not keep_alive:
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(host, port):
    server = await asyncio.start_server(handle, host, port, backlog=4096, limit=HEAD_LIMIT)
    sock = server.sockets[0].getsockname()
    print(f"listening on {sock[0]}:{sock[1]}", flush=True)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with server:
        await stop


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    asyncio.run(serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
