"""``serve`` as a JupyterHub-managed service: every page is served only to someone the hub logged in.

:class:`HubVisitorIdentityProvider` is Voila's identity provider when ``serve``
runs as a hub service (``JUPYTERHUB_SERVICE_URL`` in its environment). It is
JupyterHub's own OAuth identity provider (the one ``jupyterhub-singleuser``
uses), with three additions:

- the visitor's name reaches the page only from the hub: the user header the
  dashboard trusts (``X-Forwarded-User``) is overwritten with the hub's name
  on every request, so a header a browser sends through the hub's proxy is
  never believed;
- a visitor who is not logged in is sent to the hub's login, and nothing else
  happens: no kernel is started (the hub's health check of the service is such
  a request);
- the rules of :func:`alwidgets_serving.page_rules`, as
  :class:`alwidgets_serving.PageIdentityProvider` applies them: the page gets
  the ``_xsrf`` cookie its shut-down-on-close request needs, and only the
  browser a kernel was handed to may end it or talk to it; and a page kept
  ready learns its visitor over :class:`alwidgets_serving.VisitorQuerySocket`.

Voila adds an identity provider's handlers at the server's root; they are
put under the service's prefix here, where the hub sends the OAuth callback.
"""

from __future__ import annotations

from jupyter_server.utils import url_path_join
from jupyterhub.singleuser.extension import JupyterHubIdentityProvider
from voila.handler import VoilaHandler

from alwidgets_serving import page_rules, visitor_query_handlers

__all__ = ["HubVisitorIdentityProvider", "TRUSTED_HEADER"]

TRUSTED_HEADER = "X-Forwarded-User"  # serve passes it to the kernel (VoilaConfiguration.http_header_envs)


class HubVisitorIdentityProvider(JupyterHubIdentityProvider):
    """The hub's OAuth login in front of every page, and the hub's name as the only visitor name a page learns."""

    async def get_user(self, handler):
        user = await super().get_user(handler)
        headers = handler.request.headers
        if user is None:
            headers.pop(TRUSTED_HEADER, None)  # whatever the browser claimed is nobody's name
            return None
        headers[TRUSTED_HEADER] = user.username  # replaces every value the browser sent
        if isinstance(handler, VoilaHandler) and handler.request.method == "GET":
            handler.current_user = user  # the _xsrf cookie's lifetime depends on it
        page_rules(handler)
        return user

    def get_handlers(self):
        prefix = getattr(self.parent, "server_url", None) or getattr(self.parent, "base_url", "/")
        return [*((url_path_join(prefix, path), *rest) for path, *rest in super().get_handlers()),
                *visitor_query_handlers(self.parent)]
