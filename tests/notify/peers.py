"""Real SMS gateways for tests: Kannel (bearerbox + smsbox + fake SMSC) and drive_smpp."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
DRIVE_SMPP = "/usr/lib/kannel/test/drive_smpp"


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def is_listening(port: int) -> bool:
    """Whether a TCP socket listens on `port`, asked of the kernel without connecting
    (drive_smpp serves exactly one connection, so a probe would use it up)."""
    wanted = f":{port:04X} "
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(wanted.strip()) and fields[3] == "0A":
                return True
    return False


def wait_for_listen(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_listening(port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@dataclass
class Kannel:
    sendsms_url: str
    username: str
    password: str
    fake_smsc_log: Path

    def received(self) -> list[tuple[str, str, str]]:
        """(sender, receiver, text) of every message the fake SMSC got.

        Long texts arrive in parts (a concatenation UDH before the data): their parts
        are joined back into one message once every part is there.
        """
        found: list[tuple[str, str, str]] = []
        parts: dict[tuple[str, str, int], dict[int, str]] = {}
        log = self.fake_smsc_log.read_text(errors="replace")
        for match in MESSAGE.finditer(log):
            sender, receiver, coding, rest = match.groups()
            if coding != "udh":
                found.append((sender, receiver, _decode(coding, rest)))
                continue
            udh_text, _, data = rest.partition(" data ")
            udh = _unquote(udh_text)
            reference, total, number = udh[3], udh[4], udh[5]
            pieces = parts.setdefault((sender, receiver, reference), {})
            pieces[number] = _decode("ucs-2", data)
            if len(pieces) == total:
                text = "".join(pieces[i] for i in sorted(pieces))
                found.append((sender, receiver, text))
                del parts[(sender, receiver, reference)]
        return found


MESSAGE = re.compile(r"Got message \d+: <(\S+) (\S+) (\S+) ([^>]*)>")


def _unquote(data: str) -> bytes:
    return urllib.parse.unquote_to_bytes(data.replace("+", "%20"))


def _decode(coding: str, data: str) -> str:
    raw = _unquote(data)
    return raw.decode("utf-16-be") if coding in ("ucs-2", "udh") else raw.decode("latin-1")


KANNEL_CONF = """\
group = core
admin-port = {admin}
admin-password = adminpw
smsbox-port = {smsbox}
log-level = 1
log-file = "{dir}/bearerbox.log"
box-allow-ip = "127.0.0.1"

group = smsc
smsc = fake
smsc-id = FAKE
port = {smsc}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {smsbox}
sendsms-port = {sendsms}
global-sender = 95105
log-file = "{dir}/smsbox.log"
log-level = 1

group = sendsms-user
username = ticketline
password = smspass
max-messages = 10
concatenation = true

"""

REPLY_SERVICE = """
group = sms-service
keyword = default
text = "unused"
"""

FORWARD_SERVICE = """
group = sms-service
keyword = default
get-url = "{url}"
max-messages = 0
catch-all = true
"""


@contextmanager
def running_kannel(
    folder: Path, *, inbound_url: str | None = None, incoming: str | None = None
) -> Iterator[Kannel]:
    """bearerbox, smsbox and the fake SMSC from Debian's kannel packages, on free ports.

    With `inbound_url`, smsbox hands every message it receives to that URL (Kannel's
    get-url escapes: %p sender, %P receiver, %a text); `incoming` is one message the
    fake SMSC sends as it starts: "<sender> <receiver> text <words>".
    """
    for program in ("bearerbox", "smsbox", FAKESMSC):
        if shutil.which(program) is None:
            raise RuntimeError(f"{program} missing: scripts/test installs kannel, kannel-extras")
    admin, smsbox, smsc, sendsms = free_ports(4)
    conf = folder / "kannel.conf"
    service = FORWARD_SERVICE.format(url=inbound_url) if inbound_url else REPLY_SERVICE
    conf.write_text(
        KANNEL_CONF.format(admin=admin, smsbox=smsbox, smsc=smsc, sendsms=sendsms, dir=folder)
        + service
    )
    log = folder / "fakesmsc.log"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(
            subprocess.Popen(
                ["bearerbox", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
        wait_for_port(smsbox)
        processes.append(
            subprocess.Popen(
                ["smsbox", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
        with log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [
                        FAKESMSC,
                        "-H",
                        "127.0.0.1",
                        "-r",
                        str(smsc),
                        "-i",
                        "1",
                        "-m",
                        "1" if incoming else "0",
                        incoming or "1 2 text x",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        wait_for_port(sendsms)
        yield Kannel(f"http://127.0.0.1:{sendsms}/cgi-bin/sendsms", "ticketline", "smspass", log)
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def running_drive_smpp(folder: Path) -> Iterator[tuple[int, Path]]:
    """Kannel's test SMSC that speaks SMPP 3.4; yields its port and its log file."""
    (port,) = free_ports(1)
    log = folder / "drive_smpp.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [DRIVE_SMPP, "-p", str(port), "-m", "1"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
    try:
        wait_for_listen(port)
        yield port, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
