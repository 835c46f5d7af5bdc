#!/usr/bin/env python3
"""Golden corpus cases for reading mail as a person reads it (issue 10, item 8): format=flowed
plain text (RFC 3676), HTML read by a real parser, and a phone's signature line under a one-word
answer. Written to tests/mail/corpus/ as `read-NN-name.eml` and `.toml`, in the format and with
the conventions of make_corpus.py (whose helpers it uses); kept apart so that the two scripts can
grow without renumbering each other's files. Run `python3 tests/mail/make_corpus_reading.py`.
"""

import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_corpus as base  # noqa: E402  (the shared helpers and conventions)
from make_corpus import (  # noqa: E402
    BOT, BOT_DID_YOU_MEAN, LIST, LIST_ID, direct_top, h, list_bottom, list_top, msg, qp, quote)

OUT = base.OUT
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


def flow(paragraph: str, width: int = 72, delsp: bool = False) -> str:
    """Wraps one long line as format=flowed writers do: each line but the last ends in a space
    (a soft break) and is at most `width` characters with it. With DelSp=yes the writer adds the
    space, so the break may fall anywhere; here it falls between words, leaving two spaces."""
    words = paragraph.split(" ")
    lines, current = [], ""
    for word in words:
        candidate = f"{current}{word} "
        if current and len(candidate) > width:
            lines.append(current + (" " if delsp else ""))
            current = f"{word} "
        else:
            current = candidate
    lines.append(current.rstrip(" "))
    return "\n".join(lines)


# Bot messages answered below.
BOT_ANA = "<cip-ccg.20261207T091500Z.5a1e7c93.75bbecbf53ee692f0a8e@rapporteur.localhost>"
BOT_OLUSEGUN = "<cip-ccg.20261207T093012Z.b84d02f6.2818929ffc060bf2944a@rapporteur.localhost>"
BOT_FATIMA = "<cip-ccg.20261207T094544Z.17c9e3a8.e738cda401c9885dde10@rapporteur.localhost>"
BOT_REQUEST = """R-4 "Budget 2027" is open for your organization's feedback.
Acknowledge by 2026-12-10 23:59 UTC; respond by 2026-12-20 23:59 UTC.
Reply to this message with ack to acknowledge it, or with support,
no-support, abstain or no-position to respond for your organization.
"""

LONG_COMMAND = (
    '!request open "Review of the draft charter of the Continuous Improvement Program '
    'Community Coordination Group" to GNSO, ccNSO, ALAC ack 2026-12-10 due 2026-12-20 doc '
    "https://community.example.org/cip-ccg/charter-review-draft-v3.pdf"
)

# read-01 ---------------------------------------------------------------------------------------
mid = "<8f2c6d1e-4b7a-4e3f-9c05-d1a2b3c4e5f6@example.org>"
case(
    "thunderbird-flowed-long-command",
    "Thunderbird 128 (format=flowed) wraps a long !request open line at 72 columns, each part ending in a space; the soft breaks are joined before commands are read, so the whole line is one command (before: only its first part, up to 'Improvement', was read and the rest lost). A space-stuffed 'From ' line loses its stuffing and the signature after '-- ' is not read.",
    msg(
        direct_top("ana.lima@example.org", "mail.example.org (mail.example.org [198.51.100.7])",
                   "Mon,  7 Dec 2026 09:20:14 +0000 (UTC)", "4C2mLq5kWtz8pNr")
        + f"""Message-ID: {mid}
Date: Mon, 7 Dec 2026 10:20:09 +0100
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: en-GB
To: rapporteur for CIP-CCG <{BOT}>
From: Ana Lima <ana.lima@example.org>
Subject: Charter review
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit
""",
        "Hello,\n\n"
        + flow("Please open the request for the charter review, as agreed on the call of "
               "3 December; the chairs of the three organizations asked for a week more than "
               "usual.")
        + "\n\n From the call: the draft is final.\n\n"
        + flow(LONG_COMMAND)
        + "\n\nThanks,\nAna\n\n-- \nAna Lima\nCIP-CCG chair\n",
    ),
    author="ana.lima@example.org",
    message_id=mid,
    commands=[LONG_COMMAND],
)

# read-02 ---------------------------------------------------------------------------------------
mid = "<5E0B7A2C-91D4-4F6E-8A3B-C2D1E0F9A8B7@example.org>"
DELSP_COMMAND = '!request open "Budget 2027" to GNSO, ccNSO, ALAC, GAC due 2026-12-20 doc https://example.org/budget-2027.pdf'
case(
    "apple-mail-flowed-delsp-command",
    "Apple Mail writes format=flowed; delsp=yes: the space before each soft break was added by the writer and is removed when the lines are joined, so the command reads as typed, with single spaces (before: cut at the first break).",
    msg(
        direct_top("ingrid.halvorsen@example.org",
                   "smtp.example.org (smtp.example.org [198.51.100.20])",
                   "Mon,  7 Dec 2026 09:41:02 +0000 (UTC)", "4C2mQs1bHvz3kLw")
        + f"""From: Ingrid Halvorsen <ingrid.halvorsen@example.org>
Content-Type: text/plain;
\tcharset=us-ascii;
\tdelsp=yes;
\tformat=flowed
Content-Transfer-Encoding: 7bit
Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3826.300.87.4.3\\))
Subject: Budget request
Message-Id: {mid}
Date: Mon, 7 Dec 2026 10:40:55 +0100
To: {BOT}
X-Mailer: Apple Mail (2.3826.300.87.4.3)
""",
        flow(DELSP_COMMAND, width=60, delsp=True) + "\n\nIngrid\n",
    ),
    author="ingrid.halvorsen@example.org",
    message_id=mid,
    commands=[DELSP_COMMAND],
)

# read-03 ---------------------------------------------------------------------------------------
mid = "<C3A1F0B2-7D64-4E19-A8C5-2B9E0D1F3A47@example.org>"
attribution = "On 7 Dec 2026, at 10:15, rapporteur for CIP-CCG <rapporteur@lists.example.org> wrote:"
plain = f"roster\n\nSent from my iPhone\n\n> {attribution}\n> \n" + quote(BOT_DID_YOU_MEAN)
html = (
    '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
    '<body dir="auto"><div dir="ltr">roster</div><div dir="ltr"><br id="lineBreakAtBeginningOfSignature">'
    '<div dir="ltr">Sent from my iPhone</div><div dir="ltr"><br><blockquote type="cite">'
    + h(attribution) + "<br><br></blockquote></div><blockquote type=\"cite\"><div dir=\"ltr\">"
    + "<br>".join(h(line) for line in BOT_DID_YOU_MEAN.rstrip("\n").split("\n"))
    + "</div></blockquote></div></body></html>\n"
)
case(
    "ios-mail-bare-word-and-signature",
    "iOS Mail answers the bot's did-you-mean mail with the one word 'roster' above its 'Sent from my iPhone' line and the quote: the signature line ends the authored text, so the answer is 'roster' (before: two authored lines, so no answer).",
    msg(
        direct_top("olusegun.adeyemi@example.org",
                   "mail.example.org (mail.example.org [198.51.100.7])",
                   "Mon,  7 Dec 2026 09:31:20 +0000 (UTC)", "4C2mN08gXbz5tRq")
        + f"""Content-Type: multipart/alternative; boundary=Apple-Mail-8B1E4C7A-2F3D-4A5B-9C6D-0E1F2A3B4C5D
Content-Transfer-Encoding: 7bit
From: Olusegun Adeyemi <olusegun.adeyemi@example.org>
Mime-Version: 1.0 (1.0)
Date: Mon, 7 Dec 2026 10:31:14 +0100
Subject: Re: [CIP-CCG] !rostr
Message-Id: {mid}
References: {BOT_OLUSEGUN}
In-Reply-To: {BOT_OLUSEGUN}
To: rapporteur for CIP-CCG <{BOT}>
X-Mailer: iPhone Mail (22B91)
""",
        f"""
--Apple-Mail-8B1E4C7A-2F3D-4A5B-9C6D-0E1F2A3B4C5D
Content-Type: text/plain;
\tcharset=utf-8
Content-Transfer-Encoding: quoted-printable

{qp(plain)}
--Apple-Mail-8B1E4C7A-2F3D-4A5B-9C6D-0E1F2A3B4C5D
Content-Type: text/html;
\tcharset=utf-8
Content-Transfer-Encoding: quoted-printable

{qp(html)}
--Apple-Mail-8B1E4C7A-2F3D-4A5B-9C6D-0E1F2A3B4C5D--
""",
    ),
    author="olusegun.adeyemi@example.org",
    message_id=mid,
    answer="roster",
    answers_to=[BOT_OLUSEGUN],
)

# read-04 ---------------------------------------------------------------------------------------
mid = "<AM9PR02MB7412C1D0E9F8A7B6C5D4E3F2A1B0C9D8@AM9PR02MB7412.eurprd02.prod.outlook.com>"
plain = (
    "ack\n\nGet Outlook for Android<https://aka.ms/AAb9ysg>\n"
    "________________________________\n"
    f"From: rapporteur for CIP-CCG <{BOT}>\n"
    "Sent: Monday, December 7, 2026 10:45:44 AM\n"
    "To: Fatima Benali <fatima.benali@example.org>\n"
    "Subject: [CIP-CCG] R-4 \"Budget 2027\": feedback requested\n\n"
    + BOT_REQUEST
)
html = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=us-ascii"></head>'
    '<body><div dir="auto">ack</div><div dir="auto"><br></div><div id="ms-outlook-mobile-signature" '
    'dir="auto">Get <a href="https://aka.ms/AAb9ysg">Outlook for Android</a></div>'
    '<hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr">'
    f'<b>From:</b> rapporteur for CIP-CCG &lt;{BOT}&gt;<br></div>'
    "<div>" + "<br>".join(h(line) for line in BOT_REQUEST.rstrip("\n").split("\n"))
    + "</div></body></html>\n"
)
case(
    "outlook-android-ack-and-signature",
    "Outlook for Android answers a request's mail with 'ack' over its 'Get Outlook for Android<link>' line and the header block of the quoted mail: the signature line ends the authored text, so the answer is 'ack' (before: no answer).",
    msg(
        direct_top("fatima.benali@example.org",
                   "EUR02-AM0-obe.outbound.protection.outlook.com (mail-am0eur02on2070.outbound.protection.outlook.com [40.107.247.70])",
                   "Mon,  7 Dec 2026 09:52:31 +0000 (UTC)", "4C2mRf6yJcz2wPt")
        + f"""From: Fatima Benali <fatima.benali@example.org>
To: rapporteur for CIP-CCG <{BOT}>
Subject: Re: [CIP-CCG] R-4 "Budget 2027": feedback requested
Thread-Topic: [CIP-CCG] R-4 "Budget 2027": feedback requested
Date: Mon, 7 Dec 2026 09:52:27 +0000
Message-ID: {mid}
References: {BOT_FATIMA}
In-Reply-To: {BOT_FATIMA}
Accept-Language: fr-FR, en-US
Content-Language: fr-FR
X-MS-Has-Attach:
Content-Type: multipart/alternative;
\tboundary="_000_AM9PR02MB7412C1D0E9F8A7B6C5D4E3F2A1B0C9D8AM9PR02MB7412eurp_"
MIME-Version: 1.0
""",
        f"""--_000_AM9PR02MB7412C1D0E9F8A7B6C5D4E3F2A1B0C9D8AM9PR02MB7412eurp_
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

{qp(plain)}
--_000_AM9PR02MB7412C1D0E9F8A7B6C5D4E3F2A1B0C9D8AM9PR02MB7412eurp_
Content-Type: text/html; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

{qp(html)}
--_000_AM9PR02MB7412C1D0E9F8A7B6C5D4E3F2A1B0C9D8AM9PR02MB7412eurp_--
""",
    ),
    author="fatima.benali@example.org",
    message_id=mid,
    answer="ack",
    answers_to=[BOT_FATIMA],
)

# read-05 ---------------------------------------------------------------------------------------
mid = "<1D2E3F40-5A6B-4C7D-8E9F-A0B1C2D3E4F5@example.org>"
attribution = "Am 07.12.2026 um 10:15 schrieb rapporteur for CIP-CCG <rapporteur@lists.example.org>:"
plain = f"Support\n\nVon meinem iPhone gesendet\n\n> {attribution}\n> \n" + quote(BOT_REQUEST)
case(
    "ios-mail-german-signature-position",
    "A German iPhone answers a request's mail with 'Support' over 'Von meinem iPhone gesendet': the translated signature ends the authored text too, so the answer is 'support'.",
    msg(
        list_top("Mon,  7 Dec 2026 10:02:40 +0000 (UTC)", "4C2mTz3nKdz7xQs")
        + f"""Content-Type: text/plain;
\tcharset=utf-8
Content-Transfer-Encoding: quoted-printable
From: Juergen Weber <juergen.weber@example.org>
Mime-Version: 1.0 (1.0)
Date: Mon, 7 Dec 2026 11:02:33 +0100
Subject: Re: [CIP-CCG] R-4 "Budget 2027": feedback requested
Message-Id: {mid}
References: {BOT_ANA}
In-Reply-To: {BOT_ANA}
To: {LIST}
X-Mailer: iPhone Mail (22B91)
"""
        + list_bottom("juergen.weber@example.org", mid),
        qp(plain),
    ),
    author="juergen.weber@example.org",
    list_id=LIST_ID,
    message_id=mid,
    answer="support",
    answers_to=[BOT_ANA],
)

# read-06 ---------------------------------------------------------------------------------------
mid = "<DB8PR02MB5961A0B1C2D3E4F5A6B7C8D9E0F1A2B3@DB8PR02MB5961.eurprd02.prod.outlook.com>"
style = ("font-family: Aptos, Aptos_EmbeddedFont, Aptos_MSFontService, Calibri, Helvetica, "
         "sans-serif; font-size: 12pt; color: rgb(0, 0, 0);")
html = (
    '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
    '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style>\n'
    '</head>\n<body dir="ltr">\n'
    f'<div class="elementToProof" style="{style}">\nHere is the current GAC entry, from the '
    "list the secretariat keeps:</div>\n"
    f'<div class="elementToProof" style="{style}">\n<img size="18244" contenteditable="false" '
    'id="image_0" data-outlook-trace="F:1|T:1" src="cid:4d1c9a80-7b3e-4f2a-9e61-0c5d8b2a7f13" '
    'alt="GAC seats -> 2 of 3" style="max-width: 24px;">!roster GAC</div>\n'
    f'<div class="elementToProof" style="{style}">\n<span title="Ctrl+Click > open">'
    "Mei</span></div>\n"
    '<div style="display:none" class="x_preheader">\n!requests\n</div>\n'
    "</body>\n</html>\n"
)
case(
    "outlook-web-html-image-alt-with-gt",
    "An HTML-only Outlook on the web message with an inline image whose alt text holds '->': the HTML parser knows the '>' is inside the attribute, so '!roster GAC' after the image is read (before: the tag scanner ended the tag there, the rest of the attribute became text on the command's line, and the command was lost); hidden text (display:none) is not read either.",
    msg(
        direct_top("mei.chen@example.org",
                   "EUR02-DB8-obe.outbound.protection.outlook.com (mail-db8eur02on2041.outbound.protection.outlook.com [40.107.249.41])",
                   "Mon,  7 Dec 2026 10:12:09 +0000 (UTC)", "4C2mVk0pLez4yRt")
        + f"""From: Mei Chen <mei.chen@example.org>
To: rapporteur for CIP-CCG <{BOT}>
Subject: GAC seats
Thread-Topic: GAC seats
Thread-Index: AQHcZ0a1b2c3d4e5f6a7b8c9d0e1f2a3b4
Date: Mon, 7 Dec 2026 10:12:04 +0000
Message-ID: {mid}
Accept-Language: en-US, zh-CN
Content-Language: en-US
X-MS-Has-Attach:
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable
MIME-Version: 1.0
""",
        qp(html),
    ),
    author="mei.chen@example.org",
    message_id=mid,
    commands=["!roster GAC"],
)

# read-07 ---------------------------------------------------------------------------------------
mid = "<CAJx4Mq9Tb2Wn7Lz5Rk1Yd8Hv3Gs6Fp0Ej4Ua7Ko2Wi5Qn8Cu@mail.gmail.com>"
attribution = "On Mon, Dec 7, 2026 at 11:15 AM Ana Lima &lt;<a href=\"mailto:ana.lima@example.org\">ana.lima@example.org</a>&gt; wrote:"
html = (
    '<div dir="ltr"><div>Agreed, let&#39;s have the bot open it:</div><div><br></div>'
    '<div><a href="https://community.example.org/budget" title="Budget &gt; 2027 > draft">'
    "Draft budget</a></div><div><br></div>"
    "<div>!request open &quot;Budget 2027&quot; to GNSO, ccNSO due 2026-12-20</div>"
    '<div><br></div><div>Rahul</div></div><br><div class="gmail_quote gmail_quote_container">'
    f'<div dir="ltr" class="gmail_attr">{attribution}<br></div><blockquote class="gmail_quote" '
    'style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">'
    "<div>Could someone open the request?</div><div>!request open &quot;Wrong title&quot;</div>"
    "</blockquote></div>\n"
)
case(
    "gmail-html-only-title-with-gt",
    "A Gmail message sent as HTML only (as Gmail's API and some add-ons do) with a link whose title holds a raw '>': the parser keeps the attribute out of the text, reads '!request open ...' with its entities decoded, and leaves the gmail_quote container out.",
    msg(
        list_top("Mon,  7 Dec 2026 10:31:51 +0000 (UTC)", "4C2mXp5rNfz6zSu")
        + f"""MIME-Version: 1.0
References: <b3e1f7a2-0c4d-4e9b-8a61-5f2d3c7b9e08@example.org>
In-Reply-To: <b3e1f7a2-0c4d-4e9b-8a61-5f2d3c7b9e08@example.org>
From: Rahul Deshpande <rahul.deshpande@example.org>
Date: Mon, 7 Dec 2026 16:01:44 +0530
Message-ID: {mid}
Subject: Re: [CIP-CCG] Budget 2027
To: {LIST}
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable
"""
        + list_bottom("rahul.deshpande@example.org", mid),
        qp(html),
    ),
    author="rahul.deshpande@example.org",
    list_id=LIST_ID,
    message_id=mid,
    commands=['!request open "Budget 2027" to GNSO, ccNSO due 2026-12-20'],
)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for number, (name, comment, raw, exp) in enumerate(CASES, start=1):
        stem = f"read-{number:02d}-{name}"
        wanted.update({f"{stem}.eml", f"{stem}.toml"})
        (OUT / f"{stem}.eml").write_bytes(raw)
        (OUT / f"{stem}.toml").write_text(base.toml_text(comment, exp), encoding="utf-8",
                                          newline="\n")
        base.check(stem, raw, exp, OUT / f"{stem}.toml")
    for path in OUT.iterdir():
        if path.name.startswith("read-") and path.suffix in (".eml", ".toml") \
                and path.name not in wanted:
            path.unlink()
    print(f"wrote {len(CASES)} cases to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
