"""Misuse evidence for face owners: examine suspect files, judge them, sign the findings.

``provenance report`` in the SDK (``spec/evidence.md``): each file is verified in a worker
process, judged against the face owner's consent (in scope, out of scope and which clause,
no license, not this face), and the findings are written as a signed, optionally
time-stamped bundle with a page a person can read.

Example::

    from pathlib import Path
    from provenance.evidence import (
        ExamineSettings, Observation, Signing, examine_all, find_suspects, verify_bundle,
        write_bundle,
    )
    from provenance.owner import OwnerKey
    from provenance.repository import RepositoryUrl
    from provenance.trust import TrustAnchors

    trust = TrustAnchors.from_files(Path("root-ca.pem"))
    exams = examine_all(find_suspects([Path("downloads")]),
                        ExamineSettings(trust_pem=trust.pem,
                                        repository=RepositoryUrl.parse("repo.sqlite")))
    write_bundle(exams, Path("evidence"), face_id="face-0001",
                 observation=Observation.parse(purpose="politics", territory="DE"),
                 signing=Signing(OwnerKey.load(Path("owner.key"))), trust=trust,
                 repository_used=True)
    assert verify_bundle(Path("evidence")).valid
"""

from .bundle import BUNDLE_FILE as BUNDLE_FILE
from .bundle import PAGE_FILE as PAGE_FILE
from .bundle import Signing as Signing
from .bundle import write_bundle as write_bundle
from .check import BundleCheck as BundleCheck
from .check import verify_bundle as verify_bundle
from .collect import Examination as Examination
from .collect import ExamineSettings as ExamineSettings
from .collect import examine_all as examine_all
from .collect import find_suspects as find_suspects
from .judge import Judgement as Judgement
from .judge import Observation as Observation
from .judge import judge as judge
from .model import Clause as Clause
from .model import EvidenceBundle as EvidenceBundle
from .model import EvidenceVerdict as EvidenceVerdict

__all__ = [
    "BUNDLE_FILE",
    "PAGE_FILE",
    "BundleCheck",
    "Clause",
    "EvidenceBundle",
    "EvidenceVerdict",
    "Examination",
    "ExamineSettings",
    "Judgement",
    "Observation",
    "Signing",
    "examine_all",
    "find_suspects",
    "judge",
    "verify_bundle",
    "write_bundle",
]
