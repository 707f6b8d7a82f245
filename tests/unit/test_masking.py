"""Personal data shown to someone without the need to see it looks the same in every service."""

from shared.masking import mask_address, mask_email, mask_id_number, mask_name, mask_phone


def test_a_phone_shows_its_first_three_and_last_four_digits_whatever_its_format():
    for raw in ("13812345678", "+8613812345678", "138 1234 5678", "+86 138-1234-5678"):
        assert mask_phone(raw) == "138****5678", raw


def test_a_landline_keeps_its_area_code():
    assert mask_phone("028-12345678") == "028****5678"
    assert mask_phone("+862812345678") == "028****5678"


def test_a_short_or_odd_number_reveals_almost_nothing():
    assert mask_phone("12345") == "12****5"
    assert mask_phone("abc") == "****"
    assert mask_phone("") is None and mask_phone(None) is None


def test_an_id_number_hides_the_birth_date():
    assert mask_id_number("510107199001011234") == "5101**********1234"
    assert mask_id_number("1234567") == "*******"
    assert mask_id_number(None) is None


def test_an_address_keeps_the_neighbourhood_not_the_door():
    assert mask_address("玉林北路5号3栋2单元") == "玉林北路5号****"
    assert mask_address(None) is None


def test_an_email_and_a_name_keep_one_letter():
    assert mask_email("lisi@example.com") == "l***@example.com"
    assert mask_name("张三丰") == "张**" and mask_name("李") == "李*"
