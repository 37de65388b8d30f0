"""Claim-by-claim verification of answers against their sources: split an answer into claims
(:mod:`.claims`), ground each in the sources' words and numbers (:mod:`.grounding`), find its best source
sentence (:mod:`.similarity`), and decide supported / contradicted / unverifiable (:mod:`.checker`). The
serving path (``Answerer``) and the offline evals use the same checker."""
