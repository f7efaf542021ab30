"""Evidence packs: the document an auditor or a regulator is sent, in one verifiable file.

- :mod:`~clearance.evidence.model`: the typed records a pack is made of, and its manifest
- :mod:`~clearance.evidence.incident`: an incident's chronology, statements, approvals,
  obligations and review, gathered from the loaded repository (classification-aware)
- :mod:`~clearance.evidence.changes`: change-management evidence for a period, from the
  audit trail's records (:mod:`clearance.audit`)
- :mod:`~clearance.evidence.manifest`: hashing the sources, and verifying a pack's
  manifest against a checkout
- :mod:`~clearance.evidence.chart`: the incident timeline as SVG
- :mod:`~clearance.evidence.html`: a pack as one printable HTML page
- :mod:`~clearance.evidence.outputs`: PDF (WeasyPrint, manifest attached), JSON, zip

Gathering never prints and never writes; the command decides where a pack goes.
"""
