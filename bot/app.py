"""The one place that wires the application: storage, languages, handlers, and their order."""

from __future__ import annotations

from datetime import timedelta

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Application, ContextTypes, Defaults
from telegram.request import BaseRequest

from bot import logs, notices
from bot.commands import menu
from bot.concurrency import PerUserUpdateProcessor
from bot.dispatcher import Dispatcher
from bot.gate import Gate
from bot.i18n import Catalogs
from bot.inbox import Inbox, RawUpdates
from bot.ops import CountedRequest, Metrics
from bot.ratelimit import PerChatRateLimiter
from bot.render import Renderer
from bot.services import BotContext, Services
from bot.settings import Settings
from bot.telegram_http import AiohttpRequest
from handlers import (
    access,
    casefile,
    cases,
    casework,
    catalogue,
    dialogue,
    digest,
    documents,
    erasure,
    errors,
    intake,
    invite,
    language,
    locales,
    meetings,
    organisation,
    pin,
    reminders,
    reports,
    requests,
    staff,
    start,
    transfers,
)
from storage.clock import Clock
from storage.crypto import Keyring
from storage.db import make_engine
from storage.store import Store

# The command menu, offered in each language (setMyCommands); descriptions from the catalog.
# Every handler module's routes, in the order PTB tries them within group 0. The order matters
# only for messages: typed answers and commands, then files (a signed scan in reply to one of
# our PDFs, then .po files, then catalogues),
# then anything else ("not stored").
ROUTES = (
    *start.ROUTES, *intake.ROUTES, *dialogue.ROUTES, *cases.ROUTES, *casework.ROUTES, *casefile.ROUTES,
    *language.ROUTES, *invite.ROUTES, *staff.ROUTES, *erasure.ROUTES, *pin.ROUTES, *catalogue.ROUTES,
    *meetings.ROUTES, *digest.ROUTES, *locales.ROUTES, *reminders.ROUTES, *documents.ROUTES, *reports.ROUTES,
    *organisation.ROUTES, *requests.ROUTES, *transfers.ROUTES,
    *dialogue.ANSWER_ROUTES, *documents.SCAN_ROUTES, *locales.DOCUMENT_ROUTES, *catalogue.DOCUMENT_ROUTES, *dialogue.LAST_ROUTES,
)


def build_store(settings: Settings, *, clock: Clock | None = None) -> Store:
    """The storage: engine, master key, clock. The CLI uses this too, so both see the same thing."""
    # SQLite has one writer (the store lets its transactions take turns), so a few threads do;
    # PostgreSQL gets DATABASE_THREADS, and as many connections.
    threads = min(4, settings.database_threads) if settings.database_url.startswith("sqlite") else settings.database_threads
    store = Store(make_engine(settings.database_url, pool_size=threads), load_keyring(settings),
                  clock, settings.tz, threads=threads)
    store.pin.idle = timedelta(minutes=settings.pin_idle_minutes)
    return store


def load_keyring(settings: Settings) -> Keyring:
    """The master key: from MASTER_KEY when set, else from the key file (which is followed, so
    a rotation reaches a running instance)."""
    if settings.master_key is not None:
        return Keyring.from_text(settings.master_key.get_secret_value())
    return Keyring.load(settings.master_key_file)


def build_services(settings: Settings, *, clock: Clock | None = None) -> Services:
    """Every service the handlers reach through `context.services`."""
    store = build_store(settings, clock=clock)
    renderer = Renderer()
    catalogs = Catalogs(settings.tz, source=store.locales, default=settings.default_language,
                        check_every=settings.locale_refresh_seconds, on_reload=renderer.clear)
    # what a scheduled message says needs the services; the services hold the dispatcher
    services: Services

    def compose(row, user):  # noqa: ANN001, ANN202
        return notices.compose(services, row, user)

    def gather(user, many):  # noqa: ANN001, ANN202
        return notices.gather(services, user, many)

    gate, metrics = Gate(), Metrics()
    services = Services(settings=settings, store=store, catalogs=catalogs, renderer=renderer,
                        dispatcher=Dispatcher(store, settings, compose, gather), gate=gate, metrics=metrics,
                        inbox=Inbox(store, gate, lease_seconds=settings.inbox_lease_seconds, metrics=metrics))
    return services


async def _post_init(application: Application) -> None:
    """After the bot knows who it is: its command menu, then the dispatcher of scheduled messages."""
    await _publish_commands(application)
    await application.bot_data["services"].dispatcher.start(application.bot)


async def _post_shutdown(application: Application) -> None:
    services = application.bot_data["services"]
    await services.dispatcher.stop()
    services.store.close()  # the worker threads and the connections


async def _publish_commands(application: Application) -> None:
    catalogs: Catalogs = application.bot_data["services"].catalogs
    for code in catalogs.languages:
        t = catalogs.get(code)
        await application.bot.set_my_commands(
            menu(t, None), language_code=code)  # strangers' menu; staff get theirs per chat


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
        .concurrent_updates(PerUserUpdateProcessor(inbox=services.inbox))
        .updater(None)  # updates come in through the inbox (bot/inbox.py), not PTB's Updater
    )
    if settings.telegram_rate_limit:
        builder = builder.rate_limiter(PerChatRateLimiter(settings.telegram_rate_limit, max_retries=5))
    if request is None:
        # aiohttp instead of PTB's httpx: a sixteenth of the CPU per Bot API call (bot/telegram_http.py);
        # a few dozen connections keep up with the Bot API's own limits, and a request waits for
        # a free one (up to 10 s) instead of failing after PTB's 1 s
        request = AiohttpRequest(connections=settings.telegram_connections)
        get_updates_request = get_updates_request or AiohttpRequest(connections=2)
    # every Bot API call counted (bot/ops.py), whatever network is below
    fetching = RawUpdates(get_updates_request or request, services.metrics)
    builder = builder.request(CountedRequest(request, services.metrics)).get_updates_request(fetching)
    application = builder.build()
    application.bot_data["services"] = services
    services.inbox.bind(application, fetching)

    # Order matters: who is writing, then whether an open dialogue is being interrupted; both
    # may stop the update before any route sees it (handlers/access.py).
    for guard, group in access.GUARDS:
        application.add_handler(guard, group=group)
    application.add_handlers(ROUTES)
    application.add_error_handler(errors.on_error)
    return application
