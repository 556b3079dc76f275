"""The Meldebogen (a referrer's request that the case management take a client on) and the
coordinator's reason for declining one."""

from __future__ import annotations

from bot.choices import SOURCES
from bot.confirm import requests as saving
from bot.forms.engine import Choice, Field, Form, Kind
from bot.forms.intake import INTAKE
from bot.i18n import N_
from domain.vocabulary import Source

MELDEBOGEN = Form(
    name="meldebogen", title=N_("Meldebogen"), confirm=saving.send_request, save_label=N_("✔ Send"),
    fields=(
        Field("source", Kind.CHOICE, N_("Sent from"), N_("Where do you send it from?"),
              choices=tuple(c for c in SOURCES if c.value != Source.SELF)),
        INTAKE.field("given_name"), INTAKE.field("family_name"), INTAKE.field("birth_date"), INTAKE.field("phone"),
        Field("reach", Kind.TEXT, N_("How to reach them"),
              N_("How else can the client be reached (address, good times, language, interpreter)?"),
              optional=True, max_length=300, multiline=True),
        Field("reason", Kind.TEXT, N_("Why"), N_("Why should the case management take the client on?"),
              max_length=1500, multiline=True),
        Field("consent", Kind.CHOICE, N_("Consent"),
              N_("Has the client agreed that these details go to the KIM case management?"),
              choices=(Choice("given", N_("Yes, the client agreed")), Choice("refused", N_("No"))),
              required_value="given",
              refusal=N_("Without the client's consent nothing is sent. Nothing was stored.")),
    ),
)

DECLINE_REQUEST = Form(
    name="decline-request", title=N_("Decline the Meldebogen"), confirm=saving.decline_request,
    fields=(Field("reason", Kind.TEXT, N_("Reason"), N_("Why is it declined? Its sender reads this, so please write "
                                                         "it for them (no names)."), max_length=500, multiline=True),),
)
