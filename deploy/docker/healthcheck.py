"""Container health check: GET the readiness route of the Izlek process in this container.

Usage: ``python healthcheck.py <process> [path]`` (path ``/readyz`` by default), where the process is a service
(``plans``: port ``IZLEK_PLANS_PORT``) or ``gateway-projector`` (``izlek gateway project``: port
``IZLEK_GATEWAY_PROJECTOR_PORT``). The images have neither curl nor wget; the standard library is enough.
"""

import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORTS = {"gateway": 8000, "plans": 8001, "partners": 8002, "notifications": 8003, "gateway-projector": 8010}


def main() -> int:
    service = sys.argv[1]
    path = sys.argv[2] if len(sys.argv) > 2 else "/readyz"
    port = os.environ.get(f"IZLEK_{service.upper().replace('-', '_')}_PORT") or DEFAULT_PORTS[service]
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
