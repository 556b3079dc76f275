"""The one place that wires the application: storage, languages, handlers, and their order."""

from __future__ import annotations

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot import logs
from bot.clock import Clock
from bot.concurrency import PerUserUpdateProcessor
from bot.i18n import N_, Catalogs
from bot.render import Renderer
from bot.services import BotContext, Services
from bot.settings import Settings
from handlers import access, cases, casework, catalogue, dialogue, digest, errors, intake, invite, language, locales, meetings, reminders, start
from storage.crypto import Keyring
from storage.db import make_engine
from storage.store import Store

# The command menu, offered in each language (setMyCommands); descriptions from the catalog.
COMMANDS = (
    ("new", N_("record a new client (intake)")),
    ("cases", N_("your cases")),
    ("case", N_("one case, by its code")),
    ("find", N_("find a person by name and date of birth")),
    ("conferences", N_("your coming Fallkonferenzen")),
    ("jourfixe", N_("the next Jour fixe and its agenda")),
    ("digest", N_("the coordinators' digest")),
    ("language", N_("change the language")),
    ("cancel", N_("stop the current dialogue")),
    ("help", N_("what I can do")),
)


def build_services(settings: Settings, *, clock: Clock | None = None) -> Services:
    store = Store(make_engine(settings.database_url), Keyring.load(settings.master_key_file), clock, settings.tz)
    renderer = Renderer()
    catalogs = Catalogs(settings.tz, source=store.locales, default=settings.default_language,
                        check_every=settings.locale_refresh_seconds, on_reload=renderer.clear)
    return Services(settings=settings, store=store, catalogs=catalogs, renderer=renderer)


async def _post_init(application: Application) -> None:
    """After the bot knows who it is: its command menu, then the dispatcher of scheduled messages."""
    await _publish_commands(application)
    await application.bot_data["services"].dispatcher.start(application.bot)


async def _post_shutdown(application: Application) -> None:
    await application.bot_data["services"].dispatcher.stop()


async def _publish_commands(application: Application) -> None:
    catalogs: Catalogs = application.bot_data["services"].catalogs
    for code in catalogs.languages:
        t = catalogs.get(code)
        await application.bot.set_my_commands(
            [BotCommand(name, t.plain(description)) for name, description in COMMANDS], language_code=code
        )


def build_application(
    settings: Settings, *, services: Services | None = None, request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> Application:
    """The bot, ready to initialise. Tests pass a `request` that replaces only the network."""
    services = services or build_services(settings)
    logs.keep_personal_data_out()
    builder = (
        Application.builder()
        .token(settings.token)
        .base_url(f"{settings.telegram_api_url}/bot")
        .base_file_url(f"{settings.telegram_api_url}/file/bot")
        .context_types(ContextTypes(context=BotContext))
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz,
                           link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        # one user's updates in order, different users concurrently (see bot/concurrency.py)
        .concurrent_updates(PerUserUpdateProcessor())
    )
    if settings.telegram_rate_limit:
        builder = builder.rate_limiter(AIORateLimiter(overall_max_rate=settings.telegram_rate_limit, max_retries=5))
    if request is not None:
        builder = builder.request(request).get_updates_request(get_updates_request or request)
    application = builder.build()
    application.bot_data["services"] = services

    # Order matters: who is writing (group -2), then whether an open dialogue is being
    # interrupted (group -1); both may stop the update before any handler in group 0 sees it.
    application.add_handler(TypeHandler(Update, access.identify), group=-2)
    application.add_handler(TypeHandler(Update, access.guard_dialogue), group=-1)

    new_messages = filters.UpdateType.MESSAGE
    application.add_handlers([
        CommandHandler("start", start.start, filters=new_messages),
        CommandHandler("help", start.help_command, filters=new_messages),
        CommandHandler("new", intake.new_case, filters=new_messages),
        CommandHandler("cancel", dialogue.cancel, filters=new_messages),
        CommandHandler("cases", cases.list_command, filters=new_messages),
        CommandHandler("case", cases.show_case, filters=new_messages),
        CommandHandler("language", language.choose, filters=new_messages),
        CommandHandler("invite", invite.invite, filters=new_messages),
        CommandHandler("find", casework.find, filters=new_messages),
        CommandHandler("services", catalogue.show, filters=new_messages),
        CommandHandler("conferences", meetings.conferences, filters=new_messages),
        CommandHandler("jourfixe", meetings.jour_fixe, filters=new_messages),
        CommandHandler("digest", digest.show, filters=new_messages),
        CommandHandler("locales", locales.table, filters=new_messages),
        *[CommandHandler(name, casework.command(action), filters=new_messages)
          for name, action in casework.COMMANDS.items()],
        CallbackQueryHandler(dialogue.on_button, pattern=rf"^{dialogue.dialogue_view.PREFIX}\|"),
        CallbackQueryHandler(cases.on_button, pattern=rf"^{cases.PREFIX}\|"),
        CallbackQueryHandler(language.on_button, pattern=rf"^{language.PREFIX}\|"),
        CallbackQueryHandler(invite.on_button, pattern=rf"^{invite.PREFIX}\|"),
        CallbackQueryHandler(casework.on_action, pattern=r"^k\|"),
        CallbackQueryHandler(catalogue.on_button, pattern=r"^s\|"),
        CallbackQueryHandler(reminders.on_button, pattern=r"^o\|"),
        CallbackQueryHandler(meetings.on_button, pattern=r"^v\|"),
        CallbackQueryHandler(meetings.on_jour_fixe, pattern=r"^j\|"),
        CallbackQueryHandler(digest.on_button, pattern=r"^d\|"),
        CallbackQueryHandler(locales.on_button, pattern=r"^L\|"),
        CallbackQueryHandler(casework.on_goal, pattern=r"^g\|"),
        CallbackQueryHandler(casework.on_referral, pattern=r"^r\|"),
        CallbackQueryHandler(casework.on_handover, pattern=r"^h\|"),
        CallbackQueryHandler(casework.on_reassign, pattern=r"^x\|"),
        CallbackQueryHandler(dialogue.on_unknown_button),
        MessageHandler(new_messages & filters.TEXT & ~filters.COMMAND, dialogue.on_text),
        MessageHandler(new_messages & filters.COMMAND, dialogue.on_unknown_command),
        MessageHandler(filters.UpdateType.EDITED_MESSAGE, dialogue.on_edited),
        MessageHandler(new_messages & filters.Document.FileExtension("po"), locales.on_upload),
        MessageHandler(new_messages & filters.Document.ALL, catalogue.on_document),
        MessageHandler(new_messages, dialogue.on_other_content),
    ])
    application.add_error_handler(errors.on_error)
    return application
