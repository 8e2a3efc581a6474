"""An agreement lived through: any sequence of what people and clocks do.

A hypothesis state machine plays administrators, automations, viewers and the
integration itself against one agreement: activate, extend, end, reconcile,
restart from storage, amend the agreement, issue and revoke links, switch
cameras off, and let time pass (across DST changes, in any zone). After every
step the MOU's invariants must hold.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
import json

from hypothesis import settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from custom_components.school_emergency_share.core import (
    links as link_rules,
    session as session_rules,
)
from custom_components.school_emergency_share.core.actor import Actor
from custom_components.school_emergency_share.core.agreement import Agreement
from custom_components.school_emergency_share.core.errors import (
    Refusal,
    RefusalCode,
)
from custom_components.school_emergency_share.core.links import (
    LinkRequest,
    ViewerLink,
)
from custom_components.school_emergency_share.core.session import (
    ActivationRequest,
    EndReason,
    Session,
    SessionState,
)

from .strategies import (
    ALL_CAMERAS,
    CAMERAS,
    INTERNAL_ACTORS,
    actors,
    agreements,
    attempt,
    camera_sets,
    clock_zones,
    elapsed,
    permitted,
    utc,
)

SYSTEM = Actor.system()
# Mostly callers who may act, so that sessions happen; anyone at all otherwise.
callers = st.one_of(st.sampled_from(INTERNAL_ACTORS), actors())
waits = st.one_of(
    st.integers(0, 5),
    st.integers(0, 60),
    st.integers(0, 240),
    st.sampled_from([1440, 3 * 1440]),
)


def in_force(agreement: Agreement, now: datetime) -> bool:
    """Written out independently: the local date of `now` is one of its days."""
    day = now.astimezone(agreement.tz).date()
    return agreement.valid_from <= day <= agreement.valid_until


def check_refusal(outcome: object, blockers: dict[RefusalCode, bool]) -> bool:
    """A refusal names a reason that holds; success means none did. True if refused."""
    if isinstance(outcome, Refusal):
        assert blockers.get(outcome.code), (outcome, blockers)
        return True
    assert not any(blockers.values()), (outcome, blockers)
    return False


class EmergencySharing(RuleBasedStateMachine):
    """One agreement, its sessions and links, as Home Assistant would hold them."""

    def __init__(self) -> None:
        """Nothing has happened yet."""
        super().__init__()
        self.agreement: Agreement
        self.clock = datetime(2026, 1, 1, tzinfo=UTC)
        self.session: Session | None = None
        self.sessions: dict[str, Session] = {}  # every session, latest value
        self.links: dict[str, ViewerLink] = {}
        self.disabled: frozenset[str] = frozenset()
        self.serial = 0

    # -- helpers ---------------------------------------------------------------

    def now(self, zone: tzinfo) -> datetime:
        """The current instant, written in `zone`."""
        return self.clock.astimezone(zone)

    def next_id(self, kind: str) -> str:
        """A fresh id, as Home Assistant makes them."""
        self.serial += 1
        return f"{kind}-{self.serial}"

    def keep(self, session: Session | None) -> None:
        """Hold `session` as the current one and remember it."""
        self.session = session
        if session is not None:
            self.sessions[session.id] = session

    def is_open(self) -> bool:
        """Whether the current session is open now."""
        return self.session is not None and self.session.is_open(self.clock)

    # -- what happens ------------------------------------------------------------

    @initialize(
        agreement=agreements(),
        start=st.one_of(st.integers(0, 1440), st.integers(-1440, 5 * 1440)),
        before_end=st.one_of(st.none(), st.integers(1, 300)),
        under_way=st.integers(0, 3).map(bool),  # three times in four
    )
    def sign(
        self,
        agreement: Agreement,
        start: int,
        before_end: int | None,
        under_way: bool,
    ) -> None:
        """The agreement is signed; the story starts around its dates.

        Sometimes in its last hours; often in the middle of an emergency, so
        that most stories have one.
        """
        self.agreement = agreement
        self.clock = utc(agreement.starts_at) + timedelta(minutes=start)
        if before_end is not None:
            self.clock = agreement.ends_at - timedelta(minutes=before_end)
        if under_way and agreement.in_force(self.clock):
            self.keep(
                session_rules.activate(
                    agreement,
                    None,
                    INTERNAL_ACTORS[0],
                    ActivationRequest("Fire alarm"),
                    now=self.clock,
                    session_id=self.next_id("session"),
                )
            )
            for request in (
                LinkRequest("Unit 12"),
                LinkRequest("Dispatch desk", standing=True),
            ):
                link = link_rules.issue(
                    agreement,
                    self.session,
                    SYSTEM,
                    request,
                    now=self.clock,
                    link_id=self.next_id("link"),
                    token_hash=link_rules.hash_token(link_rules.new_token()),
                )
                self.links[link.id] = link

    def cameras_asked(self) -> st.SearchStrategy[frozenset[str] | None]:
        """All (None), some of those the agreement shares, or any at all."""
        shareable = sorted(self.agreement.shareable_cameras)
        return st.one_of(
            st.none(),
            st.frozensets(st.sampled_from(shareable), min_size=1),
            camera_sets,
        )

    @rule(minutes=waits)
    def time_passes(self, minutes: int) -> None:
        """The clock moves on; nothing is told."""
        self.clock += timedelta(minutes=minutes)

    @rule(
        actor=callers,
        reason=st.sampled_from(["Fire alarm", "Intruder alarm", "  "]),
        minutes=st.one_of(st.none(), st.integers(1, 60), st.integers(-5, 300)),
        data=st.data(),
        zone=clock_zones(),
    )
    def activate(
        self,
        actor: Actor,
        reason: str,
        minutes: int | None,
        data: st.DataObject,
        zone: tzinfo,
    ) -> None:
        """Someone starts sharing."""
        cameras = data.draw(self.cameras_asked())
        now = self.now(zone)
        agreement = self.agreement
        duration = None if minutes is None else timedelta(minutes=minutes)
        outcome = attempt(
            session_rules.activate,
            agreement,
            self.session,
            actor,
            ActivationRequest(reason, duration, cameras, "INC-1"),
            now=now,
            session_id=self.next_id("session"),
        )
        asked = cameras if cameras is not None else agreement.shareable_cameras
        refused = check_refusal(
            outcome,
            {
                RefusalCode.USER_NOT_PERMITTED: not permitted(agreement, actor),
                RefusalCode.AGREEMENT_NOT_IN_FORCE: not in_force(agreement, now),
                RefusalCode.ALREADY_ACTIVE: self.is_open(),
                RefusalCode.REASON_REQUIRED: not reason.strip(),
                RefusalCode.DURATION_INVALID: duration is not None
                and duration <= timedelta(0),
                RefusalCode.DURATION_TOO_LONG: duration is not None
                and duration > agreement.max_session,
                RefusalCode.CAMERA_PRIVATE: bool(asked & agreement.private_cameras),
                RefusalCode.CAMERA_NOT_ELIGIBLE: bool(asked - agreement.cameras),
                RefusalCode.NO_CAMERAS: not asked,
            },
        )
        if refused:
            return
        assert isinstance(outcome, Session)
        assert outcome.id not in self.sessions
        assert outcome.started_at == self.clock
        assert outcome.cameras == asked
        assert outcome.state is SessionState.ACTIVE
        self.keep(outcome)

    @rule(
        actor=callers,
        minutes=st.one_of(st.integers(1, 30), st.integers(-5, 300)),
        zone=clock_zones(),
    )
    def extend(self, actor: Actor, minutes: int, zone: tzinfo) -> None:
        """Someone asks for more time."""
        before = self.session
        outcome = attempt(
            session_rules.extend,
            self.agreement,
            before,
            actor,
            minutes,
            now=self.now(zone),
        )
        is_open = self.is_open()
        refused = check_refusal(
            outcome,
            {
                RefusalCode.USER_NOT_PERMITTED: not permitted(self.agreement, actor),
                RefusalCode.NO_ACTIVE_SESSION: not is_open,
                RefusalCode.DURATION_INVALID: minutes <= 0,
                RefusalCode.EXTENSION_OVER_CAP: before is not None
                and timedelta(minutes=minutes)
                > session_rules.remaining_extension(self.agreement, before),
                RefusalCode.EXTENSION_PAST_AGREEMENT: before is not None
                and before.expires_at >= self.agreement.ends_at,
            },
        )
        if refused:
            return
        assert isinstance(outcome, Session)
        assert before is not None
        assert outcome.expires_at == min(
            before.expires_at + timedelta(minutes=minutes), self.agreement.ends_at
        )
        assert outcome.id == before.id
        assert outcome.started_at == before.started_at
        self.keep(outcome)

    @rule(
        reason=st.sampled_from(EndReason),
        actor=st.one_of(st.none(), callers),
        zone=clock_zones(),
    )
    def end(self, reason: EndReason, actor: Actor | None, zone: tzinfo) -> None:
        """Sharing is ended (deactivate, deadline, unload...)."""
        before = self.session
        if before is None:
            return
        ended = session_rules.end(before, reason, now=self.now(zone), actor=actor)
        if before.ended_at is not None:
            assert ended == before
        else:
            assert ended.ended_at == min(self.clock, before.expires_at)
            assert ended.end_reason is reason
        assert not ended.is_open(self.clock)
        self.keep(ended)

    @rule(zone=clock_zones())
    def reconcile(self, zone: tzinfo) -> None:
        """The integration's own check (deadline timer, housekeeping)."""
        before = self.session
        after = session_rules.reconcile(self.agreement, before, now=self.now(zone))
        if before is None or before.ended_at is not None:
            assert after == before
        elif self.clock >= before.expires_at:
            assert after is not None
            assert after.end_reason is EndReason.DEADLINE
            assert after.ended_at == before.expires_at
        else:
            assert after == before
        self.keep(after)

    @rule(down_for=waits, zone=clock_zones())
    def restart(self, down_for: int, zone: tzinfo) -> None:
        """Home Assistant stops, stays down a while, and reads its store back."""
        before = self.session
        self.clock += timedelta(minutes=down_for)
        self.links = {
            link_id: ViewerLink.from_dict(json.loads(json.dumps(link.as_dict())))
            for link_id, link in self.links.items()
        }
        if before is None:
            return
        stored = Session.from_dict(json.loads(json.dumps(before.as_dict())))
        assert stored == before
        after = session_rules.reconcile(
            self.agreement, stored, now=self.now(zone), restarting=True
        )
        assert after is not None
        if before.ended_at is None and self.clock >= before.expires_at:
            assert after.end_reason is EndReason.ENDED_WHILE_DOWN
            assert after.ended_at == before.expires_at
            assert after.ended_by == SYSTEM
        else:
            # The deadline is ahead (or the session was over): unchanged.
            assert after == before
        self.keep(after)

    @rule(days=st.integers(-3, 3), zone=clock_zones())
    def amend_end_date(self, days: int, zone: tzinfo) -> None:
        """The admin moves the agreement's last day; the session is reconciled."""
        agreement = self.agreement
        until = max(agreement.valid_from, agreement.valid_until + timedelta(days=days))
        self.agreement = replace(agreement, valid_until=until).validated()
        before = self.session
        after = session_rules.reconcile(self.agreement, before, now=self.now(zone))
        if before is not None and before.ended_at is None:
            assert after is not None
            if self.clock >= before.expires_at:
                assert after.end_reason is EndReason.DEADLINE
            elif self.clock >= self.agreement.ends_at:
                assert after.end_reason is EndReason.AGREEMENT_ENDED
            else:
                assert after.expires_at == min(
                    before.expires_at, self.agreement.ends_at
                )
        self.keep(after)

    @rule(camera=st.sampled_from(CAMERAS))
    def mark_private(self, camera: str) -> None:
        """The admin marks a camera private (a room became the nurse's office)."""
        amended = replace(
            self.agreement,
            private_cameras=self.agreement.private_cameras | {camera},
        )
        if amended.shareable_cameras:
            self.agreement = amended.validated()

    @rule(camera=st.sampled_from(ALL_CAMERAS))
    def switch_camera(self, camera: str) -> None:
        """The administrator turns one camera's sharing switch off or on."""
        self.disabled ^= {camera}

    @rule(
        actor=callers,
        label=st.sampled_from(["Unit 12", "Dispatch desk", "Unit 7", " "]),
        minutes=st.one_of(st.none(), st.integers(-1, 600)),
        standing=st.booleans(),
        data=st.data(),
        zone=clock_zones(),
    )
    def issue_link(
        self,
        actor: Actor,
        label: str,
        minutes: int | None,
        standing: bool,
        data: st.DataObject,
        zone: tzinfo,
    ) -> None:
        """Someone makes a viewer link for an officer or the dispatch desk."""
        cameras = data.draw(self.cameras_asked())
        now = self.now(zone)
        agreement = self.agreement
        outcome = attempt(
            link_rules.issue,
            agreement,
            self.session,
            actor,
            LinkRequest(label, minutes, cameras, standing),
            now=now,
            link_id=self.next_id("link"),
            token_hash=link_rules.hash_token(link_rules.new_token()),
        )
        asked = cameras or frozenset()
        session_link = not standing
        is_open = self.is_open()
        refused = check_refusal(
            outcome,
            {
                RefusalCode.USER_NOT_PERMITTED: not permitted(agreement, actor),
                RefusalCode.LABEL_REQUIRED: not label.strip(),
                RefusalCode.DURATION_INVALID: minutes is not None and minutes <= 0,
                RefusalCode.AGREEMENT_NOT_IN_FORCE: self.clock >= agreement.ends_at
                or (session_link and not in_force(agreement, now)),
                RefusalCode.CAMERA_PRIVATE: bool(asked & agreement.private_cameras),
                RefusalCode.CAMERA_NOT_ELIGIBLE: bool(asked - agreement.cameras),
                RefusalCode.NO_CAMERAS: cameras is not None and not cameras,
                RefusalCode.NO_ACTIVE_SESSION: session_link and not is_open,
                RefusalCode.CAMERA_NOT_IN_SESSION: session_link
                and self.session is not None
                and bool(asked - self.session.cameras),
            },
        )
        if refused:
            return
        assert isinstance(outcome, ViewerLink)
        if session_link:
            assert self.session is not None
            assert outcome.session_id == self.session.id
        # A link just made works at once if there is a session to see.
        assert (outcome.check(agreement, self.session, now) is None) is is_open
        self.links[outcome.id] = outcome

    @rule(which=st.one_of(st.none(), st.integers(0, 40)), zone=clock_zones())
    def revoke(self, which: int | None, zone: tzinfo) -> None:
        """One link (by id, perhaps one that doesn't exist), or all of them."""
        now = self.now(zone)
        if which is None:
            targets = list(self.links.values())
        else:
            found = attempt(link_rules.find, self.links, f"link-{which}")
            if isinstance(found, Refusal):
                assert found.code is RefusalCode.LINK_NOT_FOUND
                assert found.placeholders == {"link_id": f"link-{which}"}
                assert f"link-{which}" not in self.links
                return
            targets = [found]
        for link in link_rules.revoke(targets, now=now):
            assert link.revoked_at == self.clock
            self.links[link.id] = link

    # -- what must always hold ------------------------------------------------------

    @invariant()
    def sessions_keep_to_the_agreement(self) -> None:
        """Within its dates and never longer than the maximum plus extensions."""
        if not hasattr(self, "agreement"):
            return
        agreement = self.agreement
        for session in self.sessions.values():
            assert agreement.starts_at <= session.started_at
            assert session.started_at < session.expires_at
            assert (
                elapsed(session.expires_at, session.started_at)
                <= agreement.longest_session()
            )
            assert session.extended_by <= agreement.max_extension
        current = self.session
        if current is not None and current.ended_at is None:
            assert current.expires_at <= agreement.ends_at

    @invariant()
    def nothing_private_is_ever_shared(self) -> None:
        """Not by the session, not by any link, whatever was asked."""
        if self.session is None:
            return
        agreement = self.agreement
        shared = session_rules.shared_cameras(agreement, self.session, self.disabled)
        assert shared <= agreement.shareable_cameras - self.disabled
        assert self.session.cameras <= agreement.cameras
        for link in self.links.values():
            assert link.scope(shared) <= shared
            if link.cameras is not None:
                assert link.cameras <= agreement.cameras

    @invariant()
    def an_ended_session_never_reopens(self) -> None:
        """Closed for good; extend says so; ending it again changes nothing."""
        for session in self.sessions.values():
            if session is self.session and session.ended_at is None:
                continue
            assert not session.is_open(self.clock)
            if session.ended_at is not None:
                refusal = attempt(
                    session_rules.extend,
                    self.agreement,
                    session,
                    SYSTEM,
                    1,
                    now=self.clock,
                )
                assert isinstance(refusal, Refusal)
                assert refusal.code is RefusalCode.NO_ACTIVE_SESSION
                again = session_rules.end(session, EndReason.DEADLINE, now=self.clock)
                assert again == session

    @invariant()
    def links_open_exactly_what_they_may(self) -> None:
        """Each link opens exactly the sessions it may, at this moment.

        Checked against every session there was, and none: only its own (or,
        standing, any) open session, unrevoked, before its expiry; and then it
        does open it.
        """
        if not hasattr(self, "agreement"):
            return
        now, agreement = self.clock, self.agreement
        candidates = [None, *self.sessions.values()]
        for link in self.links.values():
            for session in candidates:
                expiry = link.expiry(agreement, session)
                assert expiry <= agreement.ends_at
                if link.expires_at is not None:
                    assert expiry <= link.expires_at
                own = session is not None and session.id == link.session_id
                if not link.standing and own:
                    assert session is not None
                    assert expiry <= (session.ended_at or session.expires_at)
                opens = link.check(agreement, session, now) is None
                should = (
                    link.revoked_at is None
                    and session is not None
                    and session.is_open(now)
                    and (link.standing or own)
                    and now < expiry
                )
                assert opens is should, (link, session)


# Each example is a story of up to 30 steps.
EmergencySharing.TestCase.settings = settings(settings(), stateful_step_count=30)
TestEmergencySharing = EmergencySharing.TestCase
