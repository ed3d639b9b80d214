"""The inbox over JSON: list conversations, read one, hand in a message, reply.

A message handed in through the API takes the same path as mail (``source`` = api): kept first,
then read, threaded, matched, assigned and put on the clock; the same Message-ID twice is stored
once (200 with ``duplicate: true`` instead of 201).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, Field

from goodwill.actions.inbox import receive, reply
from goodwill.actions.tracked_mail import track_reply
from goodwill.errors import InvalidInput, NotFound
from goodwill.settings import max_message_bytes
from goodwill.store.inbox import conversation, list_conversations, with_messages
from goodwill.store.thread_index import merged_into
from goodwill.web.api.schemas import API_ERRORS, ErrorBody, RecordId
from goodwill.web.auth import ApiStaff, ApiStaffAlone, actor
from goodwill.web.state import Db, State

router = APIRouter(prefix="/api/v1", tags=["inbox"], responses=API_ERRORS)
#: The longest reply text, in characters (the dashboard's reply form takes the same).
MAX_REPLY = 100_000


class ReplyIn(BaseModel):
    text: str = Field(
        min_length=1,
        max_length=MAX_REPLY,
        description="The reply's text; it goes out as plain text.",
    )
    override_reason: str | None = Field(
        default=None,
        max_length=2000,
        description="Why to send despite the guardrails' warnings (kept with the reply).",
    )


class MessageAccepted(BaseModel):
    inbound_id: int
    duplicate: bool
    status: str = Field(
        description="parsed (filed), failed (kept, shown, not filed), duplicate, own-reply "
        "(goodwill's own reply came back) or stored (kept, filed by the next worker round)"
    )
    conversation_id: int | None


@router.get("/conversations")
def list_conversations_api(
    staff: ApiStaff,
    db: Db,
    state: State,
    status: Annotated[
        list[Literal["open", "waiting", "answered", "closed"]] | None,
        Query(description="open, waiting, answered, closed"),
    ] = None,
    messages: Annotated[bool, Query(description="Include each message's texts.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[dict[str, Any]]:
    """Conversations, most urgent first, with client, status, response due and assignee."""
    found = list_conversations(db, status=status or None, limit=limit)
    if messages:
        found = with_messages(db, found)
    now = state.now()
    return [c.as_dict(now, messages=messages) for c in found]


@router.get("/conversations/{conversation_id}", responses={404: {"model": ErrorBody}})
def get_conversation_api(
    conversation_id: RecordId, staff: ApiStaff, db: Db, state: State
) -> dict[str, Any]:
    """One conversation with every message (new text and full text)."""
    found = conversation(db, conversation_id)
    if found is None:
        into = merged_into(db, conversation_id)
        if into is not None:
            raise NotFound(
                f"conversation {conversation_id} was merged into {into}", merged_into=into
            )
        raise NotFound(f"no conversation {conversation_id}")
    return found.as_dict(state.now(), messages=True)


@router.post(
    "/messages",
    status_code=201,
    response_model=MessageAccepted,
    responses={200: {"model": MessageAccepted, "description": "Already stored (duplicate)."}},
    openapi_extra={
        "requestBody": {
            "content": {
                "message/rfc822": {"schema": {"type": "string", "format": "binary", "minLength": 1}}
            },
            "required": True,
        }
    },
)
def hand_in_message(
    staff: ApiStaffAlone,
    state: State,
    response: Response,
    raw: Annotated[bytes, Body(media_type="message/rfc822")],
) -> MessageAccepted:
    """Hand in one raw RFC 5322 message (as a web form or another system received it)."""
    if not raw.strip():
        raise InvalidInput("the request body is empty; send the raw message", field="body")
    limit = max_message_bytes(state.settings)
    if len(raw) > limit:
        raise InvalidInput(
            f"the message is larger than mail.max_message_bytes ({limit} bytes)",
            field="body",
            limit=limit,
        )
    got = receive(state.sessions, state.settings, raw, source="api", now=state.now())
    if got.duplicate:
        response.status_code = 200
    return MessageAccepted(
        inbound_id=got.inbound_id,
        duplicate=got.duplicate,
        status=got.status,
        conversation_id=got.conversation_id,
    )


@router.post(
    "/conversations/{conversation_id}/reply",
    status_code=201,
    responses={
        404: {"model": ErrorBody},
        409: {"model": ErrorBody},
        503: {"model": ErrorBody, "description": "Replies need mail.from_address set."},
    },
)
def reply_api(
    request: Request,
    conversation_id: RecordId,
    body: ReplyIn,
    staff: ApiStaff,
    db: Db,
    state: State,
) -> dict[str, Any]:
    """Queue a reply in the client's thread as the token's staff member; the clock stops.

    The guardrails check it first: 422 with ``findings`` (and ``blocked``) when a finding blocks
    it, or when it has warnings and no ``override_reason``."""
    row = reply(
        db,
        state.settings,
        conversation_id,
        text=body.text,
        author_email=staff.email,
        now=state.now(),
        actor=actor(request, staff),
        override_reason=body.override_reason,
    )
    track_reply(db, state.settings, row)
    return {"message_row_id": row, "queued": True}
