"""avatar-provenance: prove where synthetic avatar media came from and whose face it uses.

Every stamped output carries two bindings: a signed C2PA manifest (synthetic origin, licensed
face, consent scope, declared use) and an invisible watermark whose payload leads back to that
manifest through the vendor's repository, so a stripped re-upload still verifies.

    >>> from provenance import Workspace, stamp_file, verify_file   # doctest: +SKIP
    >>> ws = Workspace.open("demo")
    >>> stamp_file(ws, "frame.png", "stamped.png", license_path="license.json", purpose="education")
    >>> verify_file("stamped.png", workspace=ws).verdict
    <Verdict.VERIFIED: 'verified'>
"""

__version__ = "0.1.0"
