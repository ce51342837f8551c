#!/usr/bin/env python3
"""A wrong-password flood from many addresses, for scripts/bench-floods.sh.

wrk sends every request from one address, so the devhost's per-address login throttle soon
answers it with cheap 429s. This flood is the harder case: each request comes on a new
connection from a different loopback source address (127.x.y.z) and names a different e-mail,
so neither the per-address nor the per-account throttle ever sees a repeat, and every request
asks for a real password check. What then protects the API is the bounded login pool alone.

usage: login_flood.py PORT SECONDS CONNECTIONS   (prints one line: req/s and the status counts)
"""
import asyncio
import collections
import random
import sys
import time


async def worker(port, deadline, counts, start):
    n = start
    while time.monotonic() < deadline:
        n += 1
        source = "127.%d.%d.%d" % (1 + n // 65025 % 254, n // 255 % 255, 1 + n % 254)
        body = '{"email":"guess%d@nowhere.test","password":"wrong-%d"}' % (n, random.randrange(1 << 30))
        request = ("POST /login HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)).encode()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
            writer.write(request)
            await writer.drain()
            status_line = await reader.readline()
            counts[status_line.split(b" ")[1].decode() if b" " in status_line else "none"] += 1
            writer.close()
        except OSError as e:
            counts["error:" + type(e).__name__] += 1


async def main():
    port, seconds, connections = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    counts = collections.Counter()
    began = time.monotonic()
    deadline = began + seconds
    await asyncio.gather(*(worker(port, deadline, counts, i * 10_000_000) for i in range(connections)))
    elapsed = time.monotonic() - began
    total = sum(counts.values())
    print("%.0f req/s; %s" % (total / elapsed, ", ".join("%s: %d" % kv for kv in sorted(counts.items()))))


asyncio.run(main())
