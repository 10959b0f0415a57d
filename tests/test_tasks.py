"""The task queue: a task woken by a burst of commits runs once for all of them."""

from __future__ import annotations

from buyflow.tasks import get_tasks, register_task


def wakeable_task(app, name: str, runs: list, wakes_itself: int = 0) -> str:
    """Register ``name``, a wakeable task recording its runs, whose first ``wakes_itself``
    runs wake it again (as when more work came while it ran); its name."""
    def take_due_work():
        runs.append(len(runs))
        if len(runs) <= wakes_itself:
            get_tasks().wake(name)

    register_task(app, name, take_due_work, wakeable=True)
    get_tasks().huey.flush()  # what earlier tests left queued
    return name


def test_wakes_before_a_run_starts_queue_it_once(app, app_context, run_queue):
    runs = []
    task = wakeable_task(app, "take_due_work_once", runs)
    for _ in range(3):
        get_tasks().wake(task)
    assert get_tasks().huey.pending_count() == 1
    run_queue()
    assert runs == [0]
    get_tasks().wake(task)  # the run started: a wake queues another
    assert get_tasks().huey.pending_count() == 1
    run_queue()


def test_a_wake_while_the_task_runs_queues_another_run(app, app_context, run_queue):
    runs = []
    task = wakeable_task(app, "take_due_work_again", runs, wakes_itself=1)
    get_tasks().wake(task)
    run_queue()
    assert runs == [0, 1]


def test_a_run_queued_otherwise_clears_a_wake_lost_with_its_run(app, app_context, run_queue):
    runs = []
    task = wakeable_task(app, "take_due_work_lost", runs)
    queue = get_tasks()
    queue.wake(task)
    queue.huey.storage.flush_queue()  # the run is lost, its wake-up is not
    queue.wake(task)
    assert queue.huey.pending_count() == 0
    queue.enqueue(task)  # as a sweep does
    run_queue()
    assert runs == [0]
    queue.wake(task)
    assert queue.huey.pending_count() == 1
    run_queue()
