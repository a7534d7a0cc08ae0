"""The only package that imports great_expectations (lazily, inside functions/modules).

Importing ``busta_quality.quality`` itself is cheap; ``gate``, ``context`` and ``action``
import GX when they are imported.
"""
