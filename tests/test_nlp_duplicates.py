"""Reports of the same problem merge; different places or kinds do not."""
import nlp


def test_same_water_problem_in_different_words_is_duplicate():
    a = nlp.analyze("4号楼门口积水")
    b = nlp.analyze("4栋楼下那片水又没排")
    assert nlp.is_duplicate(a, b) and nlp.is_duplicate(b, a)
    assert 0.0 < nlp.similarity(a, b) <= 1.0


def test_different_buildings_are_not_duplicates():
    assert not nlp.is_duplicate(nlp.analyze("4号楼门口积水"), nlp.analyze("6号楼门口积水"))


def test_different_categories_are_not_duplicates():
    assert not nlp.is_duplicate(nlp.analyze("4号楼门口积水"), nlp.analyze("4号楼电梯坏了"))


def test_chatter_is_never_a_duplicate():
    assert not nlp.is_duplicate(nlp.analyze("早上好"), nlp.analyze("早上好"))


def test_fingerprint_folds_synonyms():
    assert "积水" in nlp.analyze("4栋楼下那片水又没排").fingerprint
