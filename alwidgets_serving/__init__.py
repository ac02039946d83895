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

This package is imported by the Voila server process only (it needs
jupyter_server); the rest of alwidgets never imports it. It is a package of
its own, beside ``alwidgets``, so that the server does not run
``alwidgets/__init__.py``, which imports modAL, scikit-learn, pandas and
matplotlib for the notebooks: some 200 MB the server has no use for.
"""

from __future__ import annotations

from collections.abc import Awaitable

from jupyter_core.utils import ensure_async
from jupyter_server.auth.identity import PasswordIdentityProvider
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web
from traitlets import Integer
from voila.handler import VoilaHandler

__all__ = ["CappedKernelManager", "PageIdentityProvider", "full_message", "kernel_environment"]


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
    return {key: value for key, value in env.items() if not key.startswith("JUPYTERHUB_") and key != "JPY_API_TOKEN"}


class CappedKernelManager(AsyncMappingKernelManager):
    """Voila's kernel manager, refusing to run more than ``max_kernels`` kernels at once (0: no cap)."""

    max_kernels = Integer(0, config=True, help="The most kernels that may run at once; 0 for no cap.")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._starting = 0  # kernels being started right now, not yet listed
        self._closing = False  # the server is stopping: no pool is refilled

    async def start_kernel(self, *, kernel_id=None, **kwargs):
        new = kernel_id is None or kernel_id not in self
        if new and self.max_kernels and len(self.list_kernel_ids()) + self._starting >= self.max_kernels:
            self.log.warning("alwidgets: refused a kernel: %d running, --max-kernels %d",
                             len(self.list_kernel_ids()), self.max_kernels)
            raise web.HTTPError(503, reason=full_message(self.max_kernels))
        if new and "env" in kwargs:
            kwargs["env"] = kernel_environment(kwargs["env"])
        self._starting += new
        try:
            return await super().start_kernel(kernel_id=kernel_id, **kwargs)
        finally:
            self._starting -= new

    async def shutdown_kernel(self, kernel_id, *args, **kwargs):
        result = await ensure_async(super().shutdown_kernel(kernel_id, *args, **kwargs))
        self._refill_pool()
        return result

    async def shutdown_all(self, *args, **kwargs):
        self._closing = True
        return await ensure_async(super().shutdown_all(*args, **kwargs))

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


class PageIdentityProvider(PasswordIdentityProvider):
    """Voila's identity provider, which also gives every page it serves an ``_xsrf`` cookie.

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
        if isinstance(handler, VoilaHandler) and handler.request.method == "GET":
            handler.current_user = user  # the cookie's lifetime depends on it; the handler sets it next anyway
            handler.xsrf_token  # noqa: B018 - read for its effect: tornado sets the cookie the browser lacks
        return user
