"""The resident ID number's check character (GB 11643-1999): one rule for mediation's parties and the
grid's register."""

from shared.idcards import valid_id_number

# The example number printed in GB 11643-1999 itself: its check character is X (ten).
STANDARD_EXAMPLE = "11010519491231002X"
CHECK_CHARACTERS = "0123456789X"


def test_the_standards_example_with_the_check_character_x_is_valid():
    assert valid_id_number(STANDARD_EXAMPLE)


def test_a_number_ending_in_a_digit_check_character_is_valid():
    assert valid_id_number("110105194912310038")
    assert valid_id_number("510107197603154212")


def test_every_other_check_character_is_refused():
    for body in (STANDARD_EXAMPLE[:17], "51010719760315421"):
        valid = [c for c in CHECK_CHARACTERS if valid_id_number(body + c)]
        assert len(valid) == 1, body


def test_one_mistyped_digit_is_caught():
    valid = "510107197603154212"
    for at in range(17):
        typo = valid[:at] + str((int(valid[at]) + 1) % 10) + valid[at + 1:]
        assert not valid_id_number(typo), at


def test_two_swapped_digits_are_caught():
    assert not valid_id_number("510107196703154212")  # 1976 typed 1967


def test_a_lower_case_x_is_left_for_the_caller_to_upper_case():
    assert not valid_id_number(STANDARD_EXAMPLE.lower())
    assert valid_id_number(STANDARD_EXAMPLE.lower().upper())


def test_the_wrong_length_or_letters_among_the_digits_are_refused():
    for value in ("", "11010519491231002", "11010519491231002X0", "1101051949123100AX", "X10105194912310027",
                  " 11010519491231002X"):
        assert not valid_id_number(value), value


def test_full_width_digits_are_not_an_id_number():
    assert valid_id_number("11010519491231002X")
    assert not valid_id_number("１１０１０５１９４９１２３１００２X")
