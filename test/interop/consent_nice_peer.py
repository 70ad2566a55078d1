#!/usr/bin/python3
"""libnice (0.1.21) as a long-lived echo peer for the consent-freshness interop test.

The copy-paste line protocol of nice_peer.py (its `a=` lines, then the peer's), but with libnice's own
RFC 7675 consent freshness switched on (NICE_AGENT_OPTION_CONSENT_FRESHNESS: a Binding request on the
selected pair every ~5 s, consent lost after 30 s without an answer), every byte received sent back, and a
JSON `state` line on every component state change, so the test sees whether libnice ever drops us. It runs
until it is killed (or --timeout).

Run with the Debian python (/usr/bin/python3): it needs python3-gi and gir1.2-nice-0.1.
"""

import argparse
import os
import sys

import nice_peer
from nice_peer import STREAM_COMPONENT, Nice, Peer, _libnice, emit

_new_full = Nice.Agent.new_full


def _new_full_with_consent(context, compatibility, flags):
    # consent-freshness is a construct-only property: it has to go in with the agent's options
    return _new_full(context, compatibility, flags | Nice.AgentOption.CONSENT_FRESHNESS)


class ConsentPeer(Peer):
    """Echoes what it receives and reports every state change; never finishes by itself."""

    def __init__(self, args):
        Nice.Agent.new_full = _new_full_with_consent
        try:
            super().__init__(args)
        finally:
            Nice.Agent.new_full = _new_full
        self.backlog = b""

    def on_state(self, agent, stream, component, state):
        emit({"event": "state", "state": Nice.component_state_to_string(state)})
        super().on_state(agent, stream, component, state)

    def on_recv(self, _agent, _stream, _component, length, buf, _user_data):
        if length == 0:
            return
        self.received += length
        self.backlog += nice_peer.ctypes.string_at(buf, length)
        self.pump()

    def pump(self):
        if not self.connected or self.finished:
            return False
        while self.backlog:
            chunk = self.backlog[: nice_peer.CHUNK]
            r = _libnice.nice_agent_send(self.agent_ptr, self.stream, STREAM_COMPONENT, len(chunk), chunk)
            if r > 0:
                self.sent += r
                self.backlog = self.backlog[r:]
            if r < len(chunk):
                return False  # would block: reliable-transport-writable calls pump() again
        return False

    def maybe_done(self):
        # the session ends when the test kills us
        return


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    role = p.add_mutually_exclusive_group()
    role.add_argument("--controlling", dest="controlling", action="store_true", default=True)
    role.add_argument("--controlled", dest="controlling", action="store_false")
    p.add_argument("--bind", action="append", default=[], help="local IP to gather on (repeatable)")
    p.add_argument("--timeout", type=float, default=120.0, help="overall limit in seconds")
    args = p.parse_args()
    args.send_bytes = args.expect_bytes = 0
    args.linger = 0.0
    # GLib prints G_MESSAGES_DEBUG logs on fd 1: give them stderr and keep a private fd for the protocol
    sys.stdout = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    try:
        peer = ConsentPeer(args)
    except Exception as e:  # noqa: BLE001 - any set-up failure is reported as one error line
        emit({"event": "error", "code": "ERR_SETUP", "message": str(e)})
        return 1
    return peer.run()


if __name__ == "__main__":
    sys.exit(main())
