#!/usr/bin/env python3
"""Bare Python /sync-loop bot for the side-by-side benchmark (no bot framework).

Logs in with a password (a new device on every start: all state, Olm account
included, lives in memory), long-polls /sync and handles each response in
order, joins the rooms it is invited to, and answers an m.text "!ping" with an
m.notice "pong" rich reply, encrypted in encrypted rooms. mautrix-python gives
the HTTP client and the OlmMachine (Olm/Megolm); the loop below is all there is.

Prints READY on stdout once logged in, keys uploaded and the first sync handled;
logs go to stderr.

Usage: bare_bot.py --homeserver URL --user @id:server --password PW --store DIR
"""
import argparse
import asyncio
import logging
import os

from mautrix.client import Client
from mautrix.client.state_store import MemoryStateStore
from mautrix.crypto import MemoryCryptoStore, OlmMachine, StateStore as CryptoStateStore
from mautrix.types import (DeviceLists, DeviceOTKCount, EncryptedEvent, EventType, Membership,
                           MessageEvent, MessageType, StateEvent, TextMessageEventContent,
                           ToDeviceEvent)

log = logging.getLogger("bare_bot")


class StateStore(MemoryStateStore, CryptoStateStore):
    """In-memory room state (members, encryption) that the OlmMachine can use too."""

    async def find_shared_rooms(self, user_id):
        # Rooms whose outbound Megolm session must rotate when user_id's devices change.
        return [room for room, members in self.members.items()
                if user_id in members
                and members[user_id].membership in (Membership.JOIN, Membership.INVITE)]


async def handle_sync(client: Client, crypto: OlmMachine, data: dict, initial: bool) -> None:
    # Crypto bookkeeping first, so that a room key that came with this batch is
    # known before the messages encrypted with it are decrypted below.
    otk = data.get("device_one_time_keys_count", {})
    await crypto.handle_otk_count(DeviceOTKCount(curve25519=otk.get("curve25519", 0),
                                                 signed_curve25519=otk.get("signed_curve25519", 0)))
    lists = data.get("device_lists", {})
    await crypto.handle_device_lists(DeviceLists(changed=lists.get("changed", []),
                                                 left=lists.get("left", [])))
    for raw in data.get("to_device", {}).get("events", []):
        if raw.get("type") == "m.room.encrypted":  # Olm: carries m.room_key
            try:
                await crypto.handle_to_device_event(ToDeviceEvent.deserialize(raw))
            except Exception:
                log.exception("to-device event from %s failed", raw.get("sender"))

    rooms = data.get("rooms", {})
    for room_id in rooms.get("invite", {}):
        log.info("invited to %s, joining", room_id)
        await client.join_room(room_id)

    for room_id, room in rooms.get("join", {}).items():
        timeline = room.get("timeline", {}).get("events", [])
        # Room state (members, m.room.encryption) feeds "whom to encrypt for".
        for raw in room.get("state", {}).get("events", []) + timeline:
            if "state_key" in raw:
                evt = StateEvent.deserialize({**raw, "room_id": room_id})
                await client.state_store.update_state(evt)
                if evt.type == EventType.ROOM_MEMBER:
                    await crypto.handle_member_event(evt)  # rotate session on member change
        if initial:
            continue  # messages from before this start are not commands for us
        for raw in timeline:
            if raw.get("sender") == client.mxid or "state_key" in raw:
                continue
            raw = {**raw, "room_id": room_id}
            try:
                if raw.get("type") == "m.room.encrypted":
                    evt = await crypto.decrypt_megolm_event(EncryptedEvent.deserialize(raw))
                elif raw.get("type") == "m.room.message":
                    evt = MessageEvent.deserialize(raw)
                else:
                    continue
            except Exception as e:
                log.warning("cannot decrypt %s: %s", raw.get("event_id"), e)
                continue
            if (evt.type == EventType.ROOM_MESSAGE and evt.content.msgtype == MessageType.TEXT
                    and evt.content.body == "!ping"):
                reply = TextMessageEventContent(msgtype=MessageType.NOTICE, body="pong")
                reply.set_reply(evt.event_id)  # m.relates_to.m.in_reply_to.event_id
                # Encrypts (sharing a Megolm session with every member device
                # first, when needed) if the room is encrypted.
                await client.send_message_event(room_id, EventType.ROOM_MESSAGE, reply)


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--homeserver", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--store", required=True,
                   help="state directory (created; this bot keeps its state in memory)")
    args = p.parse_args()
    os.makedirs(args.store, exist_ok=True)

    client = Client(base_url=args.homeserver, state_store=StateStore())
    await client.login(identifier=args.user.lstrip("@").split(":")[0], password=args.password,
                       device_name="bare python bot")
    crypto = OlmMachine(client, MemoryCryptoStore(client.mxid, "bare-bot"), client.state_store)
    client.crypto = crypto  # send_message_event() now encrypts in encrypted rooms
    await crypto.load()  # creates a fresh Olm account (memory store)
    await crypto.share_keys()  # device keys + one-time keys, before anyone can want them
    log.info("logged in as %s, device %s", client.mxid, client.device_id)

    since = None
    while True:
        try:
            data = await client.sync(since=since, timeout=30000)
        except Exception as e:
            log.warning("sync failed (%s), retrying in 2 s", e)
            await asyncio.sleep(2)
            continue
        try:
            await handle_sync(client, crypto, data, initial=since is None)
        except Exception:
            log.exception("handling sync failed")
        if since is None:
            print("READY", flush=True)
        since = data["next_batch"]


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [%(levelname)s@%(name)s] %(message)s")
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
