#!/usr/bin/env python3
"""Writes N generated list messages as an mbox (mboxrd quoting) for the import benchmark:
threads of 1 to 8 messages, plain text with quoted replies, one in twenty in HTML only, one in
fifty with an attachment. Deterministic (a seeded generator), so runs compare.
Usage: make_mbox.py COUNT OUT.mbox"""

import random
import sys
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

count, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(20261207)
words = ("the group charter review budget proposal consensus organization member meeting "
         "minutes action request feedback deadline statement policy process support "
         "objection question answer draft version community forum report").split()
start = datetime(2024, 1, 1, tzinfo=timezone.utc)


def sentence():
    return " ".join(rng.choice(words) for _ in range(rng.randint(6, 16))).capitalize() + "."


with open(out, "w", encoding="utf-8", newline="\n") as mbox:
    thread_root = None
    previous = None
    left_in_thread = 0
    for index in range(count):
        if left_in_thread == 0:
            left_in_thread = rng.randint(1, 8)
            thread_root = previous = None
        sender = f"member{rng.randint(1, 400)}"
        date = start + timedelta(minutes=17 * index)
        subject = f"Topic {index // 5}" if previous is None else f"Re: Topic {index // 5}"
        headers = [
            f"From: Member {sender} <{sender}@example.org>",
            "To: cip-ccg@lists.example.org",
            "List-Id: CIP-CCG <cip-ccg.lists.example.org>",
            f"Subject: [CIP-CCG] {subject}",
            f"Message-ID: <bench{index}@example.org>",
            f"Date: {format_datetime(date)}",
            "MIME-Version: 1.0",
        ]
        if previous is not None:
            headers.append(f"In-Reply-To: {previous}")
            headers.append(f"References: {thread_root} {previous}")
        body = "\n\n".join(sentence() for _ in range(rng.randint(1, 5)))
        if previous is not None:
            body += "\n\n" + "\n".join("> " + sentence() for _ in range(rng.randint(1, 6)))
        if index % 20 == 7:
            headers.append("Content-Type: text/html; charset=utf-8")
            body = "<html><body><p>" + body.replace("\n\n", "</p><p>") + "</p></body></html>"
        elif index % 50 == 11:
            headers.append('Content-Type: multipart/mixed; boundary="b"')
            body = ("--b\nContent-Type: text/plain; charset=utf-8\n\n" + body +
                    "\n--b\nContent-Type: application/pdf\nContent-Disposition: attachment; "
                    'filename="draft.pdf"\nContent-Transfer-Encoding: base64\n\n' +
                    "JVBERi0xLjQK" * 40 + "\n--b--")
        else:
            headers.append("Content-Type: text/plain; charset=utf-8")
        # mboxrd: every line that looks like a From_ line, quoted or not, gets one more '>'.
        lines = []
        for line in body.split("\n"):
            stripped = line.lstrip(">")
            if stripped.startswith("From "):
                line = ">" + line
            lines.append(line)
        mbox.write(f"From {sender}@example.org {date.strftime('%a %b %d %H:%M:%S %Y')}\n")
        mbox.write("\n".join(headers) + "\n\n" + "\n".join(lines) + "\n\n")
        if thread_root is None:
            thread_root = f"<bench{index}@example.org>"
        previous = f"<bench{index}@example.org>"
        left_in_thread -= 1
