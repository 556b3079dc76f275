"""The declared forms, by name (the name is stored with an open dialogue)."""

from collections import defaultdict

from bot.forms import cycle, intake
from bot.forms.engine import Form

FORMS: dict[str, Form] = {
    form.name: form
    for form in (intake.INTAKE, cycle.ASSESSMENT, cycle.GOAL, cycle.REFERRAL, cycle.CONSENT, cycle.CONTACT,
                 cycle.HANDOVER, cycle.CLOSURE, cycle.FIND)
}
# placeholders a form fills into its prompts, by field name
PROMPT_PARAMS = defaultdict(lambda: (lambda field_name: {}), {"intake": intake.prompt_params})
