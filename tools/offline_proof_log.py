"""Reads an `strace -f -e trace=%network` log for tools/offline_proof.sh and lists internet use.

Usage: python tools/offline_proof_log.py LOG [--loopback-server]
Prints one line per finding and exits 1 if there is any, else prints a summary and exits 0.

By default any AF_INET/AF_INET6 socket is a finding. With --loopback-server (the proof of
`ponder serve`) exactly one kind of internet socket is allowed: one bound to a loopback address
(127.0.0.0/8, ::1) and listened on, and the connections it accepts from loopback peers. Still a
finding: a socket bound to any other address (0.0.0.0 included) or never bound at all, any
connect() to an internet address (loopback too: the server calls no one, and a resolver on
127.0.0.53 is a DNS lookup), any datagram sent to an internet address, and a connection accepted
from a non-loopback peer. Standard library only: it runs with whatever python3 is at hand.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys
from dataclasses import dataclass, field

_LINE = re.compile(r"^(?:(?P<pid>\d+)\s+)?(?P<call>\w+)\((?P<args>.*)\)\s+=\s+(?P<ret>-?\d+|\?)")
_UNFINISHED = " <unfinished ...>"
_RESUMED = re.compile(r"^(?:(?P<pid>\d+)\s+)?<\.\.\. (?P<call>\w+) resumed>(?P<rest>.*)$")
_INET = re.compile(r"sa_family=AF_INET6?\b")
_ADDRESS = re.compile(r'inet_addr\("(?P<v4>[^"]+)"\)|inet_pton\(AF_INET6?, "(?P<v6>[^"]+)"')
_FD = re.compile(r"^(\d+),")
_SENDS = {"sendto", "sendmsg", "sendmmsg"}


@dataclass
class Report:
    """What the log shows: findings (each a reason and the strace line) and what was allowed."""

    findings: list[str] = field(default_factory=list)
    calls: int = 0
    listeners: int = 0
    accepted: int = 0


def _joined(lines: list[str]) -> list[str]:
    """Whole syscall lines: strace -f splits a call that blocks into `<unfinished ...>` and
    `<... name resumed>`; put each back together (per process)."""
    pending: dict[str, str] = {}
    out = []
    for line in lines:
        line = line.rstrip("\n")
        if line.endswith(_UNFINISHED):
            pid = line.split(None, 1)[0] if line[:1].isdigit() else ""
            pending[pid] = line[: -len(_UNFINISHED)]
            continue
        resumed = _RESUMED.match(line)
        if resumed:
            start = pending.pop(resumed["pid"] or "", None)
            if start is not None:
                line = start + resumed["rest"]
        out.append(line)
    return out


def _address(text: str) -> str | None:
    match = _ADDRESS.search(text)
    return None if match is None else match["v4"] or match["v6"]


def _is_loopback(address: str | None) -> bool:
    if address is None:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def analyse(lines: list[str], *, loopback_server: bool) -> Report:
    """Go through the calls in order, following which descriptor is which socket."""
    report = Report()
    unbound: dict[int, str] = {}  # internet sockets not (yet) bound to loopback: fd -> line
    listeners: set[int] = set()
    accepted: set[int] = set()

    def flag(reason: str, line: str) -> None:
        report.findings.append(f"{reason}: {line.strip()}")

    for line in _joined(lines):
        match = _LINE.match(line)
        if match is None:
            continue
        report.calls += 1
        call, args, ret = match["call"], match["args"], match["ret"]
        result = int(ret) if ret != "?" else -1
        fd_match = _FD.match(args)
        fd = int(fd_match[1]) if fd_match else -1
        if call == "socket":
            if result >= 0:
                listeners.discard(result)
                accepted.discard(result)
                unbound.pop(result, None)
            if args.startswith(("AF_INET,", "AF_INET6,")):
                if not loopback_server:
                    flag("internet socket", line)
                elif result >= 0:
                    unbound[result] = line
        elif call == "bind" and _INET.search(args):
            address = _address(args)
            if loopback_server and _is_loopback(address) and fd in unbound:
                unbound.pop(fd)
                listeners.add(fd)
            else:
                flag(f"bound to {address or 'an unknown address'}" if loopback_server
                     else "internet socket bound", line)
        elif call in ("accept", "accept4") and result >= 0:
            listeners_peer = _address(args)
            if fd in listeners:
                if _is_loopback(listeners_peer):
                    accepted.add(result)
                    report.accepted += 1
                else:
                    flag(f"connection accepted from {listeners_peer}", line)
            unbound.pop(result, None)
        elif call == "connect" and _INET.search(args):
            flag(f"connect to {_address(args) or 'an internet address'}", line)
        elif call in _SENDS and _INET.search(args):
            flag(f"sent to {_address(args) or 'an internet address'}", line)
    report.listeners = len(listeners)
    for line in unbound.values():
        flag("internet socket never bound to a loopback address", line)
    return report


def main(argv: list[str] | None = None) -> int:
    """Print the findings (exit 1) or a one-line summary (exit 0)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log")
    parser.add_argument("--loopback-server", action="store_true",
                        help="allow one listening socket on a loopback address and its loopback connections")
    args = parser.parse_args(argv)
    with open(args.log, encoding="utf-8", errors="replace") as file:
        report = analyse(file.readlines(), loopback_server=args.loopback_server)
    if report.findings:
        print(f"{len(report.findings)} internet socket call(s):")
        for finding in report.findings[:20]:
            print(f"        {finding}")
        return 1
    if args.loopback_server:
        if report.listeners == 0:
            print("no listening socket on a loopback address: the server never started")
            return 1
        print(f"{report.calls} network syscalls: internet only through the server's socket on loopback "
              f"and the {report.accepted} connection(s) it accepted from loopback")
    else:
        print(f"no AF_INET/AF_INET6 socket, connect or send ({report.calls} network syscalls, all local)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
