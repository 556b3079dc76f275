"""The services a handler can reach through `context.services`, and the context type."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from telegram import User
from telegram.ext import Application, CallbackContext, ExtBot

from bot.commands import ChatMenus
from bot.dispatcher import Dispatcher
from bot.documents.pdf import PdfEngine
from bot.forms.engine import Form, FormContext
from bot.gate import Gate
from bot.i18n import Catalogs, Translator, negotiate
from bot.inbox import Inbox
from bot.ops import Metrics
from bot.render import Renderer
from bot.settings import Settings
from domain import roles
from domain.calendar import WorkingHours
from domain.roles import Role
from storage.store import Store
from storage.types import NotAllowed, StaffUser


@dataclass
class Services:
    """Everything a handler uses, built in one place (bot/app.py: build_services)."""

    settings: Settings
    store: Store
    catalogs: Catalogs
    renderer: Renderer
    dispatcher: Dispatcher
    # who may come in at all (told by the access layer who is staff)
    gate: Gate
    # how updates come in: stored first, then handled (bot/inbox.py)
    inbox: Inbox
    # documents on paper (bot/documents/): one engine, its fonts read once
    pdf: PdfEngine = field(default_factory=PdfEngine)
    # each person's command menu, as their role allows (bot/commands.py)
    menus: ChatMenus = field(default_factory=ChatMenus)
    # what an operator watches (bot/ops.py): counted where things happen, read at /metrics
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def working_hours(self) -> WorkingHours:
        return self.settings.working_hours

    def language_for(self, staff: StaffUser | None, telegram_user: User | None) -> str:
        if staff is not None and staff.language:
            return staff.language
        code = telegram_user.language_code if telegram_user else None
        return negotiate(code, self.catalogs.offered(staff.org_id if staff else None), self.settings.default_language)

    def translator(self, staff: StaffUser | None, telegram_user: User | None = None) -> Translator:
        """The language a person reads: their choice, else their Telegram language, else the
        default; in the catalogs of their organisation (what its admins uploaded)."""
        return self.catalogs.get(self.language_for(staff, telegram_user), staff.org_id if staff else None)

    def local_now(self) -> datetime:
        return self.store.clock.now().astimezone(self.settings.tz)

    def district_overview(self, org_id: int, code: str) -> dict | None:
        """A district as its form and /districts show it: name, quarters, border quarters, neighbours."""
        district = self.store.staff.district_by_code(org_id, code)
        if district is None:
            return None
        borders = self.store.settings.borders(org_id).get(code)
        return {"code": district.code, "name": district.name, "id": district.id,
                "quarters": self.store.settings.quarters(org_id).get(code, ()),
                "border": borders.quarters if borders else (), "neighbours": borders.neighbours if borders else ()}

    def form_context(self, staff: StaffUser, form: Form | None = None, state: dict | None = None) -> FormContext:
        """What a form's checks and choices may look at; for a form about a case, the case's
        age, status and district and the service catalogue (read as the dialogue goes)."""
        now = self.store.clock.now()
        subject: dict = {}
        about = (state or {}).get("context", {})
        loads = form.loads if form is not None else frozenset()
        if form is not None and form.needs_case and about.get("case"):
            subject = {"case": self.store.casework.subject_of(staff, about["case"]),
                       "services": self.store.catalogue.rules(staff.org_id)}
        if "target_group" in loads:
            subject["target_group"] = self.store.settings.target_group(staff.org_id)
        if "quarters" in loads:
            subject["quarters"] = self.store.settings.quarters(staff.org_id)
        if "request" in loads and about.get("request") and not (state or {}).get("answers"):
            try:  # read once, as the dialogue starts: what the Meldebogen said
                subject["request"] = self.store.requests.for_intake(staff, int(about["request"]))
            except NotAllowed:
                subject["request"] = None
        if "district" in loads:  # the district an admin edits (None: a new one)
            subject["district"] = self.district_overview(staff.org_id, about.get("district") or "")
        if "intake" in loads and about.get("case"):
            subject["intake"] = self.store.casefile.intake(staff, about["case"])
        if "staff" in loads:
            colleagues = [u for role in roles.holding(roles.records_cases)
                          for u in self.store.staff.members(staff.org_id, role) if u.id != staff.id]
            subject["staff"] = [(u.id, u.label) for u in colleagues]
        if "conference" in loads and about.get("conference"):
            info = self.store.conferences.info(int(about["conference"]))
            labels = {u.id: u.label for role in Role for u in self.store.staff.members(staff.org_id, role)}
            subject["participants"] = [(i, labels.get(i, f"#{i}")) for i in (info.participant_ids if info else ())]
        cases = self.store.cases

        def duplicate_code(given: str, family: str, born) -> str | None:  # noqa: ANN001
            index = cases.person_index(org_id=staff.org_id, given_name=given, family_name=family, birth_date=born)
            return cases.code_of_person(org_id=staff.org_id, person_index=index)

        def similar_code(given: str, family: str, born) -> str | None:  # noqa: ANN001
            fold = cases.person_fold(org_id=staff.org_id, given_name=given, family_name=family, birth_date=born)
            return cases.code_of_similar(org_id=staff.org_id, person_fold=fold, other_than=about.get("case"))

        return FormContext(
            today=now.astimezone(self.settings.tz).date(), now=now,
            local_now=now.astimezone(self.settings.tz).replace(tzinfo=None),
            districts=tuple(self.store.staff.districts(staff.org_id)),
            services={"duplicate_code": duplicate_code, "similar_code": similar_code}, subject=subject,
        )


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    """PTB's context with our services, the calling staff member and their translator.

    `staff` and `t` are set by the access layer (handlers/access.py) before any handler runs;
    PTB creates one context per update and hands it to every group, so they carry over.
    """

    def __init__(self, application: Application, chat_id: int | None = None, user_id: int | None = None):
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.staff: StaffUser | None = None
        self.t: Translator | None = None

    @property
    def services(self) -> Services:
        return self.application.bot_data["services"]
