"""Word segmentation (jieba-rs over the shipped dictionary) gives jieba's own words."""
import re

import nlp
from nlp.corpus import read_dir
from nlp.normalize import normalize
from nlp.paths import HELDOUT_DIR


def test_segmentation_equals_jieba_on_the_held_out_messages():
    tk = nlp.default_analyzer().tokenizer
    texts = [e.text for e in read_dir(HELDOUT_DIR)]
    runs = {run for text in texts for run in re.findall(r"[\u4e00-\u9fd5]+", normalize(text))}
    assert len(runs) > 500
    differ = [run for run in runs if list(tk._segment_run(run)) != tk.reference_tokens(run)]
    assert differ == []
