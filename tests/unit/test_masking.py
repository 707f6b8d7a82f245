"""Personal data shown to someone without the need to see it looks the same in every service."""

from shared.masking import (
    has_personal_data,
    mask_address,
    mask_email,
    mask_free_text,
    mask_id_number,
    mask_name,
    mask_phone,
)


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


def test_numbers_typed_into_free_text_are_masked_and_the_rest_is_kept():
    text = "张阿姨电话13912345678，身份证510107199001011234，座机028-85551234，住3栋2单元"
    masked = mask_free_text(text)
    assert masked == "张阿姨电话139****5678，身份证5101**********1234，座机028****1234，住3栋2单元"
    assert has_personal_data(text) and not has_personal_data("垃圾桶三天没有清运，编号 2026-11-000123")
    assert mask_free_text("+86 139 1234 5678") == "139****5678"
    assert mask_free_text("电话：139-1234-5678。") == "电话：139****5678。"
    # Case numbers, amounts and long order numbers are not phones.
    assert mask_free_text("案号 2026-11-000123 金额 12000，订单号 20261130123456789012") == \
        "案号 2026-11-000123 金额 12000，订单号 20261130123456789012"


def test_full_width_digits_other_separators_and_spaces_do_not_hide_a_phone_or_an_id_number():
    # As a reader sees them: full-width digits, dots, repeated or ideographic spaces, zero-width
    # characters, an ID number written in groups.
    for text, shown in (("电话１３９１２３４０００１", "电话139****0001"),
                        ("139.1234.0001 找我", "139****0001 找我"),
                        ("139  1234  0001", "139****0001"),
                        ("电话：１３９－１２３４－０００１。", "电话：139****0001。"),
                        ("139\u30001234\u30000001", "139****0001"),
                        ("139\u200b1234\u200b0001", "139****0001"),
                        ("+86 139 1234 0001", "139****0001"),
                        ("身份证 510107 19900101 1234", "身份证 5101**********1234"),
                        ("身份证510107-1990-0101-123X号", "身份证5101**********123X号"),
                        ("身份证５１０１０７１９９００１０１１２３４", "身份证5101**********1234"),
                        ("座机 (028) 8555 1234", "座机 028****1234"),
                        ("座机 028.8555.1234", "座机 028****1234")):
        assert mask_free_text(text) == shown, text
        assert has_personal_data(text), text
    # Masking what was masked changes nothing.
    assert mask_free_text("139****0001，5101**********1234") == "139****0001，5101**********1234"


def test_dates_case_numbers_and_amounts_are_not_taken_for_phones_or_id_numbers():
    for text in ("2026-11-30 14:30 到 2026.12.01", "2026年11月30日 09:30-11:30", "案号 2026-11-000123",
                 "金额 1,380.50 元，面积 120.5 平方米，共 13800 元", "第 3 栋 2 单元 501 室，门牌 188 号",
                 "编号 20261130 0001", "订单号 20261130123456789012", "编号 202611300001234567",
                 "日期 2026 01 05 到 2026 02 05", "共计 1300 1200 1100 元", "楼号 13 14 15 16 17 18",
                 "全角日期 ２０２６－１１－３０，金额 １３８００ 元"):
        assert mask_free_text(text) == text, text
        assert not has_personal_data(text), text


def test_numbers_spread_out_bracketed_or_after_letters_are_masked_too():
    for text, shown in (("ID510107199001011234", "ID5101**********1234"),
                        ("老身份证510107900101123", "老身份证5101*******1123"),
                        ("138,1234,5678", "138****5678"),
                        ("1 3 8 1 2 3 4 5 6 7 8", "138****5678"),
                        ("138    1234    5678", "138****5678"),
                        ("138（1234）5678", "138****5678"),
                        ("电话 +86 1-3-8-1-2-3-4-5-6-7-8 找", "电话 138****5678 找")):
        assert mask_free_text(text) == shown, text


def test_an_organisation_unit_code_is_not_taken_for_an_old_id_number():
    # 15 digits as the old ID numbers: the region, a street or town (001-199), a community, a grid. Read as an ID
    # number its holder would have been born before 1920.
    for code in ("510107000000000", "510107001000000", "510107001001000", "510107001001001", "510107001002003",
                 "510107101012001", "510107111031001", "510107900005000"):
        text = f"属地派单：上报位置位于玉林北路社区第一网格（{code}）范围内"
        assert mask_free_text(text) == text, code
        assert not has_personal_data(text), code
    # Old ID numbers of people born from 1920 on are still masked, however written.
    for number, shown in (("510107200101123", "5101*******1123"), ("510107 390101 123", "5101*******1123"),
                          ("510107991231124", "5101*******1124")):
        assert mask_free_text(f"老身份证 {number}") == f"老身份证 {shown}", number


def test_case_numbers_times_and_amounts_with_separators_are_still_kept():
    for text in ("案号 2026-11-000123，2026-11-30 09:30", "金额 1,380,000 元", "2026.11.30-2026.12.01",
                 "共 3 栋 12 户，1 2 3 4 号楼"):
        assert mask_free_text(text) == text, text
