"""Values kept per owner object: the last keys asked, weakly held, shared by threads."""

from __future__ import annotations

import gc
import threading

from recommender._kept import KeptPerOwner


class Owner:  # an object that can be weakly referenced, as a model's state parts are
    pass


def test_values_are_kept_per_owner_and_key():
    kept, first, second = KeptPerOwner(2), Owner(), Owner()
    assert kept.get(first, "a") is None and kept.get(first, "a", 0) == 0
    kept.put(first, "a", 1)
    kept.put(second, "a", 2)
    assert kept.get(first, "a") == 1 and kept.get(second, "a") == 2
    kept.put(first, "a", 3)  # replaced
    assert kept.get(first, "a") == 3 and kept.keys(first) == ["a"]


def test_the_key_asked_longest_ago_is_let_go():
    kept, owner = KeptPerOwner(2), Owner()
    kept.put(owner, "a", 1)
    kept.put(owner, "b", 2)
    assert kept.get(owner, "a") == 1  # asked last now: "b" goes first
    kept.put(owner, "c", 3)
    assert kept.keys(owner) == ["a", "c"] and kept.get(owner, "b") is None


def test_an_owner_let_go_takes_its_values_with_it():
    kept, owner, other = KeptPerOwner(3), Owner(), Owner()
    kept.put(owner, "a", [1] * 1000)
    kept.put(other, "a", 1)
    assert kept.owners() == 2
    del owner
    gc.collect()
    assert kept.owners() == 1 and kept.get(other, "a") == 1


def test_threads_share_one_bounded_store():
    kept, owner = KeptPerOwner(4), Owner()

    def work(thread):
        for i in range(500):
            kept.put(owner, (thread, i % 7), i)
            kept.get(owner, (thread, (i + 3) % 7))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(kept.keys(owner)) == 4
