"""base/heap.py: objects made at once go to the collector's oldest generation unwalked, with
no collection while they are made; a program's own freeze and a disabled collector are kept."""

import gc

from mcusim.base.heap import made_at_once
from mcusim.isa.decode import decode_span, forget_decoded


def _young(obj: object) -> bool:
    return any(o is obj for o in gc.get_objects(0) + gc.get_objects(1))


def test_objects_made_at_once_are_old_and_nothing_collects_meanwhile():
    assert gc.isenabled()
    collections = []
    callback = lambda phase, info: collections.append(info)  # noqa: E731
    gc.callbacks.append(callback)
    try:
        with made_at_once():
            assert not gc.isenabled()
            made = [[k] for k in range(5000)]  # over the youngest generation's threshold
        assert collections == []
    finally:
        gc.callbacks.remove(callback)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert gc.is_tracked(made[0]) and not _young(made[0]) and not _young(made)


def test_a_programs_freeze_and_a_disabled_collector_are_left_as_they_are():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with made_at_once():
            made = [[1]]
        assert gc.get_freeze_count() == frozen and _young(made)  # not moved: theirs kept
    finally:
        gc.unfreeze()
    gc.disable()
    try:
        with made_at_once():
            made = [[2]]
        assert not gc.isenabled() and _young(made)
    finally:
        gc.enable()


def test_a_decoded_span_is_old_when_decoding_returns():
    forget_decoded()
    span = decode_span(0x1000, bytes.fromhex("0120" "4ff00001" "0844") * 100)
    assert len(span.insns) == 300 and gc.isenabled()
    assert not _young(span.insns) and not _young(span.insns[-1])


def test_what_a_run_keeps_leaves_the_collectors_view_until_the_run_ends():
    from mcusim.base import heap

    heap.keep_young()  # outside a run: nothing
    assert gc.get_freeze_count() == 0
    with heap.frozen_for_run():
        before = gc.get_freeze_count()
        made = [[4] for _ in range(100)]
        assert _young(made)
        heap.keep_young()
        assert not _young(made) and gc.get_freeze_count() >= before + 101
    assert gc.get_freeze_count() == 0 and not _young(made) and gc.is_tracked(made)


def test_inside_a_frozen_run_nothing_is_promoted_and_the_freeze_is_not_counted(monkeypatch):
    from mcusim.base import heap

    with heap.frozen_for_run():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        counted = []
        monkeypatch.setattr(gc, "get_freeze_count", lambda: counted.append(1) or frozen)
        with made_at_once():
            made = [[3]]
        assert counted == []  # (a walk of the whole frozen heap per call)
        monkeypatch.undo()
        assert gc.get_freeze_count() == frozen and _young(made)  # the run's freeze is kept
    assert gc.get_freeze_count() == 0


def test_runs_in_threads_freeze_once_and_thaw_when_the_freezing_run_ends():
    import threading

    from mcusim.base import heap

    inside, go_on = threading.Event(), threading.Event()
    seen = []

    def other_run() -> None:
        with heap.frozen_for_run():
            inside.set()
            go_on.wait(5)
            seen.append(heap._run_freezes)

    t = threading.Thread(target=other_run)
    with heap.frozen_for_run():
        t.start()
        assert inside.wait(5)  # the other run started inside this one: it froze nothing
        frozen = gc.get_freeze_count()
        go_on.set()
        t.join(5)
        assert gc.get_freeze_count() == frozen and heap._run_freezes == 1
    assert seen == [1] and heap._run_freezes == 0 and gc.get_freeze_count() == 0
