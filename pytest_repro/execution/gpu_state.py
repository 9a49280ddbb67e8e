"""The entries of the GPU lease state files, and the order in which waiting requests are served.

Pure functions over lists of entries (JSON objects), used by :mod:`pytest_repro.execution.gpus`
under its file locks. A device's state file holds its **leases** (``token``, ``pid``,
``bytes``, ``whole`` when the device is held whole) and at most one **reservation**
(``reserve: true``); each waiting request has a file of its own (``token``, ``pid``,
``count``, ``memory``, ``devices`` with their memory as its session knows them,
``expected``, ``since``). Reservations and waiting entries carry ``seen``, the last time
their request renewed them.

Waiting requests are served in the order of :func:`rank`: the time a request began to wait
less the seconds it is expected to hold its devices. Of requests that begin to wait
together the longest goes first; one that began later overtakes an earlier one only if it
is expected to run longer by more than the time between them, so a request that has
waited long enough is overtaken by none, and every waiter is first at last. A request
without an expected duration counts 0: first come, first served.

:func:`plan` is list scheduling over that order: each waiter in turn takes, in a scratch
copy of the devices' room, what it would claim now (a waiter that fits nowhere takes
nothing and holds nobody up), and a request claims only what the waiters before it leave.
So a waiter yields exactly to better-ranked waiters that fit the same free room. A device
reserved for a whole-device request takes no packed run; any whole-device request may
take it once it is empty, so it goes to the best-ranked of them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

#: One JSON object of a state file.
Entry = dict[str, Any]
#: Seconds after which a reservation or waiting entry its request has not renewed is dropped.
STALE_RESERVATION = 60.0


@dataclass(frozen=True, slots=True)
class Device:
    """One GPU a run may lease: its id as ``CUDA_VISIBLE_DEVICES`` names it, its memory."""

    id: str
    memory: int | None = None  # bytes; None when unknown (then only whole-device leases)


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """A lease request as its waiting file records it: ``memory`` None for whole devices,
    ``devices`` those it may lease as its session knows them, ``since`` when it began to
    wait (``time.time()``), ``expected`` the seconds it is expected to hold its devices
    (0 when unknown)."""

    token: str
    count: int
    memory: int | None
    devices: tuple[Device, ...]
    since: float
    expected: float = 0.0

    def entry(self, now: float) -> Entry:
        """The waiting file's entry for this request, renewed ``now``."""
        return {
            "token": self.token,
            "pid": os.getpid(),
            "count": self.count,
            "memory": self.memory,
            "devices": [[d.id, d.memory] for d in self.devices],
            "expected": self.expected,
            "since": self.since,
            "seen": now,
        }


@dataclass(frozen=True, slots=True)
class Room:
    """What holds a device: the bytes its leases hold, whether one holds it whole, whether
    any holds it, and the token of the request it is reserved for."""

    held: int
    whole: bool
    leased: bool
    reserver: str | None

    def free(self, device: Device) -> int | None:
        """Bytes free as ``device`` (its memory as one session knows it) sees them; None
        when its memory is unknown and nothing holds it."""
        if self.whole:
            return 0
        if device.memory is None:
            return None if not self.leased else 0
        return device.memory - self.held


def rank(request: Request) -> tuple[float, float, str]:
    """The order waiters are served in (smallest first); see the module docstring."""
    return (request.since - request.expected, request.since, request.token)


def waiter(entry: Entry) -> Request | None:
    """The request a waiting entry records, or None for a malformed entry."""
    try:
        memory = entry.get("memory")
        devices = tuple(
            Device(str(d[0]), None if d[1] is None else int(d[1]))
            if isinstance(d, list)
            else Device(str(d))
            for d in entry["devices"]
        )
        return Request(
            token=str(entry["token"]),
            count=int(entry["count"]),
            memory=None if memory is None else int(memory),
            devices=devices,
            since=float(entry["since"]),
            expected=float(entry.get("expected") or 0.0),
        )
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def rooms(states: Mapping[str, list[Entry]]) -> dict[str, Room]:
    """Every device's room, from its live entries (device id -> entries)."""
    out = {}
    for device, entries in states.items():
        held = leases(entries)
        out[device] = Room(
            held=sum(int(h.get("bytes", 0)) for h in held),
            whole=any(h.get("whole") for h in held),
            leased=bool(held),
            reserver=reserver(entries),
        )
    return out


def order(
    devices: Sequence[Device], room: Mapping[str, Room], memory: int | None, token: str
) -> list[Device]:
    """The devices a request could claim now, best first: for whole devices the empty ones,
    those reserved for it first, then those reserved for none; for memory the least free
    that still fits (best fit), never one reserved for another request."""
    known = [d for d in devices if d.id in room]
    if memory is None:
        return sorted(
            (d for d in known if not room[d.id].leased),
            key=lambda d: (room[d.id].reserver != token, room[d.id].reserver is not None, d.id),
        )
    open_ = [d for d in known if room[d.id].reserver in (None, token)]
    free_ = {d.id: room[d.id].free(d) for d in open_}
    fits = (d for d in open_ if (free_[d.id] is None) or (free_[d.id] or 0) >= memory)
    return sorted(fits, key=lambda d: (free_[d.id] is None, free_[d.id] or 0, d.id))


def plan(room: Mapping[str, Room], ranked: Iterable[Request]) -> dict[str, list[Device]]:
    """List scheduling over the waiters in ``ranked`` (rank order): for each, the devices it
    could claim now, best first, in the room the waiters before it leave (as its own
    session knows the devices, so every session works out what the waiter itself does);
    each waiter that fits takes its first ``count`` of them in a scratch copy of ``room``
    (one that fits nowhere takes nothing and holds nobody up). Waiters that must wait map
    to ``[]``."""
    scratch = dict(room)
    out: dict[str, list[Device]] = {}
    for request in ranked:
        got = order(request.devices, scratch, request.memory, request.token)
        if len(got) < request.count:
            out[request.token] = []
            continue
        out[request.token] = got
        for device in got[: request.count]:
            scratch[device.id] = taken(scratch[device.id], device, request.memory)
    return out


def taken(room: Room, device: Device, memory: int | None) -> Room:
    """``room`` once a request for ``memory`` bytes (None: the whole device) takes ``device``."""
    if memory is None or room.free(device) is None:
        return replace(room, whole=True, leased=True)
    return replace(room, held=room.held + memory, leased=True)


# -- entries -------------------------------------------------------------------------------
def alive(entries: list[Entry]) -> list[Entry]:
    """The entries whose process lives and, for a reservation or waiting entry, that its
    request renewed within :data:`STALE_RESERVATION` seconds."""
    out = []
    oldest = time.time() - STALE_RESERVATION
    lives: dict[object, bool] = {}
    for entry in entries:
        if "seen" in entry and float(entry.get("seen") or 0) < oldest:
            continue  # a reservation or waiting entry nobody renewed: its request is gone
        pid = entry.get("pid")
        if pid not in lives:
            lives[pid] = _lives(pid)
        if lives[pid]:
            out.append(entry)  # else its session died: the lease (or reservation) is gone
    return out


def _lives(pid: object) -> bool:
    try:
        if isinstance(pid, int):
            os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    return True


def leases(holders: list[Entry]) -> list[Entry]:
    """The leases among a device's entries (its reservation left out)."""
    return [h for h in holders if not h.get("reserve")]


def reserver(holders: list[Entry]) -> str | None:
    """The token of the request holding the device's reservation, or None."""
    for holder in holders:
        if holder.get("reserve"):
            return str(holder.get("token"))
    return None


def free(device: Device, held: list[Entry]) -> int | None:
    """Bytes free on ``device`` beside the leases ``held``; None when its memory is unknown
    and nothing holds it."""
    if any(h.get("whole") for h in held):
        return 0
    if device.memory is None:
        return None if not held else 0
    return device.memory - sum(int(h.get("bytes", 0)) for h in held)


def claim(
    device: Device, holders: list[Entry], memory: int | None, token: str, until: float | None = None
) -> list[Entry] | None:
    """The holders with a new lease for ``token`` (its reservation of the device, if any,
    turned into the lease), or None when it does not fit: a packed run never lands on a
    device reserved for another request; a whole-device run takes any empty one. ``until``:
    when the lease is expected to end (``time.time()``), recorded for plans of the queue."""
    held = leases(holders)
    entry: Entry = {"token": token, "pid": os.getpid()}
    if until is not None:
        entry["until"] = until
    if memory is None or device.memory is None:  # the whole device, nothing else on it
        if held:
            return None
        entry.update(whole=True, bytes=device.memory or 0)
    else:
        room = free(device, held)
        if reserver(holders) not in (None, token) or room is None or room < memory:
            return None  # no room, or drained for a waiting whole-device request
        entry["bytes"] = memory
    kept = [h for h in holders if not (h.get("reserve") and h.get("token") == token)]
    return [*kept, entry]


def reserve_on(holders: list[Entry], token: str, now: float) -> list[Entry] | None:
    """The holders with a reservation for ``token``, or None when the device is reserved
    already or held whole."""
    if reserver(holders) is not None or any(h.get("whole") for h in holders):
        return None
    entry = {"token": token, "pid": os.getpid(), "reserve": True, "since": now, "seen": now}
    return [*holders, {**entry, "bytes": 0}]


def renew(entries: list[Entry], token: str) -> list[Entry] | None:
    """The entries with ``token``'s reservation or waiting entry marked seen now, or None
    when it has none (then nothing is written)."""
    if not any(e.get("token") == token and "seen" in e for e in entries):
        return None
    now = time.time()
    return [{**e, "seen": now} if e.get("token") == token and "seen" in e else e for e in entries]


def unreserved(holders: list[Entry], token: str) -> list[Entry] | None:
    """The holders without ``token``'s reservation, or None when it holds none here."""
    if reserver(holders) != token:
        return None
    return [h for h in holders if not (h.get("reserve") and h.get("token") == token)]


def without(holders: list[Entry], token: str) -> list[Entry]:
    """The holders without this request's leases (its reservation, if any, stays)."""
    return [h for h in holders if h.get("token") != token or h.get("reserve")]


__all__ = [
    "STALE_RESERVATION",
    "Device",
    "Entry",
    "Request",
    "Room",
    "alive",
    "claim",
    "free",
    "leases",
    "order",
    "plan",
    "rank",
    "renew",
    "reserve_on",
    "reserver",
    "rooms",
    "taken",
    "unreserved",
    "waiter",
    "without",
]
