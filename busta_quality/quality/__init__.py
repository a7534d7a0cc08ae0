"""Validating and deciding: GX suites run on a batch (``validate``), the promotion decision
(``decide``, pure), engines, the one-pass DuckDB evaluator and Data Docs.

The only package that imports great_expectations (with the GX checkpoint action of
``orchestration``), lazily: importing ``busta_quality.quality`` or ``decide`` is cheap;
``validate``, ``context`` and ``results`` import GX when they are used.
"""
