"""The tickets service takes the NLP's own types at its boundary (issue #16): an ``nlp.Analysis``
and an ``nlp.Analyzer``, read by plain attribute access, not ``Any`` probed with getattr."""
from __future__ import annotations

import typing

import nlp
from bot.services.tickets import intake, workflow


def test_intake_and_split_are_typed_with_the_nlp_types() -> None:
    report = typing.get_type_hints(intake.report)
    assert report["analysis"] is nlp.Analysis
    assert report["analyzer"] == nlp.Analyzer | None
    assert typing.get_type_hints(intake.find_duplicate)["analyzer"] == nlp.Analyzer | None
    assert typing.get_type_hints(workflow.split)["analyzer"] == nlp.Analyzer | None
    assert typing.get_type_hints(intake.stored_analysis)["return"] is nlp.Analysis


def test_a_stored_ticket_is_compared_as_the_analyzer_would_compare_it() -> None:
    analysis = nlp.analyze("3号楼2单元楼道灯坏了好几天了")
    from bot.models.tickets import Ticket

    ticket = Ticket(text=analysis.text, category=analysis.category, urgent=analysis.urgent,
                    location_parts=intake.location_parts(analysis.location),
                    fingerprint=sorted(analysis.fingerprint), nlp_confidence=analysis.confidence)
    stored = intake.stored_analysis(ticket)
    assert stored.location == analysis.location and stored.fingerprint == analysis.fingerprint
    assert nlp.default_analyzer().is_duplicate(analysis, stored)
