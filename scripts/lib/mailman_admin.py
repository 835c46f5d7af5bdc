#!/usr/bin/env python3
"""Mailman 3 REST helper for the local test stack (used by scripts/stack.sh).

Standard library only (urllib), so it runs with any python3 >= 3.8.

  wait  --url URL --user USER --password-file FILE [--timeout S] [--pid PID]
        Wait until the REST API answers (and give up early if PID died).
  health --url URL --user USER --password-file FILE
        Exit 0 if the REST API answers.
  ensure-list --url URL --user USER --password-file FILE [--domain DOMAIN]
              LIST_ADDRESS [SUBSCRIBER ...]
        Create the list (and its mail domain) if missing, set it up for the
        tests, and subscribe each SUBSCRIBER ("addr@host" or "Name <addr@host>")
        pre-verified, pre-confirmed and pre-approved, without any mail.
        Idempotent: only what differs is changed; members not named are kept.

The list settings (LIST_SETTINGS below): anyone may post and nothing is held
(default_member_action = default_nonmember_action = accept); no welcome,
goodbye, owner or poster notifications; and every post has its From rewritten
as a list under DMARC mitigation does: dmarc_mitigate_action = munge_from,
dmarc_mitigate_unconditionally = true and dmarc_addresses = ["^"] (the regexp
"^" matches every author, so Mailman never looks up DMARC records in DNS).
The list copy then has From: "Name via List" <list@domain> and the author in
Reply-To: reply_goes_to_list is pinned to no_munging (Mailman's default), since
with any other value Mailman puts the author into Cc, and the bot reads the
author of a rewritten post only from the header the list server sets
(list_author_header = "Reply-To"). The subject prefix "[List]" is left at
Mailman's default.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from email.utils import parseaddr

API = "3.1"

LIST_SETTINGS = {
    "default_member_action": "accept",
    "default_nonmember_action": "accept",
    "subscription_policy": "open",
    "send_welcome_message": False,
    "send_goodbye_message": False,
    "admin_notify_mchanges": False,
    "admin_immed_notify": False,
    "respond_to_post_requests": False,
    "dmarc_mitigate_action": "munge_from",
    "dmarc_mitigate_unconditionally": True,
    "dmarc_addresses": ["^"],
    # the author of a rewritten post in Reply-To, where the bot reads it
    "reply_goes_to_list": "no_munging",
    # test posts of any size; no archive or digest queues to fill
    "max_message_size": 0,
    "archive_policy": "never",
    "digests_enabled": False,
}


class ApiError(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(f"HTTP {status}: {text}")
        self.status = status
        self.text = text


class Rest:
    def __init__(self, url: str, user: str, password: str, timeout: float = 30.0):
        self.base = url.rstrip("/") + "/" + API + "/"
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.auth = "Basic " + token
        self.timeout = timeout

    def call(self, method: str, path: str, body: dict | None = None):
        data = None
        headers = {"Authorization": self.auth, "Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw.strip() else None)
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            try:
                text = json.loads(text).get("description", text)
            except (ValueError, AttributeError):
                pass
            raise ApiError(e.code, str(text)) from None

    def get(self, path: str):
        return self.call("GET", path)[1]

    def exists(self, path: str) -> bool:
        try:
            self.call("GET", path)
            return True
        except ApiError as e:
            if e.status == 404:
                return False
            raise


def quote(part: str) -> str:
    return urllib.parse.quote(part, safe="")


def same(a, b) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, a)) == sorted(map(str, b))
    return a == b


def ensure_list(rest: Rest, address: str, subscribers: list[str], domain: str | None) -> list[str]:
    changes: list[str] = []

    def did(what: str) -> None:  # reported at once, should a later step fail
        print(f"mailman: {what}", flush=True)
        changes.append(what)

    address = address.strip().lower()
    local, at, mail_host = address.rpartition("@")
    if not (local and at and mail_host):
        raise SystemExit(f"mailman: not a list address: {address!r}")
    if domain and mail_host != domain.lower():
        raise SystemExit(
            f"mailman: lists must be in @{domain} (only that domain is routed to Mailman), not {address}"
        )
    if "." not in mail_host:
        raise SystemExit(f"mailman: Mailman 3 refuses a list domain without a dot: {mail_host}")
    list_id = f"{local}.{mail_host}"
    # every subscriber is checked before anything changes
    wanted: list[tuple[str, str]] = []
    for spec in subscribers:
        name, email = parseaddr(spec)
        email = email.strip().lower()
        if "@" not in email or not email.rpartition("@")[0]:
            raise SystemExit(f"mailman: not an address: {spec!r}")
        if "." not in email.rpartition("@")[2]:
            raise SystemExit(
                f"mailman: Mailman 3 refuses addresses whose domain has no dot ({email}); "
                f"subscribe e.g. {email.rpartition('@')[0]}@mail.localhost instead "
                "(the stack's dovecot accepts any address)"
            )
        wanted.append((name, email))

    if not rest.exists(f"domains/{quote(mail_host)}"):
        # Tests run in parallel and each makes its own list: two of them may both find the
        # domain missing on a fresh stack, and the second POST then fails with "Duplicate".
        try:
            rest.call("POST", "domains", {"mail_host": mail_host})
            did(f"domain {mail_host} created")
        except ApiError:
            if not rest.exists(f"domains/{quote(mail_host)}"):
                raise
    if not rest.exists(f"lists/{quote(list_id)}"):
        rest.call("POST", "lists", {"fqdn_listname": address})
        did(f"list {address} created")

    config = rest.get(f"lists/{quote(list_id)}/config")
    patch = {k: v for k, v in LIST_SETTINGS.items() if not same(config.get(k), v)}
    if patch:
        rest.call("PATCH", f"lists/{quote(list_id)}/config", patch)
        config = rest.get(f"lists/{quote(list_id)}/config")
        wrong = {k: config.get(k) for k, v in LIST_SETTINGS.items() if not same(config.get(k), v)}
        if wrong:
            raise SystemExit(f"mailman: settings did not take: {wrong}")
        did("settings: " + ", ".join(f"{k}={json.dumps(v)}" for k, v in patch.items()))

    roster = rest.get(f"lists/{quote(list_id)}/roster/member") or {}
    members = {e.get("email", "").lower() for e in roster.get("entries", [])}
    for name, email in wanted:
        if email in members:
            continue
        body = {
            "list_id": list_id,
            "subscriber": email,
            "pre_verified": True,
            "pre_confirmed": True,
            "pre_approved": True,
            "send_welcome_message": False,
        }
        if name:
            body["display_name"] = name
        try:
            status, _ = rest.call("POST", "members", body)
        except ApiError as e:
            raise SystemExit(f"mailman: subscribing {email} to {address} failed: {e}")
        if status != 201:
            raise SystemExit(f"mailman: subscribing {email} to {address} did not complete (HTTP {status})")
        members.add(email)
        did(f"subscribed {email}")
    return changes


def healthy(rest: Rest) -> bool:
    try:
        rest.get("system/versions")
        return True
    except (OSError, ApiError, ValueError):
        return False


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["wait", "health", "ensure-list"])
    p.add_argument("args", nargs="*")
    p.add_argument("--url", required=True, help="REST root, e.g. http://127.0.0.1:8001")
    p.add_argument("--user", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("--domain", help="the only mail domain lists may be created in")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--pid", type=int, help="with wait: give up when this process has died")
    a = p.parse_intermixed_args()
    with open(a.password_file, encoding="utf-8") as f:
        rest = Rest(a.url, a.user, f.read().strip())

    if a.command == "health":
        return 0 if healthy(rest) else 1
    if a.command == "wait":
        deadline = time.monotonic() + a.timeout
        while time.monotonic() < deadline:
            if healthy(rest):
                return 0
            if a.pid and not pid_alive(a.pid):
                print(f"mailman: process {a.pid} exited before the REST API answered", file=sys.stderr)
                return 1
            time.sleep(0.25)
        print(f"mailman: REST API {a.url} not answering after {a.timeout:.0f} s", file=sys.stderr)
        return 1

    if not a.args:
        p.error("ensure-list needs LIST_ADDRESS [SUBSCRIBER ...]")
    if not healthy(rest):
        print(f"mailman: the REST API at {a.url} does not answer (is Mailman running?)", file=sys.stderr)
        return 1
    try:
        changes = ensure_list(rest, a.args[0], a.args[1:], a.domain)
    except ApiError as e:
        print(f"mailman: REST call failed: {e}", file=sys.stderr)
        return 1
    if not changes:
        print(f"mailman: {a.args[0]} already as wanted, nothing changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
