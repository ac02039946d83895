"""What ``python -m alwidgets serve`` adds to Voila: a cap on how many kernels run at once, and pages that end theirs.

Voila starts one kernel per page load, and each dashboard kernel holds its
own model and libraries (about 0.3 GB on MNIST). Without a cap, enough
visitors (or one person reloading a page again and again) exhaust the
machine's memory. :class:`CappedKernelManager` refuses to start more than
``max_kernels``: the visitor gets a page that says the server is full.

With Voila's preheated kernels (``serve --pool N``) the kernels kept ready
count too: Voila builds its pooling manager on top of this class, so a refill
of the pool at the cap is refused like a visitor's kernel, and the visitor
who would have taken it is told the server is full. Once a kernel ends (its
page culled), the pool is filled again.

A closed page ends its kernel at once (:class:`PageIdentityProvider`): Voila's
page sends a shut-down request as it unloads, and this makes the server accept
it. The kernel's place, its memory (some 0.2 GB) and its leases are given back
then, not when the culler finds it idle.

Voila lets a page's browser send its kernel widget messages only (its
kernel manager's ``allowed_message_types``): code sent down a page's
websocket is dropped, so a page's kernel runs its notebook and nothing a
visitor types (tests/browser/test_hub.py checks it).

**Who opened a page kept ready.** A ready page's kernel learns its visitor
(the proxy's user header, the query string) over ``voila/query/<kernel id>``.
Voila's own handler of that socket keeps one table for everybody: anyone could
open sockets on it, and closing one dropped another kernel's entry, leaving the
next visitor's page waiting for ever. :class:`VisitorQuerySocket` (added by the
identity providers, before Voila's handler) answers only a kernel of the pool
still waiting for its visitor, and only with that kernel's own secret
(``ALW_VISITOR_SECRET``, put in its environment when it is started); it keeps
one socket per kernel and hands each kernel its own request.

**Who may end a page's kernel.** Every browser that gets a page gets an
``alw_page`` cookie (once), and the kernel handed to that page belongs to it:
only a request carrying the same cookie may shut the kernel down
(``voila/api/shutdown/<id>``, ``DELETE api/kernels/<id>``) or talk to it
(``api/kernels/<id>/channels``). A kernel that ends tells its page at once
(an iopub ``dead`` status; the page template then shows that the page has lost
its kernel).

**A kernel nobody takes.** A page's kernel to which no browser connects within
``claim_timeout`` seconds of its page being sent (a plain request, a crawler)
is shut down then, not when the culler finds it.

**A page gone without a word.** A browser that crashed, or a page whose
network dropped, sends no shut-down request; its websocket to the kernel just
closes (at once for a crash; after the server's websocket pings go unanswered
for a lost network). A page's kernel whose last websocket closed, and to which
none comes back within ``gone_timeout`` seconds (Jupyter's page reconnects by
itself after a short outage), is shut down then, and gives back its leases as
it ends (``serve --gone-after``), not when the culler finds it idle.

This package is imported by the Voila server process only (it needs
jupyter_server); the rest of alwidgets never imports it. It is a package of
its own, beside ``alwidgets``, so that the server does not run
``alwidgets/__init__.py``, which imports modAL, scikit-learn, pandas and
matplotlib for the notebooks: some 200 MB the server has no use for.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import re
import secrets
import weakref
from collections.abc import Awaitable
from dataclasses import dataclass, field

from jupyter_core.utils import ensure_async
from jupyter_server.auth.identity import PasswordIdentityProvider
from jupyter_server.services.kernels.handlers import KernelActionHandler, KernelHandler
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from jupyter_server.services.kernels.websocket import KernelWebsocketHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler
from traitlets import Float, Integer
from voila.handler import VoilaHandler
from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler

__all__ = ["CappedKernelManager", "PageIdentityProvider", "VisitorQuerySocket", "full_message", "kernel_environment",
           "page_rules", "visitor_query_handlers"]

# The kernel's side reads these names in alwidgets.widgets.page (which does not import this package).
VISITOR_SECRET_ENV = "ALW_VISITOR_SECRET"  # a ready page's kernel: its secret for voila/query/<its id>
VISITOR_SECRET_HEADER = "X-Alwidgets-Kernel-Secret"  # ... sent in this header
PAGE_COOKIE = "alw_page"  # a browser's token: the kernels of the pages it was sent are its own
_PAGE_COOKIE_VALUE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


@dataclass
class PageRequest:
    """A page being sent to a browser: whose it is (the browser's ``alw_page`` token), and whether it is sent."""

    owner: str
    sent: asyncio.Event = field(default_factory=asyncio.Event)  # set once the page is sent, or its browser gone


# The page request being served, for the kernel manager to learn whose a kernel it hands out is: set by the
# identity provider as a page's GET starts, read in the same request's task (a kernel started for it, or taken
# from the pool for it).
_PAGE_REQUEST: contextvars.ContextVar[PageRequest | None] = contextvars.ContextVar("alw_page_request", default=None)


def full_message(max_kernels: int) -> str:
    """What a visitor reads when every place is taken (plain ASCII: it is also the HTTP reason phrase)."""
    return (f"This labeling server is full: {max_kernels} pages are open, the most it takes "
            "(--max-kernels). Try again soon: each page closed frees its place. "
            "Labels given so far are safe.")


def kernel_environment(env: dict) -> dict:
    """``env`` without the server's own JupyterHub credentials: a page's kernel speaks for its visitor, not the server.

    As a hub-managed service the server holds the service's hub token; a
    visitor's kernel has no use for it, and must not be able to act as the
    service with it.
    """
    return {key: value for key, value in env.items()
            if not key.startswith("JUPYTERHUB_") and key not in ("JPY_API_TOKEN", VISITOR_SECRET_ENV)}


class CappedKernelManager(AsyncMappingKernelManager):
    """Voila's kernel manager, refusing to run more than ``max_kernels`` kernels at once (0: no cap).

    It also keeps, for every kernel: whose page it is (:func:`page_rules`),
    whether a browser has connected to it (``claim_timeout``), whether its page
    came back after its websocket closed (``gone_timeout``), and for a kernel
    of the pool, its secret and its visitor's request (:class:`VisitorQuerySocket`).
    """

    max_kernels = Integer(0, config=True, help="The most kernels that may run at once; 0 for no cap.")
    claim_timeout = Float(0, config=True, help="Shut down a page's kernel when no browser has connected to it "
                                                "this many seconds after its page was sent; 0 never.")
    gone_timeout = Float(0, config=True, help="Shut down a page's kernel when its page's last websocket closed and "
                                              "none came back within this many seconds (a crashed browser, a lost "
                                              "network); 0 never.")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._starting = 0  # kernels being started right now, not yet listed
        self._closing = False  # the server is stopping: no pool is refilled
        self._owners: dict[str, str] = {}  # kernel -> the alw_page token of the browser it was handed to
        self._claimed: dict[str, asyncio.Event] = {}  # kernel handed out -> set once a browser connects to it
        self._page_sockets: dict[str, weakref.WeakSet] = {}  # kernel -> its pages' websocket handlers
        self._came_back: dict[str, asyncio.Event] = {}  # kernel whose page's last websocket closed -> set if one opens
        self._visitor_secrets: dict[str, str] = {}  # kernel of the pool still waiting for its visitor -> secret
        self._visitor_sockets: dict[str, VisitorQuerySocket] = {}  # ... -> its socket, once it asks
        self._visitor_requests: dict[str, dict] = {}  # ... -> its visitor's request, until its socket takes it
        self._tasks: set[asyncio.Task] = set()

    async def start_kernel(self, *, kernel_id=None, **kwargs):
        new = kernel_id is None or kernel_id not in self
        if new and self.max_kernels and len(self.list_kernel_ids()) + self._starting >= self.max_kernels:
            self.log.warning("alwidgets: refused a kernel: %d running, --max-kernels %d",
                             len(self.list_kernel_ids()), self.max_kernels)
            raise web.HTTPError(503, reason=full_message(self.max_kernels))
        secret = None
        if new and "env" in kwargs:
            kwargs["env"] = kernel_environment(kwargs["env"])
            if kwargs["env"].get("VOILA_PREHEAT") == "True":  # a page kept ready: it will ask who opened it
                secret = secrets.token_urlsafe(32)
                kwargs["env"][VISITOR_SECRET_ENV] = secret
        self._starting += new
        try:
            started = await super().start_kernel(kernel_id=kernel_id, **kwargs)
        finally:
            self._starting -= new
        if secret is not None:
            self._visitor_secrets[started] = secret
        elif new and (request := _PAGE_REQUEST.get()) is not None:
            self._hand_out(started, request)  # a kernel started for the page being sent (no pool, or it was empty)
        return started

    async def shutdown_kernel(self, kernel_id, *args, **kwargs):
        self._tell_pages_it_ended(kernel_id)
        try:
            result = await ensure_async(super().shutdown_kernel(kernel_id, *args, **kwargs))
        finally:
            self._forget(kernel_id)
        self._refill_pool()
        return result

    async def shutdown_all(self, *args, **kwargs):
        self._closing = True
        return await ensure_async(super().shutdown_all(*args, **kwargs))

    def notify_connect(self, kernel_id):
        super().notify_connect(kernel_id)
        claimed = self._claimed.get(kernel_id)
        if claimed is not None:
            claimed.set()
        came_back = self._came_back.pop(kernel_id, None)
        if came_back is not None:
            came_back.set()

    def notify_disconnect(self, kernel_id):
        super().notify_disconnect(kernel_id)
        if (self.gone_timeout > 0 and kernel_id in self._owners and kernel_id not in self._came_back
                and self._kernel_connections.get(kernel_id, 0) <= 0):
            came_back = self._came_back[kernel_id] = asyncio.Event()
            task = asyncio.ensure_future(self._give_back_if_gone(kernel_id, came_back))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ whose a kernel is

    def owns(self, kernel_id: str, token: str | None) -> bool:
        """Whether a browser holding the ``alw_page`` token ``token`` was handed the kernel ``kernel_id``."""
        owner = self._owners.get(kernel_id)
        return owner is not None and token is not None and secrets.compare_digest(owner, token)

    def page_socket(self, kernel_id: str, handler) -> None:
        """Remember a page's websocket to ``kernel_id``, to tell it when the kernel ends."""
        self._page_sockets.setdefault(kernel_id, weakref.WeakSet()).add(handler)

    def _hand_out(self, kernel_id: str, request: PageRequest) -> None:
        """``kernel_id`` is the kernel of the page ``request`` sends: its browser's, to be connected to soon."""
        self._owners[kernel_id] = request.owner
        if self.claim_timeout > 0:
            claimed = self._claimed[kernel_id] = asyncio.Event()
            task = asyncio.ensure_future(self._give_back_unless_claimed(kernel_id, request, claimed))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _give_back_unless_claimed(self, kernel_id: str, request: PageRequest, claimed: asyncio.Event) -> None:
        """Shut ``kernel_id`` down if no browser connects to it within ``claim_timeout`` s of its page being sent.

        ``claimed`` is set once a browser connects (or the kernel ends otherwise).
        """
        await request.sent.wait()
        try:
            await asyncio.wait_for(claimed.wait(), self.claim_timeout)
        except asyncio.TimeoutError:
            if kernel_id in self and not claimed.is_set():
                self.log.warning("alwidgets: shutting down kernel %s: no browser connected to its page within "
                                 "%g s of its being sent", kernel_id, self.claim_timeout)
                try:
                    await self.shutdown_kernel(kernel_id)
                except Exception as error:  # shut down meanwhile: nothing left to give back
                    self.log.info("alwidgets: kernel %s was not shut down: %s", kernel_id, error)

    async def _give_back_if_gone(self, kernel_id: str, came_back: asyncio.Event) -> None:
        """Shut ``kernel_id`` down if no websocket to it opens within ``gone_timeout`` s of its page's last closing.

        ``came_back`` is set once one opens (or the kernel ends otherwise). The
        kernel gives back its leases as it ends (the dashboard's exit hook).
        """
        try:
            await asyncio.wait_for(came_back.wait(), self.gone_timeout)
        except asyncio.TimeoutError:
            if self._came_back.get(kernel_id) is came_back:
                del self._came_back[kernel_id]
            if kernel_id in self and self._kernel_connections.get(kernel_id, 0) <= 0:
                self.log.warning("alwidgets: shutting down kernel %s: its page's connection closed without a word "
                                 "(a crashed browser, a lost network) and did not come back within %g s",
                                 kernel_id, self.gone_timeout)
                try:
                    await self.shutdown_kernel(kernel_id)
                except Exception as error:  # shut down meanwhile: nothing left to give back
                    self.log.info("alwidgets: kernel %s was not shut down: %s", kernel_id, error)

    def _tell_pages_it_ended(self, kernel_id: str) -> None:
        """Send the pages of ``kernel_id`` the kernel status "dead", so that they say they lost it, at once.

        Otherwise the page's websocket stays open to nothing and the page looks
        alive: its clicks go nowhere, and nothing says so.
        """
        from jupyter_client.jsonutil import json_default
        from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

        for handler in list(self._page_sockets.get(kernel_id, ())):
            connection = getattr(handler, "connection", None)
            if connection is None or handler.ws_connection is None:
                continue
            try:
                message = connection.session.msg("status", {"execution_state": "dead"})
                if handler.selected_subprotocol == "v1.kernel.websocket.jupyter.org":
                    handler.write_message(serialize_msg_to_ws_v1(message, "iopub", connection.session.pack),
                                          binary=True)
                else:
                    handler.write_message(json.dumps({**message, "channel": "iopub"}, default=json_default))
            except Exception as error:  # the page went meanwhile
                self.log.debug("alwidgets: could not tell a page its kernel %s ended: %s", kernel_id, error)

    def _forget(self, kernel_id: str) -> None:
        self._owners.pop(kernel_id, None)
        self._page_sockets.pop(kernel_id, None)
        claimed = self._claimed.pop(kernel_id, None)
        if claimed is not None:
            claimed.set()  # its watcher ends
        came_back = self._came_back.pop(kernel_id, None)
        if came_back is not None:
            came_back.set()  # its watcher ends
        self._visitor_secrets.pop(kernel_id, None)
        self._visitor_requests.pop(kernel_id, None)
        socket = self._visitor_sockets.pop(kernel_id, None)
        if socket is not None:
            socket.close()

    # ------------------------------------------------------------------ the visitor of a page kept ready

    def may_ask_for_visitor(self, kernel_id: str, secret: str | None) -> bool:
        """Whether ``kernel_id`` is a kernel of the pool still waiting for its visitor, and ``secret`` its own."""
        expected = self._visitor_secrets.get(kernel_id)
        return (expected is not None and secret is not None and kernel_id in self
                and secrets.compare_digest(expected, secret))

    def visitor_socket_open(self, kernel_id: str, socket: VisitorQuerySocket) -> None:
        """The kernel asks who opened its page: its visitor's request, if it came, else once it does."""
        previous = self._visitor_sockets.get(kernel_id)
        self._visitor_sockets[kernel_id] = socket
        if previous is not None and previous is not socket:
            previous.close()  # the kernel asks again (its first socket was lost): one socket per kernel
        if kernel_id in self._visitor_requests:
            self._deliver(kernel_id)

    def visitor_socket_closed(self, kernel_id: str, socket: VisitorQuerySocket) -> None:
        if self._visitor_sockets.get(kernel_id) is socket:
            del self._visitor_sockets[kernel_id]

    def visitor_came(self, kernel_id: str, request_info: dict) -> None:
        """Voila took ``kernel_id`` from the pool for a page request: hand the kernel to it, and tell the kernel.

        Called in the page request's own task (Voila's ``send_updates``), so the
        request is the browser's that gets the page.
        """
        request = _PAGE_REQUEST.get()
        if request is not None:
            self._hand_out(kernel_id, request)
        if kernel_id not in self._visitor_secrets:
            self.log.warning("alwidgets: the kernel %s was handed out, but it is no page kept ready", kernel_id)
            return
        self._visitor_requests[kernel_id] = dict(request_info)
        if kernel_id in self._visitor_sockets:
            self._deliver(kernel_id)

    def _deliver(self, kernel_id: str) -> None:
        socket = self._visitor_sockets[kernel_id]
        try:
            socket.write_message(json.dumps(self._visitor_requests[kernel_id]))
        except WebSocketClosedError:  # the kernel will ask again, and get it then
            self.visitor_socket_closed(kernel_id, socket)
            return
        # the kernel has its visitor: it waits for nobody any more, and no socket may ask for it again
        del self._visitor_requests[kernel_id]
        del self._visitor_secrets[kernel_id]

    def _refill_pool(self) -> None:
        """A place is free: keep pages ready again if a refill was refused while the server was full.

        Voila refills its pool (``_pools``, present only with preheated kernels)
        only when a visitor takes a kernel from it; a refill refused at the cap
        leaves a failed entry there, and nothing would refill it after.
        """
        pools = getattr(self, "_pools", None)
        notebook = getattr(self, "notebook_path", None)
        if self._closing or pools is None or notebook is None or notebook not in pools:
            return
        pool = pools[notebook]
        pool[:] = [task for task in pool if not (task.done() and (task.cancelled() or task.exception() is not None))]
        self.fill_if_needed(delay=0, notebook_name=notebook)


class VisitorQuerySocket(WebSocketHandler):
    """``voila/query/<kernel id>``: where a page kept ready learns who opened it; only its own kernel may ask.

    It replaces Voila's handler of the same path (registered after it): a
    socket is accepted only for a kernel of the pool still waiting for its
    visitor, and only with that kernel's secret; nobody else can take a
    visitor's request, or drop a kernel's socket by closing theirs.
    """

    def initialize(self, manager: CappedKernelManager) -> None:
        self.manager = manager
        self.kernel_id = None

    async def get(self, *args, **kwargs):
        kernel_id = kwargs.get("kernel_id") or (args[0] if args else "")
        if not self.manager.may_ask_for_visitor(kernel_id, self.request.headers.get(VISITOR_SECRET_HEADER)):
            self.manager.log.warning("alwidgets: refused a socket on voila/query/%s from %s: not the socket of a "
                                     "page kept ready", kernel_id, self.request.remote_ip)
            self.set_status(403)
            self.finish()
            return
        await super().get(*args, **kwargs)

    def open(self, *args, **kwargs) -> None:
        self.kernel_id = kwargs.get("kernel_id") or args[0]
        self.manager.visitor_socket_open(self.kernel_id, self)

    def on_message(self, message) -> None:
        """The kernel only listens."""

    def on_close(self) -> None:
        if self.kernel_id is not None:
            self.manager.visitor_socket_closed(self.kernel_id, self)


def visitor_query_handlers(app) -> list:
    """The handlers an identity provider adds for Voila ``app``: :class:`VisitorQuerySocket`, when it can work.

    It needs :class:`CappedKernelManager` (which gives the pool's kernels their
    secrets). Voila's page handler tells ``RequestInfoSocketHandler.send_updates``
    which kernel it took for a request; that goes to the kernel manager instead.
    """
    manager = getattr(app, "kernel_manager", None)
    if not isinstance(manager, CappedKernelManager):
        return []
    from voila.request_info_handler import RequestInfoSocketHandler

    def send_updates(cls, message: dict) -> None:
        manager.visitor_came(message["kernel_id"], message["payload"])

    RequestInfoSocketHandler.send_updates = classmethod(send_updates)
    server_url = getattr(app, "server_url", None) or getattr(app, "base_url", "/")
    return [(url_path_join(server_url, r"/voila/query/(?P<kernel_id>[^/]+)"), VisitorQuerySocket, {"manager": manager})]


def page_rules(handler: web.RequestHandler) -> None:
    """What every identity provider of ``serve`` does once it knows a request is allowed at all.

    - A page's GET: its browser gets the ``_xsrf`` cookie (for the shut-down
      request its page sends on closing) and an ``alw_page`` token (once); the
      kernel handed to this page will be this token's.
    - A request to end a kernel, or to talk to it, is refused (403) unless it
      carries the token of the browser the kernel was handed to.
    """
    if isinstance(handler, VoilaHandler) and handler.request.method == "GET":
        handler.xsrf_token  # noqa: B018 - read for its effect: tornado sets the cookie the browser lacks
        request = PageRequest(owner=_page_token(handler))
        _PAGE_REQUEST.set(request)
        _when_sent(handler, request.sent.set)
        return
    kernel_id = _kernel_addressed(handler)
    manager = handler.settings.get("kernel_manager")
    if kernel_id is None or not isinstance(manager, CappedKernelManager) or kernel_id not in manager:
        return  # nothing to guard (an unknown kernel: the handler answers 404)
    if not manager.owns(kernel_id, handler.get_cookie(PAGE_COOKIE)):
        manager.log.warning("alwidgets: refused %s %s from %s: not the browser of that kernel's page",
                            handler.request.method, handler.request.path, handler.request.remote_ip)
        raise web.HTTPError(403, reason="Only the page's own browser may end its kernel or talk to it")
    if isinstance(handler, KernelWebsocketHandler):
        manager.page_socket(kernel_id, handler)


def _kernel_addressed(handler: web.RequestHandler) -> str | None:
    """The kernel a request would end or talk to (None for any other request)."""
    if isinstance(handler, (VoilaShutdownKernelHandler, KernelWebsocketHandler, KernelActionHandler)) or (
            isinstance(handler, KernelHandler) and handler.request.method == "DELETE"):
        kernel_id = handler.path_kwargs.get("kernel_id") or (handler.path_args[0] if handler.path_args else "")
        return kernel_id.strip("/") or None
    return None


def _page_token(handler: web.RequestHandler) -> str:
    """The browser's ``alw_page`` token; a new one (and its cookie) if it has none."""
    token = handler.get_cookie(PAGE_COOKIE)
    if token and _PAGE_COOKIE_VALUE.match(token):
        return token
    token = secrets.token_urlsafe(32)
    handler.set_cookie(PAGE_COOKIE, token, path=getattr(handler, "base_url", "/") or "/", httponly=True,
                       samesite="Lax", secure=handler.request.protocol == "https")
    return token


def _when_sent(handler: web.RequestHandler, callback) -> None:
    """Call ``callback()`` once ``handler`` has sent its answer, or its browser went away before."""
    for name in ("on_finish", "on_connection_close"):
        original = getattr(handler, name)

        def wrapped(original=original):
            callback()
            return original()

        setattr(handler, name, wrapped)


class PageIdentityProvider(PasswordIdentityProvider):
    """Voila's identity provider, with the rules of :func:`page_rules` and the handler of a ready page's question.

    As a page unloads, Voila's front end posts ``voila/api/shutdown/<kernel>``
    with the value of the ``_xsrf`` cookie, which the server checks against
    that cookie. Voila's page handler never sets it, so the request was
    refused (``403 '_xsrf' argument missing``) and a closed page's kernel lived
    on until it was culled. Every request passes through ``get_user``; reading
    ``xsrf_token`` on a page's GET, once the user is known, sets the cookie (once per browser).
    """

    async def get_user(self, handler: web.RequestHandler):
        user = super().get_user(handler)
        if isinstance(user, Awaitable):
            user = await user
        if user is not None:
            if isinstance(handler, VoilaHandler) and handler.request.method == "GET":
                handler.current_user = user  # the cookie's lifetime depends on it; the handler sets it next anyway
            page_rules(handler)
        return user

    def get_handlers(self):
        return [*super().get_handlers(), *visitor_query_handlers(self.parent)]
