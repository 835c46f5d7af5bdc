"""Benchmark ping plugin: an m.text "!ping" gets an m.notice "pong" rich reply.

The READY line is benchmark instrumentation (the driver waits for it on stdout):
printed once the first /sync has come back AND the device keys / one-time keys
are on the server, so that a client encrypting to us right after READY finds
our device.
"""
from maubot import MessageEvent, Plugin
from maubot.handlers import event
from mautrix.client import InternalEventType
from mautrix.types import EventType, MessageType, TextMessageEventContent
from mautrix.util import background_task


class PingBot(Plugin):
    async def start(self) -> None:
        self._ready = False
        self.client.add_event_handler(InternalEventType.SYNC_SUCCESSFUL, self._on_sync)
        if await self.client.sync_store.get_next_batch():
            # A sync already completed: a restart on an existing WORKDIR (whose first
            # /sync is a 30 s long-poll that loses nothing), or the first sync beat
            # us here. Announce as soon as the keys are up.
            background_task.create(self._on_sync({}))

    async def stop(self) -> None:
        self.client.remove_event_handler(InternalEventType.SYNC_SUCCESSFUL, self._on_sync)

    async def _on_sync(self, _: dict) -> None:
        if self._ready:
            return
        self._ready = True
        if self.client.crypto and not self.client.crypto.account.shared:
            # The OTK-count handler of the first sync does this too: share_keys
            # waits for it (same lock) or does it first. (Either way mautrix may log
            # a harmless "No one-time keys nor device keys" warning.)
            await self.client.crypto.share_keys()
        print("READY", flush=True)

    @event.on(EventType.ROOM_MESSAGE)
    async def ping(self, evt: MessageEvent) -> None:
        if evt.content.msgtype != MessageType.TEXT or evt.content.body != "!ping":
            return
        # evt.reply sets m.relates_to.m.in_reply_to.event_id (no fallback body
        # in mautrix >= 0.20) and encrypts in encrypted rooms.
        await evt.reply(TextMessageEventContent(msgtype=MessageType.NOTICE, body="pong"))
