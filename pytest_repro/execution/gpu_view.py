"""What one look at the GPU lease files found, and what a request may do with it: claim by
rank, follow the plan of the queue, wait for a plan, or have the queue planned again (see
:mod:`pytest_repro.execution.gpus`)."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_repro.execution import gpu_plan as gp
from pytest_repro.execution import gpu_state as st
from pytest_repro.execution.gpu_files import Stamp
from pytest_repro.execution.gpu_state import Device, Entry, Request

#: A request expected to hold its devices this many seconds and polls or more waits for the
#: plan of a plannable queue instead of claiming as it arrives: that wait (a poll for the
#: queue to settle, the plan, a poll) is about 2% of its run, and a burst is planned whole;
#: and a queue of such runs is planned again whenever a lease ends.
AWAIT_PLAN = (120.0, 200)


@dataclass(slots=True, kw_only=True)
class View:
    """What one look at the files found (shared by the threads of a process that look at
    the same stamps): each device's live entries and free room, and the waiting requests."""

    stamps: tuple[Stamp, ...]
    states: dict[str, list[Entry]]
    room: dict[str, st.Room]
    queue: list[Request]  # the requests waiting (those already served left out)
    planned: dict[str, tuple[float, tuple[str, ...]]]  # the plan file: start, devices
    basis: frozenset[str]  # the leases running when the plan on file was made
    planning: bool  # every waiter and lease has an expected duration: the plan file rules
    served: dict[str, list[Device]] | None = None  # the queue's plan, once worked out

    def follows(self, request: Request) -> bool:
        """Whether ``request`` is served by the plan file: the queue is plannable and the
        plan holds the request (until it does, the rank order serves it)."""
        return self.planning and request.expected > 0 and request.token in self.planned

    def plan(self, request: Request) -> list[Device]:
        """What ``request`` may claim now, after the waiters ranked before it (or, when
        the queue is planned, planned before it on its devices)."""
        if self.follows(request):
            ids = gp.turn(self.planned, self.queue, request.token)
            free = {
                d.id for d in st.order(request.devices, self.room, request.memory, request.token)
            }
            return [d for d in request.devices if d.id in ids] if free.issuperset(ids) else []
        if any(r.token == request.token for r in self.queue):
            if self.served is None:
                self.served = st.plan(self.room, sorted(self.queue, key=st.rank))
            return self.served.get(request.token, [])
        ranked = sorted([*self.queue, request], key=st.rank)  # not queued yet
        return st.plan(self.room, ranked)[request.token]

    def awaits_plan(self, request: Request, poll: float) -> bool:
        """Whether ``request`` (not queued yet) waits for the plan of the queue before it
        claims anything: it runs long (:func:`long_run`), the queue with it is plannable and
        the plan does not hold it yet."""
        return (
            long_run(request.expected, poll)
            and not self.follows(request)
            and gp.plannable([*self.queue, request], self.states)
        )

    def released(self, poll: float) -> bool:
        """Whether a queue of long runs is to be planned again because a lease has ended
        since its plan was made (early or late against its estimate, the plan's later
        starts have moved)."""
        return (
            self.planning
            and bool(self.queue)
            and all(long_run(r.expected, poll) for r in self.queue)
            and gp.released(self.planned, self.basis, self.queue, self.states)
        )


def long_run(expected: float, poll: float) -> bool:
    """Whether a run of ``expected`` seconds is long enough (:data:`AWAIT_PLAN`) that a poll
    or two and a plan are a small share of it."""
    seconds, polls = AWAIT_PLAN
    return expected >= max(seconds, polls * poll)
