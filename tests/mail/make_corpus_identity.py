#!/usr/bin/env python3
"""Golden corpus cases for the bot's own mail known by exact identity (issue 17): a Message-ID
or X-Rapporteur-Origin proves a mail the bot's only with the tag its secret makes (the corpus's
secret is bytes 0 to 31; see tests/mail_corpus.rs), never by the domain. Written to
tests/mail/corpus/ as `own-NN-name.eml` and `.toml` with make_corpus.py's helpers and
conventions. Run `python3 tests/mail/make_corpus_identity.py`.
"""

import hashlib
import hmac
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_corpus as base  # noqa: E402  (the shared helpers and conventions)
from make_corpus import BOT, direct_top, msg  # noqa: E402

OUT = base.OUT
CASES = []
SECRET = bytes(range(32))


def tagged(key: str) -> str:
    """The bot's `key.tag` for an outbox key, as src/mail/identity.rs makes it."""
    return key + "." + hmac.new(SECRET, key.encode(), hashlib.sha256).digest()[:10].hex()


def case(name, comment, raw, **expect):
    exp = {
        "outcome": "accepted",
        "reason": "",
        "author": "",
        "list_id": "",
        "message_id": "",
        "commands": [],
        "answer": "",
        "answers_to": [],
    }
    unknown = set(expect) - set(exp)
    assert not unknown, unknown
    exp.update(expect)
    assert "\n" not in comment
    CASES.append((name, comment, raw, exp))


def staff_mail(mid: str, extra: str, subject: str, body: str, in_reply_to: str = "") -> bytes:
    """A mail from a staff member whose address shares the bot's Message-ID domain."""
    reply = f"In-Reply-To: {in_reply_to}\nReferences: {in_reply_to}\n" if in_reply_to else ""
    return msg(
        direct_top("mei.chen@rapporteur.localhost",
                   "webmail.rapporteur.localhost (webmail.rapporteur.localhost [198.51.100.40])",
                   "Mon,  7 Dec 2026 15:02:11 +0000 (UTC)", "4C2wQz7kNtx3pLa")
        + f"""Message-ID: {mid}
Date: Mon, 7 Dec 2026 16:02:05 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
To: rapporteur for CIP-CCG <{BOT}>
From: Mei Chen <mei.chen@rapporteur.localhost>
Subject: {subject}
{reply}{extra}Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit
""",
        body,
    )


# own-01 ----------------------------------------------------------------------------------------
mid = "<3c9e5b1a-7d24-4f86-b0e3-5a1d2c8f9e47@rapporteur.localhost>"
case(
    "member-in-bot-domain-thunderbird-id",
    "A staff member whose address and Thunderbird Message-ID (<uuid@sender-domain>) are in the bot's own domain sends !whoami: the domain proves nothing, the ID carries no tag of the bot's secret, so the mail is a person's and accepted (before: ignored as own-message).",
    staff_mail(mid, "", "Checking my entry", "!whoami\n\nMei\n"),
    author="mei.chen@rapporteur.localhost",
    message_id=mid,
    commands=["!whoami"],
)

# own-02 ----------------------------------------------------------------------------------------
mid = "<9a0f2e6d-1c35-4b78-8d9e-0f1a2b3c4d5e@example.org>"
case(
    "forged-origin-header",
    "A member's command mail carrying X-Rapporteur-Origin with the domain the bot used to write there: a header anyone can write proves nothing without the tag, so the member is not silenced and the command is read.",
    msg(
        direct_top("ana.lima@example.org", "mail.example.org (mail.example.org [198.51.100.7])",
                   "Mon,  7 Dec 2026 15:10:44 +0000 (UTC)", "4C2wR37kVtz1pQs")
        + f"""Message-ID: {mid}
Date: Mon, 7 Dec 2026 16:10:40 +0100
MIME-Version: 1.0
To: rapporteur for CIP-CCG <{BOT}>
From: Ana Lima <ana.lima@example.org>
Subject: Roster
X-Rapporteur-Origin: rapporteur.localhost
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit
""",
        "!roster\n",
    ),
    author="ana.lima@example.org",
    message_id=mid,
    commands=["!roster"],
)

# own-03 ----------------------------------------------------------------------------------------
made_up = "<rapporteur-0123456789abcdef0123456789abcdef.00112233445566778899@rapporteur.localhost>"
mid = "<5e7d9c1b-3a2f-4e60-9b8d-7c6a5f4e3d21@rapporteur.localhost>"
case(
    "made-up-bot-id-gives-no-context",
    "A bare 'ack' whose In-Reply-To names a made-up ID in the bot's form and domain with a tag the bot's secret did not make: it answers none of the bot's mail, so 'ack' is no answer and the mail, with no command, is ignored as no-command.",
    staff_mail(mid, "", "Re: R-4 Budget 2027", "ack\n", in_reply_to=made_up),
    outcome="ignored",
    reason="no-command",
    author="mei.chen@rapporteur.localhost",
    message_id=mid,
)

# own-04 ----------------------------------------------------------------------------------------
untagged = "<rapporteur-7f3e1a20c4b95d86e2f0a1b3c5d7e9f1@rapporteur.localhost>"
mid = "<0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6@example.org>"
case(
    "untagged-bot-id-from-before-the-tags",
    "A bare 'ack' answering an ID in the form the bot wrote before it tagged its Message-IDs (rapporteur-<32 hex>@its domain): a candidate only, passed on with the answer; the ingest counts it only if the bot's outbox sent a mail with exactly that Message-ID.",
    msg(
        direct_top("ana.lima@example.org", "mail.example.org (mail.example.org [198.51.100.7])",
                   "Mon,  7 Dec 2026 15:20:02 +0000 (UTC)", "4C2wS17kXtz5pRu")
        + f"""Message-ID: {mid}
Date: Mon, 7 Dec 2026 16:19:58 +0100
MIME-Version: 1.0
To: rapporteur for CIP-CCG <{BOT}>
From: Ana Lima <ana.lima@example.org>
Subject: Re: R-4 Budget 2027
In-Reply-To: {untagged}
References: {untagged}
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit
""",
        "ack\n",
    ),
    author="ana.lima@example.org",
    message_id=mid,
    answer="ack",
    answers_to=[untagged],
)

# own-05 ----------------------------------------------------------------------------------------
origin = tagged("rapporteur-c0ffee00c0ffee00c0ffee00c0ffee00")
mid = "<20261207151500.4411.99@lists.example.org>"
case(
    "own-mail-with-replaced-message-id",
    "The bot's own announcement whose Message-ID a list server replaced, carrying X-Rapporteur-Origin with its tagged key: the header proves it the bot's, so it is ignored as own-message although it holds a command line.",
    msg(
        direct_top("rapporteur@lists.example.org", "lists.example.org (lists.example.org [192.0.2.25])",
                   "Mon,  7 Dec 2026 15:15:03 +0000 (UTC)", "4C2wS07kWtz4pQt")
        + f"""Message-ID: {mid}
Date: Mon, 7 Dec 2026 15:15:00 +0000
MIME-Version: 1.0
To: rapporteur for CIP-CCG <{BOT}>
From: rapporteur for CIP-CCG <{BOT}>
Subject: R-4 Budget 2027
X-Rapporteur-Origin: {origin}
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit
""",
        "!ack R-4 to acknowledge, as every organization should.\n",
    ),
    outcome="ignored",
    reason="own-message",
    author="rapporteur@lists.example.org",
    message_id=mid,
    commands=["!ack R-4 to acknowledge, as every organization should."],
)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for number, (name, comment, raw, exp) in enumerate(CASES, start=1):
        stem = f"own-{number:02d}-{name}"
        wanted.update({f"{stem}.eml", f"{stem}.toml"})
        (OUT / f"{stem}.eml").write_bytes(raw)
        (OUT / f"{stem}.toml").write_text(base.toml_text(comment, exp), encoding="utf-8",
                                          newline="\n")
        base.check(stem, raw, exp, OUT / f"{stem}.toml")
    for path in OUT.iterdir():
        if path.name.startswith("own-") and path.suffix in (".eml", ".toml") \
                and path.name not in wanted:
            path.unlink()
    print(f"wrote {len(CASES)} cases to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
