"""``kflow serve``: run the read-only JSON API (:mod:`kflow.server`) with uvicorn.

The checks come before anything is served: the server extra is installed, the token is
usable, and an address other machines can reach is never served without a token the user
chose (a generated one would only be printed on this terminal, so a remote client could
not know it, and a token nobody chose is easy to leave running by mistake). The socket is
bound here, not by uvicorn, so ``--port 0`` prints the port it got and a port in use is
one clear error.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import sys

from kflow.errors import UsageError

_TOKEN_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def _check_token(token: str) -> None:
    """A token must go into an HTTP header as it is: printable ASCII, no spaces."""
    if not token.strip():
        raise UsageError("the token given with --token or KFLOW_TOKEN is empty", hint=_TOKEN_HINT)
    if any(not 0x21 <= ord(c) <= 0x7E for c in token):
        raise UsageError(
            "the token must be printable ASCII without spaces (it is sent in an HTTP header)",
            hint=_TOKEN_HINT,
        )


_Address = tuple[str, int] | tuple[str, int, int, int]


def _resolve(host: str, port: int) -> tuple[socket.AddressFamily, _Address]:
    """The address ``host`` names (its IPv4 one when it has several)."""
    try:
        infos = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UsageError(
            f"cannot listen on {host!r}: {reason}",
            hint="give an address of this machine, e.g. --host 127.0.0.1 (this machine only) "
            "or --host 0.0.0.0 (every interface, needs --token)",
        ) from None
    # IPv4 first: "localhost" may resolve to ::1 first, while most clients try 127.0.0.1
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    family, _type, _proto, _name, addr = infos[0]
    return family, addr  # type: ignore[return-value]  # typeshed: sockaddr is a broad union


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _bind(family: socket.AddressFamily, addr: _Address, host: str, port: int) -> socket.socket:
    # IPPROTO_TCP said explicitly: asyncio sets TCP_NODELAY only on sockets whose proto
    # says TCP, and without it every keep-alive request waited 40 ms (Nagle + delayed ACK)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        # listening before the URL is printed: a client that connects as soon as it reads
        # the line waits in the backlog instead of being refused while uvicorn starts
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="choose another --port (--port 0 picks a free one), or stop the program "
            "that uses this one",
        ) from None
    return sock


def _url(host: str, port: int) -> str:
    bare = host.strip("[]")
    shown = f"[{bare}]" if ":" in bare else bare
    return f"http://{shown}:{port}"


def serve_command(host: str, port: int, token: str | None) -> None:
    """Check, open the kflow home, bind, print the URL (and a generated token) on stderr,
    then serve until Ctrl-C (which ends as every interrupted command does)."""
    try:
        import fastapi  # noqa: F401 - only to know the extra is installed
        import uvicorn
    except ImportError as exc:
        missing = exc.name or "fastapi"
        raise UsageError(
            f"kflow serve needs the server extra ({missing} is not installed)",
            hint="pip install 'kflow[server]'",
        ) from None
    family, addr = _resolve(host, port)
    generated = False
    if token is None:
        if not _is_loopback(addr[0]):
            raise UsageError(
                f"refusing to serve on {host} without a token: that address can be reached "
                "from other machines",
                hint="give a token with --token TOKEN or KFLOW_TOKEN (clients send "
                "'Authorization: Bearer TOKEN'), or serve on --host 127.0.0.1; "
                + _TOKEN_HINT,
            )
        token = secrets.token_urlsafe(32)
        generated = True
    _check_token(token)

    from kflow.api import open_home
    from kflow.server.app import create_app

    with open_home() as home:
        app = create_app(home, token)
        sock = _bind(family, addr, host, port)
        try:
            bound_port = sock.getsockname()[1]
            line = f"kflow serve: {_url(host, bound_port)}"
            line += f"  token: {token}" if generated else "  (token from --token / KFLOW_TOKEN)"
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
            config = uvicorn.Config(
                app,
                log_level="warning",  # errors (and 500 tracebacks) on stderr, no access log
                access_log=False,
                lifespan="off",
                ws="none",
                server_header=False,
            )
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            sock.close()
