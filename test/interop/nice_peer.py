#!/usr/bin/python3
"""libnice (0.1.21) as an independent ICE-TCP peer for the interop test.

Speaks the copy-paste line protocol of `ice-tcp connect`: prints its `a=` lines, `a=end-of-candidates`
and a blank line, reads the peer's lines until a blank line or `a=end-of-candidates`, connects, prints
one JSON `connected` line, moves the test pattern (byte i = i % 251) both ways and prints a JSON `done`
line (or an `error` line and a non-zero exit).

Run with the Debian python (/usr/bin/python3): it needs python3-gi and gir1.2-nice-0.1.

The agent is reliable: libnice then sends on an ICE-TCP pair straight through its TCP socket, with
RFC 4571 framing and an unbounded user-space queue, and uses pseudo-TCP only on UDP pairs (none here).
An unreliable agent drops any message handed over while that queue is not empty, which loses data in
a bulk transfer and offers no back-pressure signal to wait on.

`nice_agent_attach_recv` is not introspectable and `nice_agent_send` is introspected with a `gchar*`
string buffer (no NUL bytes), so both are called through ctypes on libnice.so.10.
"""

import argparse
import ctypes
import hashlib
import json
import os
import sys
import threading
import time

import gi

gi.require_version("Nice", "0.1")
gi.require_version("GLib", "2.0")
from gi.repository import GLib, Nice  # noqa: E402

PATTERN_PERIOD = 251
# libnice asserts that one message fits one RFC 4571 frame (<= 65535 bytes)
CHUNK = 16 * 1024
STREAM_COMPONENT = 1

_libnice = ctypes.CDLL("libnice.so.10")
_libglib = ctypes.CDLL("libglib-2.0.so.0")

RECV_FUNC = ctypes.CFUNCTYPE(
    None, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p
)
_libnice.nice_agent_attach_recv.argtypes = [
    ctypes.c_void_p,
    ctypes.c_uint,
    ctypes.c_uint,
    ctypes.c_void_p,
    RECV_FUNC,
    ctypes.c_void_p,
]
_libnice.nice_agent_attach_recv.restype = ctypes.c_int
_libnice.nice_agent_send.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, ctypes.c_char_p]
_libnice.nice_agent_send.restype = ctypes.c_int
_libglib.g_main_context_default.restype = ctypes.c_void_p

ctypes.pythonapi.PyCapsule_GetPointer.restype = ctypes.c_void_p
ctypes.pythonapi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def gobject_pointer(obj):
    """The C pointer behind a PyGObject wrapper, for calls GI cannot make."""
    return ctypes.pythonapi.PyCapsule_GetPointer(obj.__gpointer__, None)


def pattern(offset, length):
    """`length` bytes of the shared test pattern starting at `offset`."""
    period = bytes(range(PATTERN_PERIOD))
    start = offset % PATTERN_PERIOD
    reps = (start + length) // PATTERN_PERIOD + 1
    return (period * reps)[start : start + length]


def emit(value):
    sys.stdout.write(json.dumps(value, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def endpoint(sdp_line):
    """{type, tcptype, address, port} from a libnice `a=candidate:` line."""
    tokens = sdp_line.strip().split(" ")
    out = {"address": tokens[4], "port": int(tokens[5])}
    for i in range(6, len(tokens) - 1, 2):
        if tokens[i] == "typ":
            out["type"] = tokens[i + 1]
        elif tokens[i] == "tcptype":
            out["tcptype"] = tokens[i + 1]
    return out


class Peer:
    def __init__(self, args):
        self.args = args
        self.loop = GLib.MainLoop()
        self.exit_code = 1
        self.finished = False
        self.connected = False
        self.remote_at = None
        self.started = None
        self.sent = 0
        self.received = 0
        self.hash = hashlib.sha256()
        self.selected = None
        self.send_retry = None

        self.agent = Nice.Agent.new_full(
            GLib.MainContext.default(),
            Nice.Compatibility.RFC5245,
            Nice.AgentOption.RELIABLE | Nice.AgentOption.REGULAR_NOMINATION,
        )
        self.agent.set_property("ice-udp", False)
        self.agent.set_property("ice-tcp", True)
        self.agent.set_property("controlling-mode", args.controlling)
        # no router to ask on loopback; UPnP would hold candidate-gathering-done back for 200 ms
        self.agent.set_property("upnp", False)
        for ip in args.bind:
            addr = Nice.Address()
            if not addr.set_from_string(ip):
                raise ValueError(f"bad --bind address {ip}")
            self.agent.add_local_address(addr)

        self.stream = self.agent.add_stream(1)
        self.agent.connect("candidate-gathering-done", self.on_gathering_done)
        self.agent.connect("component-state-changed", self.on_state)
        self.agent.connect("new-selected-pair-full", self.on_selected_pair)
        self.agent.connect("reliable-transport-writable", lambda *_: self.pump())

        # attached before any pair exists so no early byte is read without a consumer
        self.recv_cb = RECV_FUNC(self.on_recv)
        self.agent_ptr = gobject_pointer(self.agent)
        _libnice.nice_agent_attach_recv(
            self.agent_ptr, self.stream, STREAM_COMPONENT, _libglib.g_main_context_default(), self.recv_cb, None
        )

    def run(self):
        GLib.timeout_add(int(self.args.timeout * 1000), self.on_timeout)
        if not self.agent.gather_candidates(self.stream):
            self.fail("ERR_GATHER", "gather_candidates failed")
        else:
            self.loop.run()
        return self.exit_code

    # -- signalling ---------------------------------------------------------

    def on_gathering_done(self, _agent, _stream):
        ok, ufrag, pwd = self.agent.get_local_credentials(self.stream)
        out = [f"a=ice-ufrag:{ufrag}", f"a=ice-pwd:{pwd}"]
        for c in self.agent.get_local_candidates(self.stream, STREAM_COMPONENT):
            out.append(self.agent.generate_local_candidate_sdp(c))
        out += ["a=end-of-candidates", ""]
        sys.stdout.write("\n".join(out) + "\n")
        sys.stdout.flush()
        threading.Thread(target=self.read_remote, daemon=True).start()

    def read_remote(self):
        lines = []
        seen_ufrag = False
        for raw in sys.stdin:
            # libnice's parser rejects a trailing \r or blank
            line = raw.strip()
            if line.startswith("a=ice-ufrag:"):
                seen_ufrag = True
            if line == "":
                if not seen_ufrag:
                    continue
                break
            if line == "a=end-of-candidates":
                break
            lines.append(line)
        GLib.idle_add(self.apply_remote, lines)

    def apply_remote(self, lines):
        ufrag = pwd = None
        candidates = []
        for line in lines:
            if line.startswith("a=ice-ufrag:"):
                ufrag = line[len("a=ice-ufrag:") :]
            elif line.startswith("a=ice-pwd:"):
                pwd = line[len("a=ice-pwd:") :]
            elif line.startswith("a=candidate:"):
                # GI reads NiceCandidate fields at wrong offsets in 0.1.21, so the component id comes
                # from the line; the returned boxed candidate is only handed back to C
                tokens = line.split(" ")
                if len(tokens) < 2 or tokens[1] != str(STREAM_COMPONENT):
                    continue
                c = self.agent.parse_remote_candidate_sdp(self.stream, line)
                if c is None:
                    sys.stderr.write(f"libnice rejected candidate: {line}\n")
                else:
                    candidates.append(c)
        if ufrag is None or pwd is None:
            self.fail("ERR_REMOTE", "remote ufrag/pwd missing")
            return False
        self.remote_at = time.monotonic()
        self.agent.set_remote_credentials(self.stream, ufrag, pwd)
        if not candidates:
            self.fail("ERR_REMOTE", "no usable remote candidate")
            return False
        n = self.agent.set_remote_candidates(self.stream, STREAM_COMPONENT, candidates)
        sys.stderr.write(f"remote candidates accepted: {n} of {len(candidates)}\n")
        return False

    # -- ICE ----------------------------------------------------------------

    def on_selected_pair(self, _agent, _stream, _component, local, remote):
        self.selected = (
            endpoint(self.agent.generate_local_candidate_sdp(local)),
            endpoint(self.agent.generate_local_candidate_sdp(remote)),
        )

    def on_state(self, _agent, _stream, _component, state):
        sys.stderr.write(f"component state {Nice.component_state_to_string(state)}\n")
        if state == Nice.ComponentState.READY and not self.connected:
            self.connected = True
            event = {"event": "connected"}
            if self.remote_at is not None:
                event["elapsedMs"] = round((time.monotonic() - self.remote_at) * 1000, 1)
            if self.selected is not None:
                event["local"], event["remote"] = self.selected
            emit(event)
            self.started = time.monotonic()
            self.pump()
            self.maybe_done()
        elif state == Nice.ComponentState.FAILED:
            if self.finished:
                self.loop.quit()
            elif not self.connected:
                self.fail("ERR_ICE_FAILED", "libnice component failed")
            else:
                self.fail(
                    "ERR_CONNECTION_LOST",
                    f"connection failed after {self.sent} sent / {self.received} received",
                )

    # -- data ---------------------------------------------------------------

    def pump(self):
        if not self.connected or self.finished:
            return False
        while self.sent < self.args.send_bytes:
            n = min(CHUNK, self.args.send_bytes - self.sent)
            buf = pattern(self.sent, n)
            r = _libnice.nice_agent_send(self.agent_ptr, self.stream, STREAM_COMPONENT, n, buf)
            if r > 0:
                self.sent += r
            if r < n:
                # would block: retry on reliable-transport-writable, or a short timer as a fallback
                if self.send_retry is None:
                    self.send_retry = GLib.timeout_add(5, self.retry_send)
                return False
        self.maybe_done()
        return False

    def retry_send(self):
        self.send_retry = None
        self.pump()
        return False

    def on_recv(self, _agent, _stream, _component, length, buf, _user_data):
        if length == 0:
            return
        data = ctypes.string_at(buf, length)
        self.received += length
        self.hash.update(data)
        self.maybe_done()

    def maybe_done(self):
        if self.finished or not self.connected:
            return
        if self.sent < self.args.send_bytes or self.received < self.args.expect_bytes:
            return
        self.finished = True
        seconds = max(time.monotonic() - self.started, 1e-9)
        emit(
            {
                "event": "done",
                "sentBytes": self.sent,
                "receivedBytes": self.received,
                "seconds": round(seconds, 3),
                "sha256Received": self.hash.hexdigest(),
                "megabytesPerSecond": round((self.sent + self.received) / seconds / 1e6, 1),
            }
        )
        self.exit_code = 0
        # libnice still holds queued bytes in user space: linger so they reach the peer, until it
        # closes the connection (component FAILED) or a grace period ends
        GLib.timeout_add(int(self.args.linger * 1000), self.quit)

    def quit(self):
        self.loop.quit()
        return False

    def on_timeout(self):
        if not self.finished:
            self.fail(
                "ERR_TIMEOUT",
                f"timed out (connected={self.connected}, sent={self.sent}, received={self.received})",
            )
        return False

    def fail(self, code, message):
        if self.finished:
            return
        self.finished = True
        emit({"event": "error", "code": code, "message": message})
        self.exit_code = 1
        self.loop.quit()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    role = p.add_mutually_exclusive_group()
    role.add_argument("--controlling", dest="controlling", action="store_true", default=True)
    role.add_argument("--controlled", dest="controlling", action="store_false")
    p.add_argument("--bind", action="append", default=[], help="local IP to gather on (repeatable)")
    p.add_argument("--send-bytes", type=int, default=0)
    p.add_argument("--expect-bytes", type=int, default=0)
    p.add_argument("--timeout", type=float, default=60.0, help="overall limit in seconds")
    p.add_argument("--linger", type=float, default=3.0, help="seconds to stay after done")
    args = p.parse_args()
    # GLib prints G_MESSAGES_DEBUG logs on fd 1: give them stderr and keep a private fd for the protocol
    sys.stdout = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    try:
        peer = Peer(args)
    except Exception as e:  # noqa: BLE001 - any set-up failure is reported as one error line
        emit({"event": "error", "code": "ERR_SETUP", "message": str(e)})
        return 1
    return peer.run()


if __name__ == "__main__":
    sys.exit(main())
