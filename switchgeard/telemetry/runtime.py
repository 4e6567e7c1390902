"""Process and CPython runtime metrics from the standard library (Linux ``/proc`` when present).

Names follow the OpenTelemetry ``process.*`` and ``cpython.*`` conventions. Callbacks read
only kernel counters and ``gc.get_stats()``, so they are safe in any thread.
"""

from __future__ import annotations

import gc
import os
import resource
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from opentelemetry.metrics import CallbackOptions, Meter, Observation

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_STATM = Path("/proc/self/statm")
_FDS = Path("/proc/self/fd")


def _cpu_time(options: CallbackOptions) -> Iterable[Observation]:
    times = os.times()
    return [
        Observation(times.user, {"cpu.mode": "user"}),
        Observation(times.system, {"cpu.mode": "system"}),
    ]


def _statm() -> tuple[int, int]:
    try:
        virtual, resident = _STATM.read_text().split()[:2]
    except (OSError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return peak, peak
    return int(virtual) * _PAGE, int(resident) * _PAGE


def _memory_usage(options: CallbackOptions) -> Iterable[Observation]:
    return [Observation(_statm()[1])]


def _memory_virtual(options: CallbackOptions) -> Iterable[Observation]:
    return [Observation(_statm()[0])]


def _threads(options: CallbackOptions) -> Iterable[Observation]:
    return [Observation(threading.active_count())]


def _open_fds(options: CallbackOptions) -> Iterable[Observation]:
    try:
        return [Observation(len(os.listdir(_FDS)))]
    except OSError:
        return []


def _gc(field: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def observe(options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(stats[field], {"cpython.gc.generation": generation})
            for generation, stats in enumerate(gc.get_stats())
        ]

    return observe


def register_runtime_metrics(meter: Meter) -> None:
    """Register process CPU, memory, threads, file descriptors and garbage-collector metrics."""
    meter.create_observable_counter("process.cpu.time", [_cpu_time], unit="s")
    meter.create_observable_up_down_counter("process.memory.usage", [_memory_usage], unit="By")
    meter.create_observable_up_down_counter("process.memory.virtual", [_memory_virtual], unit="By")
    meter.create_observable_up_down_counter("process.thread.count", [_threads], unit="{thread}")
    meter.create_observable_up_down_counter(
        "process.unix.file_descriptor.count", [_open_fds], unit="{file_descriptor}"
    )
    for name, field in (
        ("cpython.gc.collections", "collections"),
        ("cpython.gc.collected_objects", "collected"),
        ("cpython.gc.uncollectable_objects", "uncollectable"),
    ):
        meter.create_observable_counter(name, [_gc(field)], unit="{" + field + "}")
