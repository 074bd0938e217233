# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""`hotich.line_image.ink_band` at a crop's own scale, compiled, with the GIL let go.

A page's ~100 line crops are prepared side by side on the recogniser's threads. Written with OpenCV and numpy,
the band was ~40 calls a line, each too small to outweigh holding the GIL between them, so the threads took
turns: two threads prepared a page's lines no faster than one. Here the same steps run in C, each as OpenCV
computes it (window anchors, what lies beyond an edge, Otsu's threshold, the connected components' order), so
the bands come out as before.
"""

from libc.float cimport FLT_EPSILON
from libc.stdlib cimport free, malloc, qsort
from libc.string cimport memcpy, memset

import numpy as np

ctypedef unsigned char u8


cdef void _rows_max(const u8* src, u8* dst, Py_ssize_t h, Py_ssize_t w, Py_ssize_t k) noexcept nogil:
    """dst[y, x] = the largest src[y, j], j in [x - k // 2, x - k // 2 + k) within the row (as cv2.dilate with a
    1 x k rectangle, which leaves out what lies beyond the edges); one shifted pass per offset, which compilers
    vectorise."""
    cdef Py_ssize_t y, x, j, shift, lo, hi
    cdef const u8* s
    cdef u8* d
    for y in range(h):
        s = src + y * w
        d = dst + y * w
        memcpy(d, s, w)
        for j in range(k):
            shift = j - k // 2
            lo = max(0, -shift)
            hi = min(w, w - shift)
            for x in range(lo, hi):
                d[x] = max(d[x], s[x + shift])  # stored whatever it is: no branch to mispredict, vectorised


cdef void _columns_max(const u8* src, u8* dst, Py_ssize_t h, Py_ssize_t w, Py_ssize_t k) noexcept nogil:
    """`_rows_max` down the columns: each row of `dst` the largest of k rows of `src`."""
    cdef Py_ssize_t y, x, j, row
    cdef const u8* s
    cdef u8* d
    for y in range(h):
        d = dst + y * w
        memcpy(d, src + y * w, w)
        for j in range(k):
            row = y + j - k // 2
            if row < 0 or row >= h or row == y:
                continue
            s = src + row * w
            for x in range(w):
                d[x] = max(d[x], s[x])


cdef void _transpose(const u8* src, u8* dst, Py_ssize_t h, Py_ssize_t w) noexcept nogil:
    cdef Py_ssize_t y, x
    for y in range(h):
        for x in range(w):
            dst[x * h + y] = src[y * w + x]


cdef inline void _count_row(int* counts, const u8* src, Py_ssize_t row, Py_ssize_t h, Py_ssize_t w, int sign,
                            u8 edge) noexcept nogil:
    """Adds (`sign` 1) or takes away (-1) row `row` of 0/1 `src` to `counts`; a row beyond the ends is all `edge`."""
    cdef Py_ssize_t x
    cdef const u8* s
    if 0 <= row < h:
        s = src + row * w
        for x in range(w):
            counts[x] += sign * s[x]
    elif edge:
        for x in range(w):
            counts[x] += sign


cdef void _columns(const u8* src, u8* dst, Py_ssize_t h, Py_ssize_t w, Py_ssize_t k, u8 edge, bint every,
                   int* counts) noexcept nogil:
    """0/1 `src`: dst[y, x] = 1 when every (`every`) or any of src[j, x], j in [y - k // 2, y - k // 2 + k), is 1,
    what lies beyond the column's ends counting as `edge`: OpenCV's erosion sees ink there, its dilation paper.
    Running counts, a row at a time, which compilers vectorise (`counts`: w of them)."""
    cdef Py_ssize_t y, x, j, a = k // 2
    cdef int kk = <int> k
    cdef u8* d
    for x in range(w):
        counts[x] = 0
    for j in range(k):
        _count_row(counts, src, j - a, h, w, 1, edge)
    for y in range(h):
        d = dst + y * w
        if every:
            for x in range(w):
                d[x] = counts[x] == kk
        else:
            for x in range(w):
                d[x] = counts[x] > 0
        _count_row(counts, src, y + k - a, h, w, 1, edge)
        _count_row(counts, src, y - a, h, w, -1, edge)


cdef int _otsu(const u8* image, Py_ssize_t size) noexcept nogil:
    """Otsu's threshold of 8-bit values, computed as cv2.threshold(..., THRESH_OTSU) computes it."""
    cdef Py_ssize_t hist[256]
    cdef Py_ssize_t i
    cdef double mu = 0, scale = 1.0 / size, mu1 = 0, q1 = 0, max_sigma = 0, p_i, q2, mu2, sigma
    cdef int max_val = 0
    memset(hist, 0, sizeof(hist))
    for i in range(size):
        hist[image[i]] += 1
    for i in range(256):
        mu += i * <double> hist[i]
    mu *= scale
    for i in range(256):
        p_i = hist[i] * scale
        mu1 *= q1
        q1 += p_i
        q2 = 1.0 - q1
        if min(q1, q2) < FLT_EPSILON or max(q1, q2) > 1.0 - FLT_EPSILON:
            continue
        mu1 = (mu1 + i * p_i) / q1
        mu2 = (mu - q1 * mu1) / q2
        sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2)
        if sigma > max_sigma:
            max_sigma = sigma
            max_val = <int> i
    return max_val


cdef void _ink(const u8* darkness, u8* ink, Py_ssize_t size) noexcept nogil:
    """0/1: darker than its paper by more than Otsu's threshold, and by at least 20."""
    cdef int threshold = _otsu(darkness, size)
    cdef Py_ssize_t i
    if threshold < 20:
        threshold = 20
    for i in range(size):
        ink[i] = darkness[i] > threshold


cdef void _rules(const u8* ink, u8* rules, Py_ssize_t h, Py_ssize_t w, u8* a, u8* b, int* counts) noexcept nogil:
    """Ink that belongs to ruling rather than writing: long flat runs (dotted guides and slightly tilted cell
    borders once thickened and joined) and tall thin ones (cell borders at the ends). `a`, `b`: h x w scratch;
    `counts`: max(h, w)."""
    cdef Py_ssize_t i, size = h * w
    cdef Py_ssize_t thick = max(3, h // 8), flat = max(2 * h, w // 6), tall = max(2, <Py_ssize_t> (0.7 * h))
    # thickened (a 3-row, `thick`-column dilation), then opened by a `flat`-long row: along the columns of the
    # transposed image, where the running counts vectorise
    _columns_max(ink, a, h, w, 3)
    _rows_max(a, b, h, w, thick)
    _transpose(b, a, h, w)
    _columns(a, b, w, h, flat, 1, True, counts)
    _columns(b, a, w, h, flat, 0, False, counts)
    _transpose(a, rules, w, h)
    # opened by a `tall`-high column
    _columns(ink, a, h, w, tall, 1, True, counts)
    _columns(a, b, h, w, tall, 0, False, counts)
    for i in range(size):
        rules[i] = rules[i] | b[i]


cdef void _ruled_ink(const u8* gray, u8* ink, Py_ssize_t h, Py_ssize_t w, u8* darkness, u8* a, u8* b, u8* c,
                     int* counts) noexcept nogil:
    """The writing's ink: darker than the paper around it, the ruling's ink taken out.
    `darkness`, `a`, `b`, `c`: h x w scratch; `counts`: max(h, w)."""
    cdef Py_ssize_t size = h * w, i, r = max(3, (h // 3) | 1)
    # the paper: the lightest value in an r x r square around each pixel
    _rows_max(gray, c, h, w, r)
    _columns_max(c, darkness, h, w, r)
    for i in range(size):
        darkness[i] = darkness[i] - gray[i]
    # Twice: dark cell borders would otherwise set a threshold that faint writing falls under.
    _ink(darkness, ink, size)
    _rules(ink, c, h, w, a, b, counts)
    _columns_max(c, a, h, w, 3)
    _rows_max(a, b, h, w, 3)
    for i in range(size):
        darkness[i] = 0 if b[i] else darkness[i]
    _ink(darkness, ink, size)
    _rules(ink, c, h, w, a, b, counts)
    for i in range(size):
        ink[i] = ink[i] & (c[i] ^ 1)


cdef Py_ssize_t _root(Py_ssize_t* parent, Py_ssize_t i) noexcept nogil:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


cdef struct Component:
    Py_ssize_t first   # the first 2 x 2 block holding its ink, in raster order: OpenCV numbers them so
    Py_ssize_t area
    Py_ssize_t top
    Py_ssize_t bottom  # one past its last row


cdef int _by_first(const void* p, const void* q) noexcept nogil:
    cdef Py_ssize_t x = (<const Component*> p).first, y = (<const Component*> q).first
    return (x > y) - (x < y)


cdef Py_ssize_t _components(const u8* ink, Py_ssize_t h, Py_ssize_t w, Py_ssize_t* labels, Py_ssize_t* parent,
                            Py_ssize_t* index, Component* found) noexcept nogil:
    """The 8-connected components of 0/1 `ink` into `found`, in the order cv2.connectedComponentsWithStats
    numbers them; returns how many. `labels`: h x w scratch; `parent`, `index`, `found`: h x w + 1."""
    cdef Py_ssize_t y, x, i, j, n = 0, label, other, root, k, blocks = (w + 1) // 2
    for y in range(h):
        for x in range(w):
            i = y * w + x
            labels[i] = 0
            if not ink[i]:
                continue
            label = 0
            for j in range(4):  # the neighbours scanned before it: W, NW, N, NE
                if j == 0:
                    other = labels[i - 1] if x > 0 else 0
                elif j == 1:
                    other = labels[i - w - 1] if x > 0 and y > 0 else 0
                elif j == 2:
                    other = labels[i - w] if y > 0 else 0
                else:
                    other = labels[i - w + 1] if x + 1 < w and y > 0 else 0
                if other == 0:
                    continue
                other = _root(parent, other)
                if label == 0:
                    label = other
                elif other != label:
                    if other < label:
                        parent[label] = other
                        label = other
                    else:
                        parent[other] = label
            if label == 0:
                n += 1
                parent[n] = n
                label = n
            labels[i] = label
    # each provisional label's component: its root's slot, filled in the order roots are met
    cdef Py_ssize_t count = 0
    for i in range(n + 1):
        index[i] = -1
    for y in range(h):
        for x in range(w):
            i = y * w + x
            if labels[i] == 0:
                continue
            root = _root(parent, labels[i])
            k = index[root]
            if k < 0:
                k = count
                index[root] = k
                count += 1
                found[k].first = (y // 2) * blocks + x // 2
                found[k].area = 0
                found[k].top = y
                found[k].bottom = y + 1
            found[k].area += 1
            found[k].bottom = y + 1
            if (y // 2) * blocks + x // 2 < found[k].first:
                found[k].first = (y // 2) * blocks + x // 2
    qsort(found, count, sizeof(Component), _by_first)
    return count


cdef struct Scratch:
    u8* bytes           # 5 h w: the ink, then `_ruled_ink`'s four images
    int* counts         # max(h, w): `_columns`' running counts
    Py_ssize_t* labels  # 2 h w + 1: `_components`' labels, then its parents
    Py_ssize_t* index   # h w + 1: each root's component
    Component* found    # h w + 1
    double* profile     # 2 h + 1: the band's row profile, then its smoothed copy


cdef void _release(Scratch* s) noexcept nogil:
    free(s.bytes)
    free(s.counts)
    free(s.labels)
    free(s.index)
    free(s.found)
    free(s.profile)


cdef int _allocate(Scratch* s, Py_ssize_t h, Py_ssize_t w) except -1:
    """Every buffer the band of an h x w crop takes, or MemoryError (nothing left allocated)."""
    cdef Py_ssize_t size = h * w
    s.bytes = <u8*> malloc(5 * size)
    s.counts = <int*> malloc(max(h, w) * sizeof(int))
    s.labels = <Py_ssize_t*> malloc((2 * size + 1) * sizeof(Py_ssize_t))
    s.index = <Py_ssize_t*> malloc((size + 1) * sizeof(Py_ssize_t))
    s.found = <Component*> malloc((size + 1) * sizeof(Component))
    s.profile = <double*> malloc((2 * h + 1) * sizeof(double))
    if not (s.bytes and s.counts and s.labels and s.index and s.found and s.profile):
        _release(s)
        raise MemoryError(f"no memory to band a {h} x {w} line crop")
    return 0


cdef void _band(const u8* gray, Py_ssize_t h, Py_ssize_t w, Scratch* s, Py_ssize_t* y0,
                Py_ssize_t* y1) noexcept nogil:
    """The band (`line_image.ink_band`): the core is the densest run of rows (where the letters' bodies are);
    every ink component reaching into it or close above or below it (tone marks, dots, descenders) widens the
    band, ruling does not; the band keeps a margin of the core's height above and half of it below, as marks
    sit high."""
    cdef Py_ssize_t size = h * w, i, n, kept = 0, peak, core_top, core_bottom, core, window, left, lo, hi, j
    cdef Py_ssize_t top, bottom, middle, half
    cdef u8* ink = s.bytes
    cdef Component* found = s.found
    cdef double* profile = s.profile
    cdef double* smooth = profile + h + 1
    cdef double floor_
    _ruled_ink(gray, ink, h, w, ink + size, ink + 2 * size, ink + 3 * size, ink + 4 * size, s.counts)
    n = _components(ink, h, w, s.labels, s.labels + size, s.index, found)
    y0[0], y1[0] = 0, h
    # each component spreads its area evenly over its rows: a tall stroke does not outweigh a word's body
    for i in range(h + 1):
        profile[i] = 0.0
    for i in range(n):
        if found[i].area < 3:
            continue
        found[kept] = found[i]
        kept += 1
    # tops first, then bottoms, as numpy.add.at adds them
    for i in range(kept):
        profile[found[i].top] += found[i].area / <double> (found[i].bottom - found[i].top)
    for i in range(kept):
        profile[found[i].bottom] += -(found[i].area / <double> (found[i].bottom - found[i].top))
    if kept > 0:
        for i in range(1, h):
            profile[i] += profile[i - 1]
        # the mean of `window` rows around each (numpy.convolve's "same" window)
        window = max(1, h // 10)
        left = window // 2
        peak = 0
        for i in range(h):
            lo = i - left
            hi = i + window - 1 - left
            smooth[i] = 0.0
            for j in range(max(0, lo), min(h - 1, hi) + 1):
                smooth[i] += profile[j] * (1.0 / window)
            if smooth[i] > smooth[peak]:
                peak = i
        floor_ = 0.35 * smooth[peak]
        core_top, core_bottom = 0, h
        for i in range(peak - 1, -1, -1):
            if smooth[i] < floor_:
                core_top = i + 1
                break
        for i in range(peak + 1, h):
            if smooth[i] < floor_:
                core_bottom = i
                break
        core = max(core_bottom - core_top, 4)
        top, bottom = h, 0
        for i in range(kept):
            if found[i].bottom > core_top - 0.9 * core and found[i].top < core_bottom + 0.5 * core:
                top = min(top, found[i].top)
                bottom = max(bottom, found[i].bottom)
        y0[0] = max(0, min(top, core_top - <Py_ssize_t> (0.8 * core)) - 2)
        y1[0] = min(h, max(bottom, core_bottom + core // 2) + 2)
        if (y0[0] == 0 or y1[0] == h) and y1[0] - y0[0] < 0.6 * h:
            y0[0], y1[0] = 0, h  # against an edge and short: more likely what is left of a border than writing
        elif y1[0] - y0[0] < 0.3 * h:  # a speck, not a line: keep a third of the crop around it
            middle, half = (y0[0] + y1[0]) // 2, <Py_ssize_t> (0.15 * h) + 1
            y0[0], y1[0] = max(0, middle - half), min(h, middle + half)


def band(const u8[:, ::1] gray) -> tuple[int, int]:
    """(top, bottom) rows of the writing in a 2-D uint8 crop; (0, height) when there is none or the crop is under
    12 x 12."""
    cdef Py_ssize_t h = gray.shape[0], w = gray.shape[1], y0, y1
    cdef Scratch s
    if h < 12 or w < 12:
        return 0, int(h)
    _allocate(&s, h, w)
    with nogil:
        _band(&gray[0, 0], h, w, &s, &y0, &y1)
        _release(&s)
    return int(y0), int(y1)


def ruled_ink(const u8[:, ::1] gray):
    """The 0/1 ink `band` finds the writing in, as an array (for tests against OpenCV's own steps)."""
    cdef Py_ssize_t h = gray.shape[0], w = gray.shape[1], size = h * w
    out = np.empty((h, w), np.uint8)
    cdef u8[:, ::1] view = out
    cdef Scratch s
    _allocate(&s, h, w)
    with nogil:
        _ruled_ink(&gray[0, 0], &view[0, 0], h, w, s.bytes, s.bytes + size, s.bytes + 2 * size, s.bytes + 3 * size,
                   s.counts)
        _release(&s)
    return out


def components(const u8[:, ::1] ink):
    """(area, top, height) of each 8-connected component of 0/1 `ink`, in OpenCV's order, as an (n, 3) array."""
    cdef Py_ssize_t h = ink.shape[0], w = ink.shape[1], size = h * w, n, i
    cdef Scratch s
    _allocate(&s, h, w)
    try:
        with nogil:
            n = _components(&ink[0, 0], h, w, s.labels, s.labels + size, s.index, s.found)
        return np.array([(s.found[i].area, s.found[i].top, s.found[i].bottom - s.found[i].top) for i in range(n)],
                        np.int64).reshape(n, 3)
    finally:
        _release(&s)
