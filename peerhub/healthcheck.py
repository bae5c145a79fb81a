"""The container's health check: `python -m peerhub.healthcheck` asks this container's own
/healthz, as production settings allow it: with the first of ALLOWED_HOSTS as the Host (a
request for 127.0.0.1 would be refused as a disallowed host on a real deployment), and over
plain HTTP, which SECURE_REDIRECT_EXEMPT lets /healthz answer without an HTTPS redirect.
Exit 0 when healthy, 1 otherwise (Docker's HEALTHCHECK and compose's healthcheck)."""

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers={"Host": host, "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 (our own)
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
