"""Share a site power request out among the members.

The request is in W, positive = discharge, negative = charge. Whatever the strategy:

* only members that can serve the request's direction get power (available, following remote
  control, SOC known and above the floor for discharge or below full for charge); the others
  get exactly 0;
* no member is asked for more than its own limit;
* the powers add up to the request whenever the candidates can move it, and to the most they
  can move (with the request's sign) otherwise.

Members are ranked by the energy they can still move (above the floor, or below full), or, for
rotation by throughput, by how little energy they have moved since they joined the site (the
one that worked least leads; by energy again when a member does not report it). One of them,
the lead, is kept until another is better by a margin, so that noise on the SOCs does not make
the choice flap and throughput hands over in steps rather than at every watt-hour.

Everything a decision remembers is in :class:`SplitState`, passed in and returned: no hidden
state, and time is the ``now`` argument (monotonic seconds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
import math

from .models import (
    ActiveMember,
    Direction,
    Member,
    Split,
    SplitSettings,
    SplitState,
    Strategy,
)

_ROTATIONS = (Strategy.ROTATION, Strategy.ROTATION_THROUGHPUT)

# Scores are in Wh when every candidate knows its capacity. When one does not, energies cannot
# be compared, so every candidate counts as this capacity: the score becomes its SOC points.
_POINTS_BASIS_WH = 100.0


def split_power(
    members: Sequence[Member],
    request_w: float,
    *,
    now: float,
    state: SplitState | None = None,
    settings: SplitSettings | None = None,
) -> Split:
    """The power to ask of each member for ``request_w``, and the state for the next call."""
    if math.isnan(request_w):
        raise ValueError("the site request is not a number")
    ids = [member.member_id for member in members]
    if len(set(ids)) != len(ids):
        raise ValueError("two members share an id")
    state = state or SplitState()
    settings = settings or SplitSettings()
    powers = dict.fromkeys(ids, 0.0)
    if request_w == 0:
        return Split(request_w=request_w, feasible_w=0.0, powers_w=powers, state=state)

    direction = Direction.DISCHARGE if request_w > 0 else Direction.CHARGE
    sign = 1.0 if direction is Direction.DISCHARGE else -1.0
    candidates = [member for member in members if member.can_serve(direction)]
    limits = {member.member_id: member.limit_w(direction) for member in candidates}
    feasible = math.fsum(limits.values())
    if not candidates:
        return Split(request_w=request_w, feasible_w=0.0, powers_w=powers, state=state)

    target = min(abs(request_w), feasible)
    basis = _capacity_basis(candidates)
    energy = {
        member.member_id: member.usable_points(direction) / 100 * basis[member.member_id]
        for member in candidates
    }
    ranking = _ranking(candidates, energy, basis, settings)
    lead = _choose_lead(candidates, ranking, state.lead(direction))
    # The lead first, then the others by rank (input order on ties).
    order = [
        lead,
        *sorted(
            (member.member_id for member in candidates if member.member_id != lead),
            key=ranking.score,
            reverse=True,  # still stable: equal ranks keep the input order
        ),
    ]

    if settings.strategy in _ROTATIONS:
        amounts = _fill_in_order(order, limits, target)
        staged: tuple[ActiveMember, ...] = ()
    else:
        staged = _stage(order, limits, target, direction, state, settings, now)
        working = [active.member_id for active in staged]
        amounts = _water_fill(working, limits, energy, target)

    for member_id, amount in amounts.items():
        powers[member_id] = sign * amount
    discharging = direction is Direction.DISCHARGE
    new_state = SplitState(
        discharge_lead=lead if discharging else state.discharge_lead,
        charge_lead=state.charge_lead if discharging else lead,
        staged_direction=direction if staged else None,
        staged=staged,
    )
    return Split(request_w=request_w, feasible_w=sign * feasible, powers_w=powers, state=new_state)


def _capacity_basis(candidates: Sequence[Member]) -> dict[str, float]:
    """The capacity each candidate's SOC points are worth, on one scale for all of them."""
    capacities = {member.member_id: member.known_capacity_wh for member in candidates}
    if any(capacity is None for capacity in capacities.values()):
        return dict.fromkeys(capacities, _POINTS_BASIS_WH)
    return {member_id: capacity or _POINTS_BASIS_WH for member_id, capacity in capacities.items()}


@dataclass(frozen=True, kw_only=True)
class _Ranking:
    """Which candidate should work first, and by how much another must beat it to take over.

    ``scores``: higher works first, ties broken by the energy the member can still move.
    ``margin``: per pair (challenger, lead), how much higher the challenger's score must be.
    """

    scores: Mapping[str, float]
    energy: Mapping[str, float]
    margin: Callable[[str, str], float]

    def score(self, member_id: str) -> tuple[float, float]:
        return (self.scores[member_id], self.energy[member_id])


def _ranking(
    candidates: Sequence[Member],
    energy: Mapping[str, float],
    basis: Mapping[str, float],
    settings: SplitSettings,
) -> _Ranking:
    """Rank by throughput when asked and every candidate reports it; otherwise by energy."""
    throughputs = {member.member_id: member.known_throughput_wh for member in candidates}
    if settings.strategy is Strategy.ROTATION_THROUGHPUT and None not in throughputs.values():
        return _Ranking(
            # The member that moved the least leads; the others catch up with it.
            scores={member_id: -(wh or 0.0) for member_id, wh in throughputs.items()},
            energy=energy,
            margin=lambda _challenger, _lead: settings.throughput_margin_wh,
        )

    def soc_margin(challenger: str, lead: str) -> float:
        # In SOC points of the larger battery of the two: a wobble of less than half the
        # margin on each SOC can then never make a challenger win.
        return settings.lead_margin_percent / 100 * max(basis[challenger], basis[lead])

    return _Ranking(scores=energy, energy=energy, margin=soc_margin)


def _choose_lead(candidates: Sequence[Member], ranking: _Ranking, previous: str | None) -> str:
    """The working member: the previous one unless another beats it by the margin."""
    ids = [member.member_id for member in candidates]
    if previous is None or previous not in ranking.scores:
        return max(ids, key=ranking.score)  # first decision, or the lead cannot serve any more
    scores = ranking.scores
    challengers = [
        member_id
        for member_id in ids
        if scores[member_id] > scores[previous] + ranking.margin(member_id, previous)
    ]
    return max(challengers, key=ranking.score) if challengers else previous


def _stage(
    order: Sequence[str],
    limits: Mapping[str, float],
    target: float,
    direction: Direction,
    state: SplitState,
    settings: SplitSettings,
    now: float,
) -> tuple[ActiveMember, ...]:
    """The members allowed to work: one per stage of the request, plus those still held.

    Beyond the stages, further members join in ``order`` while the admitted ones cannot move
    the target on their own: staging never makes a feasible request infeasible.
    """
    stage_w = settings.stage_w
    if stage_w is None or not stage_w > 0 or not math.isfinite(stage_w):
        count = len(order)
    else:
        count = max(1, math.ceil(target / stage_w))
    needed = list(order[:count])
    while len(needed) < len(order) and math.fsum(limits[m] for m in needed) < target:
        needed.append(order[len(needed)])

    previous = (
        {active.member_id: active for active in state.staged}
        if state.staged_direction is direction
        else {}
    )
    staged = []
    for member_id in order:
        before = previous.get(member_id)
        if member_id in needed:
            joined_at = before.joined_at if before else now
            staged.append(ActiveMember(member_id=member_id, joined_at=joined_at, needed_at=now))
        elif before is not None and now - before.needed_at < settings.min_hold_s:
            staged.append(before)
    return tuple(staged)


def _fill_in_order(
    order: Sequence[str], limits: Mapping[str, float], target: float
) -> dict[str, float]:
    """Each member in turn up to its limit, until the target is reached."""
    amounts = {}
    remaining = target
    for member_id in order:
        amounts[member_id] = min(remaining, limits[member_id])
        remaining = max(remaining - amounts[member_id], 0.0)
    return amounts


def _water_fill(
    working: Sequence[str],
    limits: Mapping[str, float],
    weights: Mapping[str, float],
    target: float,
) -> dict[str, float]:
    """Shares of ``target`` in proportion to the weights, none above its limit.

    What a clipped member cannot take goes to the others, still in proportion to their weights,
    until nobody is clipped any more (or everybody is, when the target is their sum).
    """
    amounts: dict[str, float] = {}
    free = list(working)
    remaining = target
    while free:
        # Relative to the largest weight, so that neither tiny nor huge capacities lose the
        # proportions to rounding; weights that are all zero share equally.
        top = max(weights[m] for m in free)
        relative = {m: weights[m] / top for m in free} if top > 0 else dict.fromkeys(free, 1.0)
        total = math.fsum(relative.values())
        shares = {m: remaining * relative[m] / total for m in free}
        clipped = [m for m in free if shares[m] >= limits[m]]
        if not clipped:
            amounts.update(shares)
            break
        for member_id in clipped:
            amounts[member_id] = limits[member_id]
            remaining = max(remaining - limits[member_id], 0.0)
        free = [m for m in free if m not in clipped]
    return amounts
