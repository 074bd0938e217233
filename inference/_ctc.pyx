# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The two loops of CTC decoding that run once per frame, compiled: the prefix beam search's step and the
best alignment of a known text (Viterbi). `decoding.py` holds the rules (what a constraint or prior says,
which labels a frame tries, what comes back); these loops only do the arithmetic, and call back into Python
for a prefix's prior weight or constraint answer only when that prefix may enter the beam.

Prefixes are tuples of label ids, as in `decoding.py`, so its callbacks and caches see the same keys.
"""

from libc.math cimport INFINITY, exp, log
from libc.stdlib cimport free, malloc, qsort

import numpy as np


cdef struct Ranked:
    double value
    Py_ssize_t place   # the order the prefix grew in: ties go to the earlier
    Py_ssize_t entry   # < n: a beam prefix (staying); else n + its index among the frame's offers


cdef int _by_value(const void* a, const void* b) noexcept nogil:
    cdef const Ranked* x = <const Ranked*> a
    cdef const Ranked* y = <const Ranked*> b
    if x.value > y.value:
        return -1
    if x.value < y.value:
        return 1
    return (x.place > y.place) - (x.place < y.place)


cdef inline Py_ssize_t _argmin(const double* values, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, best = 0
    for i in range(1, n):
        if values[i] < values[best]:
            best = i
    return best


cdef inline void _keep_best(double* best, Py_ssize_t* n, Py_ssize_t width, double value) noexcept nogil:
    """Keep `value` among the `width` largest seen (unordered, `n` of them so far)."""
    cdef Py_ssize_t i
    if n[0] < width:
        best[n[0]] = value
        n[0] += 1
        return
    i = _argmin(best, n[0])
    if value > best[i]:
        best[i] = value


def prefix_beam(const double[:, ::1] rows, const long[::1] labels, const long[::1] starts,
                const unsigned char[::1] only_blanks, int blank, int width, object step, object initial,
                double ceiling, list alphabet, object allows, object next_labels):
    """The final beam of a CTC prefix beam search: (prefixes, p_blank, p_label, prior states), best first.

    `rows` (T, C + 1): each frame's label probabilities and a last column of 0 (the empty prefix's last
    label). Frame t tries `labels[starts[t]:starts[t + 1]]`; a frame in `only_blanks` grows nothing.
    `step(state, character)`: a prior's next state and log-weight, from `initial`, never above log(`ceiling`)
    (None: no prior); `alphabet` names each label's character. `allows(prefix)`: may a new prefix grow on
    (None: no constraint). `next_labels(prefix)`: a uint8 mask of the labels that may follow, or None for any
    (None: not asked).
    """
    cdef Py_ssize_t n_frames = rows.shape[0], n_labels = rows.shape[1] - 1
    cdef Py_ssize_t n = 1, t, i, j, k, f, e, K, m, kept, n_floor, size
    cdef long label
    cdef double top, g
    cdef bint weighs = step is not None
    # The beam, per prefix: the probability of the frames so far ending in a blank and in its last label, that
    # label (n_labels for the empty prefix), the prior's weight of it, and its parent's place in the beam.
    cdef double* p_blank = <double*> malloc(width * sizeof(double))
    cdef double* p_label = <double*> malloc(width * sizeof(double))
    cdef long* last = <long*> malloc(width * sizeof(long))
    cdef double* last_weight = <double*> malloc(width * sizeof(double))
    cdef Py_ssize_t* parent = <Py_ssize_t*> malloc(width * sizeof(Py_ssize_t))
    # The next beam as it is chosen.
    cdef double* new_blank = <double*> malloc(width * sizeof(double))
    cdef double* new_label = <double*> malloc(width * sizeof(double))
    cdef long* new_last = <long*> malloc(width * sizeof(long))
    cdef double* new_weight = <double*> malloc(width * sizeof(double))
    # A frame's work.
    cdef double* stay_blank = <double*> malloc(width * sizeof(double))
    cdef double* stay_label = <double*> malloc(width * sizeof(double))
    cdef Py_ssize_t* stay_place = <Py_ssize_t*> malloc(width * sizeof(Py_ssize_t))
    cdef double* gains = <double*> malloc(width * (n_labels + 1) * sizeof(double))
    cdef double* offer_weight = <double*> malloc(width * (n_labels + 1) * sizeof(double))
    cdef Ranked* offers = <Ranked*> malloc(width * (n_labels + 1) * sizeof(Ranked))
    cdef Ranked* ranked = <Ranked*> malloc((width + width * (n_labels + 1)) * sizeof(Ranked))
    cdef double* floor = <double*> malloc(width * sizeof(double))
    cdef Py_ssize_t* position = <Py_ssize_t*> malloc((n_labels + 1) * sizeof(Py_ssize_t))
    cdef const unsigned char** masks = <const unsigned char**> malloc(width * sizeof(unsigned char*))
    cdef const double* row
    cdef const long* candidates
    cdef const unsigned char[::1] mask_view
    if not (p_blank and p_label and last and last_weight and parent and new_blank and new_label and new_last
            and new_weight and stay_blank and stay_label and stay_place and gains and offer_weight and offers
            and ranked and floor and position and masks):
        raise MemoryError()
    prefixes, states, follows = [()], [initial], [next_labels(()) if next_labels is not None else None]
    p_blank[0], p_label[0], last[0], last_weight[0], parent[0] = 1.0, 0.0, n_labels, 1.0, -1
    try:
        for i in range(n_labels + 1):
            position[i] = -1
        for t in range(n_frames):
            row = &rows[t, 0]
            for j in range(n):
                stay_blank[j] = (p_blank[j] + p_label[j]) * row[blank]
                stay_label[j] = p_label[j] * row[last[j]]
            if only_blanks[t]:
                # Only blanks and repeats: the same prefixes, rescored.
                for j in range(n):
                    p_blank[j], p_label[j] = stay_blank[j], stay_label[j]
                continue
            candidates = &labels[starts[t]]
            K = starts[t + 1] - starts[t]
            for i in range(n):
                masks[i] = NULL
                if follows[i] is not None:
                    mask_view = follows[i]
                    masks[i] = &mask_view[0]
            # Each (prefix, label) extension's probability; the same label again is a new character only after a
            # blank (without one it merges into the prefix's own, above). -1: a label the constraint forbids.
            for i in range(n):
                for k in range(K):
                    label = candidates[k]
                    if masks[i] != NULL and not masks[i][label]:
                        gains[i * K + k] = -1.0
                    elif label == last[i]:
                        gains[i * K + k] = p_blank[i] * row[label]
                    else:
                        gains[i * K + k] = (p_blank[i] + p_label[i]) * row[label]
            # The beam's worst so far, for the prior (below): its own prefixes first.
            n_floor = 0
            for j in range(n):
                stay_place[j] = j * (K + 1)  # ties go to the order the prefixes grew in: a prefix, its extensions
                if weighs:
                    _keep_best(floor, &n_floor, width, stay_blank[j] + stay_label[j])
            # An extension that is already in the beam adds to it (weighed by the prior, always).
            for k in range(K):
                position[candidates[k]] = k
            for j in range(n):
                i = parent[j]
                if i < 0:
                    continue
                k = position[last[j]]
                if k >= 0 and gains[i * K + k] >= 0:
                    g = gains[i * K + k]
                    stay_label[j] += g * last_weight[j]
                    stay_place[j] = min(stay_place[j], i * (K + 1) + 1 + k)
                    gains[i * K + k] = -1.0
            for k in range(K):
                position[candidates[k]] = -1
            m = 0
            for f in range(n * K):
                if gains[f] >= 0:
                    offers[m].value, offers[m].place, offers[m].entry = gains[f], f, f
                    m += 1
            grown_states = {}
            if weighs:
                # Most likely first; no weight exceeds the ceiling, so once an extension's probability times it
                # falls below the beam's worst so far, neither it nor any after it can enter.
                qsort(offers, m, sizeof(Ranked), _by_value)
                for e in range(m):
                    if n_floor == width and offers[e].value * ceiling < floor[_argmin(floor, n_floor)]:
                        m = e
                        break
                    f = offers[e].entry
                    grown_states[e], log_weight = step(states[f // K], alphabet[candidates[f % K]])
                    offer_weight[e] = exp(<double> log_weight)
                    offers[e].value *= offer_weight[e]
                    _keep_best(floor, &n_floor, width, offers[e].value)
            for j in range(n):
                ranked[j].value, ranked[j].place, ranked[j].entry = stay_blank[j] + stay_label[j], stay_place[j], j
            for e in range(m):
                f = offers[e].entry
                ranked[n + e].value, ranked[n + e].place, ranked[n + e].entry = offers[e].value, f // K * (K + 1) + 1 + f % K, n + e
            qsort(ranked, n + m, sizeof(Ranked), _by_value)
            kept_prefixes, kept_states, kept_follows = [], [], []
            kept = 0
            for e in range(n + m):
                j = ranked[e].entry
                if j < n:
                    kept_prefixes.append(prefixes[j])
                    kept_states.append(states[j])
                    kept_follows.append(follows[j])
                    new_blank[kept], new_label[kept], new_last[kept] = stay_blank[j], stay_label[j], last[j]
                    new_weight[kept] = last_weight[j]
                else:
                    f = offers[j - n].entry
                    extended = prefixes[f // K] + (candidates[f % K],)
                    if allows is not None and not allows(extended):
                        continue
                    kept_prefixes.append(extended)
                    kept_states.append(grown_states.get(j - n))
                    kept_follows.append(next_labels(extended) if next_labels is not None else None)
                    new_blank[kept], new_label[kept], new_last[kept] = 0.0, ranked[e].value, candidates[f % K]
                    new_weight[kept] = offer_weight[j - n] if weighs else 1.0
                kept += 1
                if kept == width:
                    break
            top = new_blank[0] + new_label[0]
            n, prefixes, states, follows = kept, kept_prefixes, kept_states, kept_follows
            index = {}
            for j in range(n):
                p_blank[j], p_label[j] = new_blank[j] / top, new_label[j] / top
                last[j], last_weight[j] = new_last[j], new_weight[j]
                index[prefixes[j]] = j
            for j in range(n):
                prefix = prefixes[j]
                size = len(prefix)
                parent[j] = index.get(prefix[:size - 1], -1) if size else -1
        return prefixes, [p_blank[j] for j in range(n)], [p_label[j] for j in range(n)], states
    finally:
        free(p_blank); free(p_label); free(last); free(last_weight); free(parent)
        free(new_blank); free(new_label); free(new_last); free(new_weight)
        free(stay_blank); free(stay_label); free(stay_place); free(gains); free(offer_weight); free(offers)
        free(ranked); free(floor); free(position); free(masks)


def best_alignment(const float[:, ::1] probs, const long[::1] ids, int blank, double tiny):
    """The log-probability of the best CTC alignment of `ids` (no blanks, at least one, fitting the frames)
    to `probs` (T, C), and each label's highest probability over the frames that alignment gives it."""
    cdef Py_ssize_t n_frames = probs.shape[0], n = ids.shape[0], states = 2 * n + 1, t, s, state, u, n_used = 0
    cdef Py_ssize_t low, high
    cdef long* ext = <long*> malloc(states * sizeof(long))
    cdef Py_ssize_t* column = <Py_ssize_t*> malloc(states * sizeof(Py_ssize_t))
    cdef long* used = <long*> malloc(states * sizeof(long))
    cdef double* score = <double*> malloc(states * sizeof(double))
    cdef double* before = <double*> malloc(states * sizeof(double))
    cdef signed char* back = <signed char*> malloc(n_frames * states * sizeof(signed char))
    cdef double* logs = NULL
    cdef double stay, step, skip, p, best
    confidences = np.zeros(n)
    cdef double[::1] conf = confidences
    try:
        if not (ext and column and used and score and before and back):
            raise MemoryError()
        # A text uses few distinct labels: their log-probabilities are taken once a frame, not once a state.
        for s in range(states):
            ext[s] = ids[(s - 1) // 2] if s % 2 else blank
            u = 0
            while u < n_used and used[u] != ext[s]:
                u += 1
            if u == n_used:
                used[n_used] = ext[s]
                n_used += 1
            column[s] = u * n_frames
            score[s] = -INFINITY
        logs = <double*> malloc(n_used * n_frames * sizeof(double))
        if not logs:
            raise MemoryError()
        for u in range(n_used):
            for t in range(n_frames):
                logs[u * n_frames + t] = log(max(<double> probs[t, used[u]], tiny))
        score[0] = logs[column[0]]
        score[1] = logs[column[1]]
        for s in range(states):
            back[s] = 0
        for t in range(1, n_frames):
            # Only states reachable by frame t (two a frame) that can still reach the end: those outside
            # keep -inf or are never read again.
            low = max(0, states - 3 - 2 * (n_frames - 1 - t))
            high = min(states, 2 * t + 2)
            for s in range(max(0, low - 2), high):
                before[s] = score[s]
            for s in range(low, high):
                # Stay, come from the state before, or skip the blank before unless the label repeats.
                stay = before[s]
                step = before[s - 1] if s >= 1 else -INFINITY
                skip = before[s - 2] if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2] else -INFINITY
                back[t * states + s] = 0
                best = stay
                if step > best:
                    best, back[t * states + s] = step, 1
                if skip > best:
                    best, back[t * states + s] = skip, 2
                score[s] = best + logs[column[s] + t]
        state = states - 1 if score[states - 1] >= score[states - 2] else states - 2
        best = score[state]
        for t in range(n_frames - 1, -1, -1):
            if state % 2:
                p = probs[t, ext[state]]
                if p > conf[(state - 1) // 2]:
                    conf[(state - 1) // 2] = p
            state -= back[t * states + state]
        return best, confidences.tolist()
    finally:
        free(ext); free(column); free(used); free(score); free(before); free(back); free(logs)
