"""`axolotl.utils.data.utils._deduplicate_dataset` on the Arrow dedupe kernel.

Axolotl's seen set is a `set[str]` of sha256(str(row)) hex digests; ours is a `Seen` of
canonical row digests. The two never mix: a Python set from elsewhere sends the call to the
original, and a `Seen` reaching the original is first turned into the set the original
would have built (see `fallback`).
"""

from __future__ import annotations

from fast_axolotl.dedupe import Seen, deduplicate_dataset

from .fallback import Fallback


class SourcedSeen(Seen):
    """A `Seen` that also keeps the datasets whose rows it took in (the rows each call kept,
    which share the Arrow data of their dataset), so Axolotl's own hash set can be rebuilt."""

    def __init__(self):
        super().__init__()
        self.sources = []


def deduplicate(dataset, seen_hashes=None):
    """`_deduplicate_dataset(dataset, seen_hashes=None) -> (dataset.select(kept), seen)`."""
    if seen_hashes is not None and not isinstance(seen_hashes, Seen):
        raise Fallback(f"seen_hashes is a {type(seen_hashes).__name__}, not a fast_axolotl Seen")
    kept, seen = deduplicate_dataset(dataset, SourcedSeen() if seen_hashes is None else seen_hashes)
    if isinstance(seen, SourcedSeen):
        seen.sources.append(kept)
    return kept, seen


def fallback(original, dataset, seen_hashes=None):
    """Axolotl's function. Given a `Seen` from an earlier fast call (the RL path dedupes the
    eval set against the train set's), it gets the hash set it would have built itself:
    the original run over the rows the earlier calls kept holds exactly those hashes."""
    if isinstance(seen_hashes, Seen):
        sources = getattr(seen_hashes, "sources", None)
        if sources is None:
            raise TypeError(
                "seen_hashes is a fast_axolotl Seen made outside the Axolotl patch: "
                "Axolotl's _deduplicate_dataset cannot use it for this dataset"
            )
        seen_hashes = set()
        for kept in sources:
            original(kept, seen_hashes)
    return original(dataset, seen_hashes)
