"""The reference eventlet client of the fidelity suite (test/fidelity).

    python3 eventlet_gai.py NAME [any|inet|inet6] [canon|nocanon] [REPEAT] [PAUSE_MS]

eventlet.monkey_patch() first, then socket.getaddrinfo(NAME, None, FAMILY, 0, 0, FLAGS) REPEAT
times in this one process (so greendns' resolver, its cache and its hosts file cache are shared
between the lookups, as in a real service), PAUSE_MS (default 0) apart (a green sleep). One JSON line per lookup, the same shape as gai.c:
  {"addresses": [...], "error": null|"EAI_AGAIN"|..., "canonname": ..., "start_ms": ..., "elapsed_ms": ...}
With EVENTLET_NO_GREENDNS=yes in the environment eventlet leaves getaddrinfo to the C library.
Run it with Debian's /usr/bin/python3 (python3-eventlet 0.33.1, python3-dnspython 2.3.0).
"""
import eventlet

eventlet.monkey_patch()

import json  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

FAMILIES = {"any": socket.AF_UNSPEC, "inet": socket.AF_INET, "inet6": socket.AF_INET6}
# errno of a gaierror -> its EAI_* name, from the constants this Python was built with
EAI_NAMES = {getattr(socket, n): n for n in dir(socket) if n.startswith("EAI_")}


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: eventlet_gai.py NAME [any|inet|inet6] [canon|nocanon] [REPEAT] [PAUSE_MS]\n")
        return 2
    name = argv[1]
    family = FAMILIES[argv[2]] if len(argv) > 2 else socket.AF_UNSPEC
    canon = len(argv) > 3 and argv[3] in ("canon", "1", "true", "yes")
    repeat = max(1, int(argv[4])) if len(argv) > 4 else 1
    pause_ms = int(argv[5]) if len(argv) > 5 else 0
    flags = socket.AI_CANONNAME if canon else 0
    for i in range(repeat):
        if i > 0 and pause_ms > 0:
            time.sleep(pause_ms / 1000.0)
        addresses, error, canonname = [], None, None
        start_ms = time.time() * 1000.0
        t0 = time.monotonic()
        try:
            infos = socket.getaddrinfo(name, None, family, 0, 0, flags)
            for fam, _type, _proto, cname, sockaddr in infos:
                if cname and canonname is None:
                    canonname = cname
                if fam in (socket.AF_INET, socket.AF_INET6) and sockaddr[0] not in addresses:
                    addresses.append(sockaddr[0])
        except socket.gaierror as err:
            error = EAI_NAMES.get(err.errno, "EAI_%s" % err.errno)
        except Exception as err:  # not a gaierror: say what it was instead of dying
            error = type(err).__name__
        elapsed_ms = (time.monotonic() - t0) * 1000.0
        line = {"addresses": addresses, "error": error, "canonname": canonname,
                "start_ms": round(start_ms, 3), "elapsed_ms": round(elapsed_ms, 3)}
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
