#!/usr/bin/env python3
"""Smoke test of the Python comparison bots against a loopback Synapse, E2EE on.

For each bot: registers a driver user and a bot user (shared-secret
registration), starts the bot, waits for READY, creates an ENCRYPTED room
inviting it (or, with --invite-first, creates and invites before starting it),
waits for the join, sends N encrypted "!ping"s one at a time and checks that
each gets exactly one decryptable m.notice "pong" whose in_reply_to is the ping.
Prints round-trip times and the bot's VmRSS. Exit status 0 only if all passed.

Run with the bots' venv python (needs mautrix + python-olm):
  $VENV/bin/python scripts/bench/smoke_driver.py --homeserver http://127.0.0.1:8118 \
      --secret-file $STACK/secrets/registration_shared_secret --venv $VENV \
      --workdir /tmp/smoke [--bots maubot,bare] [--pings 20] [--invite-first]
"""
import argparse
import asyncio
import logging
import os
import secrets
import signal
import statistics
import sys
import time
from pathlib import Path

from mautrix.client import Client
from mautrix.client.encryption_manager import DecryptionDispatcher
from mautrix.client.state_store import MemoryStateStore
from mautrix.crypto import MemoryCryptoStore, OlmMachine, StateStore as CryptoStateStore
from mautrix.errors import SessionNotFound
from mautrix.types import (EncryptedEvent, EventType, Membership, MessageType,
                           TextMessageEventContent)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))
import matrix_admin  # noqa: E402


class StateStore(MemoryStateStore, CryptoStateStore):
    async def find_shared_rooms(self, user_id):
        return [r for r, m in self.members.items() if user_id in m]


class Driver:
    def __init__(self, hs: str):
        self.client = Client(base_url=hs, state_store=StateStore())
        self.replies: dict[str, list[tuple[float, str, str]]] = {}  # ping id -> [(t, type, body)]
        self.waiters: dict[str, asyncio.Future] = {}
        self.undecryptable = 0
        self.bot = None

    async def start(self, user: str, password: str) -> None:
        c = self.client
        await c.login(identifier=user, password=password, device_name="smoke driver")
        c.crypto = OlmMachine(c, MemoryCryptoStore(c.mxid, "drv"), c.state_store)
        c.remove_dispatcher(DecryptionDispatcher)  # ours below waits for late room keys
        await c.crypto.load()
        await c.crypto.share_keys()
        c.add_event_handler(EventType.ROOM_ENCRYPTED, self.on_encrypted)
        c.add_event_handler(EventType.ROOM_MESSAGE, self.on_message)
        c.start(None)

    async def on_encrypted(self, evt: EncryptedEvent) -> None:
        if evt.sender == self.client.mxid:
            return
        crypto = self.client.crypto
        try:
            try:
                dec = await crypto.decrypt_megolm_event(evt)
            except SessionNotFound:  # the room key may still be in flight (to-device)
                await crypto.wait_for_session(evt.room_id, evt.content.session_id, timeout=10)
                dec = await crypto.decrypt_megolm_event(evt)
        except Exception as e:
            print(f"  UNDECRYPTABLE {evt.event_id} from {evt.sender}: {e!r}", file=sys.stderr)
            self.undecryptable += 1
            return
        await self.on_message(dec, decrypted=True)

    async def on_message(self, evt, decrypted: bool = False) -> None:
        if evt.sender != self.bot:
            return
        rel = evt.content.relates_to
        target = rel.in_reply_to.event_id if rel and rel.in_reply_to else None
        kind = "enc" if decrypted else "plain"
        self.replies.setdefault(target, []).append(
            (time.monotonic(), f"{kind}:{evt.content.msgtype}", evt.content.body))
        fut = self.waiters.get(target)
        if fut and not fut.done():
            fut.set_result(time.monotonic())


async def wait_ready(proc, label: str, timeout: float = 120) -> None:
    async def read():
        while True:
            line = await proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{label} exited before READY (rc {await proc.wait()})")
            if b"READY" in line:
                return
    await asyncio.wait_for(read(), timeout)


async def freeze_and_rotate(d: Driver, room: str, pid: int) -> None:
    """Make the next ping's new room key and the ping itself reach the bot in ONE
    /sync batch: freeze the bot (SIGSTOP; the caller sends SIGCONT after the
    ping), complete its pending long-poll with another event, rotate our Megolm
    session (the next send shares the new key by to-device first)."""
    os.kill(pid, signal.SIGSTOP)
    await d.client.send_message_event(
        room, EventType.ROOM_MESSAGE,
        TextMessageEventContent(msgtype=MessageType.TEXT, body="not a command"))
    await asyncio.sleep(0.3)
    await d.client.crypto.crypto_store.remove_outbound_group_session(room)


async def run_bot(args, kind: str) -> bool:
    hs, tag = args.homeserver, secrets.token_hex(3)
    secret = Path(args.secret_file).read_text().strip()
    pw = "pw-" + secrets.token_hex(8)
    drv_user, bot_user = f"drv{kind}{tag}", f"{kind}bot{tag}"
    matrix_admin.register(hs, secret, drv_user, pw, inhibit_login=True)
    bot_id = matrix_admin.register(hs, secret, bot_user, pw, inhibit_login=True)["user_id"]
    work = Path(args.workdir) / f"{kind}-{tag}"
    work.mkdir(parents=True)
    if kind == "maubot":
        cmd = [str(HERE / "run-maubot.sh"), str(work), hs, bot_id, pw]
    else:
        cmd = [f"{args.venv}/bin/python", str(HERE / "bare_bot.py"), "--homeserver", hs,
               "--user", bot_id, "--password", pw, "--store", str(work)]
    env = {**os.environ, "RAPPORTEUR_BENCH_VENV": args.venv}

    d = Driver(hs)
    d.bot = bot_id
    await d.start(drv_user, pw)
    enc_state = [{"type": "m.room.encryption", "state_key": "",
                  "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]

    async def make_room():
        return await d.client.create_room(invitees=[bot_id], initial_state=enc_state)

    room = await make_room() if args.invite_first else None
    t_start = time.monotonic()
    with open(work / "bot.stderr", "wb") as err:
        proc = await asyncio.create_subprocess_exec(*cmd, env=env, stdout=asyncio.subprocess.PIPE,
                                                    stderr=err)
    ok = False
    try:
        await wait_ready(proc, kind)
        t_ready = time.monotonic() - t_start
        if room is None:
            room = await make_room()
        t_inv = time.monotonic()
        while True:  # wait for the join (seen through the driver's own sync)
            m = await d.client.state_store.get_member(room, bot_id)
            if m and m.membership == Membership.JOIN:
                break
            if time.monotonic() - t_inv > 60:
                raise RuntimeError("bot did not join")
            await asyncio.sleep(0.05)
        t_join = time.monotonic() - t_inv
        rtts, missing = [], 0
        for i in range(args.pings):
            race = args.key_race and i % args.key_race == args.key_race - 1
            if race:
                await freeze_and_rotate(d, room, proc.pid)
            t0 = time.monotonic()
            fut = asyncio.get_running_loop().create_future()
            content = TextMessageEventContent(msgtype=MessageType.TEXT, body="!ping")
            eid = await d.client.send_message_event(room, EventType.ROOM_MESSAGE, content)
            d.waiters[eid] = fut
            if race:
                os.kill(proc.pid, signal.SIGCONT)
            if eid in d.replies:  # the reply beat the send response
                fut.set_result(d.replies[eid][0][0])
            try:
                t1 = await asyncio.wait_for(fut, args.reply_timeout)
                rtts.append((t1 - t0) * 1000)
            except asyncio.TimeoutError:
                missing += 1
                print(f"  ping {i} ({eid}): no reply in {args.reply_timeout}s", file=sys.stderr)
        await asyncio.sleep(2)  # late duplicates
        rss = next((l.split(":", 1)[1].strip() for l in open(f"/proc/{proc.pid}/status")
                    if l.startswith("VmRSS")), "?")
        pings = set(d.waiters)
        bad = [(k, v) for k, v in d.replies.items() if k in pings and
               (len(v) != 1 or v[0][1] != "enc:m.notice" or v[0][2] != "pong")]
        stray = [k for k in d.replies if k not in pings]
        ok = not missing and not bad and not stray and d.undecryptable == 0
        q = statistics.quantiles(rtts, n=20) if len(rtts) >= 2 else rtts
        print(f"{kind}: {'PASS' if ok else 'FAIL'} pings={args.pings} replies={len(rtts)} "
              f"missing={missing} bad={len(bad)} stray={len(stray)} undecryptable={d.undecryptable}")
        if rtts:
            print(f"  rtt ms: min {min(rtts):.1f} median {statistics.median(rtts):.1f} "
                  f"p95 {q[-1]:.1f} max {max(rtts):.1f} (first {rtts[0]:.1f})")
        print(f"  READY {t_ready:.2f}s after start, joined {t_join * 1000:.0f} ms after "
              f"{'READY' if args.invite_first else 'invite'}; "
              f"VmRSS {rss}; pid {proc.pid}; stderr {work / 'bot.stderr'}")
        for k, v in bad[:5]:
            print(f"  bad reply set for {k}: {v}")
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGCONT)
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except asyncio.TimeoutError:
                proc.kill()
        d.client.stop()
        await d.client.api.session.close()
    return ok


async def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--homeserver", required=True)
    p.add_argument("--secret-file", required=True)
    p.add_argument("--venv", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--bots", default="maubot,bare")
    p.add_argument("--pings", type=int, default=20)
    p.add_argument("--reply-timeout", type=float, default=15)
    p.add_argument("--key-race", type=int, default=0, metavar="K",
                   help="every K-th ping: deliver its new room key in the same /sync batch")
    p.add_argument("--invite-first", action="store_true",
                   help="create the room and invite the bot before starting it")
    args = p.parse_args()
    results = [await run_bot(args, kind) for kind in args.bots.split(",")]
    return 0 if all(results) else 1


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)  # mautrix warns per message about cross-signing
    sys.exit(asyncio.run(main()))
