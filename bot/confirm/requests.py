"""Saving a Meldebogen (the referrer's) and a coordinator's decline of one."""

from __future__ import annotations

from bot.confirm.common import Reply, about
from bot.forms.engine import Answers, FormContext
from bot.i18n import N_
from bot.services import BotContext
from domain.vocabulary import RequestStatus
from storage.types import DialogueSnapshot


def request_code(number: int) -> str:
    """How a Meldebogen is named in the chat: M-12 (a number, no case code, nothing personal)."""
    return f"M-{number}"


def send_request(context: BotContext, snapshot: DialogueSnapshot, answers: Answers, ctx: FormContext) -> Reply:
    t = context.t
    number = context.services.store.requests.send(context.staff, source=answers["source"],
                                                  body={k: v for k, v in answers.items() if k not in ("source", "consent")})
    return Reply(t.gettext(N_("Meldebogen {code} is sent to the coordination of the case management. What becomes of "
                              "it: /sent"), code=t.isolate(request_code(number))))


def decline_request(context: BotContext, snapshot: DialogueSnapshot, answers: Answers, ctx: FormContext) -> Reply:
    t = context.t
    number = int(about(snapshot)["request"])
    context.services.store.requests.decide(context.staff, number, status=RequestStatus.DECLINED, reason=answers["reason"])
    return Reply(t.gettext(N_("Meldebogen {code} is declined; its sender reads your reason."),
                           code=t.isolate(request_code(number))))
