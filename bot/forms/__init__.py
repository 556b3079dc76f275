"""The declared forms, by name (the name is stored with an open dialogue)."""

from bot.forms import intake
from bot.forms.engine import Form

FORMS: dict[str, Form] = {"intake": intake.INTAKE}
PROMPT_PARAMS = {"intake": intake.prompt_params}
