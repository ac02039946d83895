"""What ``python -m alwidgets serve`` adds to Voila: a cap on how many kernels run at once.

Voila starts one kernel per page load, and each dashboard kernel holds its
own model and libraries (about 0.3 GB on MNIST). Without a cap, enough
visitors (or one person reloading a page again and again) exhaust the
machine's memory. :class:`CappedKernelManager` refuses to start more than
``max_kernels``: the visitor gets a page that says the server is full.

This package is imported by the Voila server process only (it needs
jupyter_server); the rest of alwidgets never imports it. It is a package of
its own, beside ``alwidgets``, so that the server does not run
``alwidgets/__init__.py``, which imports modAL, scikit-learn, pandas and
matplotlib for the notebooks: some 200 MB the server has no use for.
"""

from __future__ import annotations

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web
from traitlets import Integer

__all__ = ["CappedKernelManager", "full_message"]


def full_message(max_kernels: int) -> str:
    """What a visitor reads when every place is taken (plain ASCII: it is also the HTTP reason phrase)."""
    return (f"This labeling server is full: {max_kernels} pages are open, the most it takes "
            "(--max-kernels). Try again in a few minutes; a page closed for a while frees its place. "
            "Labels given so far are safe.")


class CappedKernelManager(AsyncMappingKernelManager):
    """Voila's kernel manager, refusing to run more than ``max_kernels`` kernels at once (0: no cap)."""

    max_kernels = Integer(0, config=True, help="The most kernels that may run at once; 0 for no cap.")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._starting = 0  # kernels being started right now, not yet listed

    async def start_kernel(self, *, kernel_id=None, **kwargs):
        new = kernel_id is None or kernel_id not in self
        if new and self.max_kernels and len(self.list_kernel_ids()) + self._starting >= self.max_kernels:
            self.log.warning("alwidgets: refused a kernel: %d running, --max-kernels %d",
                             len(self.list_kernel_ids()), self.max_kernels)
            raise web.HTTPError(503, reason=full_message(self.max_kernels))
        self._starting += new
        try:
            return await super().start_kernel(kernel_id=kernel_id, **kwargs)
        finally:
            self._starting -= new
