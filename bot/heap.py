"""Getting a serving process ready: what the first message would load is loaded, and what lives
for the whole process is set aside from the garbage collector.

A serving process holds ~200,000 long-lived container objects (jieba's dictionary, the NLP
model, SQLAlchemy's mappers and compiled statements). Python's full collection walks all of them:
measured with ``bench/pipeline.py``'s report mix, one full collection inside its 10-second
window at 200 messages/s paused the loop 80–130 ms, and the messages that arrived meanwhile
became the p99. ``gc.freeze()`` moves everything alive at that moment to a generation no
collection walks (what the Python docs advise for long-lived servers); objects made later are
collected as before. The same bench, three runs each way: p99 60.4 / 46.9 / 42.7 → 41.8 / 39.1 /
33.9 ms.

Only for the process's serving entry (``bot.runner``): the test kit opens many apps in one
process, and freezing there would keep each test's leftovers for good.
"""
from __future__ import annotations

import gc
import logging
import time
from typing import Any

log = logging.getLogger(__name__)

# A problem report: it loads jieba's dictionary and packs the category model (~1 s together),
# which the first resident's report would otherwise wait for.
WARM_TEXT = "3号楼2单元电梯坏了，好几天没人修"


def warm(analyzer: Any) -> None:
    """Load now what the first analysed message would load."""
    analyzer.analyze(WARM_TEXT)


def freeze() -> int:
    """Collect once, then leave everything alive out of later collections; how many objects."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def ready_to_serve(analyzer: Any) -> None:
    """``warm`` then ``freeze``: call once, when startup's long-lived objects all exist."""
    started = time.perf_counter()
    warm(analyzer)
    frozen = freeze()
    log.info("ready to serve: analyzer loaded, %s long-lived objects left out of collections (%.1f s)",
             frozen, time.perf_counter() - started)
