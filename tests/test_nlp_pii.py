"""Phone and ID numbers are found and masked."""
import nlp


def test_mobile_number_is_masked():
    assert nlp.mask_pii("联系电话13812345678") == "联系电话138****5678"


def test_id_card_number_is_masked():
    assert nlp.mask_pii("身份证370102199001011234") == "身份证3701**********1234"


def test_landline_is_masked_and_text_kept():
    assert nlp.mask_pii("座机0539-1234567，找王师傅") == "座机0539-***4567，找王师傅"


def test_analysis_reports_pii_spans_on_the_original_text():
    text = "我家孩子走丢了，电话13800007890"
    a = nlp.analyze(text)
    assert [(text[s.start : s.end], s.kind) for s in a.pii] == [("13800007890", "mobile")]
    assert a.text == text


def test_room_numbers_and_dates_are_not_pii():
    assert nlp.mask_pii("3号楼2单元1502，2024年5月1日") == "3号楼2单元1502，2024年5月1日"
