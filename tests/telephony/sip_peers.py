"""Real SIP peers on loopback for the telephony tests: SIPp runs and a raw UDP client.

Every socket uses an ephemeral port so parallel test runs never collide.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ticketline.sip import Response, parse

SCENARIOS = Path(__file__).parent / "scenarios"
SIPP = shutil.which("sipp")
needs_sipp = pytest.mark.skipif(SIPP is None, reason="SIPp (package sip-tester) is not installed")


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port free right now on 127.0.0.1 (UDP by default)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SippRun:
    """A finished SIPp run: its exit code (0: every call succeeded) and output."""

    returncode: int
    output: str
    errors: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class Sipp:
    """One SIPp process against the server at ``target`` (``host:port``)."""

    def __init__(
        self,
        target: str,
        scenario: str,
        *,
        port: int | None = None,
        ip: str = "127.0.0.1",
        calls: int = 1,
        keys: dict[str, str] | None = None,
        fill: dict[str, str] | None = None,
        extra: tuple[str, ...] = (),
        workdir: Path,
    ) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        self.name = f"sipp-{self.port}"
        args = [SIPP or "sipp", target, "-i", ip, "-p", str(self.port), "-m", str(calls)]
        if scenario.endswith(".xml"):
            args += ["-sf", str(self._scenario_file(scenario, fill or {}))]
        else:
            args += ["-sn", scenario]
        for key, value in (keys or {}).items():
            args += ["-key", key, value]
        args += ["-nostdin", "-trace_err", "-error_file", str(workdir / f"{self.name}.err")]
        args += ["-trace_msg", "-message_file", str(workdir / f"{self.name}.msg")]
        args += ["-timeout", "30s", "-timeout_error", "-mi", ip, "-mp", str(free_port()), *extra]
        self.args = args
        self.process: asyncio.subprocess.Process | None = None

    def _scenario_file(self, scenario: str, fill: dict[str, str]) -> Path:
        """The scenario with ``{name}`` placeholders filled (SIPp keys cannot go everywhere)."""
        text = (SCENARIOS / scenario).read_text()
        for name, value in fill.items():
            text = text.replace("{" + name + "}", value)
        path = self.workdir / f"{self.name}-{scenario}"
        path.write_text(text)
        return path

    async def start(self) -> Sipp:
        self.process = await asyncio.create_subprocess_exec(
            *self.args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=self.workdir,
        )
        await asyncio.sleep(0.3)  # let SIPp bind before anyone calls it
        return self

    async def wait(self, timeout: float = 40) -> SippRun:
        assert self.process is not None
        try:
            out, err = await asyncio.wait_for(self.process.communicate(), timeout)
        except TimeoutError:
            self.process.kill()
            out, err = await self.process.communicate()
        errors = self.workdir / f"{self.name}.err"
        text = errors.read_text(errors="replace") if errors.exists() else ""
        if self.process.returncode:
            trace = self.workdir / f"{self.name}.msg"
            text += "\n--- messages ---\n" + (trace.read_text(errors="replace")[-6000:]
                                              if trace.exists() else "")  # fmt: skip
        return SippRun(
            self.process.returncode or 0,
            out.decode(errors="replace")[-3000:],
            (err.decode(errors="replace") + text)[-9000:],
        )

    async def run(self, timeout: float = 40) -> SippRun:
        await self.start()
        return await self.wait(timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()


@contextlib.asynccontextmanager
async def sipp_background(sipp: Sipp) -> AsyncIterator[Sipp]:
    """Run SIPp (a callee, a provider) for the duration of the block."""
    await sipp.start()
    try:
        yield sipp
    finally:
        sipp.kill()
        if sipp.process is not None:
            await sipp.process.wait()


class UdpPeer:
    """A raw UDP socket that sends SIP text and reads back the responses."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.setblocking(False)
        self.port = int(self.sock.getsockname()[1])

    def close(self) -> None:
        self.sock.close()

    async def send(self, data: bytes, port: int) -> None:
        loop = asyncio.get_running_loop()
        await loop.sock_sendto(self.sock, data, ("127.0.0.1", port))

    async def receive(self, timeout: float = 2.0) -> bytes | None:
        loop = asyncio.get_running_loop()
        try:
            data, _ = await asyncio.wait_for(loop.sock_recvfrom(self.sock, 65535), timeout)
        except TimeoutError:
            return None
        return bytes(data)

    async def final_response(self, timeout: float = 2.0) -> Response | None:
        """The first final (non-1xx) response, skipping 100 Trying and the like."""
        while True:
            data = await self.receive(timeout)
            if data is None:
                return None
            message = parse(data)
            if isinstance(message, Response) and message.status >= 200:
                return message

    def message(self, template: str) -> bytes:
        """``template`` with ``{port}`` filled in and LF line ends turned into CRLF."""
        text = template.replace("{port}", str(self.port)).lstrip("\n")
        return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


BARESIP = shutil.which("baresip")
needs_baresip = pytest.mark.skipif(BARESIP is None, reason="baresip is not installed")
BARESIP_MODULES = Path("/usr/lib/baresip/modules")


class Baresip:
    """A baresip softphone registered as ``user``, driven over its ctrl_tcp interface.

    Its config lives in ``workdir``; audio is a silent bridge (no sound card).
    The server is its outbound proxy, since baresip 1.0 sends REGISTER to port
    5060 of the AOR's host otherwise.
    """

    def __init__(self, user: str, password: str, server_port: int, workdir: Path) -> None:
        self.user = user
        self.dir = workdir / f"baresip-{user}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sip_port = free_port()
        self.ctrl_port = free_port(socket.SOCK_STREAM)
        (self.dir / "config").write_text(
            f"module_path {BARESIP_MODULES}\n"
            f"sip_listen 127.0.0.1:{self.sip_port}\n"
            "net_interface 127.0.0.1\n"
            "module g711.so\nmodule aubridge.so\n"
            "module_app account.so\nmodule_app menu.so\nmodule_app ctrl_tcp.so\n"
            f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}\n"
            "audio_player aubridge,nil\naudio_source aubridge,nil\n"
        )
        (self.dir / "accounts").write_text(
            f"<sip:{user}@127.0.0.1>;auth_pass={password};"
            f'outbound="sip:127.0.0.1:{server_port}";regint=120;answermode=auto;'
            "audio_codecs=PCMU,PCMA\n"
        )
        self.process: asyncio.subprocess.Process | None = None
        self.events: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None

    async def start(self) -> Baresip:
        self.process = await asyncio.create_subprocess_exec(
            BARESIP or "baresip", "-4", "-f", str(self.dir),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            stdin=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(50):
            try:
                reader, self._writer = await asyncio.open_connection("127.0.0.1", self.ctrl_port)
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            raise RuntimeError("baresip ctrl_tcp did not come up")
        self._reader_task = asyncio.create_task(self._read(reader))
        return self

    async def _read(self, reader: asyncio.StreamReader) -> None:
        import json

        while True:
            try:
                length = await reader.readuntil(b":")
                payload = await reader.readexactly(int(length[:-1]) + 1)
            except (asyncio.IncompleteReadError, ValueError, ConnectionError):
                return
            message = json.loads(payload[:-1])
            if message.get("event"):
                await self.events.put(message)

    async def command(self, command: str, params: str = "") -> None:
        import json

        assert self._writer is not None
        body = json.dumps({"command": command, "params": params, "token": command}).encode()
        self._writer.write(str(len(body)).encode() + b":" + body + b",")
        await self._writer.drain()

    async def wait_event(self, kind: str, timeout: float = 10.0) -> dict[str, object]:
        """The next event of type ``kind`` (other events are skipped)."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.events.get()
                if event.get("type") == kind:
                    return event

    async def stop(self) -> None:
        if self._reader_task is not None:
            self._reader_task.cancel()
        if self._writer is not None:
            self._writer.close()
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 3)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
