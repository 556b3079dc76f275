from storage.types import Role
from tests.flows import run_intake


async def test_smoke(bot):
    cm = await bot.register(Role.CASE_MANAGER, "I")
    out = await run_intake(cm, save=False)
    for m in cm.messages()[-3:]:
        print("----", m.text, m.button_texts())
    out = await cm.press("✔ Speichern")
    print([m.text for m in out])
    print(bot.fake.alerts)
