"""The inbound HTTP receiver: push sources (Ctrip, Fliggy direct connect) call the hotel.

``app`` is the ASGI application (one route per push source, a size limit, ``/healthz``);
``worker`` turns committed inbox messages into store records in the background; ``server``
runs both under uvicorn for ``crmbridge serve`` and ``crmbridge run``.
"""

from .app import PushRoute, build_app
from .server import Receiver, push_sources
from .worker import Processor

__all__ = ["Processor", "PushRoute", "Receiver", "build_app", "push_sources"]
