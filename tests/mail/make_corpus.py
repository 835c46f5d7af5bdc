#!/usr/bin/env python3
"""Regenerates the golden mail corpus in tests/mail/corpus/.

Each case is a raw message `NN-short-name.eml` (RFC 5322, CRLF line endings, byte-exact: some
messages are ISO-2022-JP, ISO-8859-1 8bit or plain binary) and its expectation
`NN-short-name.toml`. Run `python3 tests/mail/make_corpus.py` from anywhere; it rewrites every file
it owns, removes stale NN-*.eml/NN-*.toml files, and checks that the result parses. The output is
deterministic (no clock, no randomness: attachments come from a SHA-256 counter stream).

Conventions of the corpus (see corpus/README.md for the full list):
- the group's list is cip-ccg@lists.example.org with List-Id <cip-ccg.lists.example.org>;
- the bot writes as rapporteur@lists.example.org with Message-IDs on rapporteur.localhost;
- the size limit is 1 MiB (1048576 bytes) of raw message;
- the bot's receiving server is mx.lists.example.org; it receives the list's copies from the
  list server mail.lists.example.org (192.0.2.25), which the bot trusts (receiving_host and
  list_server_hosts), and the list writes the author of a post whose From it rewrote into
  Reply-To (list_author_header, Mailman 3's way);
- commands and answer are what extraction yields, for ignored messages too (quarantined ones are
  not read: commands and answer stay empty); the header-derived fields (author, list_id,
  message_id, answers_to) are filled in whenever the message has a header block.
"""

import base64
import email
import email.policy
import hashlib
import json
import pathlib
import quopri
import struct
import sys
import tomllib
import zlib

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "corpus"

LIST = "cip-ccg@lists.example.org"
BOT = "rapporteur@lists.example.org"
LIST_ID = "cip-ccg.lists.example.org"
SIZE_LIMIT = 1048576

KEYS = ["outcome", "reason", "author", "list_id", "message_id", "commands", "answer", "answers_to"]

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def crlf(text: str) -> str:
    """Normalises every line ending of `text` to CRLF."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def enc(text: str, charset: str = "utf-8") -> bytes:
    return crlf(text).encode(charset)


def qp(text: str, charset: str = "utf-8") -> str:
    """Quoted-printable body (soft breaks at 76 columns), with LF line endings."""
    return quopri.encodestring(text.encode(charset)).decode("ascii")


def b64(data: bytes) -> str:
    """Base64 body in 76-column lines, with LF line endings."""
    return base64.encodebytes(data).decode("ascii")


def ew(text: str, charset: str = "utf-8") -> str:
    """One RFC 2047 B encoded-word."""
    return "=?%s?B?%s?=" % (charset, base64.b64encode(text.encode(charset)).decode("ascii"))


def quote(text: str, prefix: str = "> ", empty: str = ">") -> str:
    out = []
    for line in text.rstrip("\n").split("\n"):
        out.append(prefix + line if line else empty)
    return "\n".join(out) + "\n"


def h(text: str) -> str:
    """HTML-escapes text the way Gmail does."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def html_lines(text: str) -> str:
    return "<br>".join(h(line) for line in text.rstrip("\n").split("\n")) + "<br>"


def stream(seed: str, size: int) -> bytes:
    """Deterministic pseudo-random bytes."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def attachment_bytes(seed: str, header: bytes, size: int) -> bytes:
    """`size` bytes that start with `header` and then look random, but repeat with a period of
    14592 bytes (256 base64 lines) so the file compresses well in git."""
    block = stream(seed, 57 * 256)
    body = (block * (size // len(block) + 1))[: size - len(header)]
    return header + body


def mm_hash(msgid: str) -> str:
    """Mailman 3's Message-ID-Hash."""
    return base64.b32encode(hashlib.sha1(msgid.strip("<>").encode()).digest()).decode()


def list_top(received: str, qid: str) -> str:
    """Headers the bot's receiving server adds in front of a list post: it received the post
    from the list server, and says so in the parentheses it writes itself."""
    return (
        "Return-Path: <cip-ccg-bounces@lists.example.org>\n"
        "Delivered-To: rapporteur@lists.example.org\n"
        "Received: from mail.lists.example.org (mail.lists.example.org [192.0.2.25])\n"
        f"\tby mx.lists.example.org (Postfix) with ESMTPS id {qid}\n"
        f"\tfor <rapporteur@lists.example.org>; {received}\n"
    )


def list_bottom(mail_from: str, msgid: str, described: bool = True) -> str:
    """Headers Mailman 3 adds to every post."""
    hsh = mm_hash(msgid)
    desc = '"Continuous Improvement Program Community Coordination Group" ' if described else ""
    return (
        f"X-MailFrom: {mail_from}\n"
        "X-Mailman-Rule-Misses: dmarc-mitigation; no-senders; approved; loop; banned-address;\n"
        " header-match-cip-ccg.lists.example.org-0; emergency; member-moderation;\n"
        " nonmember-moderation; administrivia; implicit-dest; max-recipients; max-size;\n"
        " news-moderation; no-subject; digests; suspicious-header\n"
        f"Message-ID-Hash: {hsh}\n"
        f"X-Message-ID-Hash: {hsh}\n"
        "X-Mailman-Version: 3.3.10\n"
        "Precedence: list\n"
        f"List-Id: {desc}<cip-ccg.lists.example.org>\n"
        f"Archived-At: <https://lists.example.org/archives/list/cip-ccg@lists.example.org/message/{hsh}/>\n"
        "List-Archive: <https://lists.example.org/archives/list/cip-ccg@lists.example.org/>\n"
        "List-Help: <mailto:cip-ccg-request@lists.example.org?subject=help>\n"
        "List-Owner: <mailto:cip-ccg-owner@lists.example.org>\n"
        "List-Post: <mailto:cip-ccg@lists.example.org>\n"
        "List-Subscribe: <mailto:cip-ccg-join@lists.example.org>\n"
        "List-Unsubscribe: <mailto:cip-ccg-leave@lists.example.org>\n"
    )


def direct_top(return_path: str, received_from: str, received: str, qid: str) -> str:
    """Headers the bot's mailbox adds to a message sent straight to the bot."""
    return (
        f"Return-Path: <{return_path}>\n"
        "Delivered-To: rapporteur@lists.example.org\n"
        f"Received: from {received_from}\n"
        f"\tby mx.lists.example.org (Postfix) with ESMTPS id {qid}\n"
        f"\tfor <rapporteur@lists.example.org>; {received}\n"
    )


def gmail_dkim(domain: str, t: int, seed: str) -> str:
    sig = base64.b64encode(stream(seed, 192)).decode()
    bh = base64.b64encode(stream(seed + "bh", 32)).decode()
    return (
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n"
        f"        d={domain}; s=google; t={t}; x={t + 604800}; darn=lists.example.org;\n"
        "        h=to:subject:message-id:date:from:in-reply-to:references:mime-version\n"
        "         :from:to:cc:subject:date:message-id:reply-to;\n"
        f"        bh={bh};\n"
        f"        b={sig[:70]}\n"
        f"         {sig[70:140]}\n"
        f"         {sig[140:210]}\n"
        f"         {sig[210:]}\n"
    )


# ---------------------------------------------------------------------------------------------
# Shared material
# ---------------------------------------------------------------------------------------------

ANA_ID = "<3d1f6a0e-2b8c-4f7e-9a51-6c0d2e7b8f94@example.org>"
ANA_SUBJECT = "[CIP-CCG] Agenda for the 4 November call"
AGENDA = """Dear all,

Before tomorrow's call, please check that the bot knows who you are:

!whoami

and that your organization's seat is listed correctly:

!roster

Thanks,
Ana
"""

# Bot messages that people answer.
BOT_PRIYA_1 = "<cip-ccg.20261104T165501Z.7d2e9a41.181f75a7c9198cbb1df9@rapporteur.localhost>"
BOT_PRIYA_2 = "<cip-ccg.20261104T170002Z.c3f18b5e.51d853897797ebc95417@rapporteur.localhost>"
BOT_LUCAS = "<cip-ccg.20261104T170510Z.0be4d7c2.80e3221d3b44bef6102b@rapporteur.localhost>"
BOT_JURGEN = "<cip-ccg.20261104T171033Z.91a0f6d8.02d6cf8e36587c16e5ba@rapporteur.localhost>"
BOT_SOPHIE = "<cip-ccg.20261105T091207Z.4c8e2b13.2c62d0decb87c32e2638@rapporteur.localhost>"
BOT_PRIYA_3 = "<cip-ccg.20261105T101502Z.e27a5c90.27ae6060828390c492ed@rapporteur.localhost>"
BOT_KWAME = "<cip-ccg.20261105T113044Z.58d1f3a7.e8b176e8fcf63e2d73f0@rapporteur.localhost>"
BOT_SOPHIE_OOF = "<cip-ccg.20261110T080011Z.a6f9c1e4.c490d4ac47f36cc41c9e@rapporteur.localhost>"
BOT_BOUNCED = "<cip-ccg.20261112T160001Z.3b7d9e05.b8850fb03f6fcc9b214d@rapporteur.localhost>"

BOT_DID_YOU_MEAN = """There is no command `!rostr`. Did you mean `!roster`?
Reply to this message with the single word roster to run it, or type
`!help` for the list of commands.
"""

CASES = []


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


def msg(headers: str, body: str = "", charset: str = "utf-8") -> bytes:
    return enc(headers) + b"\r\n" + enc(body, charset)


# ---------------------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------------------

# 01 ------------------------------------------------------------------------------------------
mid = "<b7c41e9d-52a3-4f0b-8e6d-1a9c3f2e7d50@example.org>"
case(
    "thunderbird-new-message",
    "A new Thunderbird message (format=flowed, 8bit UTF-8) delivered through the list: Precedence: list does not matter because the body has the command line !whoami, which is read; the signature after '-- ' is not authored.",
    msg(
        list_top("Mon,  2 Nov 2026 09:12:40 +0000 (UTC)", "4Bqx1F2k9Lz3wRt")
        + f"""Message-ID: {mid}
Date: Mon, 2 Nov 2026 09:12:31 +0000
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: en-GB
To: {LIST}
From: Kwame Mensah <kwame.mensah@example.org>
Subject: [CIP-CCG] Checking my entry
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit
"""
        + list_bottom("kwame.mensah@example.org", mid),
        """Hello all,

I am new on this list and would like to make sure the bot has the right\x20
details for the ASO seat before Wednesday’s call.

!whoami

Best,
Kwame

--\x20
Kwame Mensah
ASO appointee, CIP-CCG
""",
    ),
    author="kwame.mensah@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!whoami"],
)

# 02 ------------------------------------------------------------------------------------------
mid = "<0e5a8c31-7f2d-4b96-a4e1-c8d27b9f3a06@example.org>"
case(
    "subject-only-empty-body",
    "A command given only in the Subject, with an empty body: after stripping the list tag [CIP-CCG] the subject starts with '!', so '!roster' is the one command.",
    msg(
        list_top("Mon,  2 Nov 2026 17:40:05 +0000 (UTC)", "4BrC7m0PqTz5kXw")
        + f"""Message-ID: {mid}
Date: Mon, 2 Nov 2026 09:39:58 -0800
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: en-US
To: {LIST}
From: Ana Lima <ana.lima@example.org>
Subject: [CIP-CCG] !roster
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit
"""
        + list_bottom("ana.lima@example.org", mid),
        "",
    ),
    author="ana.lima@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!roster"],
)

# 03 ------------------------------------------------------------------------------------------
mid = "<CAF3k9wPq2Vt8mXo7RcZ1nLh0sD4eYbG5uJi6aKf9TqWx3Pz@mail.gmail.com>"
plain = f"""!roster AFRALO

Moussa

On Tue, Nov 3, 2026 at 6:15 PM Ana Lima <ana.lima@example.org> wrote:

{quote(AGENDA)}"""
html = (
    '<div dir="ltr">!roster AFRALO<div><br></div><div>Moussa</div></div><br>'
    '<div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">'
    'On Tue, Nov 3, 2026 at 6:15 PM Ana Lima &lt;<a href="mailto:ana.lima@example.org">'
    "ana.lima@example.org</a>&gt; wrote:<br></div>"
    '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
    'rgb(204,204,204);padding-left:1ex">' + html_lines(AGENDA) + "</blockquote></div>\n"
)
case(
    "gmail-top-posted-reply",
    "A Gmail multipart/alternative reply, top-posted: the text/plain part is read, '!roster AFRALO' above the attribution is authored, and '!whoami'/'!roster' inside the '>' quote after 'On ... wrote:' are not.",
    msg(
        list_top("Tue,  3 Nov 2026 18:32:49 +0000 (UTC)", "4BrY2c8HxNz1mQa")
        + gmail_dkim("example.org", 1793730761, "03")
        + f"""MIME-Version: 1.0
References: {ANA_ID}
In-Reply-To: {ANA_ID}
From: Moussa Diallo <moussa.diallo@example.org>
Date: Tue, 3 Nov 2026 18:32:41 +0000
X-Gm-Features: AQt7F2rVbXn1sE0kq9LzP4oM3cH8uY6tJ2wRfDg5aIe7NvKx
Message-ID: {mid}
Subject: Re: {ANA_SUBJECT}
To: {LIST}
Content-Type: multipart/alternative; boundary="000000000000a3f1c20640b2d4e1"
"""
        + list_bottom("moussa.diallo@example.org", mid),
        f"""--000000000000a3f1c20640b2d4e1
Content-Type: text/plain; charset="UTF-8"

{plain}
--000000000000a3f1c20640b2d4e1
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

{qp(html)}
--000000000000a3f1c20640b2d4e1--
""",
    ),
    author="moussa.diallo@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!roster AFRALO"],
)

# 04 ------------------------------------------------------------------------------------------
SOPHIE_04 = "<6a2f0d47-c1b8-4e3a-9f75-2d8e0b1c4a93@example.org>"
mid = SOPHIE_04
case(
    "thunderbird-bottom-posted-reply",
    "A Thunderbird reply, bottom-posted: attribution line 'On 03/11/2026 19:15, Ana Lima wrote:' and the '>' lines are quoted, the lines after the '>' block are authored again, so only '!roster RrSG' is read (the quoted '!whoami'/'!roster' are not, nor anything after '-- ').",
    msg(
        list_top("Tue,  3 Nov 2026 18:48:20 +0000 (UTC)", "4BrYNq3vLkz7pDc")
        + f"""Message-ID: {mid}
Date: Tue, 3 Nov 2026 19:48:11 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Subject: Re: {ANA_SUBJECT}
Content-Language: fr
To: {LIST}
References: {ANA_ID}
From: Sophie Martin <sophie.martin@example.org>
In-Reply-To: {ANA_ID}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit
"""
        + list_bottom("sophie.martin@example.org", mid),
        f"""On 03/11/2026 19:15, Ana Lima wrote:
{quote(AGENDA)}
Done for me, and for the registrars:

!roster RrSG

--\x20
Sophie Martin
RrSG
""",
    ),
    author="sophie.martin@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!roster RrSG"],
)

# 05 ------------------------------------------------------------------------------------------
mid = "<aSlq3Kd8Rz0mWb7Y@example.org>"
body = """On Tue, Nov 03, 2026 at 10:15:12AM -0800, Ana Lima wrote:
> Dear all,
>
> Before tomorrow's call, please check that the bot knows who you are:
>
> !whoami

!whoami

Done -- my entry is right, Umlaut and all.

> and that your organization's seat is listed correctly:
>
> !roster

!roster EURALO

> Thanks,
> Ana

--\x20
Jürgen Weber · EURALO
"""
case(
    "mutt-interleaved-latin1",
    "An interleaved (inline) reply from Mutt in 8bit ISO-8859-1: authored text resumes after each '>' block, so '!whoami' and '!roster EURALO' written between the quotes are read in order, the quoted ones are not, and 'Done -- my entry' is no signature separator.",
    enc(
        list_top("Tue,  3 Nov 2026 19:05:33 +0000 (UTC)", "4BrYmB6tWcz2hJf")
        + f"""Date: Tue, 3 Nov 2026 20:05:27 +0100
From: =?iso-8859-1?Q?J=FCrgen?= Weber <jurgen.weber@example.org>
To: {LIST}
Subject: Re: {ANA_SUBJECT}
Message-ID: {mid}
References: {ANA_ID}
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Disposition: inline
Content-Transfer-Encoding: 8bit
In-Reply-To: {ANA_ID}
User-Agent: NeoMutt/20250905
"""
        + list_bottom("jurgen.weber@example.org", mid)
        + "\n"
    )
    + enc(body, "iso-8859-1"),
    author="jurgen.weber@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!whoami", "!roster EURALO"],
)

# 06 ------------------------------------------------------------------------------------------
mid = "<AM9PR07MB7012C1D2E3F4A5B6C7D8E9F0A1B2C3D4@AM9PR07MB7012.eurprd07.prod.outlook.com>"
boundary = "_000_AM9PR07MB7012C1D2E3F4A5B6C7D8E9F0A1B2C3D4AM9PR07MB7012eurp_"
plain = f"""!roster IPC

Kind regards,
Elena

Elena Petrova
IPC representative, CIP-CCG

From: Ana Lima <ana.lima@example.org>\x20
Sent: Tuesday, November 3, 2026 7:15 PM
To: {LIST}
Subject: {ANA_SUBJECT}

{AGENDA}"""
html = (
    '<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" '
    'xmlns="http://www.w3.org/TR/REC-html40">\n<head>\n'
    '<meta http-equiv="Content-Type" content="text/html; charset=us-ascii">\n'
    '<meta name="Generator" content="Microsoft Word 15 (filtered medium)">\n'
    "<style><!--\n/* Font Definitions */\n@font-face\n\t{font-family:Aptos;}\n"
    "p.MsoNormal, li.MsoNormal, div.MsoNormal\n\t{margin:0cm;\n\tfont-size:12.0pt;\n\tfont-family:\"Aptos\",sans-serif;}\n"
    "--></style>\n</head>\n"
    '<body lang="EN-GB" link="#467886" vlink="#96607D" style="word-wrap:break-word">\n'
    '<div class="WordSection1">\n'
    '<p class="MsoNormal">!roster IPC<o:p></o:p></p>\n'
    '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>\n'
    '<p class="MsoNormal">Kind regards,<o:p></o:p></p>\n'
    '<p class="MsoNormal">Elena<o:p></o:p></p>\n'
    '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>\n'
    '<p class="MsoNormal">Elena Petrova<br>IPC representative, CIP-CCG<o:p></o:p></p>\n'
    '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>\n'
    '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">\n'
    '<p class="MsoNormal"><b><span lang="EN-US">From:</span></b><span lang="EN-US"> Ana Lima '
    "&lt;ana.lima@example.org&gt;\n<br><b>Sent:</b> Tuesday, November 3, 2026 7:15 PM<br>"
    f"<b>To:</b> {LIST}<br><b>Subject:</b> {ANA_SUBJECT}<o:p></o:p></span></p>\n</div>\n"
    + "".join(f'<p class="MsoNormal">{h(line) if line else "<o:p>&nbsp;</o:p>"}<o:p></o:p></p>\n'
              for line in AGENDA.rstrip("\n").split("\n"))
    + "</div>\n</body>\n</html>\n"
)
case(
    "outlook-desktop-header-block",
    "An Outlook (Microsoft 365) multipart/alternative reply: the text/plain part is read; everything from the 'From:' line followed by 'Sent:'/'To:'/'Subject:' is the quoted original, so only '!roster IPC' is read, not Ana's unquoted '!whoami'/'!roster'.",
    msg(
        list_top("Tue,  3 Nov 2026 19:03:08 +0000 (UTC)", "4BrYjW1sQvz4nLb")
        + f"""From: Elena Petrova <elena.petrova@example.org>
To: "{LIST}" <{LIST}>
Subject: RE: {ANA_SUBJECT}
Thread-Topic: {ANA_SUBJECT}
Thread-Index: AQHcTe2kYH3q0pZ8GkmT5v1r2s3t4bQx7Rw=
Date: Tue, 3 Nov 2026 19:02:55 +0000
Message-ID: {mid}
References: {ANA_ID}
In-Reply-To: {ANA_ID}
Accept-Language: en-GB, en-US
Content-Language: en-GB
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
msip_labels:
Content-Type: multipart/alternative;
\tboundary="{boundary}"
MIME-Version: 1.0
"""
        + list_bottom("elena.petrova@example.org", mid),
        f"""--{boundary}
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

{qp(plain)}
--{boundary}
Content-Type: text/html; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

{qp(html)}
--{boundary}--
""",
    ),
    author="elena.petrova@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!roster IPC"],
)

# 07 ------------------------------------------------------------------------------------------
mid = "<000601dc4d9a$5e1f2a30$1a5d7e90$@example.org>"
case(
    "outlook-original-message-plain",
    "A plain-text reply from classic Outlook with '-----Original Message-----': everything from that line on is the quoted original, so only '!help roster' is read and Ana's unquoted '!whoami'/'!roster' below it are not.",
    msg(
        list_top("Tue,  3 Nov 2026 19:47:31 +0000 (UTC)", "4BrZcH5nRtz8vMe")
        + f"""From: "Sarah Thompson" <sarah.thompson@example.org>
To: <{LIST}>
References: {ANA_ID}
In-Reply-To: {ANA_ID}
Subject: RE: {ANA_SUBJECT}
Date: Tue, 3 Nov 2026 11:47:20 -0800
Message-ID: {mid}
MIME-Version: 1.0
Content-Type: text/plain;
\tcharset="us-ascii"
Content-Transfer-Encoding: 7bit
X-Mailer: Microsoft Outlook 16.0
Thread-Index: AQHcTe2kYH3q0pZ8GkmT5v1r2s3t4bQx7RwAAKE1cDA=
Content-Language: en-us
"""
        + list_bottom("sarah.thompson@example.org", mid),
        f"""!help roster

Sarah

-----Original Message-----
From: Ana Lima <ana.lima@example.org>\x20
Sent: Tuesday, November 3, 2026 10:15 AM
To: {LIST}
Subject: {ANA_SUBJECT}

{AGENDA}""",
    ),
    author="sarah.thompson@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!help roster"],
)

# 08 ------------------------------------------------------------------------------------------
mid = "<7A3F1C2B-9D4E-4F5A-8B6C-0E1D2F3A4B5C@example.org>"
boundary = "Apple-Mail=_5E2C9A3B-8F1D-4C7E-B6A0-1D2E3F4A5B6C"
plain = f"""!roster RySG

Ana, the RySG entry still shows my old address in the Matrix room — could you ask Nadia to check?

Olusegun

> On 3 Nov 2026, at 19:15, Ana Lima <ana.lima@example.org> wrote:
>\x20
{quote(AGENDA, empty="> ")}
"""
html = (
    '<html aria-label="message body"><head><meta http-equiv="content-type" content="text/html; '
    'charset=utf-8"></head><body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; '
    'line-break: after-white-space;">!roster RySG<div><br></div><div>Ana, the RySG entry still '
    "shows my old address in the Matrix room — could you ask Nadia to check?</div><div><br></div>"
    '<div>Olusegun</div><div><br id="lineBreakAtBeginningOfMessage"><div><br><blockquote '
    'type="cite"><div>On 3 Nov 2026, at 19:15, Ana Lima &lt;ana.lima@example.org&gt; wrote:</div>'
    '<br class="Apple-interchange-newline"><div><div>'
    + html_lines(AGENDA)
    + "</div></div></blockquote></div><br></div></body></html>"
)
case(
    "apple-mail-reply",
    "An Apple Mail multipart/alternative reply (quoted-printable parts, '> On 3 Nov 2026, at 19:15, Ana Lima <...> wrote:' quoted in text/plain, blockquote type=cite in HTML): the text/plain part is read and only the top-posted '!roster RySG' is authored.",
    msg(
        list_top("Tue,  3 Nov 2026 18:58:14 +0000 (UTC)", "4BrYc03kVmz6tFh")
        + f"""Content-Type: multipart/alternative;
\tboundary="{boundary}"
Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3826.600.51.1.1\\))
Subject: Re: {ANA_SUBJECT}
From: Olusegun Adeyemi <olusegun.adeyemi@example.org>
In-Reply-To: {ANA_ID}
Date: Tue, 3 Nov 2026 19:58:03 +0100
Message-Id: {mid}
References: {ANA_ID}
To: {LIST}
X-Mailer: Apple Mail (2.3826.600.51.1.1)
"""
        + list_bottom("olusegun.adeyemi@example.org", mid),
        f"""
--{boundary}
Content-Transfer-Encoding: quoted-printable
Content-Type: text/plain;
\tcharset=utf-8

{qp(plain)}
--{boundary}
Content-Transfer-Encoding: quoted-printable
Content-Type: text/html;
\tcharset=utf-8

{qp(html)}
--{boundary}--
""",
    ),
    author="olusegun.adeyemi@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!roster RySG"],
)

# 09 ------------------------------------------------------------------------------------------
mid = "<CAB7nRt4Kq1Zx9Lm2PcW8yVd3oFs6EhJ0uGi5aTb7NkQw1Xe@mail.gmail.com>"
html = (
    '<div dir="ltr"><div>Checking Ana&#39;s entry before the call:</div><div><br></div>'
    "<div>!whoami &quot;Ana Lima&quot;</div><div><br></div><div>Nadia</div></div><br>"
    '<div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">'
    "On Tue, Nov 3, 2026 at 10:15 AM Ana Lima &lt;"
    '<a href="mailto:ana.lima@example.org">ana.lima@example.org</a>&gt; wrote:<br></div>'
    '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
    'rgb(204,204,204);padding-left:1ex"><div dir="ltr">'
    + "".join(f"<div>{h(line) if line else '<br>'}</div>" for line in AGENDA.rstrip("\n").split("\n"))
    + "</div></blockquote></div>\n"
)
case(
    "html-only-gmail-quote",
    "An HTML-only reply (text/html, no text/plain) using Gmail's markup: the HTML is converted to text, entities are decoded, and everything from <div class=\"gmail_quote\"> on is quoted, so the one command is '!whoami \"Ana Lima\"' with its quoted argument.",
    msg(
        list_top("Tue,  3 Nov 2026 18:20:07 +0000 (UTC)", "4BrXyT9fKpz0cWn")
        + gmail_dkim("example.org", 1793729999, "09")
        + f"""MIME-Version: 1.0
References: {ANA_ID}
In-Reply-To: {ANA_ID}
From: Nadia Haddad <nadia.haddad@example.org>
Date: Tue, 3 Nov 2026 10:19:59 -0800
Message-ID: {mid}
Subject: Re: {ANA_SUBJECT}
To: {LIST}
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable
"""
        + list_bottom("nadia.haddad@example.org", mid),
        qp(html),
    ),
    author="nadia.haddad@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=['!whoami "Ana Lima"'],
)

# 10 ------------------------------------------------------------------------------------------
mid = "<PR3PR02MB6138F0E1D2C3B4A5968778695A4B3C2D1E@PR3PR02MB6138.eurprd02.prod.outlook.com>"
html = (
    '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=us-ascii">\n'
    '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style>\n'
    '</head>\n<body dir="ltr">\n'
    '<div class="elementToProof" style="font-family: Aptos, Aptos_EmbeddedFont, Aptos_MSFontService, '
    'Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">\n!ping</div>\n'
    '<div class="elementToProof" style="font-family: Aptos, Aptos_EmbeddedFont, Aptos_MSFontService, '
    'Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">\n<br>\n</div>\n'
    '<div class="elementToProof" style="font-family: Aptos, Aptos_EmbeddedFont, Aptos_MSFontService, '
    'Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">\n'
    "Tomasz</div>\n"
    '<div id="appendonsend"></div>\n'
    '<hr style="display:inline-block;width:98%" tabindex="-1">\n'
    '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" '
    'color="#000000"><b>From:</b> Ana Lima &lt;ana.lima@example.org&gt;<br>\n'
    "<b>Sent:</b> Tuesday, November 3, 2026 7:15 PM<br>\n"
    f"<b>To:</b> {LIST} &lt;{LIST}&gt;<br>\n"
    f"<b>Subject:</b> {ANA_SUBJECT}</font>\n<div>&nbsp;</div>\n</div>\n"
    '<div class="BodyFragment"><font size="2"><span style="font-size:11pt;">\n'
    '<div class="PlainText">' + html_lines(AGENDA) + "</div>\n</span></font></div>\n"
    "</body>\n</html>\n"
)
case(
    "html-only-outlook-web",
    "An HTML-only reply from Outlook on the web: the <style> block is not text, and everything from <div id=\"appendonsend\"> / <div id=\"divRplyFwdMsg\"> on is quoted, so only '!ping' is read.",
    msg(
        list_top("Tue,  3 Nov 2026 19:21:45 +0000 (UTC)", "4BrZ3s7dHwz9bYk")
        + f"""From: Tomasz Kowalski <tomasz.kowalski@example.org>
To: "{LIST}" <{LIST}>
Subject: Re: {ANA_SUBJECT}
Thread-Topic: {ANA_SUBJECT}
Thread-Index: AQHcTe2kYH3q0pZ8GkmT5v1r2s3t4bQx8Pna
Date: Tue, 3 Nov 2026 19:21:40 +0000
Message-ID: {mid}
References: {ANA_ID}
In-Reply-To: {ANA_ID}
Accept-Language: pl-PL, en-US
Content-Language: en-US
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
Content-Type: text/html; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable
MIME-Version: 1.0
"""
        + list_bottom("tomasz.kowalski@example.org", mid),
        qp(html),
    ),
    author="tomasz.kowalski@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!ping"],
)

# 11 ------------------------------------------------------------------------------------------
mid = "<7f3b-6901a2c0-5-4e1d8a00@118822391>"
html = (
    "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head>"
    "<body><p>Hello Mei,</p><p>The minutes of 28 October say:</p>"
    "<blockquote type=\"cite\"><p>Action: staff to post the SSAC entry, as shown by</p>"
    "<p>!roster</p><p>to the list.</p></blockquote>"
    "<p>I could not find it in the archive. Meanwhile, here is what the bot says:</p>"
    "<p>!roster SSAC</p><p>Best regards,<br>Aigerim</p></body></html>\n"
)
case(
    "html-only-blockquote",
    "A new HTML-only message (SOGo webmail): the <blockquote> content is quoted, so its '!roster' is not read, while '!roster SSAC' in a paragraph after the blockquote is authored and read.",
    msg(
        list_top("Wed,  4 Nov 2026 06:12:03 +0000 (UTC)", "4Bs9Tq2xMbz3kRd")
        + f"""From: "Aigerim Sadykova" <aigerim.sadykova@example.org>
Content-Type: text/html; charset="utf-8"
X-Forward: 203.0.113.77
Date: Wed, 04 Nov 2026 11:11:58 +0500
To: {LIST}
MIME-Version: 1.0
Message-ID: {mid}
Subject: [CIP-CCG] Minutes action item
User-Agent: SOGoMail 5.12.3
Content-Transfer-Encoding: quoted-printable
"""
        + list_bottom("aigerim.sadykova@example.org", mid),
        qp(html),
    ),
    author="aigerim.sadykova@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!roster SSAC"],
)

# 12 ------------------------------------------------------------------------------------------
mid = "<20261105102233.4f1e2d3c@ana-laptop.example.org>"
body = """Olá a todos,

Antes da reunião de quarta-feira, gostaria de confirmar que o registo do José Hernández (LACRALO) está correcto, porque o endereço de correio electrónico dele mudou no mês passado.

!whoami "José Hernández"

Obrigada,
Ana
"""
case(
    "claws-quoted-printable-latin1",
    "A Claws Mail message in ISO-8859-1 quoted-printable with soft line breaks and an ISO-8859-1 encoded-word subject: after decoding, the command keeps its accented quoted argument, '!whoami \"José Hernández\"'.",
    msg(
        list_top("Thu,  5 Nov 2026 18:22:41 +0000 (UTC)", "4BsqLd0cNfz1wVp")
        + f"""Date: Thu, 5 Nov 2026 10:22:33 -0800
From: Ana Lima <ana.lima@example.org>
To: {LIST}
Subject: [CIP-CCG] =?ISO-8859-1?Q?Registo_do_Jos=E9?=
Message-ID: {mid}
Organization: CIP-CCG
X-Mailer: Claws Mail 4.3.1 (GTK 3.24.49; x86_64-pc-linux-gnu)
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable
"""
        + list_bottom("ana.lima@example.org", mid),
        qp(body, "iso-8859-1"),
    ),
    author="ana.lima@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=['!whoami "José Hernández"'],
)

# 13 ------------------------------------------------------------------------------------------
mid = "<001b01dc4da3$8c2e4f70$a48aee50$@example.org>"
boundary = "----=_NextPart_000_001C_01DC4DAB.EE0AB170"
plain = f"""!ping

Ana, the bot did not answer me yesterday – I’m checking it is alive.
On the budget: the “Annex B” figure is € 12.000 for the Lisbon meeting, not € 15.000.

Best regards,
Marco

From: Ana Lima <ana.lima@example.org>\x20
Sent: Tuesday, November 3, 2026 7:15 PM
To: {LIST}
Subject: {ANA_SUBJECT}

{AGENDA}"""
html = (
    '<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns="http://www.w3.org/TR/REC-html40">'
    '<head><meta http-equiv=Content-Type content="text/html; charset=windows-1252">'
    '<meta name=Generator content="Microsoft Word 15 (filtered medium)"></head>'
    '<body lang=IT link="#0563C1" vlink="#954F72"><div class=WordSection1>'
    "<p class=MsoNormal>!ping<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>"
    "<p class=MsoNormal>Ana, the bot did not answer me yesterday – I’m checking it is alive.<br>"
    "On the budget: the “Annex B” figure is € 12.000 for the Lisbon meeting, not € 15.000.<o:p></o:p></p>"
    "<p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Best regards,<br>Marco<o:p></o:p></p>"
    "<p class=MsoNormal><o:p>&nbsp;</o:p></p>"
    "<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>"
    "<p class=MsoNormal><b>From:</b> Ana Lima &lt;ana.lima@example.org&gt; <br><b>Sent:</b> "
    f"Tuesday, November 3, 2026 7:15 PM<br><b>To:</b> {LIST}<br><b>Subject:</b> {ANA_SUBJECT}"
    "<o:p></o:p></p></div>"
    + "".join(f"<p class=MsoNormal>{h(line) if line else '<o:p>&nbsp;</o:p>'}<o:p></o:p></p>"
              for line in AGENDA.rstrip("\n").split("\n"))
    + "</div></body></html>\n"
)
case(
    "outlook-windows-1252",
    "An Outlook multipart/alternative reply in Windows-1252 quoted-printable with smart quotes, an en dash and the euro sign in the prose: only '!ping' is a command, and the header block 'From:/Sent:/To:/Subject:' starts the quoted original.",
    msg(
        list_top("Tue,  3 Nov 2026 20:31:12 +0000 (UTC)", "4BrbKv8pTqz2mHs")
        + f"""From: "Marco Rossi" <marco.rossi@example.org>
To: <{LIST}>
References: {ANA_ID}
In-Reply-To: {ANA_ID}
Subject: RE: {ANA_SUBJECT}
Date: Tue, 3 Nov 2026 21:31:05 +0100
Message-ID: {mid}
MIME-Version: 1.0
Content-Type: multipart/alternative;
\tboundary="{boundary}"
X-Mailer: Microsoft Outlook 16.0
Thread-Index: AQHcTe2kYH3q0pZ8GkmT5v1r2s3t4bQx9Ok2
Content-Language: it
"""
        + list_bottom("marco.rossi@example.org", mid),
        f"""This is a multipart message in MIME format.

--{boundary}
Content-Type: text/plain;
\tcharset="Windows-1252"
Content-Transfer-Encoding: quoted-printable

{qp(plain, "cp1252")}
--{boundary}
Content-Type: text/html;
\tcharset="Windows-1252"
Content-Transfer-Encoding: quoted-printable

{qp(html, "cp1252")}
--{boundary}--

""",
    ),
    author="marco.rossi@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!ping"],
)

# 14 ------------------------------------------------------------------------------------------
mid = "<DB9PR02MB7354B2E0C1A9F8D7E6C5B4A3D2E1F0A9B8@DB9PR02MB7354.eurprd02.prod.outlook.com>"
boundary = "_000_DB9PR02MB7354B2E0C1A9F8D7E6C5B4A3D2E1F0A9B8DB9PR02MB7354eurp_"
plain = f"""!whoami

Merci Ana, je vérifie avant l’appel de demain.

Obtenir Outlook pour iOS<https://aka.ms/o0ukef>
________________________________
De : Ana Lima <ana.lima@example.org>
Envoyé : mardi, novembre 3, 2026 7:15:12 PM
À : {LIST} <{LIST}>
Objet : {ANA_SUBJECT}

{AGENDA}"""
html = (
    '<html><head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>'
    '<body><div dir="auto">!whoami</div><div dir="auto"><br></div><div dir="auto">Merci Ana, je '
    "vérifie avant l’appel de demain.</div><div dir=\"auto\"><br></div><div id=\"ms-outlook-mobile-"
    'signature" dir="auto">Obtenir <a href="https://aka.ms/o0ukef">Outlook pour iOS</a></div>'
    '<div id="mail-editor-reference-message-container" dir="auto"><br><hr style="display:'
    'inline-block;width:98%"><div id="divRplyFwdMsg"><font face="Calibri, sans-serif"><b>De :'
    "</b> Ana Lima &lt;ana.lima@example.org&gt;<br><b>Envoyé :</b> mardi, novembre 3, 2026 "
    f"7:15:12 PM<br><b>À :</b> {LIST}<br><b>Objet :</b> {ANA_SUBJECT}</font><div>&nbsp;</div></div>"
    + html_lines(AGENDA)
    + "</div></body></html>\r\n"
)
case(
    "outlook-ios-base64",
    "An Outlook for iOS reply whose text/plain part is UTF-8 in base64, with a French header block after Outlook's '________________________________' separator line: decoding gives '!whoami' as the only authored command, the quoted '!roster' comes after the separator.",
    msg(
        list_top("Tue,  3 Nov 2026 20:41:15 +0000 (UTC)", "4BrbXp1zRkz6cTf")
        + f"""From: Fatima Benali <fatima.benali@example.org>
To: "{LIST}" <{LIST}>
Subject: Re: {ANA_SUBJECT}
Thread-Topic: {ANA_SUBJECT}
Thread-Index: AQHcTe2kYH3q0pZ8GkmT5v1r2s3t4bQx9v0i
Date: Tue, 3 Nov 2026 20:41:07 +0000
Message-ID: {mid}
References: {ANA_ID}
In-Reply-To: {ANA_ID}
Accept-Language: fr-FR, en-US
Content-Language: fr-FR
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
Content-Type: multipart/alternative;
\tboundary="{boundary}"
MIME-Version: 1.0
"""
        + list_bottom("fatima.benali@example.org", mid),
        f"""--{boundary}
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64

{b64(enc(plain))}
--{boundary}
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64

{b64(html.encode("utf-8"))}
--{boundary}--
""",
    ),
    author="fatima.benali@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!whoami"],
)

# 15 ------------------------------------------------------------------------------------------
mid = "<20261104093012.6E2B.F4D2C1E0@example.org>"
jp_subject_words = ["次回会合の", "議題について"]
jp_subject = "Re: [CIP-CCG] " + "\n ".join(ew(w, "ISO-2022-JP") for w in jp_subject_words)
jp_from = ew("田中 博", "ISO-2022-JP") + " <hiroshi.tanaka@example.org>"
jp_body = """田中です。

!roster BC

次回会合の前に、BCの席が正しく登録されているか確認しました。
問題があればお知らせください。

On Tue, 03 Nov 2026 10:15:12 -0800
Ana Lima <ana.lima@example.org> wrote:

""" + quote(AGENDA) + """
--\x20
田中 博 (Hiroshi Tanaka)
BC / CIP-CCG
"""
jp_bytes = b"".join(line.encode("iso2022_jp") + b"\r\n" for line in jp_body.rstrip("\n").split("\n"))
assert all(b < 0x80 for b in jp_bytes)
case(
    "becky-iso-2022-jp",
    "A Japanese reply from Becky! with an ISO-2022-JP encoded-word Subject and From and a 7bit ISO-2022-JP body: the ASCII command line '!roster BC' between Japanese lines is read; the two-line attribution and the '>' quote are not authored.",
    enc(
        list_top("Wed,  4 Nov 2026 00:30:21 +0000 (UTC)", "4Bs0Qm6rJdz8pWa")
        + f"""Date: Wed, 04 Nov 2026 09:30:12 +0900
From: {jp_from}
To: {LIST}
Subject: {jp_subject}
In-Reply-To: {ANA_ID}
References: {ANA_ID}
Message-Id: {mid}
MIME-Version: 1.0
Content-Type: text/plain; charset="ISO-2022-JP"
Content-Transfer-Encoding: 7bit
X-Mailer: Becky! ver. 2.81.05 [ja]
"""
        + list_bottom("hiroshi.tanaka@example.org", mid)
        + "\n"
    )
    + jp_bytes,
    author="hiroshi.tanaka@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!roster BC"],
)

# 16 ------------------------------------------------------------------------------------------
mid = "<d9e2c7a1-40f3-4b8e-b2a6-5c1f0e3d7a82@example.net>"
case(
    "dmarc-munged-x-original-from",
    "A post whose From the list rewrote for DMARC ('Jane Doe via CIP-CCG' <cip-ccg@lists.example.org>) with Reply-To pointing at the list and the author in Cc and X-Original-From: the bot reads only the header this list server sets (Reply-To), which names no author but the list, so the author is unknown and the mail is kept aside as list-author-unclear (it used to be credited to X-Original-From, a header anyone can write).",
    msg(
        list_top("Wed,  4 Nov 2026 14:02:57 +0000 (UTC)", "4BsMfN4kXcz5rLq")
        + f"""Message-ID: {mid}
Date: Wed, 4 Nov 2026 15:02:49 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: en-US
To: {LIST}
Subject: [CIP-CCG] Observer here
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit
From: "Jane Doe via CIP-CCG" <{LIST}>
Reply-To: CIP-CCG <{LIST}>
Cc: Jane Doe <jane.doe@example.net>
X-Original-From: Jane Doe <jane.doe@example.net>
"""
        + list_bottom("jane.doe@example.net", mid),
        """Hello all,

I joined the list last week as an observer for the review team. Let me\x20
see whether the bot knows me:

!whoami

Jane
""",
    ),
    outcome="quarantined",
    reason="list-author-unclear",
    author="cip-ccg@lists.example.org",
    list_id=LIST_ID,
    message_id=mid,
)

# 17 ------------------------------------------------------------------------------------------
mid = "<CAM4xTq8Zr2Lp7Wd1Nc5Yh9Bk3Fv0Js6Eg4Ua8Ko2Rm7Qi1Xt@mail.gmail.com>"
case(
    "dmarc-munged-reply-to",
    "A DMARC-munged post ('Rahul Deshpande via CIP-CCG' <cip-ccg@lists.example.org>) without X-Original-From: the author is the first Reply-To address, rahul.deshpande@example.org, and '!roster ALAC' is read.",
    msg(
        list_top("Wed,  4 Nov 2026 11:44:09 +0000 (UTC)", "4BsHbC7wTnz0qVe")
        + """DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=lists.example.org;
\ts=mm3; t=1793792649; h=from:reply-to:subject:date:to:mime-version:
\t content-type:list-id:list-post; bh=Zk6v0Qx1d3yHn2pL8bW4sE9rT5uJ7cA0mF1gK3oI6qM=;
\tb=Qm3Rk8xV2zP5nB7wL0cT4yH9sJ1dF6gA8eK2uO5iM3rN7vX0bC4zQ1tY6hW9jS2L
\t fD5pG8kE1nR4uA7mV0xZ3cB6qT9yH2wL5oJ8sI1dN4gK7eF0rP3vU6tM9aC2zX5b
"""
        + f"""MIME-Version: 1.0
From: "Rahul Deshpande via CIP-CCG" <{LIST}>
Date: Wed, 4 Nov 2026 17:14:01 +0530
Message-ID: {mid}
Subject: [CIP-CCG] ALAC seat
To: {LIST}
Content-Type: text/plain; charset="UTF-8"
Reply-To: Rahul Deshpande <rahul.deshpande@example.org>
"""
        + list_bottom("rahul.deshpande@example.org", mid),
        """Hi all,

ALAC confirmed my appointment yesterday. Could the bot show the seat?

!roster ALAC

Thanks,
Rahul
""",
    ),
    author="rahul.deshpande@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!roster ALAC"],
)

# 18 ------------------------------------------------------------------------------------------
mid = "<e4a1b9c2-3d5f-4a7e-8b0c-6f2d1e9a3b57@example.org>"
case(
    "dmarc-munged-list-address-from",
    "A rewritten From without ' via ': the From address is the list's posting address cip-ccg@lists.example.org and there is a List-Id, so the author is the first Reply-To address, elena.petrova@example.org (not the list address that follows it).",
    msg(
        list_top("Wed,  4 Nov 2026 08:31:50 +0000 (UTC)", "4BsCJx2yNbz7dPr")
        + f"""Message-ID: {mid}
Date: Wed, 4 Nov 2026 09:31:44 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: en-GB
To: {LIST}
Subject: [CIP-CCG] Bot check
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit
From: Elena Petrova <{LIST}>
Reply-To: Elena Petrova <elena.petrova@example.org>,
 CIP-CCG <{LIST}>
"""
        + list_bottom("elena.petrova@example.org", mid),
        """!ping

Elena
""",
    ),
    author="elena.petrova@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!ping"],
)

# 19 ------------------------------------------------------------------------------------------
mid = "<CAK2vLr9Qx4Np1Zt8Ws3Ym6Hd0Bc7Fj5Ga2Ue9Ko4Ri1Mn8Tz@mail.gmail.com>"
case(
    "quoted-commands-only-direct",
    "An off-list Gmail reply to Ana with the bot in Cc (no list headers, no Precedence): the only command lines are inside the '>' quote after the attribution, so nothing is authored and it is not a reply to a bot mail; ignored as no-command.",
    msg(
        direct_top("olusegun.adeyemi@example.org",
                   "mail-ed1-f45.google.com (mail-ed1-f45.google.com [209.85.208.45])",
                   "Wed,  4 Nov 2026 07:05:38 +0000 (UTC)", "4Bs9Rw5vQhz3fKn")
        + gmail_dkim("example.org", 1793775931, "19")
        + f"""MIME-Version: 1.0
References: {ANA_ID}
In-Reply-To: {ANA_ID}
From: Olusegun Adeyemi <olusegun.adeyemi@example.org>
Date: Wed, 4 Nov 2026 08:05:31 +0100
Message-ID: {mid}
Subject: Re: {ANA_SUBJECT}
To: Ana Lima <ana.lima@example.org>
Cc: rapporteur for CIP-CCG <{BOT}>
Content-Type: text/plain; charset="UTF-8"
""",
        f"""Ana, off-list: neither of these worked for me yesterday evening. Is the bot
running? I have copied it here in case it helps.

Olusegun

On Tue, Nov 3, 2026 at 7:15 PM Ana Lima <ana.lima@example.org> wrote:

{quote(AGENDA)}""",
    ),
    outcome="ignored",
    reason="no-command",
    author="olusegun.adeyemi@example.org",
    message_id=mid,
)

# 20 ------------------------------------------------------------------------------------------
mid = "<f1c8e3a5-9b2d-4e70-a6c4-7d3b2a1e0f98@example.org>"
case(
    "quoted-commands-only-via-list",
    "A bottom-posted Thunderbird reply through the list whose only command lines are in the '>' quote: with no authored command, the Precedence: list header the list adds makes it 'bulk' (checked before no-command).",
    msg(
        list_top("Wed,  4 Nov 2026 03:10:27 +0000 (UTC)", "4Bs4Fz8mWtz1nCx")
        + f"""Message-ID: {mid}
Date: Wed, 4 Nov 2026 08:40:19 +0530
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Subject: Re: {ANA_SUBJECT}
Content-Language: en-US
To: {LIST}
References: {ANA_ID}
From: Priya Nair <priya.nair@example.org>
In-Reply-To: {ANA_ID}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit
"""
        + list_bottom("priya.nair@example.org", mid),
        f"""On 03/11/2026 11:45 pm, Ana Lima wrote:
{quote(AGENDA)}
+1, both work for me now.

Priya
""",
    ),
    outcome="ignored",
    reason="bulk",
    author="priya.nair@example.org",
    list_id=LIST_ID,
    message_id=mid,
)

# 21 ------------------------------------------------------------------------------------------
mid = "<08b7d3e1-c4a2-4f9b-95e6-3a1d0c8f2b74@example.org>"
case(
    "command-after-signature",
    "A command-like line inside the signature: everything after the '-- ' separator is not authored, so '!help on a line of its own ...' is not read and only '!ping' is.",
    msg(
        list_top("Thu,  5 Nov 2026 05:18:44 +0000 (UTC)", "4Bsc8Hn1DqzfTw2")
        + f"""Message-ID: {mid}
Date: Thu, 5 Nov 2026 10:48:37 +0530
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: en-US
To: {LIST}
From: Priya Nair <priya.nair@example.org>
Subject: [CIP-CCG] Is the bot up?
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit
"""
        + list_bottom("priya.nair@example.org", mid),
        """Hi all,

The bot has been quiet since this morning, so:

!ping

--\x20
Priya Nair
APRALO representative, CIP-CCG
!help on a line of its own lists the bot's commands
""",
    ),
    author="priya.nair@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!ping"],
)

# 22 ------------------------------------------------------------------------------------------
mid = "<E3F5A7C9-1B2D-4E6F-8A0B-C2D4E6F8A0B1@example.org>"
case(
    "command-after-bare-dashes",
    "A hand-typed signature separator that is exactly '--' (no trailing space) from iPhone Mail: it still ends the authored text, so '!roster NCUC' after it is not read and only '!whoami' is.",
    msg(
        list_top("Thu,  5 Nov 2026 06:02:19 +0000 (UTC)", "4Bsd6b2TgWz9jYm")
        + f"""Content-Type: text/plain;
\tcharset=us-ascii
Content-Transfer-Encoding: 7bit
From: Amani Njoroge <amani.njoroge@example.org>
Mime-Version: 1.0 (1.0)
Date: Thu, 5 Nov 2026 09:02:11 +0300
Subject: [CIP-CCG] Draft report
Message-Id: {mid}
To: {LIST}
X-Mailer: iPhone Mail (23B85)
"""
        + list_bottom("amani.njoroge@example.org", mid),
        """Thanks Nadia, I will read the draft tonight. Checking my entry first:

!whoami

--
Amani Njoroge
NCUC
!roster NCUC
""",
    ),
    author="amani.njoroge@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!whoami"],
)

# 23 ------------------------------------------------------------------------------------------
mid = "<5d0a9f2e-8c71-4b36-a1e4-9f3c7b2d6e05@example.org>"
case(
    "mailing-list-footer",
    "A list post with the Mailman footer appended to the text: everything from the line of underscores on is the footer, so its '!help on a line of its own ...' line is not read and only '!roster ASO' is.",
    msg(
        list_top("Thu,  5 Nov 2026 08:15:36 +0000 (UTC)", "4BsgBs0WkFz4pNc")
        + f"""Message-ID: {mid}
Date: Thu, 5 Nov 2026 08:15:29 +0000
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: en-GB
To: {LIST}
From: Kwame Mensah <kwame.mensah@example.org>
Subject: [CIP-CCG] ASO seat
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit
"""
        + list_bottom("kwame.mensah@example.org", mid),
        """Hello,

!roster ASO

Kwame
_______________________________________________
CIP-CCG mailing list -- cip-ccg@lists.example.org
To unsubscribe send an email to cip-ccg-leave@lists.example.org
!help on a line of its own lists the commands of the group's record-keeping bot.
""",
    ),
    author="kwame.mensah@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!roster ASO"],
)

# 24 ------------------------------------------------------------------------------------------
mid = "<CAD8wNq3Lk6Xp0Tz5Rv2Yb9Hm1Gc4Fs7Ej3Ua6Ko9Wi2Qn5Bt@mail.gmail.com>"
plain = f"""Forwarding Ana's agenda to the bot for the record, as agreed.

Nadia

---------- Forwarded message ---------
From: Ana Lima <ana.lima@example.org>
Date: Tue, Nov 3, 2026 at 10:15 AM
Subject: {ANA_SUBJECT}
To: <{LIST}>


{AGENDA}"""
html = (
    '<div dir="ltr"><div>Forwarding Ana&#39;s agenda to the bot for the record, as agreed.</div>'
    '<div><br></div><div>Nadia</div><br><div class="gmail_quote gmail_quote_container">'
    '<div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>From: '
    '<strong class="gmail_sendername" dir="auto">Ana Lima</strong> <span dir="auto">&lt;'
    '<a href="mailto:ana.lima@example.org">ana.lima@example.org</a>&gt;</span><br>'
    f"Date: Tue, Nov 3, 2026 at 10:15 AM<br>Subject: {ANA_SUBJECT}<br>To: &lt;"
    f'<a href="mailto:{LIST}">{LIST}</a>&gt;<br></div><br><br><div dir="ltr">'
    + html_lines(AGENDA)
    + "</div></div></div>\n"
)
case(
    "gmail-forward-direct",
    "A Gmail forward sent straight to the bot: everything from '---------- Forwarded message ---------' on is not authored, so the forwarded '!whoami'/'!roster' are not read; with no command and no bot mail answered it is ignored as no-command.",
    msg(
        direct_top("nadia.haddad@example.org",
                   "mail-wm1-f52.google.com (mail-wm1-f52.google.com [209.85.128.52])",
                   "Wed,  4 Nov 2026 16:22:51 +0000 (UTC)", "4BsQ0g3XpLz6vKd")
        + gmail_dkim("example.org", 1793809363, "24")
        + f"""MIME-Version: 1.0
References: {ANA_ID}
In-Reply-To: {ANA_ID}
From: Nadia Haddad <nadia.haddad@example.org>
Date: Wed, 4 Nov 2026 08:22:43 -0800
Message-ID: {mid}
Subject: Fwd: {ANA_SUBJECT}
To: rapporteur for CIP-CCG <{BOT}>
Content-Type: multipart/alternative; boundary="0000000000007c1e5b0640c3a9f2"
""",
        f"""--0000000000007c1e5b0640c3a9f2
Content-Type: text/plain; charset="UTF-8"

{plain}
--0000000000007c1e5b0640c3a9f2
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

{qp(html)}
--0000000000007c1e5b0640c3a9f2--
""",
    ),
    outcome="ignored",
    reason="no-command",
    author="nadia.haddad@example.org",
    message_id=mid,
)

# 25 ------------------------------------------------------------------------------------------
mid = "<c2e9a4f7-1d6b-4083-b5a2-8e7f3c1d0b96@example.org>"
case(
    "thunderbird-forward-with-command",
    "A Thunderbird inline forward through the list: '!roster' above the '-------- Forwarded Message --------' marker is authored and read, the forwarded '!whoami'/'!roster' below it are not.",
    msg(
        list_top("Wed,  4 Nov 2026 10:07:48 +0000 (UTC)", "4BsFTk9cHrz2wMb")
        + f"""Message-ID: {mid}
Date: Wed, 4 Nov 2026 11:07:40 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: pl
To: {LIST}
From: Tomasz Kowalski <tomasz.kowalski@example.org>
Subject: Fwd: {ANA_SUBJECT}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit
"""
        + list_bottom("tomasz.kowalski@example.org", mid),
        f"""Ana's note did not reach the RSSAC side, so here it is again, and for\x20
the record:

!roster




-------- Forwarded Message --------
Subject: \t{ANA_SUBJECT}
Date: \tTue, 3 Nov 2026 10:15:12 -0800
From: \tAna Lima <ana.lima@example.org>
To: \t{LIST}



{AGENDA}""",
    ),
    author="tomasz.kowalski@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!roster"],
)

# 26 ------------------------------------------------------------------------------------------
mid = "<2B9E4D1F-6A3C-4B8E-9F0D-7C5A3E1B9D2F@example.org>"
case(
    "apple-mail-forward",
    "An Apple Mail forward in format=flowed: '!ping' above 'Begin forwarded message:' is authored and read; the forwarded headers and the forwarded '!whoami'/'!roster' are not.",
    msg(
        list_top("Wed,  4 Nov 2026 01:26:10 +0000 (UTC)", "4Bs1pY4hVbz5gRq")
        + f"""Content-Type: text/plain;
\tcharset=us-ascii;
\tdelsp=yes;
\tformat=flowed
Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3826.600.51.1.1\\))
Subject: Fwd: {ANA_SUBJECT}
From: Mei Chen <mei.chen@example.org>
Date: Wed, 4 Nov 2026 09:26:02 +0800
Content-Transfer-Encoding: 7bit
Message-Id: {mid}
To: {LIST}
X-Mailer: Apple Mail (2.3826.600.51.1.1)
"""
        + list_bottom("mei.chen@example.org", mid),
        f"""Resending for the SSAC colleagues who are not on the list yet. Before I  
do:

!ping

Mei

Begin forwarded message:

From: Ana Lima <ana.lima@example.org>
Subject: {ANA_SUBJECT}
Date: 4 November 2026 at 02:15:12 GMT+8
To: {LIST}

{AGENDA}""",
    ),
    author="mei.chen@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!ping"],
)

# 27 ------------------------------------------------------------------------------------------
mid = "<4E8A2C6D-0F1B-4D3E-A5C7-9B1D3F5A7C9E@example.org>"
case(
    "k9-original-message",
    "A K-9 Mail (Android) reply in the Outlook-like header quote style: everything from '-------- Original Message --------' on is not authored, so only '!whoami' is read.",
    msg(
        list_top("Wed,  4 Nov 2026 04:51:33 +0000 (UTC)", "4Bs6N07kFsz8hDw")
        + f"""MIME-Version: 1.0
Date: Wed, 04 Nov 2026 10:21:24 +0530
From: Rahul Deshpande <rahul.deshpande@example.org>
To: {LIST}
Subject: Re: {ANA_SUBJECT}
In-Reply-To: {ANA_ID}
References: {ANA_ID}
User-Agent: K-9 Mail for Android
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable
Message-ID: {mid}
"""
        + list_bottom("rahul.deshpande@example.org", mid),
        qp(f"""!whoami

Rahul

-------- Original Message --------
From: Ana Lima <ana.lima@example.org>
Sent: 3 November 2026 23:45:12 GMT+05:30
To: {LIST}
Subject: {ANA_SUBJECT}

{AGENDA}"""),
    ),
    author="rahul.deshpande@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!whoami"],
)

# 28 ------------------------------------------------------------------------------------------
case(
    "missing-message-id",
    "A message sent straight to the bot through a submission server that added no Message-ID: message_id is empty, and the message is still accepted with its '!ping'.",
    msg(
        direct_top("tomasz.kowalski@example.org",
                   "smtp.example.org (smtp.example.org [198.51.100.20])",
                   "Thu,  5 Nov 2026 12:40:03 +0000 (UTC)", "4BsnQf6vCtz3bLk")
        + f"""Date: Thu, 05 Nov 2026 13:39:58 +0100
From: Tomasz Kowalski <tomasz.kowalski@example.org>
To: {BOT}
Subject: ping test
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit
""",
        """!ping
""",
    ),
    author="tomasz.kowalski@example.org",
    commands=["!ping"],
)

# 29 ------------------------------------------------------------------------------------------
mid = "<20261105141516.93812@evil.example>"
case(
    "subject-encoded-crlf-injection",
    "A header-injection attempt: the encoded-word Subject decodes to '!whoami' CR LF 'Bcc: victim@evil.example'; a decoded subject is one line, its control characters become spaces, so the one command is '!whoami Bcc: victim@evil.example' (a whoami lookup of a person of that name) and no line break survives.",
    msg(
        direct_top("mallory@evil.example",
                   "mail.evil.example (mail.evil.example [203.0.113.66])",
                   "Thu,  5 Nov 2026 14:15:19 +0000 (UTC)", "4BsqWc1pJmz7tRx")
        + f"""From: Mallory <mallory@evil.example>
To: {BOT}
Subject: =?utf-8?q?!whoami=0D=0ABcc:_victim@evil.example?=
Date: Thu, 05 Nov 2026 14:15:16 +0000
Message-ID: {mid}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
""",
        """hello
""",
    ),
    author="mallory@evil.example",
    message_id=mid,
    commands=["!whoami Bcc: victim@evil.example"],
)

# 30 ------------------------------------------------------------------------------------------
mid = "<20261105142202.15577@evil.example>"
case(
    "from-display-name-crlf-injection",
    "A From whose encoded display name pretends to be 'Ana Lima <ana.lima@example.org>' and carries an encoded CR LF 'Bcc:' line: the author is the real address mallory@evil.example, not anything in the display name; '!whoami' is read normally.",
    msg(
        direct_top("mallory@evil.example",
                   "mail.evil.example (mail.evil.example [203.0.113.66])",
                   "Thu,  5 Nov 2026 14:22:05 +0000 (UTC)", "4BsqgK8dNvz0cWp")
        + f"""From: =?utf-8?q?Ana_Lima_=3Cana=2Elima=40example=2Eorg=3E=0D=0ABcc=3A_victim=40evil=2Eexample?= <mallory@evil.example>
To: {BOT}
Subject: who am I
Date: Thu, 05 Nov 2026 14:22:02 +0000
Message-ID: {mid}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
""",
        """!whoami
""",
    ),
    author="mallory@evil.example",
    message_id=mid,
    commands=["!whoami"],
)

# 31 ------------------------------------------------------------------------------------------
mid = "<9a4c1e7b-2f5d-4b08-8c3e-6d1a0f9b2e47@example.org>"
pdf = attachment_bytes("31-annex-b", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", 1536 * 1024)
raw31 = msg(
    direct_top("nadia.haddad@example.org",
               "smtp.example.org (smtp.example.org [198.51.100.20])",
               "Fri,  6 Nov 2026 17:03:40 +0000 (UTC)", "4BtL3Wm8QxzdRf5")
    + f"""Content-Type: multipart/mixed; boundary="------------Xq7P3sLk0vBn9Tz2Wd5Rc8Hm"
Message-ID: {mid}
Date: Fri, 6 Nov 2026 09:03:31 -0800
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: en-US
To: rapporteur for CIP-CCG <{BOT}>
From: Nadia Haddad <nadia.haddad@example.org>
Subject: Annex B (scanned)
""",
    f"""This is a multi-part message in MIME format.
--------------Xq7P3sLk0vBn9Tz2Wd5Rc8Hm
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit

The scanned Annex B for the record, and the roster as of today:

!roster

Nadia

--------------Xq7P3sLk0vBn9Tz2Wd5Rc8Hm
Content-Type: application/pdf; name="CIP-CCG Annex B (scanned).pdf"
Content-Disposition: attachment; filename="CIP-CCG Annex B (scanned).pdf"
Content-Transfer-Encoding: base64

{b64(pdf)}
--------------Xq7P3sLk0vBn9Tz2Wd5Rc8Hm--
""",
)
assert len(raw31) > SIZE_LIMIT
case(
    "attachment-too-large",
    "A message with a 1.5 MiB PDF attachment (about 2 MiB raw once base64-encoded), over the 1 MiB limit: quarantined as too-large before anything else and not read, so its '!roster' is not extracted; the header fields are still reported.",
    raw31,
    outcome="quarantined",
    reason="too-large",
    author="nadia.haddad@example.org",
    message_id=mid,
)

# 32 ------------------------------------------------------------------------------------------
mid = "<SJ0PR11MB5678A9B8C7D6E5F4A3B2C1D0E9F8A7B6C5@SJ0PR11MB5678.namprd11.prod.outlook.com>"
docx = attachment_bytes("32-draft", b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", 200 * 1024)
outer = "_005_SJ0PR11MB5678A9B8C7D6E5F4A3B2C1D0E9F8A7B6C5SJ0PR11MB5678namp_"
inner = "_000_SJ0PR11MB5678A9B8C7D6E5F4A3B2C1D0E9F8A7B6C5SJ0PR11MB5678namp_"
plain = """Dear all,

Please find attached the third draft of the report. Aigerim, the draft lists the NCSG seat as vacant; checking what the bot has:

!roster NCSG

Best,
Mei
"""
html = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=us-ascii"></head>'
    '<body dir="ltr"><div class="elementToProof">Dear all,</div><div class="elementToProof"><br></div>'
    '<div class="elementToProof">Please find attached the third draft of the report. Aigerim, the '
    "draft lists the NCSG seat as vacant; checking what the bot has:</div>"
    '<div class="elementToProof"><br></div><div class="elementToProof">!roster NCSG</div>'
    '<div class="elementToProof"><br></div><div class="elementToProof">Best,<br>Mei</div></body></html>\n'
)
raw32 = msg(
    direct_top("mei.chen@example.org",
               "NAM11-SJ0-obe.outbound.protection.outlook.com (mail-sj0nam11on2071.outbound.protection.outlook.com [40.107.99.71])",
               "Fri,  6 Nov 2026 02:14:22 +0000 (UTC)", "4Bt0jR2wHsz6mYq")
    + f"""From: Mei Chen <mei.chen@example.org>
To: "{LIST}" <{LIST}>
CC: rapporteur for CIP-CCG <{BOT}>
Subject: [CIP-CCG] Draft report v3
Thread-Topic: [CIP-CCG] Draft report v3
Thread-Index: AdxPJ3k5q7Jx1mRwT0a8yZ2cN6vE4Q==
Date: Fri, 6 Nov 2026 02:14:10 +0000
Message-ID: {mid}
Accept-Language: en-US, zh-CN
Content-Language: en-US
X-MS-Has-Attach: yes
X-MS-TNEF-Correlator:
Content-Type: multipart/mixed;
\tboundary="{outer}"
MIME-Version: 1.0
""",
    f"""--{outer}
Content-Type: multipart/alternative;
\tboundary="{inner}"

--{inner}
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

{qp(plain)}
--{inner}
Content-Type: text/html; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

{qp(html)}
--{inner}--

--{outer}
Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;
\tname="CIP-CCG draft report v3.docx"
Content-Description: CIP-CCG draft report v3.docx
Content-Disposition: attachment; filename="CIP-CCG draft report v3.docx"; size={len(docx)};
\tcreation-date="Fri, 06 Nov 2026 02:13:51 GMT";
\tmodification-date="Fri, 06 Nov 2026 02:14:10 GMT"
Content-Transfer-Encoding: base64

{b64(docx)}
--{outer}--
""",
)
assert 200 * 1024 < len(raw32) < SIZE_LIMIT
case(
    "attachment-200k-accepted",
    "A multipart/mixed Outlook message (multipart/alternative text plus a 200 KiB .docx attachment, about 280 KB raw) sent to the list with the bot in Cc: under the 1 MiB limit, so it is accepted and '!roster NCSG' in the text/plain part is read.",
    raw32,
    author="mei.chen@example.org",
    message_id=mid,
    commands=["!roster NCSG"],
)

# 33 ------------------------------------------------------------------------------------------
priya_1 = "<CAPn7Hd2Wq5Lx8Rz1Tb4Yk0Mc3Gv6Fs9Ej2Ua5Ko8Wi1Qn4Bt@mail.gmail.com>"
priya_2 = "<CAPn7Hd2Wq5Lx8Rz1Tb4Yk0Mc3Gv6Fs9Ej2Ua5Ko8Wi1Qn4Bu+3d@mail.gmail.com>"
mid = "<CAPn7Hd2Xa9Mv3Kq6Ub0Zr4Ns7Hw1Gt5Fk8Ej2Vb6Lo9Xi3Rp@mail.gmail.com>"
bot_text = BOT_DID_YOU_MEAN + "\nOn Wed, 4 Nov 2026 at 08:59, Priya Nair <priya.nair@example.org> wrote:\n> !rostr again?\n"
plain = f"""roster

On Wed, Nov 4, 2026 at 10:30 PM rapporteur for CIP-CCG <
rapporteur@lists.example.org> wrote:

{quote(bot_text)}"""
html = (
    '<div dir="ltr">roster</div><br><div class="gmail_quote gmail_quote_container"><div dir="ltr" '
    'class="gmail_attr">On Wed, Nov 4, 2026 at 10:30 PM rapporteur for CIP-CCG &lt;<a href="mailto:'
    'rapporteur@lists.example.org">rapporteur@lists.example.org</a>&gt; wrote:<br></div><blockquote '
    'class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);'
    'padding-left:1ex">' + html_lines(bot_text) + "</blockquote></div>\n"
)
case(
    "reply-to-bot-bare-word",
    "A Gmail reply to the bot whose authored text is the single word 'roster' above a two-line wrapped attribution and its quote: no prefixed command, so answer = 'roster'; answers_to lists the bot ids from In-Reply-To then References nearest first, de-duplicated.",
    msg(
        direct_top("priya.nair@example.org",
                   "mail-pl1-f170.google.com (mail-pl1-f170.google.com [209.85.214.170])",
                   "Wed,  4 Nov 2026 17:00:58 +0000 (UTC)", "4BsQqT0fZmz1yWr")
        + gmail_dkim("example.org", 1793811650, "33")
        + f"""MIME-Version: 1.0
References: {priya_1}
 {BOT_PRIYA_1}
 {priya_2}
 {BOT_PRIYA_2}
In-Reply-To: {BOT_PRIYA_2}
From: Priya Nair <priya.nair@example.org>
Date: Wed, 4 Nov 2026 22:30:50 +0530
Message-ID: {mid}
Subject: Re: [CIP-CCG] Roster question
To: rapporteur for CIP-CCG <{BOT}>
Content-Type: multipart/alternative; boundary="000000000000e42b9a0640c4d7b3"
""",
        f"""--000000000000e42b9a0640c4d7b3
Content-Type: text/plain; charset="UTF-8"

{plain}
--000000000000e42b9a0640c4d7b3
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

{qp(html)}
--000000000000e42b9a0640c4d7b3--
""",
    ),
    author="priya.nair@example.org",
    message_id=mid,
    answer="roster",
    answers_to=[BOT_PRIYA_2, BOT_PRIYA_1],
)

# 34 ------------------------------------------------------------------------------------------
lucas_1 = "<a8d3f1c6-7e2b-4c95-b0a4-1f6e9d2c8b37@example.org>"
mid = "<3f7c2a9e-5b1d-4e86-a2f0-9c4b7d1e6a53@example.org>"
case(
    "reply-to-bot-bare-word-french",
    "A French Thunderbird reply to the bot: 'Roster' followed by the attribution 'Le 04/11/2026 à 18:05, rapporteur for CIP-CCG a écrit :' and its quote, so the authored text is one word and answer = 'roster' (lower-cased).",
    msg(
        direct_top("lucas.moreau@example.org",
                   "smtp.example.org (smtp.example.org [198.51.100.20])",
                   "Wed,  4 Nov 2026 17:12:29 +0000 (UTC)", "4BsR4p7cKnz2dGt")
        + f"""Message-ID: {mid}
Date: Wed, 4 Nov 2026 18:12:21 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Subject: Re: [CIP-CCG] CSG seat
Content-Language: fr
To: rapporteur for CIP-CCG <{BOT}>
References: {lucas_1} {BOT_LUCAS}
From: Lucas Moreau <lucas.moreau@example.org>
In-Reply-To: {BOT_LUCAS}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit
""",
        """Roster

Le 04/11/2026 à 18:05, rapporteur for CIP-CCG a écrit :
> There is no command `!rooster`. Did you mean `!roster`?
> Reply to this message with the single word roster to run it, or type
> `!help` for the list of commands.
""",
    ),
    author="lucas.moreau@example.org",
    message_id=mid,
    answer="roster",
    answers_to=[BOT_LUCAS],
)

# 35 ------------------------------------------------------------------------------------------
jurgen_1 = "<CAGw5Nr8Yt2Kp6Xm9Lb3Zq0Hd7Fc4Vs1Ej8Ua2Ko5Wi9Qn3Bt@mail.gmail.com>"
mid = "<CAGw5Nr8Zb4Qx1Mv7Lt0Kp3Hs6Fd9Vc2Ej5Ua8Ko1Wi4Rn7Xs@mail.gmail.com>"
bot_text = """There is no command `!werbinich`. Did you mean `!whoami`?
Reply to this message with the single word whoami to run it, or type
`!help` for the list of commands.
"""
case(
    "reply-to-bot-bare-word-german",
    "A German Gmail reply to the bot: 'whoami' followed by the wrapped attribution 'Am Mi., 4. Nov. 2026 um 18:10 Uhr schrieb ... <' / 'rapporteur@lists.example.org>:' and its quote, so answer = 'whoami'.",
    msg(
        direct_top("jurgen.weber@example.org",
                   "mail-ej1-f41.google.com (mail-ej1-f41.google.com [209.85.218.41])",
                   "Wed,  4 Nov 2026 17:16:12 +0000 (UTC)", "4BsR9D5hPwz7kXn")
        + gmail_dkim("example.org", 1793812564, "35")
        + f"""MIME-Version: 1.0
References: {jurgen_1} {BOT_JURGEN}
In-Reply-To: {BOT_JURGEN}
From: =?UTF-8?B?SsO8cmdlbiBXZWJlcg==?= <jurgen.weber@example.org>
Date: Wed, 4 Nov 2026 18:16:04 +0100
Message-ID: {mid}
Subject: Re: [CIP-CCG] Eintrag
To: rapporteur for CIP-CCG <{BOT}>
Content-Type: text/plain; charset="UTF-8"
""",
        f"""whoami

Am Mi., 4. Nov. 2026 um 18:10 Uhr schrieb rapporteur for CIP-CCG <
rapporteur@lists.example.org>:

{quote(bot_text)}""",
    ),
    author="jurgen.weber@example.org",
    message_id=mid,
    answer="whoami",
    answers_to=[BOT_JURGEN],
)

# 36 ------------------------------------------------------------------------------------------
sophie_1 = "<PAXPR08MB6941A0B1C2D3E4F5A6B7C8D9E0F1A2B3C4@PAXPR08MB6941.eurprd08.prod.outlook.com>"
mid = "<PAXPR08MB6941F9E8D7C6B5A4F3E2D1C0B9A8F7E6D5@PAXPR08MB6941.eurprd08.prod.outlook.com>"
case(
    "reply-to-bot-word-and-sign-off",
    "An Outlook reply to the bot with 'Roster', a blank line and a sign-off ('Thanks,' / 'Sophie') above the header block: the authored text is three non-blank lines, not one, so answer stays empty; it is still accepted because it answers a bot mail.",
    msg(
        direct_top("sophie.martin@example.org",
                   "EUR05-DB8-obe.outbound.protection.outlook.com (mail-db8eur05on2061.outbound.protection.outlook.com [40.107.20.61])",
                   "Thu,  5 Nov 2026 09:15:41 +0000 (UTC)", "4BshYq3mRbz9wTc")
        + f"""From: Sophie Martin <sophie.martin@example.org>
To: rapporteur for CIP-CCG <{BOT}>
Subject: RE: [CIP-CCG] RrSG
Thread-Topic: [CIP-CCG] RrSG
Thread-Index: AQHcTmKx3v9Bq1Zt5EaRw0y7cN2kFbQxAbCd
Date: Thu, 5 Nov 2026 09:15:33 +0000
Message-ID: {mid}
References: {sophie_1}
 {BOT_SOPHIE}
In-Reply-To: {BOT_SOPHIE}
Accept-Language: fr-FR, en-US
Content-Language: en-US
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable
MIME-Version: 1.0
""",
        qp(f"""Roster

Thanks,
Sophie

From: rapporteur for CIP-CCG <{BOT}>\x20
Sent: Thursday, November 5, 2026 10:12 AM
To: Sophie Martin <sophie.martin@example.org>
Subject: Re: [CIP-CCG] RrSG

There is no command `!rostre`. Did you mean `!roster`?
Reply to this message with the single word roster to run it, or type
`!help` for the list of commands.
"""),
    ),
    author="sophie.martin@example.org",
    message_id=mid,
    answers_to=[BOT_SOPHIE],
)

# 37 ------------------------------------------------------------------------------------------
priya_3 = "<0c5e8a2d-4f71-4b93-9e06-d2a8c4f1b7e3@example.org>"
mid = "<7e1b4d9a-2c6f-4a08-b3e5-f9d0a7c2e4b1@example.org>"
case(
    "reply-to-bot-subject-and-body-command",
    "A reply through the list to a bot mail whose subject is still the mistyped command: a subject with a reply marker was written by someone else and is not read (or every reply in the thread would run it again), so only the body's '!roster' counts; with a prefixed command there is no answer word.",
    msg(
        list_top("Thu,  5 Nov 2026 10:19:12 +0000 (UTC)", "4BskR0t6WqzbHm3")
        + f"""Message-ID: {mid}
Date: Thu, 5 Nov 2026 15:49:04 +0530
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Subject: Re: [CIP-CCG] !rostr
Content-Language: en-US
To: {LIST}
References: {priya_3} {BOT_PRIYA_3}
From: Priya Nair <priya.nair@example.org>
In-Reply-To: {BOT_PRIYA_3}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit
"""
        + list_bottom("priya.nair@example.org", mid),
        f"""!roster

On 05/11/2026 3:45 pm, rapporteur for CIP-CCG wrote:
{quote(BOT_DID_YOU_MEAN)}""",
    ),
    author="priya.nair@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!roster"],
    answers_to=[BOT_PRIYA_3],
)

# 38 ------------------------------------------------------------------------------------------
mid = "<b4f0c7e2-9a3d-4e15-86b1-2c7d5e0a9f34@example.org>"
case(
    "reply-to-bot-sentence",
    "A Thunderbird reply to the bot with only In-Reply-To (no References) and a thank-you sentence: no command and more than one word, so commands and answer are empty, but it answers a bot mail and is therefore accepted, not no-command.",
    msg(
        direct_top("kwame.mensah@example.org",
                   "smtp.example.org (smtp.example.org [198.51.100.20])",
                   "Thu,  5 Nov 2026 11:40:08 +0000 (UTC)", "4BsmF2n9XdzcVr7")
        + f"""Message-ID: {mid}
Date: Thu, 5 Nov 2026 11:40:01 +0000
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Subject: Re: [CIP-CCG] ASO seat
Content-Language: en-GB
To: rapporteur for CIP-CCG <{BOT}>
From: Kwame Mensah <kwame.mensah@example.org>
In-Reply-To: {BOT_KWAME}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit
""",
        """Thanks, that is what I needed.

Kwame

On 05/11/2026 11:30, rapporteur for CIP-CCG wrote:
> ASO (Address Supporting Organization) in CIP-CCG
> Members: 1 of 1 seat: Kwame Mensah.
""",
    ),
    author="kwame.mensah@example.org",
    message_id=mid,
    answers_to=[BOT_KWAME],
)

# 39 ------------------------------------------------------------------------------------------
mid = "<3a9f6c1e4b7d42e08f5a2c9d6e1b3f70@PAXPR08MB6941.eurprd08.prod.outlook.com>"
case(
    "auto-reply-vacation",
    "An Exchange out-of-office reply to a bot mail (Auto-Submitted: auto-replied): ignored as automatic although it answers a bot mail (answers_to is still reported); it has no command and its text is more than one word, so no answer either.",
    msg(
        direct_top("sophie.martin@example.org",
                   "EUR05-DB8-obe.outbound.protection.outlook.com (mail-db8eur05on2062.outbound.protection.outlook.com [40.107.20.62])",
                   "Tue, 10 Nov 2026 08:00:19 +0000 (UTC)", "4BvZ1kT7mHz4qLs")
        + f"""From: Sophie Martin <sophie.martin@example.org>
To: rapporteur for CIP-CCG <{BOT}>
Subject: Automatic reply: Re: [CIP-CCG] !whoami
Thread-Topic: Re: [CIP-CCG] !whoami
Thread-Index: AQHcUtE5aYp2Lq0Wd8Rz3Tb6Nc1Mk4Xv
Date: Tue, 10 Nov 2026 08:00:14 +0000
Message-ID: {mid}
References: {BOT_SOPHIE_OOF}
In-Reply-To: {BOT_SOPHIE_OOF}
Auto-Submitted: auto-replied
X-MS-Has-Attach:
X-Auto-Response-Suppress: All
X-MS-Exchange-Inbox-Rules-Loop: sophie.martin@example.org
X-MS-TNEF-Correlator:
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable
MIME-Version: 1.0
""",
        qp("""I am out of the office until Monday 16 November with limited access to email.
For anything urgent about CIP-CCG please write to Nadia Haddad (nadia.haddad@example.org).

Sophie Martin
"""),
    ),
    outcome="ignored",
    reason="automatic",
    author="sophie.martin@example.org",
    message_id=mid,
    answers_to=[BOT_SOPHIE_OOF],
)

# 40 ------------------------------------------------------------------------------------------
mid = "<20261106000001.2718281@ops.example.org>"
case(
    "auto-generated-ping",
    "A monitoring script that mails '!ping' every night with Auto-Submitted: auto-generated: automatic mail is ignored even though the subject and the body each hold '!ping', which extraction still lists.",
    msg(
        direct_top("monitor@ops.example.org",
                   "ops.example.org (ops.example.org [198.51.100.31])",
                   "Fri,  6 Nov 2026 00:00:02 +0000 (UTC)", "4Bt0Fm6pKwzbRs8")
        + f"""From: CIP-CCG bot monitor <monitor@ops.example.org>
To: {BOT}
Subject: !ping
Date: Fri, 06 Nov 2026 00:00:01 +0000
Message-ID: {mid}
Auto-Submitted: auto-generated
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit
""",
        """!ping
""",
    ),
    outcome="ignored",
    reason="automatic",
    author="monitor@ops.example.org",
    message_id=mid,
    commands=["!ping", "!ping"],
)

# 41 ------------------------------------------------------------------------------------------
mid = "<8d2b6f0e1a4c93b7d5e0f2a1c8b9d6e4@webmail.example.org>"
case(
    "auto-submitted-no",
    "A human message from Roundcube that carries an explicit 'Auto-Submitted: no': that value means not automatic, so the message is accepted and '!help' is read.",
    msg(
        list_top("Fri,  6 Nov 2026 07:44:51 +0000 (UTC)", "4Bt8Xz1hCqz5mPw")
        + f"""MIME-Version: 1.0
Date: Fri, 06 Nov 2026 08:44:43 +0100
From: Ingrid Halvorsen <ingrid.halvorsen@example.org>
To: {LIST}
Subject: [CIP-CCG] Commands?
Message-ID: {mid}
X-Sender: ingrid.halvorsen@example.org
User-Agent: Roundcube Webmail/1.6.11
Auto-Submitted: no
Content-Type: text/plain; charset=US-ASCII;
 format=flowed
Content-Transfer-Encoding: 7bit
"""
        + list_bottom("ingrid.halvorsen@example.org", mid),
        """Which commands does the bot know?

!help

Ingrid
""",
    ),
    author="ingrid.halvorsen@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!help"],
)

# 42 ------------------------------------------------------------------------------------------
mid = "<20261112160004.4Bw9Kp2fLmz7QxR@mx.example.net>"
boundary = "4Bw9Kp2fLmz7QxR.1794499204/mx.example.net"
case(
    "bounce-postfix",
    "A Postfix bounce of a bot mail (multipart/report from MAILER-DAEMON, Return-Path <>, Auto-Submitted: auto-replied): several automatic-mail checks match and the most specific, multipart/report, is checked first, so the reason is 'bounce'; its notification text has no command.",
    msg(
        f"""Return-Path: <>
Delivered-To: rapporteur@lists.example.org
Received: from mx.example.net (mx.example.net [192.0.2.44])
\tby mx.lists.example.org (Postfix) with ESMTPS id 4Bw9Kq0bTcz2yNd
\tfor <rapporteur@lists.example.org>; Thu, 12 Nov 2026 16:00:05 +0000 (UTC)
Received: by mx.example.net (Postfix)
\tid 4Bw9Kp2fLmz7QxR; Thu, 12 Nov 2026 16:00:04 +0000 (UTC)
Date: Thu, 12 Nov 2026 16:00:04 +0000 (UTC)
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {BOT}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"
Content-Transfer-Encoding: 8bit
Message-Id: {mid}
""",
        f"""This is a MIME-encapsulated message.

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mx.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<old.observer@example.net>: host mail.example.net[192.0.2.45] said: 550 5.1.1
    <old.observer@example.net>: Recipient address rejected: User unknown in
    virtual mailbox table (in reply to RCPT TO command)

--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
X-Postfix-Queue-ID: 4Bw9Kp2fLmz7QxR
X-Postfix-Sender: rfc822; rapporteur@lists.example.org
Arrival-Date: Thu, 12 Nov 2026 16:00:03 +0000 (UTC)

Final-Recipient: rfc822; old.observer@example.net
Original-Recipient: rfc822;old.observer@example.net
Action: failed
Status: 5.1.1
Remote-MTA: dns; mail.example.net
Diagnostic-Code: smtp; 550 5.1.1 <old.observer@example.net>: Recipient address
    rejected: User unknown in virtual mailbox table

--{boundary}
Content-Description: Undelivered Message
Content-Type: message/rfc822
Content-Transfer-Encoding: 8bit

Return-Path: <rapporteur@lists.example.org>
From: rapporteur for CIP-CCG <{BOT}>
To: old.observer@example.net
Subject: Re: [CIP-CCG] !roster
Date: Thu, 12 Nov 2026 16:00:01 +0000
Message-ID: {BOT_BOUNCED}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

You wrote:
!roster

CIP-CCG (Continuous Improvement Program Community Coordination Group)
22 organizations; 20 of 22 seats filled, 2 vacant.

--{boundary}--
""",
    ),
    outcome="ignored",
    reason="bounce",
    author="MAILER-DAEMON@mx.example.net",
    message_id=mid,
)

# 43 ------------------------------------------------------------------------------------------
case(
    "bounce-qmail-mailer-daemon",
    "A qmail bounce: plain text (not multipart/report), no Auto-Submitted and no Message-ID, from MAILER-DAEMON with Return-Path <>: ignored as mailer-daemon; the returned copy's 'From:/To:/Subject:/Date:' block ends the authored text, so its '!roster' line is not extracted.",
    msg(
        f"""Return-Path: <>
Delivered-To: rapporteur@lists.example.org
Received: from mail.example.com (mail.example.com [192.0.2.80])
\tby mx.lists.example.org (Postfix) with SMTP id 4Bw9Lb5nQrz3fTk
\tfor <rapporteur@lists.example.org>; Thu, 12 Nov 2026 16:00:09 +0000 (UTC)
Date: 12 Nov 2026 16:00:07 -0000
From: MAILER-DAEMON@mail.example.com
To: {BOT}
Subject: failure notice
""",
        f"""Hi. This is the qmail-send program at mail.example.com.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<former.member@example.com>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Return-Path: <rapporteur@lists.example.org>
Received: from mx.lists.example.org (mx.lists.example.org [192.0.2.25])
  by mail.example.com (qmail) with ESMTPS id 8812
  for <former.member@example.com>; 12 Nov 2026 16:00:06 -0000
From: rapporteur for CIP-CCG <{BOT}>
To: former.member@example.com
Subject: Re: [CIP-CCG] !roster
Date: Thu, 12 Nov 2026 16:00:01 +0000
Message-ID: <cip-ccg.20261112T160001Z.3b7d9e06.2a928b08f11d70828fd7@rapporteur.localhost>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

You wrote:
!roster

CIP-CCG (Continuous Improvement Program Community Coordination Group)
22 organizations; 20 of 22 seats filled, 2 vacant.
""",
    ),
    outcome="ignored",
    reason="mailer-daemon",
    author="MAILER-DAEMON@mail.example.com",
)

# 44 ------------------------------------------------------------------------------------------
mid = "<9c2e4a7f-1b3d-4e58-a6c0-8f2d1b7e3a95@DM6PR11MB4593.namprd11.prod.outlook.com>"
boundary = "_9c2e4a7f-1b3d-4e58-a6c0-8f2d1b7e3a95_"
case(
    "bounce-exchange-ndr",
    "An Exchange non-delivery report (multipart/report; report-type=delivery-status) stored without Return-Path and without Auto-Submitted, from a MicrosoftExchange... address: only the multipart/report check matches, so the reason is 'bounce'; its In-Reply-To still names the bot mail.",
    msg(
        f"""Received: from DM6PR11MB4593.namprd11.prod.outlook.com ([fe80::1c4e:72ab:9d3f:5e10])
 by DM6PR11MB4593.namprd11.prod.outlook.com ([fe80::1c4e:72ab:9d3f:5e10%4]) with
 mapi id 15.20.9253.012; Thu, 12 Nov 2026 16:00:12 +0000
From: Microsoft Outlook
\t<MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.net>
To: <{BOT}>
Date: Thu, 12 Nov 2026 16:00:12 +0000
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"
X-MS-Exchange-Message-Is-Ndr:
Content-Language: en-US
Message-ID: {mid}
In-Reply-To: {BOT_BOUNCED}
References: {BOT_BOUNCED}
Subject: Undeliverable: Re: [CIP-CCG] !roster
MIME-Version: 1.0
""",
        f"""--{boundary}
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

{qp('''Your message to observer@example.net couldn't be delivered.

observer wasn't found at example.net.

rapporteur   Office 365   observer
Action Required           Recipient

Unknown To address

How to Fix It
The address may be misspelled or may not exist.
''')}
--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns;DM6PR11MB4593.namprd11.prod.outlook.com
Received-From-MTA: dns;mx.lists.example.org
Arrival-Date: Thu, 12 Nov 2026 16:00:11 +0000

Final-Recipient: rfc822;observer@example.net
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup

--{boundary}
Content-Type: text/rfc822-headers

Return-Path: <rapporteur@lists.example.org>
From: rapporteur for CIP-CCG <{BOT}>
To: observer@example.net
Subject: Re: [CIP-CCG] !roster
Date: Thu, 12 Nov 2026 16:00:01 +0000
Message-ID: {BOT_BOUNCED}

--{boundary}--
""",
    ),
    outcome="ignored",
    reason="bounce",
    author="MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.net",
    message_id=mid,
    answers_to=[BOT_BOUNCED],
)

# 45 ------------------------------------------------------------------------------------------
mid = "<cip-ccg.20261103T184821Z.5a7c2e90.9b377730a8fd49c623e5@rapporteur.localhost>"
case(
    "own-message-by-message-id",
    "The bot's own reply coming back through the list, recognised by its Message-ID, whose tag only the bot's secret makes (it carries no X-Rapporteur-Origin): ignored as own-message; the command it answers is in a '>' quote, so none is extracted.",
    msg(
        list_top("Tue,  3 Nov 2026 18:48:24 +0000 (UTC)", "4BrYNt0aXcz1vBq")
        + f"""From: rapporteur for CIP-CCG <{BOT}>
To: {LIST}
Subject: Re: {ANA_SUBJECT}
Date: Tue, 03 Nov 2026 18:48:21 +0000
Message-ID: {mid}
In-Reply-To: {SOPHIE_04}
References: {ANA_ID} {SOPHIE_04}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit
"""
        + list_bottom("rapporteur@lists.example.org", mid),
        """RrSG (Registrar Stakeholder Group) in CIP-CCG
Members: 1 of 1 seat: Sophie Martin.

On Tue, 3 Nov 2026 at 18:48, Sophie Martin <sophie.martin@example.org> wrote:
> !roster RrSG
""",
    ),
    outcome="ignored",
    reason="own-message",
    author="rapporteur@lists.example.org",
    list_id=LIST_ID,
    message_id=mid,
)

# 46 ------------------------------------------------------------------------------------------
mid = "<176245.8812.1794045600@lists.example.org>"
case(
    "own-message-by-origin-header",
    "A bot mail whose Message-ID was assigned by the submission server (lists.example.org, not rapporteur.localhost) but that carries X-Rapporteur-Origin with its tagged key: recognised by that header and ignored as own-message, although its first line is a command line, which extraction lists.",
    msg(
        list_top("Sat,  7 Nov 2026 08:00:04 +0000 (UTC)", "4BtnM1c5VqzdKw9")
        + f"""From: rapporteur for CIP-CCG <{BOT}>
To: {LIST}
Subject: [CIP-CCG] Weekly roster
Date: Sat, 07 Nov 2026 08:00:00 +0000
Message-ID: {mid}
X-Rapporteur-Origin: cip-ccg.20261107T080000Z.7f3e1a20.1eee36c27c17e675f72b
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit
"""
        + list_bottom("rapporteur@lists.example.org", mid),
        """!roster, as posted every Saturday:

CIP-CCG (Continuous Improvement Program Community Coordination Group)
22 organizations; 20 of 22 seats filled, 2 vacant.
- NPOC: 0 of 1 seat: vacant
- NomCom: 0 of 1 seat: vacant
Chair: Ana Lima.
Rapporteur: Mei Chen.
Staff: Nadia Haddad.
""",
    ),
    outcome="ignored",
    reason="own-message",
    author="rapporteur@lists.example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!roster, as posted every Saturday:"],
)

# 47 ------------------------------------------------------------------------------------------
mid = "<0100019a5e2b7c41-3f8d2e6a-9b1c-4d7e-a0f5-2c8b6d4e1a93-000000@email.news.example.com>"
boundary = "----=_Part_2718281_828459045.1794049200000"
plain = """DNS Weekly -- 7 November 2026

!!! Early-bird registration for DNS Summit 2027 closes Friday !!!

In this issue:
- Root zone KSK rollover: what operators should check
- Registry data: the new RDAP profile
- Opinion: why "bulk" is not a dirty word

Read online: https://news.example.com/issues/2026-11-07

You receive this because rapporteur@lists.example.org subscribed to DNS Weekly.
Unsubscribe: https://news.example.com/u/8c1f2e7a
"""
html = (
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>DNS Weekly</title></head><body>"
    "<table role=\"presentation\" width=\"100%\"><tr><td><h1>DNS Weekly &mdash; 7 November 2026</h1>"
    "<p><strong>!!! Early-bird registration for DNS Summit 2027 closes Friday !!!</strong></p>"
    "<ul><li>Root zone KSK rollover: what operators should check</li>"
    "<li>Registry data: the new RDAP profile</li><li>Opinion: why &ldquo;bulk&rdquo; is not a dirty word</li></ul>"
    "<p><a href=\"https://news.example.com/issues/2026-11-07\">Read online</a> &middot; "
    "<a href=\"https://news.example.com/u/8c1f2e7a\">Unsubscribe</a></p></td></tr></table></body></html>\n"
)
case(
    "bulk-newsletter",
    "A newsletter with Precedence: bulk and its own List-Id: no line starts with '!' followed by a letter ('!!! Early-bird ...' does not), so it is ignored as bulk; list_id is the newsletter's.",
    msg(
        direct_top("0100019a5e2b7c41-3f8d2e6a-9b1c-4d7e-a0f5-2c8b6d4e1a93-000000@bounce.news.example.com",
                   "a9-12.smtp-out.news.example.com (a9-12.smtp-out.news.example.com [198.51.100.112])",
                   "Sat,  7 Nov 2026 09:40:03 +0000 (UTC)", "4BtqZb8rLtz6mDn")
        + f"""DKIM-Signature: v=1; a=rsa-sha256; q=dns/txt; c=relaxed/simple;
\ts=nl2026; d=news.example.com; t=1794044400;
\th=From:To:Subject:MIME-Version:Content-Type:Message-ID:Date:List-Unsubscribe:List-Unsubscribe-Post;
\tbh=p1Q9m8xR2v6KfT0zW3cY5nL7hB4dJ8sA1eG6uO2iV9k=;
\tb=V3kP9xQ2mR7zT1wY5nL8cB4hF6dJ0sA3eG9uO1iK2rN5vX8bC7zQ4tY1hW6jS3pL0fD9gE2nR5uA8mV1x
From: DNS Weekly <newsletter@news.example.com>
To: {BOT}
Subject: DNS Weekly: KSK rollover, RDAP, and the summit
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="{boundary}"
Message-ID: {mid}
Date: Sat, 7 Nov 2026 09:40:00 +0000
Precedence: bulk
List-Id: DNS Weekly <dnsweekly.news.example.com>
List-Unsubscribe: <https://news.example.com/u/8c1f2e7a>, <mailto:unsubscribe@news.example.com?subject=8c1f2e7a>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
Feedback-ID: 1.us-east-1.newsletter:dnsweekly
""",
        f"""--{boundary}
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 7bit

{plain}
--{boundary}
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

{qp(html)}
--{boundary}--
""",
    ),
    outcome="ignored",
    reason="bulk",
    author="newsletter@news.example.com",
    list_id="dnsweekly.news.example.com",
    message_id=mid,
)


# 48 ------------------------------------------------------------------------------------------
def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


pixels = b"".join(b"\x00" + stream(f"48-row-{y}", 48 * 3) for y in range(48))
png = (b"\x89PNG\r\n\x1a\n"
       + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 48, 48, 8, 2, 0, 0, 0))
       + png_chunk(b"IDAT", zlib.compress(pixels, 9))
       + png_chunk(b"IEND", b""))
case(
    "not-mail-png",
    "A PNG image dropped into the mailbox instead of a message: no header block and no From, so it is quarantined as unparseable and nothing is reported.",
    png,
    outcome="quarantined",
    reason="unparseable",
)

# 49 ------------------------------------------------------------------------------------------
case(
    "empty-file",
    "An empty file (0 bytes): no header block at all, so it is quarantined as unparseable.",
    b"",
    outcome="quarantined",
    reason="unparseable",
)

# 50 ------------------------------------------------------------------------------------------
case(
    "plain-text-not-mail",
    "A text file of meeting notes saved into the mailbox: its first line is not a header field, so there is no usable header block and no From; quarantined as unparseable, and its '!roster' line is not a command.",
    enc("""CIP-CCG call, 4 November 2026 -- notes

Present: Ana, Mei, Nadia, Kwame, Sophie
Action: staff to post the output of
!roster
to the list before the next call.
"""),
    outcome="quarantined",
    reason="unparseable",
)

# 51 ------------------------------------------------------------------------------------------
mid = "<20261106120301.4411@cron.example.org>"
case(
    "no-from-header",
    "A message with a proper header block but no From (and no Sender) at all: quarantined as unparseable, so its '!ping' subject and body are not extracted; the Message-ID is still reported.",
    msg(
        direct_top("root@cron.example.org",
                   "cron.example.org (cron.example.org [198.51.100.40])",
                   "Fri,  6 Nov 2026 12:03:04 +0000 (UTC)", "4BtGYv2kWpz8nXc")
        + f"""To: {BOT}
Subject: !ping
Date: Fri, 06 Nov 2026 12:03:01 +0000
Message-ID: {mid}
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii
""",
        """!ping
""",
    ),
    outcome="quarantined",
    reason="unparseable",
    message_id=mid,
)

# 52 ------------------------------------------------------------------------------------------
mid = "<61e8d4b2-7c09-4f3a-8d25-b1e6a9c0f7d4@example.org>"
case(
    "quoted-argument-and-indented-command",
    "Commands with arguments kept exactly as written: '!whoami \"Ana Lima\"' with a quoted argument, and an indented '!whoami mei.chen@example.org' whose leading whitespace is trimmed.",
    msg(
        list_top("Fri,  6 Nov 2026 16:20:47 +0000 (UTC)", "4BtKvN7pRmz2cWd")
        + f"""Message-ID: {mid}
Date: Fri, 6 Nov 2026 08:20:39 -0800
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: en-US
To: {LIST}
From: Nadia Haddad <nadia.haddad@example.org>
Subject: [CIP-CCG] Checking two entries
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit
"""
        + list_bottom("nadia.haddad@example.org", mid),
        """Checking the chair's and the rapporteur's entries before the report goes\x20
out:

!whoami "Ana Lima"
    !whoami mei.chen@example.org

Nadia
""",
    ),
    author="nadia.haddad@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=['!whoami "Ana Lima"', "!whoami mei.chen@example.org"],
)

# 53 ------------------------------------------------------------------------------------------
mid = "<BY5PR17MB3987E1F2A3B4C5D6E7F8A9B0C1D2E3F4A5@BY5PR17MB3987.namprd17.prod.outlook.com>"
boundary = "_000_BY5PR17MB3987E1F2A3B4C5D6E7F8A9B0C1D2E3F4A5BY5PR17MB3987namp_"
plain = """!whoami “Mei Chen”

Ana
"""
html = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>'
    '<body dir="ltr"><div class="elementToProof">!whoami “Mei Chen”</div>'
    '<div class="elementToProof"><br></div><div class="elementToProof">Ana</div></body></html>\n'
)
case(
    "outlook-smart-quotes-argument",
    "Outlook turned the straight quotes of the argument into smart quotes (UTF-8 quoted-printable): the command is extracted exactly as written, '!whoami “Mei Chen”'; interpreting the quotes is the command parser's job.",
    msg(
        list_top("Fri,  6 Nov 2026 17:30:21 +0000 (UTC)", "4BtMT05gHqz7rBv")
        + f"""From: Ana Lima <ana.lima@example.org>
To: "{LIST}" <{LIST}>
Subject: [CIP-CCG] Rapporteur entry
Thread-Topic: [CIP-CCG] Rapporteur entry
Thread-Index: AdxPUv2Gn3Kq0Wd8Rz3Tb6Nc1Mk4XA==
Date: Fri, 6 Nov 2026 17:30:14 +0000
Message-ID: {mid}
Accept-Language: en-US, pt-BR
Content-Language: en-US
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
Content-Type: multipart/alternative;
\tboundary="{boundary}"
MIME-Version: 1.0
"""
        + list_bottom("ana.lima@example.org", mid),
        f"""--{boundary}
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

{qp(plain)}
--{boundary}
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

{qp(html)}
--{boundary}--
""",
    ),
    author="ana.lima@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!whoami “Mei Chen”"],
)

# 54 ------------------------------------------------------------------------------------------
mid = "<5c3a9e1f-0b7d-4628-a4f2-e8d1c6b0a973@EXAMPLE.ORG>"
case(
    "uppercase-from-address",
    "A From address written in capitals (Lucas.Moreau@EXAMPLE.ORG): the domain is lower-cased and the local part kept as written (only the receiving domain may fold it), Lucas.Moreau@example.org; the commands keep the author's capitalisation ('!Roster CSG', '!WHOAMI') and the Message-ID is kept as written.",
    msg(
        list_top("Sat,  7 Nov 2026 10:05:33 +0000 (UTC)", "4BtrB3xWnDz5kMf")
        + f"""Message-ID: {mid}
Date: Sat, 7 Nov 2026 11:05:26 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: fr
To: {LIST}
From: Lucas Moreau <Lucas.Moreau@EXAMPLE.ORG>
Subject: [CIP-CCG] CSG
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit
"""
        + list_bottom("Lucas.Moreau@EXAMPLE.ORG", mid),
        """!Roster CSG
!WHOAMI

Lucas
""",
    ),
    author="Lucas.Moreau@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!Roster CSG", "!WHOAMI"],
)

# 55 ------------------------------------------------------------------------------------------
mid = "<CAJr3Vx7Nq1Km5Lz8Pt2Yb6Hw0Gd4Fc9Ej3Ua7Ko2Wi5Qs8Xn@mail.gmail.com>"
case(
    "unknown-sender-gmail",
    "A Gmail message straight to the bot from an address the group file does not list: still accepted with author dmitri.volkov@gmail.com (roster identification happens later), and both commands are read.",
    msg(
        direct_top("dmitri.volkov@gmail.com",
                   "mail-lf1-f49.google.com (mail-lf1-f49.google.com [209.85.167.49])",
                   "Sat,  7 Nov 2026 13:14:40 +0000 (UTC)", "4BtwNd0rKcz9hTq")
        + gmail_dkim("gmail.com", 1794057272, "55")
        + f"""X-Gm-Message-State: AOJu0YxK3vP8qR2mZ7tW1nL5cB9hF4dJ6sA0eG3uO8iV2kN7xQ5z
MIME-Version: 1.0
From: Dmitri Volkov <dmitri.volkov@gmail.com>
Date: Sat, 7 Nov 2026 16:14:32 +0300
Message-ID: {mid}
Subject: Hello bot
To: {BOT}
Content-Type: multipart/alternative; boundary="00000000000091d3f70640d5e2a8"
""",
        """--00000000000091d3f70640d5e2a8
Content-Type: text/plain; charset="UTF-8"

Hello, I was told this address answers questions about CIP-CCG.

!whoami
!help

Dmitri

--00000000000091d3f70640d5e2a8
Content-Type: text/html; charset="UTF-8"

<div dir="ltr">Hello, I was told this address answers questions about CIP-CCG.<div><br></div><div>!whoami</div><div>!help</div><div><br></div><div>Dmitri</div></div>

--00000000000091d3f70640d5e2a8--
""",
    ),
    author="dmitri.volkov@gmail.com",
    message_id=mid,
    commands=["!whoami", "!help"],
)

# 56 ------------------------------------------------------------------------------------------
mid = "<a2f7c9e4-6b1d-4083-9e5a-c7d2b0f8e146@example.org>"
case(
    "more-than-ten-commands",
    "A subject command plus eleven body command lines: the subject's '!ping' comes first and all twelve are passed on; the core carries out the first 10 and tells the author the last two ('!roster NCSG', '!roster BC') were not read.",
    msg(
        list_top("Sat,  7 Nov 2026 02:33:18 +0000 (UTC)", "4BtgHp5tQxz1dNr")
        + f"""Message-ID: {mid}
Date: Sat, 7 Nov 2026 10:33:10 +0800
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: en-US
To: {LIST}
From: Mei Chen <mei.chen@example.org>
Subject: [CIP-CCG] !ping
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit
"""
        + list_bottom("mei.chen@example.org", mid),
        """Collecting everything for the annex in one go:

!whoami
!roster
!roster ALAC
!roster GAC
!roster SSAC
!help
!help roster
!help whoami
!ping
!roster NCSG
!roster BC

Mei
""",
    ),
    author="mei.chen@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!ping", "!whoami", "!roster", "!roster ALAC", "!roster GAC", "!roster SSAC",
              "!help", "!help roster", "!help whoami", "!ping", "!roster NCSG", "!roster BC"],
)

# 57 ------------------------------------------------------------------------------------------
mid = "<000c01dc5185$1f2e3d40$5d8cb7c0$@example.org>"
case(
    "subject-prefixes-and-folding",
    "A folded Subject 'RE: Fwd: [CIP-CCG] Aw: [EXTERNAL]' + CRLF + ' !roster ALAC': after unfolding and stripping the mixed prefixes and tags it starts with '!', but its reply markers show it was written by someone else, so only the body's '!whoami' is read.",
    msg(
        list_top("Sun,  8 Nov 2026 06:12:55 +0000 (UTC)", "4BvMkQ2wRfz8tGx")
        + f"""From: "Rahul Deshpande" <rahul.deshpande@example.org>
To: <{LIST}>
Subject: RE: Fwd: [CIP-CCG] Aw: [EXTERNAL]
 !roster ALAC
Date: Sun, 8 Nov 2026 11:42:48 +0530
Message-ID: {mid}
MIME-Version: 1.0
Content-Type: text/plain;
\tcharset="us-ascii"
Content-Transfer-Encoding: 7bit
X-Mailer: Microsoft Outlook 16.0
Thread-Index: AdxRhR8uPz2Kq0Wd8Rz3Tb6Nc1Mk4Q==
Content-Language: en-in
"""
        + list_bottom("rahul.deshpande@example.org", mid),
        """Sending this again, the first one seems to have been lost on the way.

!whoami

Rahul
""",
    ),
    author="rahul.deshpande@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=["!whoami"],
)

# 58 ------------------------------------------------------------------------------------------
ingrid_1 = "<1f4b7e2a-9c3d-4e61-b8a5-d0c2f6e9a174@example.org>"
mid = "<47c0e9b3-2a5f-4d18-9b6e-f3a1c8d2e705@example.org>"
case(
    "subject-sv-prefix",
    "A Norwegian Thunderbird reply with Subject 'Sv: Sv: [CIP-CCG] !roster ccNSO': the 'Sv:' reply markers show the subject is not the author's, so it is not read; the '!roster' under the unrecognised attribution 'Den ... skrev Ana Lima:' is a '>' line and not authored either; a list post (Precedence: list) without a command is ignored as bulk.",
    msg(
        list_top("Sun,  8 Nov 2026 09:27:40 +0000 (UTC)", "4BvS3y7mLdz0pVc")
        + f"""Message-ID: {mid}
Date: Sun, 8 Nov 2026 10:27:33 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Subject: Sv: Sv: [CIP-CCG] !roster ccNSO
Content-Language: nb
To: {LIST}
References: {ingrid_1}
From: Ingrid Halvorsen <ingrid.halvorsen@example.org>
In-Reply-To: {ingrid_1}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit
"""
        + list_bottom("ingrid.halvorsen@example.org", mid),
        """Takk, Ana! Sender den på nytt, så boten får den med seg.

Ingrid

Den 07.11.2026 19:02, skrev Ana Lima:
> Ingrid, I think the bot missed this one. Could you send it again?
> !roster
""",
    ),
    author="ingrid.halvorsen@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=[],
    outcome="ignored",
    reason="bulk",
)

# 59 ------------------------------------------------------------------------------------------
mid = "<9e3c1a7f-5d2b-4f80-a6e4-0b8c2d9f1e57@example.org>"
case(
    "almost-commands-direct",
    "Lines that look like commands but are not (a space after '!', '!!roster', '!2026', a command mid-line or in brackets, a full-width '！roster') and a subject with '!roster' not at its start: no command, not a reply to the bot and no Precedence, so ignored as no-command.",
    msg(
        direct_top("amani.njoroge@example.org",
                   "smtp.example.org (smtp.example.org [198.51.100.20])",
                   "Sun,  8 Nov 2026 14:50:12 +0000 (UTC)", "4BvbCq6nWtz3kHs")
        + f"""Message-ID: {mid}
Date: Sun, 8 Nov 2026 17:50:05 +0300
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: en-US
To: rapporteur for CIP-CCG <{BOT}>
From: Amani Njoroge <amani.njoroge@example.org>
Subject: Question about !roster
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit
""",
        """Hello,

Before I try it on the list: which of these is right?

! roster
!!roster
!2026 roster
Please run !roster for me
(!roster)
！roster

Amani
""",
    ),
    outcome="ignored",
    reason="no-command",
    author="amani.njoroge@example.org",
    message_id=mid,
)

# 60 ------------------------------------------------------------------------------------------
BOT_MOUSSA = "<cip-ccg.20261109T101530Z.6e0b4f27.b1a373974a52a7df34ff@rapporteur.localhost>"
moussa_1 = "<CAF3k9wQz7Lx2Nc5Rv8Tb1Yk4Hm0Gs3Fd6Ej9Ua2Ko5Wi8Qn1B@mail.gmail.com>"
mid = "<0d6f2b8e-3a91-4c57-b0e4-7f1a9c2d5e83@example.org>"
case(
    "reply-to-bot-bare-word-via-list",
    "A bare-word answer to a bot mail sent through the list, so with Precedence: list: an answer to the bot counts as a command for the bulk check, so it is accepted with answer = 'roster' rather than ignored as bulk.",
    msg(
        list_top("Mon,  9 Nov 2026 10:21:07 +0000 (UTC)", "4BvtWf3kHqz6pNm")
        + f"""Message-ID: {mid}
Date: Mon, 9 Nov 2026 10:20:59 +0000
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Subject: Re: [CIP-CCG] AFRALO seat
Content-Language: fr
To: {LIST}
References: {moussa_1} {BOT_MOUSSA}
From: Moussa Diallo <moussa.diallo@example.org>
In-Reply-To: {BOT_MOUSSA}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit
"""
        + list_bottom("moussa.diallo@example.org", mid),
        """roster

On 09/11/2026 10:15, rapporteur for CIP-CCG wrote:
> There is no command `!roaster`. Did you mean `!roster`?
> Reply to this message with the single word roster to run it, or type
> `!help` for the list of commands.
""",
    ),
    author="moussa.diallo@example.org",
    list_id=LIST_ID,
    message_id=mid,
    answer="roster",
    answers_to=[BOT_MOUSSA],
)

# 61 ------------------------------------------------------------------------------------------
BOT_KWAME_LIST = "<cip-ccg.20261109T143005Z.d85a1c3e.7bc20fdcd142046b8f0d@rapporteur.localhost>"
mid = "<e7a3c1f9-8b24-4d06-9a5e-2c0f6b1d8e4a@example.org>"
case(
    "reply-to-bot-thanks-via-list",
    "A thank-you to a bot mail sent through the list (Precedence: list) with no command and more than a bare word: answering the bot only exempts a message from no-command, not from the Precedence check, so it is ignored as bulk; answers_to is still reported.",
    msg(
        list_top("Mon,  9 Nov 2026 14:41:52 +0000 (UTC)", "4Bw0Rk8tLcz2mQv")
        + f"""Message-ID: {mid}
Date: Mon, 9 Nov 2026 14:41:45 +0000
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Subject: Re: [CIP-CCG] ASO seat
Content-Language: en-GB
To: {LIST}
References: {BOT_KWAME_LIST}
From: Kwame Mensah <kwame.mensah@example.org>
In-Reply-To: {BOT_KWAME_LIST}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit
"""
        + list_bottom("kwame.mensah@example.org", mid),
        """Thanks, all correct now.

Kwame

On 09/11/2026 14:30, rapporteur for CIP-CCG wrote:
> ASO (Address Supporting Organization) in CIP-CCG
> Members: 1 of 1 seat: Kwame Mensah.
""",
    ),
    outcome="ignored",
    reason="bulk",
    author="kwame.mensah@example.org",
    list_id=LIST_ID,
    message_id=mid,
    answers_to=[BOT_KWAME_LIST],
)


# Forgeries of a list's rewritten author (issue 10, items 1 and 4) --------------------------------

EVE_TOP = direct_top("eve@evil.example",
                     "mail.evil.example (mail.evil.example [203.0.113.9])",
                     "Thu, 26 Nov 2026 09:00:02 +0000 (UTC)", "4Cz1Ev3FgHz9aAa")

mid = "<forged-via-1@evil.example>"
case(
    "forged-via-name-direct",
    "Sent straight to the bot, not through the list: From 'Ana Lima via CIP-CCG' <eve@evil.example> with X-Original-From and Reply-To naming a member. A ' via ' display name proves nothing and only mail from the list's own address can carry a rewritten author, so the author is the From address, eve@evil.example, and she is answered as the stranger she is.",
    msg(
        EVE_TOP
        + f"""Message-ID: {mid}
Date: Thu, 26 Nov 2026 10:00:00 +0100
MIME-Version: 1.0
To: rapporteur@lists.example.org
Subject: Statement
From: "Ana Lima via CIP-CCG" <eve@evil.example>
Reply-To: Ana Lima <ana.lima@example.org>
X-Original-From: Ana Lima <ana.lima@example.org>
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 7bit
""",
        """!whoami
""",
    ),
    author="eve@evil.example",
    message_id=mid,
    commands=["!whoami"],
)

mid = "<forged-list-from-1@evil.example>"
case(
    "forged-list-address-from-direct",
    "Sent straight to the bot with From set to the list's address, Reply-To naming a member, list headers copied and a Received header claiming the list server written below the receiving server's real one: the topmost Received by mx.lists.example.org records mail.evil.example as the peer, so nothing vouches that the list sent it and it is kept aside as list-not-vouched.",
    msg(
        EVE_TOP
        + """Received: from mail.lists.example.org (mail.lists.example.org [192.0.2.25])
	by mx.lists.example.org (Postfix) with ESMTPS id 4Cz0Fo5RgEd1bBb
	for <rapporteur@lists.example.org>; Thu, 26 Nov 2026 08:59:00 +0000 (UTC)
"""
        + f"""Message-ID: {mid}
Date: Thu, 26 Nov 2026 10:00:00 +0100
MIME-Version: 1.0
To: {LIST}
Subject: [CIP-CCG] Statement
From: "Ana Lima via CIP-CCG" <{LIST}>
Reply-To: Ana Lima <ana.lima@example.org>
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 7bit
"""
        + list_bottom("ana.lima@example.org", mid),
        """!whoami
""",
    ),
    outcome="quarantined",
    reason="list-not-vouched",
    author=LIST,
    list_id=LIST_ID,
    message_id=mid,
)

mid = "<forged-helo-1@evil.example>"
case(
    "forged-helo-list-server",
    "Sent straight to the bot by a host that said HELO mail.lists.example.org: the receiving server wrote the peer it really saw in parentheses (mail.evil.example [203.0.113.9]), and only those words count, so the list's address in From is not believed: list-not-vouched.",
    msg(
        direct_top("cip-ccg-bounces@lists.example.org",
                   "mail.lists.example.org (mail.evil.example [203.0.113.9])",
                   "Thu, 26 Nov 2026 09:10:02 +0000 (UTC)", "4Cz1Hq3FgHz9cCc")
        + f"""Message-ID: {mid}
Date: Thu, 26 Nov 2026 10:10:00 +0100
MIME-Version: 1.0
To: {LIST}
Subject: [CIP-CCG] Statement
From: "Ana Lima via CIP-CCG" <{LIST}>
Reply-To: Ana Lima <ana.lima@example.org>
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 7bit
"""
        + list_bottom("ana.lima@example.org", mid),
        """!whoami
""",
    ),
    outcome="quarantined",
    reason="list-not-vouched",
    author=LIST,
    list_id=LIST_ID,
    message_id=mid,
)

mid = "<subscriber-reply-to-1@evil.example>"
case(
    "subscriber-adds-reply-to-through-list",
    "A subscriber, eve@evil.example, posts through the real list with her own Reply-To naming a member; the list rewrites From for DMARC and adds her address after it (Reply-To: Ana Lima, Eve), as Mailman 3 does. Reply-To names two authors, so the mail is not credited to the member: list-author-unclear.",
    msg(
        list_top("Thu, 26 Nov 2026 09:20:02 +0000 (UTC)", "4Cz1Jr3FgHz9dDd")
        + f"""Message-ID: {mid}
Date: Thu, 26 Nov 2026 10:20:00 +0100
MIME-Version: 1.0
To: {LIST}
Subject: [CIP-CCG] Statement
From: "Eve via CIP-CCG" <{LIST}>
Reply-To: Ana Lima <ana.lima@example.org>, Eve <eve@evil.example>
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 7bit
"""
        + list_bottom("eve@evil.example", mid),
        """!whoami
""",
    ),
    outcome="quarantined",
    reason="list-author-unclear",
    author=LIST,
    list_id=LIST_ID,
    message_id=mid,
)

mid = "<kelvin-sign-1@evil.example>"
case(
    "lookalike-kelvin-sign-from",
    "Sent straight to the bot from an address that begins with the Kelvin sign (U+212A), which Unicode lower-cases to the letter k: the address is kept as written, so it never becomes the member kwame.mensah@example.org (who would have been credited when addresses were Unicode lower-cased).",
    msg(
        EVE_TOP
        + f"""Message-ID: {mid}
Date: Thu, 26 Nov 2026 10:30:00 +0100
MIME-Version: 1.0
To: rapporteur@lists.example.org
Subject: Seat
From: Kwame Mensah <\u212awame.mensah@example.org>
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit
""",
        """!whoami
""",
    ),
    author="\u212awame.mensah@example.org",
    message_id=mid,
    commands=["!whoami"],
)


# ---------------------------------------------------------------------------------------------
# Writing and checking
# ---------------------------------------------------------------------------------------------

def toml_value(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def toml_text(comment: str, exp: dict) -> str:
    lines = [f"# {comment}"]
    for key in KEYS:
        lines.append(f"{key} = {toml_value(exp[key])}")
    return "\n".join(lines) + "\n"


BROKEN = {"unparseable"}


def check(name: str, raw: bytes, exp: dict, toml_path: pathlib.Path) -> None:
    parsed = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    assert list(parsed) == KEYS, (name, list(parsed))
    assert parsed == exp, name
    assert exp["outcome"] in ("accepted", "ignored", "quarantined"), name
    assert (exp["outcome"] == "accepted") == (exp["reason"] == ""), name
    if exp["outcome"] == "quarantined":
        assert exp["commands"] == [] and exp["answer"] == "", name
    assert len(exp["commands"]) <= 100, name  # COMMANDS_PER_MAIL in src/mail/examine.rs
    # The author's domain is lower case; its local part is kept as written.
    local, _, domain = exp["author"].rpartition("@")
    assert domain == domain.lower(), name
    for mid_ in exp["answers_to"]:
        assert mid_.endswith("@rapporteur.localhost>"), name
    if exp["reason"] in BROKEN:
        return
    # Every other message is a real RFC 5322 message with CRLF line endings.
    assert b"\n" not in raw.replace(b"\r\n", b""), f"{name}: bare LF"
    assert b"\r" not in raw.replace(b"\r\n", b""), f"{name}: bare CR"
    assert raw.endswith(b"\r\n"), name
    m = email.message_from_bytes(raw, policy=email.policy.default)
    assert not m.defects, (name, m.defects)
    # Raw header values (unfolded, not decoded): the strict header classes of policy.default
    # rightly refuse some of the hostile ones.
    headers = {}
    for key, value in m.raw_items():
        headers.setdefault(key.lower(), []).append(value.replace("\r\n", "").replace("\n", ""))
    assert len(headers.get("from", [])) == 1, name
    assert [v.strip() for v in headers.get("message-id", [])] == (
        [exp["message_id"]] if exp["message_id"] else []), name
    if exp["list_id"]:
        assert headers["list-id"][0].strip().endswith(f"<{exp['list_id']}>"), name
    else:
        assert "list-id" not in headers, name
    if exp["author"].isascii():
        assert exp["author"].lower() in "".join(headers["from"] + headers.get("reply-to", [])
                                                + headers.get("x-original-from", [])).lower(), name
    else:  # an 8-bit header is not decoded by the email package: look for its bytes
        assert exp["author"].encode() in raw, name
    for part in m.walk():
        assert not part.defects, (name, part.get_content_type(), part.defects)
        if part.get_content_maintype() == "text":
            part.get_content()  # decodes transfer encoding and charset
    size_ok = len(raw) <= SIZE_LIMIT
    assert size_ok == (exp["reason"] != "too-large"), name


README = """# Golden mail corpus

Generated by `tests/mail/make_corpus.py`; edit that script and rerun it rather than editing files
here (`python3 tests/mail/make_corpus.py`). Each `NN-name.eml` is a raw message exactly as the bot
would fetch it (CRLF line endings; some files are ISO-2022-JP, ISO-8859-1 8bit or not mail at
all, so they are marked `-text` in `.gitattributes`). Each `NN-name.toml` says what the mail
extractor must make of it; its first line is a comment saying why. The `read-NN-name` cases
(format=flowed, HTML read by a parser, phones' signature lines) come from
`tests/mail/make_corpus_reading.py`, which uses this script's helpers.

Fixed facts the expectations rely on:

- The group's list posts as `cip-ccg@lists.example.org` (List-Post) with List-Id
  `<cip-ccg.lists.example.org>`, list name `CIP-CCG`, and adds `Precedence: list` to every post.
- The bot's address is `rapporteur@lists.example.org`; its Message-IDs are on
  `rapporteur.localhost`, each tagged with the corpus's secret (bytes 0 to 31: see
  tests/mail_corpus.rs), and it may mark its mail with `X-Rapporteur-Origin: <key.tag>`.
- The size limit is 1 MiB: 1048576 bytes of raw message.
- The bot's receiving server is `mx.lists.example.org`. It receives the list's copies from the
  list server `mail.lists.example.org` (192.0.2.25), which the bot trusts (`receiving_host`,
  `list_server_hosts`); a post whose From the list rewrote to its own address names its author
  in Reply-To (`list_author_header`, as Mailman 3 does). A From equal to the list's address is
  believed to be the list's only when the topmost Received by `mx.lists.example.org` names the
  list server in its parentheses; such mail with a command and no single author in Reply-To is
  `list-author-unclear`, and without that Received header `list-not-vouched`. A display name
  with " via " proves nothing: mail not from the list's address is authored by its From.
- `author` is the address with its domain in lower case and its local part as written.
- Decisions are taken in this order, most specific first: too-large, unparseable (no header
  block or no From), own-message (a Message-ID or X-Rapporteur-Origin that the bot's secret tagged; see src/mail/identity.rs),
  bounce (multipart/report), automatic (Auto-Submitted other than `no`), mailer-daemon
  (From/Sender/Return-Path local part mailer-daemon or postmaster, or Return-Path `<>`), bulk
  (Precedence bulk/junk/list with neither a command nor an answer to a bot mail), no-command (no
  command and not answering a bot mail), list-not-vouched and list-author-unclear (From is the
  list's address; see above), else accepted.
- `commands` and `answer` are what extraction yields, for ignored messages too; quarantined
  messages are not read, so theirs are empty. `author`, `list_id`, `message_id` and
  `answers_to` are reported whenever there is a header block (the corpus test compares only
  outcome and reason for quarantined messages).
- The decoded Subject is one line: control characters (an encoded CR LF too) become spaces and
  runs of whitespace collapse to one space before the prefixes and tags are stripped.
"""

GITATTRIBUTES = """# Raw messages must stay byte-exact: CRLF line endings, 8bit and ISO-2022-JP bodies.
*.eml -text
"""


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "README.md").write_text(README, encoding="utf-8", newline="\n")
    (OUT / ".gitattributes").write_text(GITATTRIBUTES, encoding="utf-8", newline="\n")
    wanted = set()
    for number, (name, comment, raw, exp) in enumerate(CASES, start=1):
        stem = f"{number:02d}-{name}"
        wanted.update({f"{stem}.eml", f"{stem}.toml"})
        (OUT / f"{stem}.eml").write_bytes(raw)
        (OUT / f"{stem}.toml").write_text(toml_text(comment, exp), encoding="utf-8", newline="\n")
        check(stem, raw, exp, OUT / f"{stem}.toml")
    for path in OUT.iterdir():
        if path.suffix in (".eml", ".toml") and path.name[:2].isdigit() and path.name not in wanted:
            path.unlink()
    print(f"wrote {len(CASES)} cases to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
