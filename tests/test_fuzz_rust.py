"""The bounded fuzz pass of the C ABI for CI (issue #8).

CI has stable Rust only, so cargo-fuzz (nightly; rust/fuzz/, scripts/fuzz.sh) cannot run
there. This is its stand-in: seeded random cases call the C functions through cffi with the
inconsistent inputs a C caller can make (offsets negative, decreasing or past the values,
rows or values claimed short, NULL and misaligned pointers, unknown dtype/side/rule codes,
sizes off by a little or overflowing, output lengths that disagree). Buffers are always as
long as claimed: that part of the contract no library can check.

Every call must return the status the documented rules predict (never FAX_ERR_PANIC, never a
crash), with a message when it fails, and every success must equal a plain Python reference.
The cases run in a child process, so a segfault or abort fails the test instead of pytest.
Run this file directly (`python tests/test_fuzz_rust.py SEED CASES`) to fuzz longer.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
from collections import Counter

SEEDS = (1, 2, 3)
CASES = 1200  # per seed: 3,600 cases in all, about 5 s

OK, INVALID, TOO_SMALL = 0, 1, 4
MAX_OUT = 1 << 14  # larger claimed outputs are passed as NULL (the library must refuse them)
U64 = 2**64 - 1

# value dtype code -> (cffi type, bytes, store: what the buffer holds for an int)
DTYPES = {
    1: ("int8_t", 1, lambda v: (v + 2**7) % 2**8 - 2**7),
    2: ("int16_t", 2, lambda v: (v + 2**15) % 2**16 - 2**15),
    3: ("int32_t", 4, lambda v: (v + 2**31) % 2**32 - 2**31),
    4: ("int64_t", 8, lambda v: (v + 2**63) % 2**64 - 2**63),
    5: ("uint8_t", 1, lambda v: v % 2**8),
}


class Case:
    """One random call's inputs; keeps every cffi buffer alive until the case is done."""

    def __init__(self, ffi, rng: random.Random):
        self.ffi, self.rng, self.keep = ffi, rng, []

    def size(self) -> int:
        """Mostly small, sometimes anything up to 2**64 - 1 (overflow paths)."""
        r = self.rng.random()
        if r < 0.85:
            return self.rng.randrange(0, 12)
        if r < 0.95:
            return self.rng.randrange(0, 200)
        return self.rng.choice([U64, U64 - 1, 2**63, 2**62 + 1, self.rng.randrange(2**64)])

    def int64(self) -> int:
        return self.rng.choice([0, 1, -1, -100, 2**63 - 1, -(2**63), self.rng.randrange(-(2**63), 2**63)])

    def nudge(self, n: int) -> int:
        """`n`, or off by a little (clamped to size_t)."""
        if self.rng.random() < 0.8:
            return n
        return min(max(n + self.rng.randint(-3, 3), 0), U64)

    def array(self, ctype: str, items: list, misalign: bool = False):
        """A cffi pointer to `items` stored as `ctype`; misaligned by one byte if asked."""
        if not misalign:
            buf = self.ffi.new(f"{ctype}[]", max(len(items), 1))
            for i, v in enumerate(items):
                buf[i] = v
            self.keep.append(buf)
            return buf
        width = self.ffi.sizeof(ctype)
        raw = self.ffi.new("char[]", width * len(items) + 1)
        self.keep.append(raw)
        ptr = self.ffi.cast(f"{ctype} *", raw + 1)
        for i, v in enumerate(items):  # unaligned stores through memmove-like buffer writes
            self.ffi.memmove(raw + 1 + i * width, self.ffi.new(f"{ctype} *", v), width)
        return ptr

    def lists(self, values_dtype: int | None = None, shape_of: "Lists | None" = None) -> "Lists":
        return Lists(self, values_dtype, shape_of)

    def out(self, n: int):
        """An int64 output of `n` elements, or NULL (for big claims, or at random)."""
        if n > MAX_OUT or self.rng.random() < 0.05:
            return self.ffi.NULL, n > 0
        buf = self.ffi.new("int64_t[]", max(n, 1))
        self.keep.append(buf)
        return buf, False


class Lists:
    """A random `FaxLists` and its reference reading: `rows`, or None when it must be refused."""

    def __init__(self, case: Case, values_dtype=None, shape_of=None):
        rng, ffi = case.rng, case.ffi
        # Mostly valid parts, so that whole calls succeed often enough to check the results.
        dtype = values_dtype or rng.choice([1, 2, 3, 4, 5] * 4 + [rng.choice([0, 6, 99, 2**32 - 1])])
        offsets_dtype = rng.choice([3, 4] * 8 + [rng.choice([0, 1, 5, 7])])
        if shape_of is not None and shape_of.offsets is not None and rng.random() < 0.8:
            offsets = list(shape_of.offsets)
            offsets_dtype = shape_of.offsets_dtype
        elif rng.random() < 0.8:  # monotonic
            offsets = [rng.randrange(0, 4)]
            for _ in range(rng.randrange(0, 8)):
                offsets.append(offsets[-1] + rng.choice([0, 1, 2, 3, 5, 9]))
        else:  # anything
            offsets = [rng.choice([-1, 0, 1, 3, 7, 50, -(2**31), 2**31 - 1, 2**40]) for _ in range(rng.randrange(0, 6))]
        if offsets_dtype == 3:  # C's truncating store into int32
            offsets = [DTYPES[3][2](o) for o in offsets]
        need = max([o for o in offsets if 0 <= o < 1000] + [0])
        values = [
            rng.choice([0, 1, -1, 127, 128, 255, 256, -129, 2**31, 2**63 - 1, -(2**63), rng.randrange(-999, 999)])
            for _ in range(need + rng.randrange(0, 3))
        ]
        fault = rng.choices(
            [
                "none",
                "null_values",
                "null_offsets",
                "misalign_values",
                "misalign_offsets",
                "short_values",
                "fewer_rows",
            ],
            [40, 1, 1, 1, 1, 1, 1],
        )[0]
        known = dtype in DTYPES
        ctype, width, store = DTYPES.get(dtype, ("int64_t", 8, DTYPES[4][2]))
        values = [store(v) for v in values]
        otype = "int32_t" if offsets_dtype == 3 else "int64_t"
        values_len = len(values) - (rng.randrange(1, 3) if fault == "short_values" else 0)
        values_len = max(values_len, 0)
        num_rows = max(len(offsets) - 1 - (rng.randrange(1, 3) if fault == "fewer_rows" else 0), 0)

        s = ffi.new("FaxLists *")
        case.keep.append(s)
        null_values = fault == "null_values"
        s.values = ffi.NULL if null_values else case.array(ctype, values, fault == "misalign_values")
        s.values_len, s.values_dtype = values_len, dtype
        null_offsets = fault == "null_offsets" or not offsets
        s.offsets = ffi.NULL if null_offsets else case.array(otype, offsets, fault == "misalign_offsets")
        s.num_rows, s.offsets_dtype = num_rows, offsets_dtype
        self.struct, self.offsets, self.offsets_dtype, self.num_rows = s, offsets, offsets_dtype, num_rows

        pointers_ok = not (
            null_offsets
            or (null_values and values_len > 0)
            or (fault == "misalign_values" and width > 1 and values_len > 0)
            or fault == "misalign_offsets"
        )
        self.dtype = dtype
        self.rows = None
        if pointers_ok and known and offsets_dtype in (3, 4):
            self.rows = rows_of(values[:values_len], offsets[: num_rows + 1])


def rows_of(values: list, offsets: list):
    """The documented rule: offsets non-negative, never decreasing, inside the values."""
    if offsets[0] < 0 or any(b < a for a, b in zip(offsets, offsets[1:])) or offsets[-1] > len(values):
        return None
    return [values[a:b] for a, b in zip(offsets, offsets[1:])]


# ---- plain references ------------------------------------------------------------------


def ref_pad_width(rows, target, multiple):
    if multiple == 0:
        return None
    width = max([len(r) for r in rows] + [target])
    width = -(-width // multiple) * multiple
    return width if width <= U64 else None


def ref_pack(rows, max_length, eos, rule):
    """Greedy packing a cell at a time: (rows of real tokens, [split, truncated, dropped])."""
    if max_length < 2 or rule > 3:
        return None
    out, cur, counts = [], [], [0, 0, 0]

    def flush():
        if cur:
            out.append(cur.copy())
            cur.clear()

    for r in rows:
        item = r + [eos]
        if len(item) > max_length:
            if rule == 3:
                return None
            if rule == 2:
                counts[2] += 1
                continue
            if rule == 1:
                counts[1] += 1
                item = r[: max_length - 1] + [eos]
            else:
                counts[0] += 1
            flush()
            for t in item:
                cur.append(t)
                if len(cur) == max_length:
                    flush()
            continue
        if len(cur) + len(item) > max_length:
            flush()
        cur.extend(item)
    flush()
    return out, counts


def ref_trl_bins(lengths, start, end, capacity):
    """TRL's _pack_bfd binning of lengths[start:end]: longest first (stable), the smallest
    room that fits, equal rooms first come first served (TRL's deque per room)."""
    items = sorted(range(start, end), key=lambda i: -lengths[i])
    bins, queues = [], {}  # room -> bins with that room, in the order they got it
    for i in items:
        fits = [room for room, queue in queues.items() if queue and room >= lengths[i]]
        if fits:
            b = queues[min(fits)].pop(0)
            room = min(fits)
        else:
            bins.append([])
            b, room = len(bins) - 1, capacity
        bins[b].append(i)
        if room - lengths[i] > 0:
            queues.setdefault(room - lengths[i], []).append(b)
    return bins


def ref_bins(lengths, capacity, strategy, max_items, group_size):
    if group_size and group_size < len(lengths):
        bins = []
        for start in range(0, len(lengths), group_size):
            group = ref_bins(lengths[start : start + group_size], capacity, strategy, max_items, 0)
            bins += [[i + start for i in b] for b in group]
        return bins
    limit = max_items or len(lengths) + 1
    order = list(range(len(lengths)))
    if strategy in (2, 3):
        order.sort(key=lambda i: -lengths[i])  # stable
    rooms, bins = [], []
    for item in order:
        n = lengths[item]
        fits = [b for b in range(len(bins)) if rooms[b] >= n and len(bins[b]) < limit]
        if strategy == 1:
            fits = [b for b in fits if b == len(bins) - 1]
        if strategy == 2 and fits:
            fits = [min(fits, key=lambda b: (rooms[b], b))]
        if fits:
            rooms[fits[0]] -= n
            bins[fits[0]].append(item)
        else:
            rooms.append(capacity - n)
            bins.append([item])
    return bins


def items(buf, n: int) -> list:
    """The first `n` elements of an output (NULL when empty)."""
    return list(buf[0:n]) if n else []


def same_shape(a, b):
    return len(a) == len(b) and all(len(x) == len(y) for x, y in zip(a, b))


def hex_join(digests: list[bytes], sep: int) -> bytes:
    return (bytes([sep]) if sep else b"").join(d.hex().encode() for d in digests)


# ---- one random call per kernel ---------------------------------------------------------


class Checker:
    def __init__(self, ffi, lib):
        self.ffi, self.lib = ffi, lib
        self.seen_statuses: Counter = Counter()

    def expect(self, what: str, status: int, expected: int, case: Case):
        self.seen_statuses[what, status] += 1
        if status == expected and (status == OK or self.message()):
            return
        raise AssertionError(
            f"{what}: status {status} ({self.message()!r}), expected {expected}; seed state {case.tag}"
        )

    def message(self) -> str:
        n = self.lib.fax_last_error_message(self.ffi.NULL, 0)
        buf = self.ffi.new("char[]", n + 1)
        self.lib.fax_last_error_message(buf, n + 1)
        return self.ffi.string(buf).decode("utf-8", "replace")

    def pad(self, c: Case):
        ffi, lib = self.ffi, self.lib
        lists = c.lists()
        target, multiple = c.size(), c.size() if c.rng.random() < 0.5 else c.rng.choice([1, 1, 2, 8])
        planned = ref_pad_width(lists.rows, target, multiple) if lists.rows is not None else None
        width = ffi.new("size_t *")
        null_width = c.rng.random() < 0.03
        status = lib.fax_pad_width(lists.struct, target, multiple, ffi.NULL if null_width else width)
        ok = planned is not None and not null_width
        self.expect("fax_pad_width", status, OK if ok else INVALID, c)
        if ok:
            assert width[0] == planned, (width[0], planned)
        w = planned if planned is not None and c.rng.random() < 0.7 else c.size()
        exact = lists.num_rows * w
        out_len = c.nudge(exact) if exact <= U64 else c.size()
        out, null_bad = c.out(out_len)
        side, pad = c.rng.choice([0, 1, 0, 1, 2, 2**32 - 1]), c.int64()
        status = lib.fax_pad_sequences(lists.struct, w, pad, side, out, out_len)
        longest = max([len(r) for r in lists.rows or []] + [0])
        if side > 1 or lists.rows is None or null_bad or exact != out_len:
            expected = INVALID
        elif longest > w:
            expected = TOO_SMALL
        else:
            expected = OK
        self.expect("fax_pad_sequences", status, expected, c)
        if expected == OK:
            want = [
                t for r in lists.rows for t in ((r + [pad] * (w - len(r))) if side == 0 else ([pad] * (w - len(r)) + r))
            ]
            assert items(out, out_len) == want

    def pack_sequences(self, c: Case):
        ffi, lib = self.ffi, self.lib
        lists = c.lists()
        max_length = c.rng.choice([c.size(), c.rng.randrange(0, 12)])
        rule = c.rng.choice([0, 1, 2, 3, 0, 1, 2, 4])
        pad, eos, label_pad = c.int64(), c.int64(), c.int64()
        want = ref_pack(lists.rows, max_length, eos, rule) if lists.rows is not None else None
        rows = ffi.new("size_t *")
        status = lib.fax_pack_sequences_rows(lists.struct, max_length, rule, rows)
        self.expect("fax_pack_sequences_rows", status, OK if want else INVALID, c)
        n_rows = len(want[0]) if want else 1
        if want:
            assert rows[0] == n_rows
        exact = n_rows * max_length
        out_len = c.nudge(exact) if exact <= U64 else c.size()
        outs = [c.out(out_len) for _ in range(3)]
        counts = ffi.new("FaxPackCounts *")
        status = lib.fax_pack_sequences(
            lists.struct,
            max_length,
            pad,
            eos,
            label_pad,
            rule,
            *(o for o, _ in outs),
            out_len,
            counts if c.rng.random() < 0.9 else ffi.NULL,
        )
        ok = want is not None and not any(bad for _, bad in outs) and exact == out_len
        self.expect("fax_pack_sequences", status, OK if ok else INVALID, c)
        if ok:
            packed, want_counts = want
            ids = [t for r in packed for t in r + [pad] * (max_length - len(r))]
            labels = [t for r in packed for t in r + [label_pad] * (max_length - len(r))]
            mask = [m for r in packed for m in [1] * len(r) + [0] * (max_length - len(r))]
            assert [items(o, out_len) for o, _ in outs] == [ids, labels, mask]

    def concatenate(self, c: Case):
        ffi, lib = self.ffi, self.lib
        a = c.lists()
        b, m = c.lists(shape_of=a), c.lists(shape_of=a)
        max_length = c.rng.choice([c.size(), c.rng.randrange(0, 9)])
        pad, label_pad = c.int64(), c.int64()
        valid = (
            a.rows is not None
            and b.rows is not None
            and m.rows is not None
            and max_length >= 1
            and same_shape(a.rows, b.rows)
            and same_shape(a.rows, m.rows)
        )
        total = sum(map(len, a.rows)) if valid else 0
        rows = ffi.new("size_t *")
        status = lib.fax_concatenate_rows(a.struct, b.struct, m.struct, max_length, rows)
        self.expect("fax_concatenate_rows", status, OK if valid else INVALID, c)
        n_rows = -(-total // max_length) if valid else 1
        if valid:
            assert rows[0] == n_rows
        exact = n_rows * max_length
        out_len = c.nudge(exact) if exact <= U64 else c.size()
        outs = [c.out(out_len) for _ in range(3)]
        status = lib.fax_concatenate_and_pack(
            a.struct, b.struct, m.struct, max_length, pad, label_pad, *(o for o, _ in outs), out_len
        )
        ok = valid and not any(bad for _, bad in outs) and exact == out_len
        self.expect("fax_concatenate_and_pack", status, OK if ok else INVALID, c)
        if ok:
            for (o, _), lists, p in zip(outs, (a, b, m), (pad, label_pad, 0)):
                flat = [t for r in lists.rows for t in r]
                assert items(o, out_len) == flat + [p] * (out_len - len(flat))

    def pack_bins(self, c: Case):
        ffi, lib = self.ffi, self.lib
        n = c.rng.choice([0, 1, 2, 5, 20, 60])
        kind = c.rng.random()
        lengths = [
            c.rng.randrange(0, 10)
            if kind < 0.6
            else c.rng.randrange(0, 3000)
            if kind < 0.9
            else c.rng.choice([-1, 0, 2**62, 2**63 - 1, -(2**63)])
            for _ in range(n)
        ]
        capacity = c.rng.choice([c.rng.randrange(1, 20), c.rng.randrange(1, 5000), 0, -5, 2**63 - 1, -(2**63)])
        strategy = c.rng.choice([0, 1, 2, 3, 0, 1, 2, 3, 4, 2**32 - 1])
        max_items = c.rng.choice([0, 0, 1, 2, 3, U64])
        group_size = c.rng.choice([0, 0, 1, 2, 7, U64])
        nulls = [c.rng.random() < 0.04 for _ in range(5)]
        order = ffi.new("int64_t[]", max(n, 1))
        offsets = ffi.new("int64_t[]", n + 1)
        num_bins, oversize = ffi.new("size_t *"), ffi.new("size_t *")
        args = [c.array("int64_t", lengths), order, offsets, num_bins, oversize]
        args = [ffi.NULL if null else a for a, null in zip(args, nulls)]
        status = lib.fax_pack_bins(args[0], n, capacity, strategy, max_items, group_size, *args[1:])
        bad_pointer = (nulls[0] or nulls[1]) and n > 0 or any(nulls[2:])
        ok = strategy < 4 and not bad_pointer and capacity >= 1 and all(x >= 0 for x in lengths)
        self.expect("fax_pack_bins", status, OK if ok else INVALID, c)
        if ok:
            no_limit, one_group = max_items == U64, group_size == U64  # as large as no limit, one group
            bins = ref_bins(lengths, capacity, strategy, 0 if no_limit else max_items, 0 if one_group else group_size)
            assert num_bins[0] == len(bins)
            assert list(order[0:n]) == [i for b in bins for i in b]
            bounds = [0]
            for b in bins:
                bounds.append(bounds[-1] + len(b))
            assert list(offsets[0 : len(bins) + 1]) == bounds
            assert oversize[0] == sum(x > capacity for x in lengths)

    def pack_bins_trl(self, c: Case):
        ffi, lib = self.ffi, self.lib
        n = c.rng.choice([0, 1, 2, 5, 20, 60])
        capacity = c.rng.choice([c.rng.randrange(1, 20), c.rng.randrange(1, 20), 0, -3])
        top = max(capacity, 1)
        lengths = [
            c.rng.randrange(1, top + 1) if c.rng.random() < 0.97 else c.rng.choice([0, -1, top + 1]) for _ in range(n)
        ]
        cuts = sorted(c.rng.randrange(0, n + 1) for _ in range(c.rng.randrange(0, 4)))
        groups = [0, *cuts, n] if c.rng.random() < 0.95 else [0, n, 0]
        nulls = [c.rng.random() < 0.04 for _ in range(4)]
        order, offsets, num_bins = ffi.new("int64_t[]", max(n, 1)), ffi.new("int64_t[]", n + 1), ffi.new("size_t *")
        args = [c.array("int64_t", lengths), order, offsets, num_bins]
        args = [ffi.NULL if null else a for a, null in zip(args, nulls)]
        status = lib.fax_pack_bins_trl(
            args[0], n, capacity, c.array("int64_t", groups), len(groups) - 1, args[1], args[2], args[3]
        )
        bad_pointer = (nulls[0] or nulls[1]) and n > 0 or any(nulls[2:])
        ok = (
            not bad_pointer
            and capacity >= 1
            and all(1 <= x <= capacity for x in lengths)
            and groups == sorted(groups)
            and groups[-1] == n
        )
        self.expect("fax_pack_bins_trl", status, OK if ok else INVALID, c)
        if ok:
            bins = [b for g0, g1 in zip(groups, groups[1:]) for b in ref_trl_bins(lengths, g0, g1, capacity)]
            assert num_bins[0] == len(bins)
            assert list(order[0:n]) == [i for b in bins for i in b]
            bounds = [0]
            for b in bins:
                bounds.append(bounds[-1] + len(b))
            assert list(offsets[0 : len(bins) + 1]) == bounds

    def gather(self, c: Case):
        ffi, lib = self.ffi, self.lib
        ids = c.lists()
        labels = c.lists(shape_of=ids) if c.rng.random() < 0.5 else None
        n_items = max(ids.num_rows, 1)
        order = [
            c.rng.randrange(n_items) if c.rng.random() < 0.95 else c.rng.choice([-1, n_items, 2**63 - 1])
            for _ in range(c.rng.randrange(0, 8))
        ]
        if c.rng.random() < 0.7:
            bounds = sorted(c.rng.randrange(0, len(order) + 1) for _ in range(c.rng.randrange(0, 4)))
            offsets = [0] + bounds + [len(order)] if c.rng.random() < 0.8 else bounds
        else:
            offsets = [c.rng.choice([-1, 0, 1, 2, 5, 2**62]) for _ in range(c.rng.randrange(0, 4))]
        num_bins = max(len(offsets) - 1 - (1 if c.rng.random() < 0.05 else 0), 0)
        width = c.rng.choice([c.size(), c.rng.randrange(0, 12)])
        exact = num_bins * width
        out_len = c.nudge(exact) if exact <= U64 else c.rng.choice([0, c.size()])
        outs = [c.out(out_len) for _ in range(4)]
        pads = ffi.new("FaxGatherPads *", [c.int64() for _ in range(4)])
        null_order, null_pads = c.rng.random() < 0.03, c.rng.random() < 0.03
        status = lib.fax_gather_packed(
            ids.struct,
            labels.struct if labels else ffi.NULL,
            ffi.NULL if null_order else c.array("int64_t", order),
            len(order),
            c.array("int64_t", offsets) if offsets else ffi.NULL,
            num_bins,
            width,
            ffi.NULL if null_pads else pads,
            *(o for o, _ in outs),
            out_len,
        )
        label_rows = ids.rows if labels is None else labels.rows
        expected, bins = INVALID, None
        pre_ok = (
            ids.rows is not None
            and label_rows is not None
            and not (null_order and order)
            and offsets
            and not null_pads
            and not any(bad for _, bad in outs)
        )
        if pre_ok:
            offs = offsets[: num_bins + 1]
            if any(i < 0 or i >= len(ids.rows) for i in order):
                expected = INVALID
            elif offs[0] < 0 or any(y < x for x, y in zip(offs, offs[1:])) or offs[-1] > len(order):
                expected = INVALID
            else:
                bins = [order[x:y] for x, y in zip(offs, offs[1:])]
                if any(sum(len(ids.rows[i]) for i in b) > width for b in bins):
                    expected = TOO_SMALL
                elif same_shape(ids.rows, label_rows) and exact == out_len:
                    expected = OK
        self.expect("fax_gather_packed", status, expected, c)
        if expected == OK:
            p = [pads.pad_token_id, pads.label_pad_id, pads.position_pad_id, pads.attention_pad_id]
            want = [[], [], [], []]
            for b in bins:
                row = [[], [], [], []]
                for k, i in enumerate(b):
                    row[0] += ids.rows[i]
                    row[1] += label_rows[i]
                    row[2] += list(range(len(ids.rows[i])))
                    row[3] += [k + 1] * len(ids.rows[i])
                for j in range(4):
                    want[j] += row[j] + [p[j]] * (width - len(row[j]))
            assert [items(o, out_len) for o, _ in outs] == want

    def hash(self, c: Case):
        ffi, lib = self.ffi, self.lib
        rows = c.lists(values_dtype=5 if c.rng.random() < 0.85 else None)
        n = rows.num_rows
        digests_len = c.nudge(32 * n)
        buf = ffi.new("uint8_t[]", max(digests_len, 1))
        null = c.rng.random() < 0.03
        threads = c.rng.choice([0, 1, 2, 3, U64])
        status = lib.fax_hash_rows(rows.struct, threads, ffi.NULL if null else buf, digests_len)
        bytes_rows = rows.rows is not None and rows.dtype == 5
        ok = digests_len % 32 == 0 and not (null and digests_len) and bytes_rows and digests_len == 32 * n
        self.expect("fax_hash_rows", status, OK if ok else INVALID, c)
        if not ok:
            return
        want = [hashlib.sha256(bytes(r)).digest() for r in rows.rows]
        assert bytes(ffi.buffer(buf, digests_len)) == b"".join(want)
        sep = c.rng.choice([0, 0, ord("\n"), ord(","), 0xFF])
        exact = len(hex_join(want, sep))
        hex_len = c.rng.choice([exact, exact, max(exact + c.rng.randint(-3, 3), 0)])
        hexbuf = ffi.new("char[]", max(hex_len, 1))
        status = lib.fax_hash_hex(buf, n, bytes([sep]), hexbuf, hex_len, threads)
        self.expect("fax_hash_hex", status, OK if hex_len == exact else INVALID, c)
        if hex_len == exact:
            assert bytes(ffi.buffer(hexbuf, hex_len)) == hex_join(want, sep)
        self.seen(c, want)

    def seen(self, c: Case, digests: list[bytes]):
        ffi, lib = self.ffi, self.lib
        if not digests:
            return
        handle = ffi.new("FaxSeen **")
        self.expect("fax_seen_new", lib.fax_seen_new(handle), OK, c)
        seen = ffi.gc(handle[0], lib.fax_seen_free)
        reference: set[bytes] = set()
        for _ in range(2):
            batch = [c.rng.choice(digests) for _ in range(c.rng.randrange(0, 6))]
            kept, num = ffi.new("int64_t[]", max(len(batch), 1)), ffi.new("size_t *")
            status = lib.fax_seen_insert(
                seen, ffi.from_buffer(b"".join(batch)) if batch else ffi.NULL, len(batch), kept, num
            )
            self.expect("fax_seen_insert", status, OK, c)
            want = []
            for i, d in enumerate(batch):
                if d not in reference:
                    reference.add(d)
                    want.append(i)
            assert list(kept[0 : num[0]]) == want
        size = ffi.new("size_t *")
        self.expect("fax_seen_len", lib.fax_seen_len(seen, size), OK, c)
        assert size[0] == len(reference)


MAIN_CALLS = (
    "fax_pad_sequences",
    "fax_pack_sequences",
    "fax_concatenate_and_pack",
    "fax_pack_bins",
    "fax_gather_packed",
    "fax_hash_rows",
    "fax_hash_hex",
    "fax_pack_bins_trl",
)
KERNELS = ("pad", "pack_sequences", "concatenate", "pack_bins", "gather", "hash", "pack_bins_trl")


def fuzz(seed: int, cases: int) -> None:
    from fast_axolotl import _native

    checker = Checker(_native.ffi, _native.lib)
    rng = random.Random(seed)
    for k in range(cases):
        kernel = KERNELS[k % len(KERNELS)]
        case = Case(_native.ffi, rng)
        case.tag = f"seed={seed} case={k} kernel={kernel}"
        getattr(checker, kernel)(case)
    print(f"fuzzed {cases} cases with seed {seed}")
    print(json.dumps({f"{what} {status}": n for (what, status), n in sorted(checker.seen_statuses.items())}))


def run_child(seed: int, cases: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, __file__, str(seed), str(cases)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )


def test_c_abi_random_cases_match_references():
    for seed in SEEDS:
        result = run_child(seed, CASES)
        # A crash shows here as a negative return code (the signal), not as a dead pytest.
        assert result.returncode == 0, (
            f"seed {seed}: exit {result.returncode}\n{result.stdout}\n{result.stderr[-4000:]}"
        )
        assert f"fuzzed {CASES} cases with seed {seed}" in result.stdout
        statuses = json.loads(result.stdout.splitlines()[-1])
        # The cases must reach both sides of every check: successes (compared with the
        # references) and refusals, or the pass proves little.
        for what in MAIN_CALLS:
            assert statuses.get(f"{what} {OK}", 0) >= 10, (what, statuses)
            assert statuses.get(f"{what} {INVALID}", 0) >= 10, (what, statuses)


def test_gather_refuses_a_row_count_times_width_that_overflows(native):
    """2 bins of width 2**63 need 2**64 elements: no buffer can hold that, so the call must be
    refused. An unchecked `rows * width` wraps to 0 and accepts an empty output (FAX_OK, nothing
    written); found by the random pass above."""
    ffi, lib = native.ffi, native.lib
    values, offsets = ffi.new("int64_t[]", [1, 2]), ffi.new("int64_t[]", [0, 1, 2])
    lists = ffi.new("FaxLists *", [values, 2, lib.FAX_DTYPE_INT64, offsets, 2, lib.FAX_DTYPE_INT64])
    order, bin_offsets = ffi.new("int64_t[]", [0]), ffi.new("int64_t[]", [0, 0, 0])
    pads = ffi.new("FaxGatherPads *")
    status = lib.fax_gather_packed(
        lists, ffi.NULL, order, 1, bin_offsets, 2, 2**63, pads, ffi.NULL, ffi.NULL, ffi.NULL, ffi.NULL, 0
    )
    assert status == lib.FAX_ERR_INVALID_ARGUMENT


if __name__ == "__main__":
    fuzz(int(sys.argv[1]), int(sys.argv[2]))
