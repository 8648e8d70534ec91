"""Run by ``.venv-ohttpy/bin/python`` (not the project's venv): one ohttpy request.

argv: the gateway URL and the key configuration in hex (RFC 9458 §3.1). Prints one JSON
line: the status, the content type and the body (hex), or the client's error.
"""

import json
import sys

import httpx
import ohttpy  # type: ignore[import-not-found, unused-ignore]


def main() -> None:
    url, config = sys.argv[1], bytes.fromhex(sys.argv[2])
    # ohttpy takes the application/ohttp-keys form: a 2-byte length before the config
    keys = len(config).to_bytes(2, "big") + config
    client = httpx.Client(transport=ohttpy.Transport(key_config=keys))
    try:
        response = client.post(url, content=b"hello from ohttpy")
        out = {
            "status": response.status_code,
            "body": response.read().hex(),
        }
    except Exception as exc:
        out = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
