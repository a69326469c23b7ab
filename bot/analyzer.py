"""The process's text analyzer (``nlp``): the shipped model and rules, or the district's own files."""
from __future__ import annotations

import nlp
from bot.config import Settings

# Loaded once per process and file pair: a model takes a while to load, and tests open many apps.
_loaded: dict[tuple[str | None, str | None], nlp.Analyzer] = {}


def analyzer_for(settings: Settings) -> nlp.Analyzer:
    model, rules = settings.nlp_model_file, settings.nlp_rules_file
    if model is None and rules is None:
        return nlp.default_analyzer()
    key = (str(model) if model else None, str(rules) if rules else None)
    if key not in _loaded:
        _loaded[key] = nlp.Analyzer.load(model, rules)
    return _loaded[key]
