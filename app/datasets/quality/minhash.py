"""Near-duplicate candidates with NumPy: character n-gram shingles, one-permutation MinHash
signatures and LSH banding. Pure NumPy, no compiled extension to pin.

* Shingles: character 3-, 4- and 5-grams of the comparison key, each hashed to 64 bits with a
  polynomial over code points and a SplitMix64 finaliser, all texts of a chunk at once.
* Signatures: one-permutation hashing (Li, Owen & Zhang 2012) — each shingle hash is hashed once;
  its top 7 bits choose one of 128 bins and the next 32 bits are the value; a bin keeps its
  minimum. Empty bins are filled by rotation densification (Shrivastava & Li 2014), so two texts
  agree on a bin with probability ≈ their Jaccard similarity, as with 128 classic permutations,
  at 1/128 of the hashing work.
* LSH: 14 bands of 9 bins (≈ Jaccard 0.7 threshold): a pair at Jaccard 0.8 becomes a candidate
  with probability 0.87, at 0.85 0.975, at 0.9 0.999. Candidates are then verified by exact Jaccard
  (``app.datasets.quality.dedup``), so the index threshold sits below the reported one.

Signatures depend on ``SIGNATURE_VERSION``; persist it with any stored signature.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from itertools import pairwise

import numpy as np
import numpy.typing as npt

SIGNATURE_VERSION = "oph128-ngram345-v1"
NGRAMS = (3, 4, 5)
BINS = 128
BANDS, ROWS = 14, 9
CHUNK_TEXTS = 4096
LARGE_BUCKET = 64  # more texts than this in one band bucket: link each to the first and the next

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]

_PRIME = np.uint64(0x100000001B3)
_SCRAMBLE = np.uint64(0x9FB21C651E98DF25)
_EMPTY = np.uint32(0xFFFFFFFF)
_ROTATION = np.uint32(0x9E3779B1)
_SEEDS = {n: np.uint64(0x9E3779B97F4A7C15 * n & 0xFFFFFFFFFFFFFFFF) for n in (1, 2, *NGRAMS)}
_BAND_MULTIPLIERS = np.random.default_rng(20260101).integers(
    1, 2**63, size=ROWS, dtype=np.uint64
) | np.uint64(1)


def _mix(values: U64) -> U64:
    """SplitMix64 finaliser: spreads polynomial hashes over all 64 bits (in place)."""
    values ^= values >> np.uint64(30)
    values *= np.uint64(0xBF58476D1CE4E5B9)
    values ^= values >> np.uint64(27)
    values *= np.uint64(0x94D049BB133111EB)
    values ^= values >> np.uint64(31)
    return values


def _code_points(keys: Sequence[str]) -> tuple[U64, I64]:
    data = "".join(keys).encode("utf-32-le", "surrogatepass")
    points = np.frombuffer(data, dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter((len(key) for key in keys), dtype=np.int64, count=len(keys))
    return points, lengths


def _short_key_hash(key: str) -> np.uint64:
    """Keys of one or two characters have no 3-gram: the whole key is their only shingle."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


def shingle_hashes(keys: Sequence[str]) -> tuple[U64, I64]:
    """All shingle hashes of ``keys`` (duplicates included) and, per key, its index in the
    result: the shingles of key ``i`` are ``hashes[owner == i]``."""
    points, lengths = _code_points(keys)
    ends = np.cumsum(lengths)
    owner_of_point = np.repeat(np.arange(len(keys), dtype=np.int64), lengths)
    remaining = ends[owner_of_point] - np.arange(len(points), dtype=np.int64)  # chars to key end
    parts: list[U64] = []
    owners: list[I64] = []
    rolling = points.copy()
    for width in range(2, max(NGRAMS) + 1):
        # rolling[i] = hash of points[i : i + width]
        rolling = rolling[:-1] * _PRIME + points[width - 1 :]
        if width not in NGRAMS or not len(rolling):
            continue
        valid = remaining[: len(rolling)] >= width  # the n-gram stays inside one key
        hashed = rolling[valid]
        hashed ^= _SEEDS[width]
        hashed *= _SCRAMBLE  # one multiply spreads the polynomial into the top bits we use
        hashed ^= hashed >> np.uint64(29)
        parts.append(hashed)
        owners.append(owner_of_point[: len(rolling)][valid])
    short = [(i, key) for i, key in enumerate(keys) if 0 < len(key) < NGRAMS[0]]
    if short:
        parts.append(np.array([_short_key_hash(key) for _i, key in short], dtype=np.uint64))
        owners.append(np.array([i for i, _key in short], dtype=np.int64))
    if not parts:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    return np.concatenate(parts), np.concatenate(owners)


def text_shingles(key: str) -> set[str]:
    """The shingles of one key as a set of substrings, for exact Jaccard (the same sets the
    signatures sketch, without hashing)."""
    size = len(key)
    if size < NGRAMS[0]:
        return {key} if key else set()
    found = {key[i : i + 3] for i in range(size - 2)}  # NGRAMS, unrolled: this runs per candidate
    found.update([key[i : i + 4] for i in range(size - 3)])
    found.update([key[i : i + 5] for i in range(size - 4)])
    return found


def jaccard(a: AbstractSet[str], b: AbstractSet[str]) -> float:
    if not a and not b:
        return 1.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def densify(raw: U32) -> U32:
    """Fill each empty bin from the next non-empty bin (cyclically), offset by the distance, so
    that equal sets still agree and unequal ones agree with probability ≈ Jaccard. A text
    without shingles stays all empty (in place: ``raw`` is overwritten and returned)."""
    empty = raw == _EMPTY
    rows, cols = np.nonzero(empty & ~empty.all(axis=1, keepdims=True))
    if not len(rows):
        return raw
    # Walk forward from every hole at once; each step settles the holes whose next bin is full.
    # Holes are few (about 2 per 200-character text), so this beats whole-matrix scans.
    filled = np.empty(len(rows), dtype=np.uint32)
    pending = np.arange(len(rows))
    distance = 1
    while len(pending):
        values = raw[rows[pending], (cols[pending] + distance) % BINS]
        done = values != _EMPTY
        offset = np.uint32(distance * int(_ROTATION) & 0xFFFFFFFF)
        filled[pending[done]] = values[done] + offset
        pending = pending[~done]
        distance += 1
    raw[rows, cols] = filled
    return raw


def raw_signatures(keys: Sequence[str]) -> U32:
    """One-permutation MinHash of each key before densification (empty bins = ``0xFFFFFFFF``).
    The raw signature of a union of shingle sets is the element-wise minimum of theirs."""
    hashes, owners = shingle_hashes(keys)
    flat = np.full(len(keys) * BINS, _EMPTY, dtype=np.uint32)
    bins = (hashes >> np.uint64(57)).astype(np.int64)
    values = ((hashes >> np.uint64(25)) & np.uint64(0xFFFFFFFE)).astype(np.uint32)
    np.minimum.at(flat, owners * BINS + bins, values)
    return flat.reshape(len(keys), BINS)


def signatures(keys: Sequence[str]) -> U32:
    """One 128-value signature per key (``uint32``); a key without shingles keeps all bins
    empty (``0xFFFFFFFF``) and is never a candidate. Computed a chunk of texts at a time to
    bound the temporary arrays."""
    out = np.empty((len(keys), BINS), dtype=np.uint32)
    for start in range(0, len(keys), CHUNK_TEXTS):
        chunk = keys[start : start + CHUNK_TEXTS]
        out[start : start + len(chunk)] = densify(raw_signatures(chunk))
    return out


def prompt_and_full_signatures(prompts: Sequence[str], outputs: Sequence[str]) -> tuple[U32, U32]:
    """Signatures of each prompt and of each whole example (prompt and answer) from one pass
    over the text: the whole example's shingles are taken as the union of the prompt's and the
    answer's, so its raw signature is the minimum of theirs."""
    prompt = np.empty((len(prompts), BINS), dtype=np.uint32)
    full = np.empty((len(prompts), BINS), dtype=np.uint32)
    for start in range(0, len(prompts), CHUNK_TEXTS):
        end = min(start + CHUNK_TEXTS, len(prompts))
        raw = raw_signatures(prompts[start:end])
        full[start:end] = densify(np.minimum(raw, raw_signatures(outputs[start:end])))
        prompt[start:end] = densify(raw)
    return prompt, full


def _band_keys(sigs: U32, band: int) -> U64:
    block = sigs[:, band * ROWS : (band + 1) * ROWS].astype(np.uint64)
    combined = (block * _BAND_MULTIPLIERS).sum(axis=1, dtype=np.uint64)
    return _mix(combined ^ np.uint64(band + 1))


def _bucket_pairs(members: I64) -> list[tuple[int, int]]:
    items = members.tolist()
    if len(items) <= LARGE_BUCKET:
        return [(a, b) for i, a in enumerate(items) for b in items[i + 1 :]]
    # A huge bucket (a template shared by many rows): all pairs would be quadratic. Linking each
    # member to the first and to its neighbour keeps clusters connected at linear cost.
    return [(items[0], b) for b in items[1:]] + list(pairwise(items[1:]))


def candidate_pairs(sigs: U32, groups: npt.NDArray[np.int64] | None = None) -> I64:
    """Pairs ``(i, j)``, ``i < j``, sharing at least one band. With ``groups``, only pairs
    whose group differs are kept (for comparing two sets: group 0 and group 1)."""
    index = np.flatnonzero(sigs[:, 0] != _EMPTY)  # densified: one empty bin means all are
    found: list[I64] = []
    for band in range(BANDS):
        keys = _band_keys(sigs, band)[index]
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        boundary = np.flatnonzero(np.diff(ordered)) + 1
        starts = np.concatenate(([0], boundary))
        sizes = np.diff(np.concatenate((starts, [len(ordered)])))
        pairs_at = starts[sizes == 2]
        found.append(np.stack((index[order[pairs_at]], index[order[pairs_at + 1]]), axis=1))
        for start, size in zip(starts[sizes > 2].tolist(), sizes[sizes > 2].tolist(), strict=True):
            members = np.sort(index[order[start : start + size]])
            found.append(np.array(_bucket_pairs(members), dtype=np.int64).reshape(-1, 2))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    every = np.sort(np.concatenate(found), axis=1)
    if groups is not None:
        every = every[groups[every[:, 0]] != groups[every[:, 1]]]
    codes = np.unique(every[:, 0] * np.int64(len(sigs)) + every[:, 1])
    return np.stack((codes // len(sigs), codes % len(sigs)), axis=1)


PLAUSIBLE_MARGIN = 0.25


def plausible(sigs: U32, pairs: I64, threshold: float) -> I64:
    """Drop candidates whose signatures agree on too few bins to reach ``threshold``: the
    agreement estimates Jaccard with a standard error of about 0.035 at 0.8, so a margin of
    0.25 (seven standard errors) loses nothing real and spares most exact checks of the
    spurious candidates that shared templates produce."""
    if not len(pairs):
        return pairs
    agreement = np.empty(len(pairs))
    for start in range(0, len(pairs), 65536):
        chunk = pairs[start : start + 65536]
        agreement[start : start + len(chunk)] = (sigs[chunk[:, 0]] == sigs[chunk[:, 1]]).mean(
            axis=1
        )
    return pairs[agreement >= threshold - PLAUSIBLE_MARGIN]


PAIR_CHUNK = 1000  # pairs verified together (bounds the temporary arrays)


def _shingle_sets(keys: Sequence[str]) -> tuple[U64, list[int]]:
    """Each key's shingle hashes, sorted and unique, back to back: key ``i`` owns
    ``values[bounds[i]:bounds[i + 1]]``. Sorting each key's few hundred values on its own is
    faster than one sort of them all."""
    hashes, owners = shingle_hashes(keys)
    order = np.argsort(owners, kind="stable")  # three runs already sorted by owner: linear
    values = hashes[order]
    bounds = np.searchsorted(owners[order], np.arange(len(keys) + 1)).tolist()
    for start, end in pairwise(bounds):
        values[start:end].sort()
    keep = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    keep[bounds[:-1]] = True  # the first value of each key, even if the previous key ends alike
    kept = np.concatenate(([0], np.cumsum(keep)))
    return values[keep], [int(kept[b]) for b in bounds]


def exact_jaccard(keys: Sequence[str], pairs: I64) -> npt.NDArray[np.float64]:
    """Exact Jaccard similarity of the shingle sets of each pair of keys (64-bit hashes of the
    n-grams; a false match is a 2⁻⁶⁴ event). A pair's intersection is a binary search of one
    sorted set in the other."""
    out = np.empty(len(pairs), dtype=np.float64)
    for start in range(0, len(pairs), PAIR_CHUNK):
        chunk = pairs[start : start + PAIR_CHUNK]
        items, local = np.unique(chunk, return_inverse=True)
        values, bounds = _shingle_sets([keys[i] for i in items.tolist()])
        for row, (a, b) in enumerate(local.reshape(-1, 2).tolist()):
            left, right = values[bounds[a] : bounds[a + 1]], values[bounds[b] : bounds[b + 1]]
            if not len(left) or not len(right):
                out[start + row] = float(len(left) == len(right))
                continue
            found = np.searchsorted(left, right)
            found[found == len(left)] = 0
            common = int(np.count_nonzero(left[found] == right))
            out[start + row] = common / (len(left) + len(right) - common)
    return out
