"""A campaign service on a loopback port, for tests that talk to it over HTTP as pages do."""

from __future__ import annotations

import asyncio
import threading

from ports import free_port

from alwidgets.serving.service import CampaignService, make_app


class Running:
    """A campaign service on a loopback port, its IO loop in a thread of its own."""

    def __init__(self, service: CampaignService):
        self.service = service
        self.port = free_port()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        assert self.started.wait(30), "the service did not start"
        self.url = f"http://127.0.0.1:{self.port}"

    def _serve(self):
        asyncio.set_event_loop(asyncio.new_event_loop())
        self.loop = asyncio.get_event_loop()
        self.server = make_app(self.service).listen(self.port, address="127.0.0.1")
        self.loop.call_soon(self.started.set)
        self.loop.run_forever()

    def stop(self):
        self.loop.call_soon_threadsafe(self.server.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.service.close()
