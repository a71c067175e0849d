"""The pipeline's steps for upload sessions (gateway.sessions): chunks held, answered as the service would, the
whole file judged at the last one, then replayed or refused. A mixin of UploadPipeline."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from gateway.audit import UploadCompletedEvent, new_incident_id, rfc3339_now
from gateway.content_coding import BodyTooLarge, UndecodableBody, codings, decode_body
from gateway.extract.apps import file_ids
from gateway.models import (
    Action,
    Decision,
    InspectionErrorKind,
)
from gateway.pipeline.values import (
    FORWARD,
    OFF_LOOP_BYTES,
    Outcome,
    ReplayHeld,
    RequestHead,
    Respond,
    Result,
    ServiceAnswer,
    UploadRequest,
    _http_request,
    new_upload_id,
)
from gateway.policy import Policy
from gateway.sessions import (
    PROTOCOLS,
    HeldRequest,
    Piece,
    PieceKind,
    Reply,
    SessionLimitExceeded,
    UploadSession,
    read_piece,
    session_key,
)

log = logging.getLogger(__name__)


class SessionSteps:
    """Upload-session handling of UploadPipeline (uses its policies, sessions, recorder and decision steps)."""


    def _read_piece(self, head: RequestHead, dest: str | None) -> Piece | None:
        """A request of an upload session: to an in-scope host, or to a session URL the store holds."""
        known = self.sessions.knows(session_key(head.host, head.path))
        if dest is None and not known:
            return None
        return read_piece(head.method, head.host, head.path, head.headers, known)

    def _session_destination(self, key: str) -> str | None:
        session = self.sessions.get(key)
        return session.destination if session is not None else None

    def sweep_sessions(self) -> int:
        """Drop sessions idle past their timeout (their held bytes never went anywhere); returns how many."""
        expired = self.sessions.sweep()
        for session in expired:
            log.info("upload session %s expired unfinished after %d piece(s), %d bytes held: dropped",
                     session.upload_id, session.pieces, session.received)
        self.metrics.set_sessions(self.sessions.count, self.sessions.memory_bytes, self.sessions.disk_bytes,
                                  len(expired))
        return len(expired)

    def session_started(self, head: RequestHead, piece: Piece, status: int, headers: Mapping[str, str],
                        upload_id: str, destination: str | None) -> None:
        """The upstream's answer to a session start (Google `start`): remember the session URL it handed out."""
        key = PROTOCOLS[piece.protocol].session_url_key(status, headers)
        if key is not None:
            self.sessions.open(key, piece.protocol, upload_id, destination, piece.content_type, piece.total)
            self.metrics.set_sessions(self.sessions.count, self.sessions.memory_bytes, self.sessions.disk_bytes)

    def wants_answer(self, head: RequestHead) -> bool:
        """Whether the file id of this (forwarded) upload is in the service's answer body, so it is worth reading."""
        return file_ids.wants_answer(_http_request(head))

    def upload_completed(self, head: RequestHead, answer: ServiceAnswer, incident_id: str, upload_id: str | None,
                         destination: str | None) -> UploadCompletedEvent | None:
        """The follow-up audit event of a forwarded upload whose service named the stored file, else None."""
        body = answer.body
        if body is not None:
            try:
                body = decode_body(body, answer.headers.get("content-encoding"), file_ids.MAX_ANSWER_BYTES)
            except (BodyTooLarge, UndecodableBody):
                body = None
        found = file_ids.file_id(_http_request(head), answer.status, answer.headers.get("content-type", ""), body)
        if found is None:
            return None
        return UploadCompletedEvent(rfc3339_now(), "upload_completed", incident_id, upload_id, found.value, found.app,
                                    head.host, destination, head.client_ip, answer.status)

    async def handle_piece(self, req: UploadRequest, piece: Piece, held: HeldRequest,
                           destination: str | None) -> Result:
        """One request of a chunked/resumable upload: forwarded (no file bytes), held and answered in the service's
        place, judged with every held byte (the last piece), or refused. Nothing of an unjudged file leaves."""
        policy = self.policies.current
        self.sweep_sessions()
        try:
            result = await self._piece(req, piece, held, destination, policy)
        except Exception as err:  # our bug must never let a chunk through on its own
            log.exception("DLP upload session error on %s", req.host)
            self.metrics.observe_error("addon_exception")
            session = self.sessions.get(piece.key)
            if session is None:
                result = self._on_error(req, policy, destination, InspectionErrorKind.INTERNAL, type(err).__name__)
                if not isinstance(result.outcome, Respond):
                    result.outcome = self._refusal_answer(req, result)
            else:
                result = self._session_error(session, piece, req, policy, InspectionErrorKind.INTERNAL,
                                             type(err).__name__)
        self.metrics.set_sessions(self.sessions.count, self.sessions.memory_bytes, self.sessions.disk_bytes)
        self.metrics.observe_session_piece(piece.protocol, _piece_outcome(piece, result.outcome))
        return result

    async def _piece(self, req: UploadRequest, piece: Piece, held: HeldRequest, destination: str | None,
                     policy: Policy) -> Result:
        protocol = PROTOCOLS[piece.protocol]
        if piece.kind is PieceKind.START:  # no file bytes: judged as the request it is, the session opens on its answer
            result = await self.handle(req, destination)
            result.upload_id = new_upload_id()
            if result.record is not None:
                result.record.upload_id, result.record.pieces = result.upload_id, 1
            return result
        refusal = self.sessions.refusal(piece.key)
        if refusal is not None:
            return Result(refusal.answer, upload_id=refusal.upload_id)
        session = self.sessions.get(piece.key)
        if session is None:
            if piece.kind is PieceKind.CANCEL:
                return Result()
            if not protocol.opens(piece):
                return self._unknown_session(req, policy, destination)
            session = self.sessions.open(piece.key, piece.protocol, new_upload_id(), destination,
                                         req.headers.get("content-type"), piece.total, pieces=0)
        self.sessions.mark_piece(session)
        tagged = lambda outcome: Result(outcome, upload_id=session.upload_id)  # noqa: E731
        if session.passthrough or piece.kind is PieceKind.CANCEL:
            if piece.kind in (PieceKind.FINAL, PieceKind.CANCEL):
                self.sessions.drop(session.key)
            return tagged(FORWARD)
        if piece.kind is PieceKind.QUERY:
            return tagged(_respond(protocol.status(req.host, session)))
        problem = piece.detail if piece.kind is PieceKind.INVALID else _chunk_problem(req, piece, session)
        if problem:
            return tagged(_respond(protocol.mismatch(req.host, session, problem)))
        if codings(req.headers.get("content-encoding")):
            return self._session_error(session, piece, req, policy, InspectionErrorKind.UNSUPPORTED_FORMAT,
                                       "a content-encoded chunk of an upload session")
        if piece.kind is PieceKind.FINAL:
            return await self._finalize(session, piece, req, policy)
        return await self._hold(session, piece, req, held, policy)

    async def _hold(self, session: UploadSession, piece: Piece, req: UploadRequest, held: HeldRequest,
                    policy: Policy) -> Result:
        """A chunk that is not the last: kept, and answered as the service answers an accepted chunk."""
        try:
            if len(held.body) > OFF_LOOP_BYTES:  # a spilled chunk is written to disk: not on the event loop
                await self._off_loop(self.sessions.hold, session, held, policy.limits.max_body_bytes)
            else:
                self.sessions.hold(session, held, policy.limits.max_body_bytes)
        except SessionLimitExceeded as err:
            return self._session_error(session, piece, req, policy, InspectionErrorKind.TOO_LARGE, str(err))
        reply = PROTOCOLS[session.protocol].interim(req.host, session)
        return Result(_respond(reply), upload_id=session.upload_id)

    async def _finalize(self, session: UploadSession, piece: Piece, req: UploadRequest, policy: Policy) -> Result:
        """The last piece: the whole file, judged like a raw upload of it; then replayed upstream, or refused."""
        if session.received + len(req.body) > policy.limits.max_body_bytes:
            return self._session_error(session, piece, req, policy, InspectionErrorKind.TOO_LARGE,
                                       f"upload session over {policy.limits.max_body_bytes} bytes (max_body_bytes)")
        session.busy = True  # OCR may take longer than the session timeout: the sweeper must wait
        held = await self._off_loop(self.sessions.assemble, session) if session.received > OFF_LOOP_BYTES \
            else self.sessions.assemble(session)
        data = held + req.body
        whole = UploadRequest(req.method, req.host, req.path, _file_headers(req, session, len(data)), req.client_ip,
                              req.proxy_user, len(data), data)
        result = await self.handle(whole, session.destination, redactable=False)
        return self._session_outcome(session, piece, result)

    def _session_error(self, session: UploadSession, piece: Piece, req: UploadRequest, policy: Policy,
                       kind: InspectionErrorKind, detail: str) -> Result:
        """A limit or failure in a session: on_error decides, for the whole session."""
        result = self._on_error(req, policy, session.destination, kind, detail)
        if not isinstance(result.outcome, Respond):  # let through uninspected: the rest passes as it comes
            session.passthrough = True
        return self._session_outcome(session, piece, result)

    def _session_outcome(self, session: UploadSession, piece: Piece, result: Result) -> Result:
        """A session's decision carried out: refuse it (this and every later piece), or replay what is held."""
        if result.record is not None:
            result.record.upload_id, result.record.pieces = session.upload_id, session.pieces
        if isinstance(result.outcome, Respond):
            self.sessions.refuse(session, result.outcome)
            return Result(result.outcome, result.record, session.upload_id)
        final = piece.kind is PieceKind.FINAL

        session.busy = True

        def release() -> None:
            session.busy = False
            if final:
                self.sessions.drop(session.key)
            else:
                self.sessions.release_chunks(session)

        replay = ReplayHeld(lambda: self.sessions.held(session), PROTOCOLS[session.protocol].accepts, release)
        return Result(replay, result.record, session.upload_id)

    def _unknown_session(self, req: UploadRequest, policy: Policy, dest: str | None) -> Result:
        """A piece of a session this gateway does not hold: refused whatever on_error says (never forwarded)."""
        decision = Decision(Action.BLOCK, "unknown_upload_session",
                            "a piece of an upload session this gateway does not hold (it expired, or it began on "
                            "another replica or before a restart): refused, never forwarded; start the upload again")
        incident = new_incident_id()
        self.metrics.observe_error("unknown_upload_session")
        rctx = self.context(req, policy, dest, [])
        return Result(self._block(req, decision, incident), self._record(rctx, decision, [], incident,
                                                                          time.perf_counter(), policy))

    def _refusal_answer(self, req: RequestHead, result: Result) -> Respond:
        decision = result.record.decision if result.record else Decision(Action.BLOCK, "on_error", "internal error")
        return self._block(req, decision, result.record.incident_id if result.record else new_incident_id())



def _respond(reply: Reply) -> Respond:
    return Respond(reply.status, dict(reply.headers), reply.body)


def _chunk_problem(req: UploadRequest, piece: Piece, session: UploadSession) -> str:
    """Why a chunk does not continue its session ("" when it does)."""
    if piece.offset is not None and piece.offset != session.received:
        return f"chunk at byte {piece.offset}, but {session.received} bytes were received"
    if piece.length is not None and piece.length != len(req.body):
        return f"Content-Range says {piece.length} bytes, the body has {len(req.body)}"
    if piece.total is not None and session.total is not None and piece.total != session.total:
        return f"the file size changed from {session.total} to {piece.total}"
    return ""


_SESSION_HEADERS = ("content-range", "content-encoding", "content-length", "x-goog-upload-command",
                    "x-goog-upload-offset")


def _file_headers(req: UploadRequest, session: UploadSession, size: int) -> dict[str, str]:
    """The headers of a raw upload of the whole file: the last piece's, with the file's own type and size."""
    headers = {k: v for k, v in req.headers.items() if k not in _SESSION_HEADERS}
    headers["content-length"] = str(size)
    if session.content_type:
        headers["content-type"] = session.content_type
    return headers


def _piece_outcome(piece: Piece, outcome: Outcome) -> str:
    """The metrics label of what happened to one piece."""
    if isinstance(outcome, ReplayHeld):
        return "replayed"
    if isinstance(outcome, Respond):
        if outcome.status == 403:
            return "refused"
        return "held" if piece.kind is PieceKind.CHUNK and outcome.status < 400 else "answered"
    return "forwarded"


