"""Row workers: results in input order whatever finishes first, dropout masks fixed by their seed."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from localrag.tune.row_workers import RowWorkers, SeededDropout, dropout_stream, row_seed, summed_gradients


def test_map_keeps_the_input_order_when_later_items_finish_first() -> None:
    def work(n: int) -> int:
        time.sleep(0.05 * (3 - n))
        return n * n

    with RowWorkers(2, 2) as workers:
        assert workers.map(work, [0, 1, 2, 3]) == [0, 1, 4, 9]


def test_a_failed_row_is_raised_only_once_the_running_rows_are_done() -> None:
    started, finished = threading.Event(), threading.Event()

    def work(n: int) -> int:
        if n == 0:
            assert started.wait(5)
            raise ValueError("row 0")
        started.set()
        time.sleep(0.2)
        finished.set()
        return n

    with RowWorkers(2, 2) as workers, pytest.raises(ValueError, match="row 0"):
        workers.map(work, [0, 1])
        assert finished.is_set()
    assert finished.is_set()


def test_a_dropout_mask_depends_on_its_seed_not_on_the_thread_that_draws_it() -> None:
    dropout = SeededDropout(0.5).train()
    x = torch.ones(64, 64)

    def masked(seed: int) -> torch.Tensor:
        with dropout_stream(seed):
            return dropout(x)

    with RowWorkers(2, 2) as workers:
        threaded = workers.map(masked, [row_seed(0, 7, 0), row_seed(0, 7, 1)] * 3)
    here = masked(row_seed(0, 7, 0))
    assert all(torch.equal(here, mask) for mask in threaded[0::2])
    assert not torch.equal(threaded[0], threaded[1])
    assert set(here.unique().tolist()) == {0.0, 2.0}  # kept values scaled by 1 / (1 - p)
    assert torch.equal(dropout.eval()(x), x)


def test_gradients_are_summed_in_row_order_and_a_missing_one_counts_as_zero() -> None:
    parameters = [torch.zeros(2), torch.zeros(3)]
    rows = [(torch.tensor([1.0, 2.0]), None), (torch.tensor([0.5, 0.5]), torch.ones(3))]
    first, second = summed_gradients(rows, parameters)
    assert first.tolist() == [1.5, 2.5] and second.tolist() == [1.0, 1.0, 1.0]


def test_workers_run_torch_on_their_share_of_the_cores_and_give_the_count_back() -> None:
    before = torch.get_num_threads()
    with RowWorkers(2, 4) as workers:
        assert workers.map(lambda _: torch.get_num_threads(), [0, 1]) == [2, 2]
    assert torch.get_num_threads() == before


def test_a_dropout_outside_the_cpu_draws_where_its_input_lives() -> None:
    # Found on a GPU: the CPU-drawn mask met a CUDA tensor. No GPU here, so the meta device stands in:
    # any mask drawn in CPU memory would fail on it the same way.
    dropout = SeededDropout(0.5).train()
    x = torch.ones(8, 8, device="meta")
    with dropout_stream(row_seed(0, 7, 0)):
        out = dropout(x)
    assert out.device.type == "meta" and out.shape == x.shape
