"""``privproc app``: the messenger web app on loopback (issue 17; DESIGN.md CLI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``app`` command."""

    @app.command(name="app")
    def app_(
        *,
        host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = (
            "127.0.0.1"
        ),
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
        chats: Annotated[
            Path | None,
            typer.Option(help="Folder of chat files (DESIGN.md format); default: the demo set."),
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help='Once it answers, print one line {"url": ...}.')
        ] = False,
    ) -> None:
        """Serve the messenger web app: chats, summaries, writing help, and why to trust them."""
        import secrets
        import signal
        import threading

        import httpx
        import uvicorn
        from rich.console import Console

        from privproc.client.config import client_home
        from privproc.client.session import open_device
        from privproc.errors import ConfigError
        from privproc.webapp.chats import ChatBook
        from privproc.webapp.server import allowed_hosts, build_app

        home = client_home()
        book = ChatBook.open(chats, home)
        web = build_app(
            book,
            lambda: open_device(home),
            token=secrets.token_urlsafe(32),
            hosts=allowed_hosts(host, port),
            device_home=home,
        )
        config = uvicorn.Config(
            web, host=host, port=port, access_log=False, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        # Ctrl-C stops the app even where SIGINT was inherited as ignored (see `up`).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        thread = threading.Thread(target=server.run, name="privproc-app", daemon=True)
        thread.start()
        url = f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
        try:
            answered = False
            for _ in range(200):
                if not thread.is_alive():
                    break
                try:
                    answered = httpx.get(url, timeout=2).status_code == 200
                except httpx.HTTPError:
                    answered = False
                if answered:
                    break
                thread.join(0.05)
            if not answered:
                raise ConfigError(f"the app did not start on {host}:{port} (port in use?)")
            if as_json:
                typer.echo(json.dumps({"url": url}), nl=True)
            else:
                Console(stderr=True).print(f"[bold green]privproc app[/] on {url} (Ctrl-C stops)")
            while thread.is_alive():
                thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            server.should_exit = True
            thread.join(10)
            web.state.close_device()
