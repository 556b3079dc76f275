"""The declared forms, by name (the name is stored with an open dialogue: never rename one)."""

from bot.forms import change, cycle, intake, meetings, organisation, requests
from bot.forms.engine import Form

FORMS: dict[str, Form] = {
    form.name: form
    for form in (intake.INTAKE, cycle.ASSESSMENT, cycle.GOAL, cycle.REFERRAL, cycle.CONSENT, cycle.CONTACT,
                 cycle.HANDOVER, cycle.CLOSURE, cycle.FIND, meetings.CONFERENCE, meetings.RESCHEDULE,
                 meetings.OUTCOME, meetings.AGENDA_ITEM, meetings.JOUR_FIXE,
                 change.CHANGE, change.REFERRAL_RESULT, change.LEGAL_HOLD, change.GAP_NOTE,
                 organisation.DISTRICT, requests.MELDEBOGEN, requests.DECLINE_REQUEST)
}
