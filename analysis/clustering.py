"""Near-duplicate detection: reposts and lightly edited copies of a post share most of their character
shingles, so their MinHash signatures agree in most places and share at least one LSH band.

A post's text is normalised as keywords are (monitoring.matching: full/half width, case, traditional
to simplified), then stripped of what reposting adds (转发/repost prefixes, //@someone: chains,
@mentions, #hashtags#, [表情], links, punctuation and spaces). Its character 3-shingles go into a
datasketch MinHash (128 permutations of datasketch's seed 1, so every worker computes the same
signature); the signature is cut into the bands datasketch's MinHashLSH chooses for a Jaccard
threshold of 0.5 (favouring recall), and each band is hashed to a 64-bit key. Keys are stored
(ClusterBand), one post per cluster and key, so any worker finds the candidates of a new post with
one indexed query and a flood of reposts adds no rows; the post joins the cluster of the most similar candidate when the
signatures' estimated Jaccard similarity reaches the threshold.

The functions here are pure; analysis.services stores and looks up, and the bench uses the same
functions with an in-memory index (`MemoryBandIndex`).
"""

import functools
import hashlib
import re
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH

from monitoring.matching.normalize import text_normalize

NUM_PERM = 128
THRESHOLD = 0.5  # bench/analysis.py, 3,000 originals: recall 0.976, precision 0.996 (0.989/0.979 at 0.45)
SHINGLE = 3
MAX_CHARS = 4_000  # a very long post: its first characters decide (a copy keeps its beginning)
SIGNATURE_VERSION = b"oo-minhash-v1"  # changes when anything above does: old band keys then never match

_REPOST = re.compile(r"^(?:转发微博|转发|转|repost|rt|fw|fwd)\s*[:：]?\s*")
_CHAIN = re.compile(r"//\s*@[^:：\s]{1,30}[:：]")  # //@someone: of a Weibo repost chain
_MENTION = re.compile(r"@[\w\-·]{1,30}")
_HASHTAG = re.compile(r"#[^#\n]{1,40}#")
_EMOTICON = re.compile(r"\[[^\[\]\s]{1,8}\]")
_LINK = re.compile(r"(?:https?://|www\.)\S+")
_NOT_WORD = re.compile(r"[\W_]+")


def text_for_clustering(text: str) -> str:
    """The words of a post that copies keep: normalised, without repost markers, mentions, hashtags,
    emoticons, links, punctuation, spaces or emoji."""
    text = text_normalize(text or "")
    text = _LINK.sub(" ", text)
    text = _HASHTAG.sub(" ", text)
    text = _CHAIN.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _EMOTICON.sub(" ", text)
    text = _REPOST.sub("", text.strip())
    return _NOT_WORD.sub("", text)[:MAX_CHARS]


def shingles(cleaned: str) -> set[bytes]:
    if len(cleaned) <= SHINGLE:
        return {cleaned.encode()} if cleaned else set()
    return {cleaned[i : i + SHINGLE].encode() for i in range(len(cleaned) - SHINGLE + 1)}


@functools.cache
def _permutations() -> Any:
    return MinHash(num_perm=NUM_PERM, seed=1).permutations


@functools.cache
def lsh_bands() -> tuple[int, int]:
    """(bands, rows): MinHashLSH's choice for THRESHOLD and NUM_PERM, a missed candidate weighing nine
    times a false one (every candidate is checked against its signature: a false one costs a
    comparison, a missed one splits a cluster)."""
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, weights=(0.1, 0.9))
    return lsh.b, lsh.r


def signature(text: str) -> np.ndarray | None:
    """The post's MinHash values (uint32), or None when nothing of it is left to compare (empty,
    emoji or links only)."""
    found = shingles(text_for_clustering(text))
    if not found:
        return None
    minhash = MinHash(num_perm=NUM_PERM, permutations=_permutations(), scheme="affine32", hashfunc=zlib.crc32)
    minhash.update_batch(found)
    return np.asarray(minhash.hashvalues, dtype=np.uint32)


def signature_bytes(values: np.ndarray | None) -> bytes:
    return b"" if values is None else values.astype("<u4").tobytes()


def signature_from(data: bytes | memoryview) -> np.ndarray | None:
    data = bytes(data)
    if len(data) != NUM_PERM * 4:
        return None
    return np.frombuffer(data, dtype="<u4")


@functools.cache
def _band_hash() -> tuple[np.ndarray, np.ndarray]:
    """Multipliers (odd, 64-bit) for the rows of a band and one offset per band, derived from
    SIGNATURE_VERSION: the same in every process and on every machine."""
    bands, rows = lsh_bands()
    raw = hashlib.shake_256(SIGNATURE_VERSION).digest(8 * (rows + bands))
    values = np.frombuffer(raw, dtype="<u8").astype(np.uint64)
    return values[:rows] | np.uint64(1), values[rows:]


def band_keys(values: np.ndarray | None) -> list[int]:
    """One signed 64-bit key per LSH band: a multilinear hash of the band's rows (vectorised;
    distinct bands collide with a probability of about 2^-32), the band's own offset added."""
    if values is None:
        return []
    bands, rows = lsh_bands()
    multipliers, offsets = _band_hash()
    with np.errstate(over="ignore"):  # arithmetic modulo 2^64 is the point
        table = values[: bands * rows].astype(np.uint64).reshape(bands, rows)
        keys = (table * multipliers).sum(axis=1, dtype=np.uint64) + offsets
    return keys.view(np.int64).tolist()


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two posts' shingle sets."""
    return float(np.count_nonzero(a == b)) / NUM_PERM


def best_candidate(values: np.ndarray, candidates: list[tuple[Any, np.ndarray]]) -> Any | None:
    """The cluster of the most similar candidate at or above the threshold (ties: the first given)."""
    best, best_score = None, THRESHOLD - 1e-9
    for cluster, other in candidates:
        score = similarity(values, other)
        if score > best_score:
            best, best_score = cluster, score
    return best


@dataclass
class MemoryBandIndex:
    """The band index in memory (bench, experiments), deciding as the stored one does: each band key
    keeps one post per cluster (the first), so a flood of reposts adds no candidates."""

    by_key: dict[int, dict[int, np.ndarray]] = field(default_factory=lambda: defaultdict(dict))
    next_cluster: int = 0

    def add(self, text: str) -> int:
        """Cluster the post; returns its cluster number."""
        values = signature(text)
        keys = band_keys(values)
        cluster = None
        if values is not None:
            candidates: dict[int, np.ndarray] = {}
            for key in keys:
                for other_cluster, other in self.by_key.get(key, {}).items():
                    candidates.setdefault(other_cluster, other)
            cluster = best_candidate(values, list(candidates.items()))
        if cluster is None:
            cluster, self.next_cluster = self.next_cluster, self.next_cluster + 1
        if values is not None:
            for key in keys:
                self.by_key[key].setdefault(cluster, values)
        return cluster
