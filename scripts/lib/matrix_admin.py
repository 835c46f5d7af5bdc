#!/usr/bin/env python3
"""Small Matrix admin helper for the local test stack (stdlib only).

Subcommands:
  register   register a user through Synapse's shared-secret admin API
             (/_synapse/admin/v1/register, HMAC-SHA1). If the user already
             exists, logs in with the password instead (unless --no-login).
             Prints JSON {user_id, access_token, device_id, created}.
  login      password login; prints JSON {user_id, access_token, device_id}.
  wait       wait until GET /health answers OK.
  health     exit 0 if GET /health answers OK right now, else 1.
  seed       register the bot and every @...:<server> person of the group
             files, create one room per group (once) and invite everybody.

Examples:
  python3 scripts/lib/matrix_admin.py register --url http://127.0.0.1:8008 \
      --secret-file var/stack/secrets/registration_shared_secret \
      --user alice --password secret [--admin]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


class MatrixError(Exception):
    def __init__(self, status: int, body: dict | str, method: str, path: str):
        self.status = status
        self.body = body
        self.errcode = body.get("errcode") if isinstance(body, dict) else None
        super().__init__(f"{method} {path} -> HTTP {status}: {body}")


def http(
    base: str,
    method: str,
    path: str,
    body: dict | None = None,
    token: str | None = None,
    timeout: float = 30.0,
    retries: int = 5,
):
    """JSON request; retries on 429 (honouring retry_after_ms)."""
    url = base.rstrip("/") + path
    data = json.dumps(body).encode() if body is not None else None
    for attempt in range(retries + 1):
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
                return json.loads(raw) if raw else {}
        except urllib.error.HTTPError as e:
            raw = e.read().decode("utf-8", "replace")
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw
            if e.code == 429 and attempt < retries:
                wait_ms = parsed.get("retry_after_ms", 1000) if isinstance(parsed, dict) else 1000
                time.sleep(min(wait_ms, 10_000) / 1000)
                continue
            raise MatrixError(e.code, parsed, method, path) from None
    raise AssertionError("unreachable")


def q(s: str) -> str:
    return urllib.parse.quote(s, safe="")


def read_secret(path: str) -> str:
    return Path(path).read_text().strip()


# --------------------------------------------------------------------------
# users
# --------------------------------------------------------------------------

def localpart(user: str) -> str:
    """'@alice:localhost' or 'alice' -> 'alice'."""
    if user.startswith("@"):
        return user[1:].split(":", 1)[0]
    return user


def login(url: str, user: str, password: str, device_id: str | None = None) -> dict:
    body = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": localpart(user)},
        "password": password,
        "initial_device_display_name": "rapporteur stack script",
    }
    if device_id:
        body["device_id"] = device_id
    r = http(url, "POST", "/_matrix/client/v3/login", body)
    return {"user_id": r["user_id"], "access_token": r["access_token"], "device_id": r["device_id"]}


def register(
    url: str,
    secret: str,
    user: str,
    password: str,
    admin: bool = False,
    displayname: str | None = None,
    inhibit_login: bool = False,
    login_if_exists: bool = True,
) -> dict:
    """Shared-secret registration. Returns a dict with user_id, created and
    (unless inhibit_login) access_token/device_id. An existing user is not an
    error: with login_if_exists it logs in with the password instead."""
    name = localpart(user)
    nonce = http(url, "GET", "/_synapse/admin/v1/register")["nonce"]
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    mac.update(nonce.encode())
    mac.update(b"\x00")
    mac.update(name.encode())
    mac.update(b"\x00")
    mac.update(password.encode())
    mac.update(b"\x00")
    mac.update(b"admin" if admin else b"notadmin")
    body = {
        "nonce": nonce,
        "username": name,
        "password": password,
        "admin": admin,
        "mac": mac.hexdigest(),
    }
    if displayname:
        body["displayname"] = displayname
    if inhibit_login:
        body["inhibit_login"] = True
    try:
        r = http(url, "POST", "/_synapse/admin/v1/register", body)
    except MatrixError as e:
        if e.errcode != "M_USER_IN_USE":
            raise
        out: dict = {"created": False, "user_id": user if user.startswith("@") else None}
        if login_if_exists and not inhibit_login:
            out.update(login(url, name, password))
        return out
    out = {"user_id": r["user_id"], "created": True}
    if "access_token" in r:
        out["access_token"] = r["access_token"]
        out["device_id"] = r.get("device_id")
    return out


def logout(url: str, token: str) -> None:
    try:
        http(url, "POST", "/_matrix/client/v3/logout", {}, token=token)
    except MatrixError:
        pass


def whoami(url: str, token: str) -> str | None:
    try:
        return http(url, "GET", "/_matrix/client/v3/account/whoami", token=token)["user_id"]
    except MatrixError:
        return None


# --------------------------------------------------------------------------
# health
# --------------------------------------------------------------------------

def health(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=timeout) as r:
            return r.status == 200 and r.read().strip() == b"OK"
    except Exception:
        return False


def wait_health(url: str, timeout: float, pid: int | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if health(url):
            return True
        if pid is not None and not Path(f"/proc/{pid}").exists():
            return False
        time.sleep(0.25)
    return False


# --------------------------------------------------------------------------
# seed: users and rooms from config/groups/*.toml
# --------------------------------------------------------------------------

def load_groups(groups_dir: Path) -> list[tuple[str, dict]]:
    groups = []
    for f in sorted(groups_dir.glob("*.toml")):
        with open(f, "rb") as fh:
            groups.append((f.stem, tomllib.load(fh)))
    return groups


def local_ids(person: dict, server_name: str) -> list[str]:
    return [m for m in person.get("matrix_ids", []) if m.endswith(":" + server_name)]


def room_creator(group: dict, server_name: str) -> str:
    people = group.get("people", [])
    for role in ("chair", "co-chair"):
        for p in people:
            if role in p.get("roles", []) and local_ids(p, server_name):
                return local_ids(p, server_name)[0]
    for p in people:  # no chair with a Matrix account: first person who has one
        if local_ids(p, server_name):
            return local_ids(p, server_name)[0]
    raise SystemExit(f"group {group['group']['short_name']}: nobody with a Matrix account")


class TokenCache:
    """Access tokens of the users the seeder acts as, so that repeated runs
    reuse one device instead of logging in anew every time."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.data = json.loads(path.read_text())
        except (OSError, ValueError):
            self.data = {}

    def get(self, url: str, user_id: str, password: str) -> str:
        tok = self.data.get(user_id)
        if tok and whoami(url, tok) == user_id:
            return tok
        tok = login(url, user_id, password)["access_token"]
        self.data[user_id] = tok
        self.save()
        return tok

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(self.data, fh, indent=1)
        os.replace(tmp, self.path)


def ensure_room(
    url: str,
    server_name: str,
    key: str,
    group: dict,
    token: str,
    creator: str,
    invitees: list[str],
    encrypted: bool,
    log,
) -> str:
    """The room of a group, found by its alias #<key>:<server> or created
    (by `creator`, whose token this is). An existing room gets invites for
    whoever is missing and encryption switched on if it should have it."""
    alias = f"#{key}:{server_name}"
    room_id = None
    try:
        room_id = http(url, "GET", f"/_matrix/client/v3/directory/room/{q(alias)}")["room_id"]
    except MatrixError as e:
        if e.status != 404:
            raise

    def state(ev_type: str) -> dict | None:
        try:
            return http(url, "GET", f"/_matrix/client/v3/rooms/{q(room_id)}/state/{q(ev_type)}/",
                        token=token)
        except MatrixError as e:
            if e.status == 404:
                return None
            raise

    if room_id is not None:
        try:
            complete = state("m.room.power_levels") is not None
        except MatrixError as e:
            log(f"room {alias} exists ({room_id}) but {creator} cannot read it ({e.status}); left as is")
            return room_id
        if not complete:
            # A createRoom that failed half-way leaves the alias pointing at a
            # room without its state: drop the alias and create the room anew.
            log(f"room {alias} ({room_id}) is incomplete: removing the alias, creating it again")
            http(url, "DELETE", f"/_matrix/client/v3/directory/room/{q(alias)}", token=token)
            room_id = None

    if room_id is None:
        g = group["group"]
        chairs = [
            mid
            for p in group.get("people", [])
            if {"chair", "co-chair"} & set(p.get("roles", []))
            for mid in local_ids(p, server_name)
        ]
        # The creator has full power already (and from room version 12 on
        # must not be listed); the other chairs / co-chairs get 100 too.
        users_pl = {c: 100 for c in chairs if c != creator}
        body = {
            "preset": "private_chat",
            "visibility": "private",
            "room_alias_name": key,
            "name": f"{g['short_name']}: {g['name']}",
            "topic": f"{g['name']} ({g.get('meeting_cadence', '')}; {g.get('time_zone', '')})",
            "invite": [u for u in invitees if u != creator],
            "initial_state": [],
        }
        if users_pl:
            body["power_level_content_override"] = {"users": users_pl}
        if encrypted:
            body["initial_state"].append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        room_id = http(url, "POST", "/_matrix/client/v3/createRoom", body, token=token)["room_id"]
        log(f"room {alias} created: {room_id} ({'encrypted' if encrypted else 'unencrypted'}), "
            f"{len(body['invite'])} invited by {creator}")
        return room_id

    log(f"room {alias} exists: {room_id}")
    has_encryption = state("m.room.encryption") is not None
    if encrypted and not has_encryption:
        http(url, "PUT", f"/_matrix/client/v3/rooms/{q(room_id)}/state/m.room.encryption/",
             {"algorithm": "m.megolm.v1.aes-sha2"}, token=token)
        log(f"room {alias}: encryption enabled")
    elif has_encryption and not encrypted:
        log(f"WARNING: room {alias} is encrypted but not configured so (encryption cannot be removed)")

    # Invite whoever is missing (e.g. people added to the group file later).
    members = http(url, "GET", f"/_matrix/client/v3/rooms/{q(room_id)}/members", token=token)
    present = {
        ev["state_key"]
        for ev in members.get("chunk", [])
        if ev.get("content", {}).get("membership") in ("invite", "join")
    }
    for u in invitees:
        if u not in present:
            try:
                http(url, "POST", f"/_matrix/client/v3/rooms/{q(room_id)}/invite",
                     {"user_id": u}, token=token)
                log(f"  invited {u}")
            except MatrixError as e:
                log(f"  could not invite {u}: {e}")
    return room_id


def env_name(key: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in key.upper())


def cmd_seed(a) -> int:
    url = a.url
    secret = read_secret(a.secret_file)
    demo_pw = read_secret(a.demo_password_file)
    bot_pw = read_secret(a.bot_password_file)
    server = a.server_name
    verbose = not a.quiet

    def log(msg: str) -> None:
        if verbose:
            print(msg, file=sys.stderr)

    groups = load_groups(Path(a.groups_dir))
    if not groups:
        raise SystemExit(f"no group files in {a.groups_dir}")

    # 1. users
    bot_id = f"@{a.bot_user}:{server}"
    created = []
    r = register(url, secret, a.bot_user, bot_pw, displayname=a.bot_displayname, inhibit_login=True)
    if r["created"]:
        created.append(bot_id)
    people: dict[str, str] = {}
    for _key, grp in groups:
        for p in grp.get("people", []):
            for mid in p.get("matrix_ids", []):
                if not mid.endswith(":" + server):
                    log(f"skipping {mid} (not on {server})")
                    continue
                people.setdefault(mid, p.get("name") or localpart(mid))
    for mid, name in people.items():
        r = register(url, secret, localpart(mid), demo_pw, displayname=name, inhibit_login=True)
        if r["created"]:
            created.append(mid)
    log(f"users: {len(people) + 1} known, {len(created)} newly registered")

    # 2. rooms
    cache = TokenCache(Path(a.token_cache))
    rooms = {}
    for key, grp in groups:
        creator = room_creator(grp, server)
        token = cache.get(url, creator, demo_pw)
        invitees = [bot_id]
        for p in grp.get("people", []):
            for mid in local_ids(p, server):
                if mid not in invitees:
                    invitees.append(mid)
        encrypted = key in a.encrypted
        rooms[key] = (
            ensure_room(url, server, key, grp, token, creator, invitees, encrypted, log),
            f"#{key}:{server}",
            creator,
            encrypted,
        )

    # 3. rooms.env
    lines = ["# written by scripts/stack.sh up: one room per config/groups/*.toml"]
    for key, (room_id, alias, creator, enc) in rooms.items():
        n = env_name(key)
        lines += [
            f"RAPPORTEUR_ROOM_{n}_ID='{room_id}'",
            f"RAPPORTEUR_ROOM_{n}_ALIAS='{alias}'",
            f"RAPPORTEUR_ROOM_{n}_CREATOR='{creator}'",
            f"RAPPORTEUR_ROOM_{n}_ENCRYPTED={'true' if enc else 'false'}",
        ]
    Path(a.rooms_env).write_text("\n".join(lines) + "\n")
    print(json.dumps({
        "users_created": created,
        "rooms": {k: {"room_id": v[0], "alias": v[1], "creator": v[2], "encrypted": v[3]}
                  for k, v in rooms.items()},
    }, indent=1))
    return 0


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("register", help="shared-secret registration (idempotent)")
    p.add_argument("--url", required=True)
    p.add_argument("--secret-file", required=True)
    p.add_argument("--user", required=True, help="localpart or full @user:server")
    p.add_argument("--password", help="password (or --password-file)")
    p.add_argument("--password-file")
    p.add_argument("--admin", action="store_true")
    p.add_argument("--displayname")
    p.add_argument("--no-login", action="store_true",
                   help="do not create a device/token (inhibit_login); an existing user is then just reported")

    p = sub.add_parser("login", help="password login")
    p.add_argument("--url", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password")
    p.add_argument("--password-file")
    p.add_argument("--device-id")

    p = sub.add_parser("wait", help="wait for GET /health == OK")
    p.add_argument("--url", required=True)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--pid", type=int, help="give up early if this process dies")

    p = sub.add_parser("health", help="exit 0 if /health answers OK")
    p.add_argument("--url", required=True)

    p = sub.add_parser("seed", help="users and rooms from the group files")
    p.add_argument("--url", required=True)
    p.add_argument("--secret-file", required=True)
    p.add_argument("--server-name", default="localhost")
    p.add_argument("--groups-dir", required=True)
    p.add_argument("--demo-password-file", required=True)
    p.add_argument("--bot-user", default="rapporteur")
    p.add_argument("--bot-displayname", default="Rapporteur")
    p.add_argument("--bot-password-file", required=True)
    p.add_argument("--token-cache", required=True)
    p.add_argument("--rooms-env", required=True)
    p.add_argument("--encrypted", action="append", default=[],
                   help="group file stem whose room is end-to-end encrypted (repeatable)")
    p.add_argument("--quiet", action="store_true")

    a = ap.parse_args(argv)
    try:
        if a.cmd in ("register", "login"):
            if a.password is None and a.password_file is None:
                ap.error("--password or --password-file is required")
            pw = a.password if a.password is not None else read_secret(a.password_file)
            if a.cmd == "register":
                out = register(a.url, read_secret(a.secret_file), a.user, pw,
                               admin=a.admin, displayname=a.displayname,
                               inhibit_login=a.no_login)
            else:
                out = login(a.url, a.user, pw, a.device_id)
            print(json.dumps(out))
            return 0
        if a.cmd == "wait":
            return 0 if wait_health(a.url, a.timeout, a.pid) else 1
        if a.cmd == "health":
            return 0 if health(a.url) else 1
        if a.cmd == "seed":
            return cmd_seed(a)
    except MatrixError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except urllib.error.URLError as e:
        print(f"error: cannot reach {getattr(a, 'url', '?')}: {e.reason}", file=sys.stderr)
        return 3
    return 1


if __name__ == "__main__":
    sys.exit(main())
