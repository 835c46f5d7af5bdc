#!/usr/bin/env python3
"""Loopback SMTP relay for the local test stack (started by scripts/stack.sh).

Accepts mail on 127.0.0.1 (aiosmtpd), with or without AUTH PLAIN/LOGIN (no
TLS): any login name with the shared mail password authenticates; clients on
loopback may also send without authenticating. Every message is:

  1. handed on to dovecot over LMTP, one recipient per LMTP transaction
     (MAIL, RCPT and BDAT in one write when the server offers PIPELINING and
     CHUNKING, as dovecot does; over a few reused connections). A recipient
     whose domain has a --route goes to that LMTP server instead (e.g. the
     Mailman 3 list server for lists.localhost). If LMTP does not take every
     recipient, the SMTP client gets 451 (temporary: retry), or 550 if LMTP
     answered 5xx; recipients already delivered stay delivered;
  2. then kept, byte-exact as received after DATA, as
     <sent-dir>/<time_ns>-<random>.eml, with <same name>.json beside it
     ({"mail_from", "rcpt_tos", "time", "time_ns", "auth_login", "peer",
     "eml"}); the .json is renamed into place first, then the .eml, both
     atomically (hidden .tmp file + rename). Only accepted messages are kept.

Only after both does the client get 250.

Like a real receiving MTA, the relay stamps every message it hands on over LMTP with a
Received header that records the peer it saw, in the parentheses the server writes itself
(`Received: from HELO (localhost [127.0.0.1]) by mx.localhost (...) with ESMTP id ...; date`);
the HELO word is the client's and is written sanitised. The copy kept in <sent-dir> is the
message as the client sent it, without the stamp. On loopback every peer is 127.0.0.1, so a
second listener (--list-server-port) stands in for the list server's own address: Mailman
sends its list copies there, and that listener's stamp names --list-server-name as the peer,
which the bot's config trusts as a list server (receiving_host, list_server_hosts).

TLS (with --tls-cert and --tls-key): STARTTLS is offered on --port (not
required, so plain clients still work), and --tls-port serves SMTP with TLS
from the first byte (SMTPS). Both use the same certificate (the stack's private
test CA signs it).

Usage: smtp_relay.py --port 2525 --lmtp-port 2424 --password-file FILE --sent-dir DIR
                     [--route DOMAIN=HOST:PORT ...] [--receiving-host NAME]
                     [--list-server-port PORT --list-server-name NAME]
                     [--tls-cert FILE --tls-key FILE [--tls-port 2526]]
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import ipaddress
import json
import logging
import os
import re
import secrets
import signal
import ssl
import time
from datetime import datetime, timezone
from email.utils import format_datetime

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

log = logging.getLogger("smtp_relay")

# An idle pooled LMTP connection older than this is dropped instead of reused
# (dovecot closes idle LMTP clients after a while).
LMTP_MAX_IDLE = 30.0
LMTP_MAX_CONNECTIONS = 16
LMTP_TIMEOUT = 30.0


class DeliveryError(Exception):
    def __init__(self, permanent: bool, text: str, stale: bool = False):
        super().__init__(text)
        self.permanent = permanent
        self.stale = stale  # the connection failed before any answer


class LmtpConnection:
    """One LMTP client connection (asyncio); PIPELINING used when offered."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.features: set[str] = set()
        self.broken = False  # in an unknown protocol state: never reuse
        self.idle_since = time.monotonic()

    @classmethod
    async def open(cls, host: str, port: int) -> "LmtpConnection":
        return await asyncio.wait_for(cls._open(host, port), LMTP_TIMEOUT)

    @classmethod
    async def _open(cls, host: str, port: int) -> "LmtpConnection":
        reader, writer = await asyncio.open_connection(host, port)
        conn = cls(reader, writer)
        try:
            code, text = await conn.reply()
            if code != 220:
                raise DeliveryError(code >= 500, f"LMTP greeting: {code} {text}")
            conn.writer.write(b"LHLO localhost\r\n")
            code, text = await conn.reply()
            if code != 250:
                raise DeliveryError(code >= 500, f"LMTP LHLO: {code} {text}")
            conn.features = {line.split()[0].upper() for line in text.splitlines()[1:] if line.strip()}
        except BaseException:
            conn.close()
            raise
        return conn

    async def reply(self) -> tuple[int, str]:
        lines = []
        while True:
            line = await self.reader.readline()
            if not line.endswith(b"\n"):
                raise ConnectionError("LMTP server closed the connection")
            lines.append(line[4:].decode("utf-8", "replace").rstrip("\r\n"))
            if line[3:4] != b"-":
                try:
                    return int(line[:3]), "\n".join(lines)
                except ValueError:
                    raise ConnectionError(f"bad LMTP reply {line!r}") from None

    async def transaction(
        self, mail_from: str, rcpt: str, data: bytes, options: list[str], while_waiting=None
    ) -> None:
        """MAIL, RCPT, BDAT (or DATA) for one recipient; raises DeliveryError.

        while_waiting(), if given, is called once the first commands are sent,
        so that its work overlaps with the server's.
        """
        opts = [o for o in options if o in self.features or (o.startswith("BODY=") and "8BITMIME" in self.features)]
        enc = "utf-8" if "SMTPUTF8" in opts else "ascii"
        try:
            head = [
                f"MAIL FROM:<{mail_from}>{''.join(' ' + o for o in opts)}\r\n".encode(enc),
                f"RCPT TO:<{rcpt}>\r\n".encode(enc),
            ]
        except UnicodeEncodeError:
            raise DeliveryError(True, f"LMTP server has no SMTPUTF8 for {mail_from!r} -> {rcpt!r}")
        if {"PIPELINING", "CHUNKING"} <= self.features:
            # one write, one round trip; the message goes as it is (no dot-stuffing)
            self.writer.write(b"".join(head) + b"BDAT %d LAST\r\n" % len(data) + data)
            if while_waiting:
                while_waiting()
            replies = [await self.reply() for _ in range(3)]
            for (code, text), what in zip(replies, ("MAIL", "RCPT", "BDAT")):
                if code != 250:
                    # the state after a refused BDAT is not worth guessing: new connection next time
                    self.broken = True
                    raise DeliveryError(code >= 500 and code != 421, f"LMTP {what} <{rcpt}>: {code} {text}",
                                        stale=code == 421)
            return
        cmds = head + [b"DATA\r\n"]
        if "PIPELINING" in self.features:
            self.writer.write(b"".join(cmds))
            if while_waiting:
                while_waiting()
            replies = [await self.reply() for _ in cmds]
        else:
            replies = []
            for cmd in cmds:
                self.writer.write(cmd)
                if while_waiting:
                    while_waiting()
                    while_waiting = None
                replies.append(await self.reply())
                if replies[-1][0] >= 400:
                    break
        for (code, text), what in zip(replies, ("MAIL", "RCPT", "DATA")):
            want = 354 if what == "DATA" else 250
            if code != want:
                if code == 421:  # closing: e.g. an idle pooled connection timed out
                    raise DeliveryError(False, f"LMTP {what}: {code} {text}", stale=True)
                if replies[-1][0] == 354:  # cannot happen without a recipient; be safe
                    self.broken = True
                else:
                    await self.rset()
                raise DeliveryError(code >= 500, f"LMTP {what} <{rcpt}>: {code} {text}")
        body = re.sub(rb"(?m)^\.", b"..", data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.writer.write(body + b".\r\n")
        code, text = await self.reply()
        if code != 250:
            raise DeliveryError(code >= 500, f"LMTP <{rcpt}>: {code} {text}")

    async def rset(self) -> None:
        self.writer.write(b"RSET\r\n")
        await self.reply()

    def close(self) -> None:
        try:
            self.writer.close()
        except Exception:
            pass


class LmtpPool:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.idle: list[LmtpConnection] = []
        self.limit = asyncio.Semaphore(LMTP_MAX_CONNECTIONS)

    async def deliver(self, mail_from: str, rcpt: str, data: bytes, options: list[str], while_waiting=None) -> None:
        async with self.limit:
            for attempt in (1, 2):
                conn = self._take()
                reused = conn is not None
                if conn is None:
                    try:
                        conn = await LmtpConnection.open(self.host, self.port)
                    except DeliveryError:
                        raise
                    except (OSError, asyncio.TimeoutError) as e:
                        raise DeliveryError(False, f"LMTP {self.host}:{self.port} unreachable: {e!r}")
                try:
                    # one timeout for the whole transaction (cheaper than one per reply)
                    cb, while_waiting = while_waiting, None  # called at most once
                    await asyncio.wait_for(conn.transaction(mail_from, rcpt, data, options, cb), LMTP_TIMEOUT)
                except DeliveryError as e:
                    if e.stale:
                        conn.close()
                        if reused and attempt == 1:
                            continue
                    else:
                        self._give(conn)
                    raise
                except (OSError, EOFError, asyncio.TimeoutError) as e:
                    conn.close()
                    if reused and attempt == 1 and not isinstance(e, asyncio.TimeoutError):
                        continue  # a pooled connection the server had closed
                    raise DeliveryError(False, f"LMTP connection failed: {e!r}")
                except BaseException:
                    conn.close()
                    raise
                self._give(conn)
                return

    def _take(self) -> LmtpConnection | None:
        now = time.monotonic()
        while self.idle:
            conn = self.idle.pop()
            if now - conn.idle_since < LMTP_MAX_IDLE and not conn.reader.at_eof():
                return conn
            conn.close()
        return None

    def _give(self, conn: LmtpConnection) -> None:
        if conn.broken or conn.writer.is_closing():
            conn.close()
            return
        conn.idle_since = time.monotonic()
        self.idle.append(conn)

    def close(self) -> None:
        idle, self.idle = self.idle, []
        for conn in idle:
            conn.close()


class LmtpRouter:
    """The LMTP pool for each recipient: by the recipient's domain (--route), else the default."""

    def __init__(self, default: LmtpPool, routes: dict[str, LmtpPool]):
        self.default = default
        self.routes = routes

    def pool_for(self, rcpt: str) -> LmtpPool:
        domain = rcpt.rpartition("@")[2].strip().rstrip(".").lower()
        return self.routes.get(domain, self.default)

    def close(self) -> None:
        self.default.close()
        for pool in self.routes.values():
            pool.close()


def parse_route(text: str) -> tuple[str, str, int]:
    """DOMAIN=HOST:PORT (argparse type)."""
    domain, eq, target = text.partition("=")
    host, colon, port = target.rpartition(":")
    domain = domain.strip().rstrip(".").lower()
    if not (eq and colon and domain and host and port.isdigit() and 0 < int(port) < 65536):
        raise argparse.ArgumentTypeError(f"expected DOMAIN=HOST:PORT, got {text!r}")
    return domain, host, int(port)


def _text(v) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _is_loopback(peer) -> bool:
    try:
        return ipaddress.ip_address(peer[0]).is_loopback
    except (TypeError, ValueError, IndexError):
        return False


_HELO_SAFE = re.compile(r"[^A-Za-z0-9.\-_:\[\]]")


def received_stamp(helo: str | None, peer_name: str, peer_ip: str, by_host: str, message_id: str) -> bytes:
    """The Received header a receiving MTA puts on top of a message it accepted (RFC 5321
    4.4): the client's HELO word (sanitised, so that it cannot imitate the server's own
    words), then in parentheses the peer the server itself saw, then the server's name."""
    helo_word = _HELO_SAFE.sub("?", (helo or "").strip())[:255] or "unknown"
    date = format_datetime(datetime.now(timezone.utc))
    return (
        f"Received: from {helo_word} ({peer_name} [{peer_ip}])\r\n"
        f"\tby {by_host} (rapporteur test relay) with ESMTP id {message_id};\r\n"
        f"\t{date}\r\n"
    ).encode("ascii")


class Relay:
    def __init__(self, router: LmtpRouter, sent_dir: str, password: str,
                 receiving_host: str = "mx.localhost", peer_name: str | None = None):
        self.router = router
        self.sent_dir = sent_dir
        self.password = password.encode()
        # The name this listener records for its peer: None for what the peer really is
        # (localhost on loopback), or the list server's name on the list server's listener.
        self.receiving_host = receiving_host
        self.peer_name = peer_name

    def stamp(self, session: Session, stem: str, data: bytes) -> bytes:
        peer_ip = session.peer[0] if isinstance(session.peer, tuple) else "unknown"
        peer_name = self.peer_name or ("localhost" if _is_loopback(session.peer) else "unknown")
        return received_stamp(session.host_name, peer_name, peer_ip, self.receiving_host, stem) + data

    # aiosmtpd authenticator: any login name, the shared password.
    def authenticate(self, server, session: Session, envelope, mechanism: str, auth_data) -> AuthResult:
        if (
            isinstance(auth_data, LoginPassword)
            and auth_data.login
            and hmac.compare_digest(auth_data.password, self.password)
        ):
            # auth_data must be returned, or aiosmtpd loses the login name
            return AuthResult(success=True, auth_data=auth_data)
        log.info("AUTH %s failed for %r from %s", mechanism, getattr(auth_data, "login", None), session.peer)
        return AuthResult(success=False, handled=False)

    async def handle_MAIL(self, server, session: Session, envelope: Envelope, address: str, mail_options):
        if not session.authenticated and not _is_loopback(session.peer):
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session: Session, envelope: Envelope) -> str:
        # Once the client has sent the whole message, a real MTA delivers and keeps it even if
        # the client hangs up before reading the answer (a bot killed mid-send): the work is
        # shielded from the cancellation of the connection, so what is delivered is recorded.
        work = asyncio.ensure_future(self._accept(session, envelope))
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            await asyncio.wait([work])
            raise

    async def _accept(self, session: Session, envelope: Envelope) -> str:
        data: bytes = envelope.original_content or b""
        mail_from = envelope.mail_from or ""
        options = [o.upper() for o in envelope.mail_options]
        options = [o for o in options if o.startswith("BODY=") or o == "SMTPUTF8"]
        now_ns = time.time_ns()
        stem = f"{now_ns:020d}-{secrets.token_hex(4)}"
        auth = session.auth_data
        meta = {
            "mail_from": mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "time": datetime.fromtimestamp(now_ns / 1e9, timezone.utc).isoformat(),
            "time_ns": now_ns,
            "auth_login": _text(auth.login) if isinstance(auth, LoginPassword) else None,
            "peer": list(session.peer) if isinstance(session.peer, tuple) else str(session.peer),
            "eml": stem + ".eml",
        }
        files = [
            (os.path.join(self.sent_dir, stem + ".json"), (json.dumps(meta, indent=1) + "\n").encode()),
            (os.path.join(self.sent_dir, stem + ".eml"), data),
        ]
        written: list[str] = []
        problem: list[OSError] = []

        def write_tmp() -> None:
            # hidden temporary files, written while dovecot stores the message
            if written or problem:
                return
            try:
                for path, content in files:
                    tmp = _tmp_name(path)
                    with open(tmp, "wb") as f:
                        written.append(tmp)
                        f.write(content)
            except OSError as e:
                problem.append(e)

        stamped = self.stamp(session, stem, data)
        try:
            for rcpt in envelope.rcpt_tos:
                await self.router.pool_for(rcpt).deliver(mail_from, rcpt, stamped, options, write_tmp)
        except DeliveryError as e:
            _unlink(written)
            log.warning("not accepted (%s -> %s): %s", mail_from, envelope.rcpt_tos, e)
            if e.permanent:
                return "550 5.0.0 Delivery refused by the mailbox server"
            return "451 4.3.0 Mailbox server unavailable, try again later"
        write_tmp()
        try:
            if problem:
                raise problem[0]
            for path, _ in files:  # .json first: an .eml always has its .json
                os.rename(_tmp_name(path), path)
        except OSError as e:
            # already delivered over LMTP: a retry by the client delivers a copy
            _unlink(written)
            log.error("could not keep %s: %s", stem, e)
            return "451 4.3.0 Could not store the message, try again later"
        log.info("accepted %s: %s -> %s (%d bytes)", stem, mail_from, ",".join(envelope.rcpt_tos), len(data))
        return "250 2.0.0 OK " + stem


def _tmp_name(path: str) -> str:
    d, name = os.path.split(path)
    return os.path.join(d, f".{name}.tmp")


def _unlink(paths: list[str]) -> None:
    for p in paths:
        try:
            os.unlink(p)
        except OSError:
            pass


class _DropDeprecation(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


async def serve(a) -> None:
    with open(a.password_file, encoding="utf-8") as f:
        password = f.read().strip()
    os.makedirs(a.sent_dir, exist_ok=True)
    router = LmtpRouter(
        LmtpPool(a.lmtp_host, a.lmtp_port),
        {domain: LmtpPool(host, port) for domain, host, port in a.route},
    )
    relay = Relay(router, a.sent_dir, password, a.receiving_host)
    loop = asyncio.get_running_loop()

    tls_context = None
    if a.tls_cert and a.tls_key:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(a.tls_cert, a.tls_key)

    def factory(relay: Relay = relay, starttls: bool = True) -> SMTP:
        return SMTP(
            relay,
            tls_context=tls_context if starttls else None,
            require_starttls=False,
            hostname="localhost",
            ident="rapporteur test relay",
            enable_SMTPUTF8=False,  # dovecot 2.3 LMTP has no SMTPUTF8: refuse such addresses up front
            decode_data=False,
            auth_required=False,
            auth_require_tls=False,
            authenticator=relay.authenticate,
            loop=loop,
        )

    server = await loop.create_server(factory, host=a.host, port=a.port, reuse_address=True)
    log.info("listening on %s:%d, LMTP to %s:%d, keeping mail in %s", a.host, a.port, a.lmtp_host, a.lmtp_port, a.sent_dir)
    list_server = None
    if a.list_server_port:
        # The loopback stand-in for the list server's own IP address (see the module comment).
        list_relay = Relay(router, a.sent_dir, password, a.receiving_host, a.list_server_name)
        list_server = await loop.create_server(
            lambda: factory(list_relay), host=a.host, port=a.list_server_port, reuse_address=True
        )
        log.info("list server listener on %s:%d: peers recorded as %s", a.host, a.list_server_port, a.list_server_name)
    tls_server = None
    if tls_context is not None and a.tls_port:
        # Implicit TLS: the socket is TLS already, so no STARTTLS on it.
        tls_server = await loop.create_server(
            lambda: factory(starttls=False), host=a.host, port=a.tls_port, reuse_address=True, ssl=tls_context
        )
        log.info("listening with TLS on %s:%d (STARTTLS on %d)", a.host, a.tls_port, a.port)
    for domain, host, port in a.route:
        log.info("recipients @%s: LMTP to %s:%d", domain, host, port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping")
    server.close()
    if list_server is not None:
        list_server.close()
    if tls_server is not None:
        tls_server.close()
    router.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=2525)
    p.add_argument("--lmtp-host", default="127.0.0.1")
    p.add_argument("--lmtp-port", type=int, default=2424)
    p.add_argument("--password-file", required=True)
    p.add_argument("--sent-dir", required=True)
    p.add_argument(
        "--route",
        type=parse_route,
        action="append",
        default=[],
        metavar="DOMAIN=HOST:PORT",
        help="deliver recipients @DOMAIN over LMTP to HOST:PORT instead (repeatable)",
    )
    p.add_argument("--receiving-host", default="mx.localhost",
                   help="the name written after `by` in the Received header (default mx.localhost)")
    p.add_argument("--list-server-port", type=int, default=0,
                   help="also listen here for the list server's mail (0: not)")
    p.add_argument("--list-server-name", default="lists.localhost",
                   help="the peer name the list server listener records (default lists.localhost)")
    p.add_argument("--tls-cert", help="PEM certificate (chain) for STARTTLS and --tls-port")
    p.add_argument("--tls-key", help="PEM private key of --tls-cert")
    p.add_argument("--tls-port", type=int, default=0, help="port for SMTP with implicit TLS (SMTPS)")
    p.add_argument("--verbose", action="store_true", help="log every SMTP command")
    a = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    mail_log = logging.getLogger("mail.log")
    mail_log.setLevel(logging.DEBUG if a.verbose else logging.WARNING)
    mail_log.addFilter(_DropDeprecation())
    asyncio.run(serve(a))


if __name__ == "__main__":
    main()
