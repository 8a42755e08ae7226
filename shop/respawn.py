"""
``python -m shop.respawn COMMAND [ARG ...]``: run COMMAND and start it again whenever it exits,
until this process is asked to stop (SIGTERM or SIGINT, which it passes on to COMMAND).

``make run`` wraps its workers and beat in it (``Procfile.dev``): honcho, which runs the
development processes, restarts none and stops them all once one exits. docker-compose needs no
wrapper (``restart: unless-stopped``). Between two starts it waits 1 s, doubled after each quick
exit up to 30 s, and 1 s again once COMMAND has run for a minute.
"""

import signal
import subprocess
import sys
import time

FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 30.0
#: A command that ran this long before it exited starts again after the first delay.
HEALTHY_RUN_SECONDS = 60.0


def say(message: str) -> None:
    print(f"respawn: {message}", file=sys.stderr, flush=True)


def respawn(command: list[str]) -> int:
    """Run ``command`` again and again until a signal asks to stop; return its last exit code."""
    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum, frame):
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)  # one more for a child that got it from the group: harmless

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    delay = FIRST_DELAY_SECONDS
    while True:
        started = time.monotonic()
        child = subprocess.Popen(command)  # noqa: S603 - the command line this module was given
        status = child.wait()
        # A command ended by a signal gives the shell's exit code, 128 + the signal's number.
        code = 128 - status if status < 0 else status
        if stopping:
            return code
        ran = time.monotonic() - started
        if ran >= HEALTHY_RUN_SECONDS:
            delay = FIRST_DELAY_SECONDS
        ended = f"was ended by signal {-status}" if status < 0 else f"exited with {status}"
        say(f"{' '.join(command)} {ended} after {ran:.0f} s; starting it again in {delay:g} s")
        deadline = time.monotonic() + delay
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)
        if stopping:
            return code
        delay = min(delay * 2, MAX_DELAY_SECONDS)


def main(argv: list[str] | None = None) -> int:
    command = list(sys.argv[1:] if argv is None else argv)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        say("usage: python -m shop.respawn COMMAND [ARG ...]")
        return 2
    return respawn(command)


if __name__ == "__main__":
    sys.exit(main())
