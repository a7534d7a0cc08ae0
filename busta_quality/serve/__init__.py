"""``busta serve``: the REST API (``/api/v1``, OpenAPI at ``/api/v1/openapi.json``), sessions,
``/metrics`` and the Data Docs site over one warm process (docs/api.md, docs/operations.md).

It sits at the top tier with :mod:`busta_quality.cli` (which starts it) and calls the same
:mod:`busta_quality.service` functions the CLI does, so every response has the CLI's
``--json`` shape. FastAPI and uvicorn come with the ``serve`` extra
(``pip install 'busta-quality[serve]'``); :mod:`.client` needs only the standard library.
"""
