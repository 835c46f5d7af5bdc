"""Runs a program at a pseudo-terminal and answers its questions as a person at a keyboard would.

Used by tests whose program behaves differently at a terminal (`rapporteur init` asks its
questions only when its input is a terminal). Python's pty module is on every machine the tests
run on, so no terminal crate is built for this.

Usage: at_terminal.py EXCHANGE_JSON PROGRAM [ARGUMENT...]

EXCHANGE_JSON is a list of [prompt, answer] pairs: wait until PROMPT has appeared in the output
after the previous prompt (an empty prompt: do not wait), then type ANSWER and Enter. After the
last pair, everything the program writes until it exits is read. The whole transcript goes to
standard output; the exit status is the program's. A prompt that does not appear within 20
seconds ends the run with status 90 and the transcript so far.
"""

import json
import os
import pty
import select
import sys
import time

exchange = json.loads(sys.argv[1])
program = sys.argv[2:]

pid, terminal = pty.fork()
if pid == 0:
    os.execv(program[0], program)

transcript = b""
searched_from = 0


def read_some(timeout):
    """Reads what the program wrote within `timeout` seconds; False once it has closed."""
    global transcript
    ready, _, _ = select.select([terminal], [], [], timeout)
    if not ready:
        return True
    try:
        chunk = os.read(terminal, 4096)
    except OSError:
        return False
    if not chunk:
        return False
    transcript += chunk
    return True


def give_up(reason):
    sys.stdout.write(transcript.decode("utf-8", "replace"))
    sys.stdout.write("\n[at_terminal] " + reason + "\n")
    sys.stdout.flush()
    os.kill(pid, 9)
    sys.exit(90)


for prompt, answer in exchange:
    if prompt:
        deadline = time.monotonic() + 20
        wanted = prompt.encode()
        while True:
            found = transcript.find(wanted, searched_from)
            if found >= 0:
                searched_from = found + len(wanted)
                break
            if time.monotonic() > deadline:
                give_up("no prompt %r" % prompt)
            if not read_some(0.2):
                give_up("the program ended before the prompt %r" % prompt)
    os.write(terminal, answer.encode() + b"\r")

deadline = time.monotonic() + 30
while read_some(0.2):
    if time.monotonic() > deadline:
        give_up("the program did not end")

_, status = os.waitpid(pid, 0)
sys.stdout.write(transcript.decode("utf-8", "replace"))
sys.stdout.flush()
sys.exit(os.waitstatus_to_exitcode(status))
