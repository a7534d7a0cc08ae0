"""Channel plugins (slack, email, webhook, pagerduty, alertmanager), rendering, dispatcher.

* :mod:`.base` — the channel contract (``send()`` returns a ``Delivery``, never raises);
* :mod:`.registry` — plugins through the ``busta.channels`` entry points, phase two of
  channel config validation, and the channel catalog alerting routes by;
* :mod:`.render` — an alert snapshot as text, Slack blocks, HTML and JSON;
* :mod:`.dispatcher` — the outbox dispatcher (``dispatch``) and ``send_test``.

``dispatch`` and ``send_test`` are imported lazily (they pull in the store).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from busta_quality.notify.dispatcher import dispatch, send_test

__all__ = ["dispatch", "send_test"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from busta_quality.notify import dispatcher

        return getattr(dispatcher, name)
    raise AttributeError(f"module 'busta_quality.notify' has no attribute {name!r}")
