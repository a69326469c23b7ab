"""Words and numbers as people type them in commands: full-width forms (Ｗ１２), numbered
things (W12, P3, R5) and role words (党员, 楼长 …). Buildings and units: ``nlp.buildings``."""
from __future__ import annotations

import re
import unicodedata

from bot.models import RoleName


def normalize(text: str) -> str:
    """Full-width digits, letters and punctuation to ASCII (Ｗ１２ → W12), trimmed: for words and ids."""
    return unicodedata.normalize("NFKC", text or "").strip()


def parse_number(text: str, prefix: str) -> int | None:
    """"W12", "w12", "Ｗ１２", "12" → 12 (``prefix`` is the letter); None when it is not one."""
    m = re.fullmatch(rf"(?:{prefix})?\s*(\d{{1,9}})", normalize(text), flags=re.IGNORECASE)
    return int(m.group(1)) if m else None


ROLE_WORDS = {
    "党员": RoleName.PARTY_MEMBER, "在职党员": RoleName.PARTY_MEMBER, "楼长": RoleName.BUILDING_LEADER,
    "单元长": RoleName.UNIT_LEADER, "志愿者": RoleName.VOLUNTEER, "网格员": RoleName.GRID_WORKER,
    "社工": RoleName.SOCIAL_WORKER, "书记": RoleName.SECRETARY, "支部书记": RoleName.SECRETARY,
    "物业": RoleName.PROPERTY_MANAGER, "物业负责人": RoleName.PROPERTY_MANAGER, "物业经理": RoleName.PROPERTY_MANAGER,
    "业委会": RoleName.OWNERS_COMMITTEE, "业委会成员": RoleName.OWNERS_COMMITTEE, "居民": RoleName.RESIDENT,
    "社区工作人员": RoleName.COMMUNITY_STAFF, "社区": RoleName.COMMUNITY_STAFF,
}


def role_from_word(word: str) -> str | None:
    word = word.strip()
    if word in ROLE_WORDS:
        return ROLE_WORDS[word]
    return word if word in {r.value for r in RoleName} else None
