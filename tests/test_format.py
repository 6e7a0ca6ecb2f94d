"""Money as people read it: short and to the penny, never a signed zero."""

from optimiser.format import exact_money, money, pence


def test_money_short_forms() -> None:
    assert money(1_234_567) == "£1.23m"
    assert money(-45_600) == "-£45.6k"
    assert money(789.4) == "£789"
    assert money(1.2e9) == "£1.20bn"
    assert money(None) == "-"


def test_no_signed_zero() -> None:
    # Solver noise such as -9.4e-15 (a 'reached' limit's rate) rounds to nothing: it
    # reads as zero, not as a loss of nothing.
    assert money(-9.4e-15) == "£0"
    assert money(-0.49) == "£0"
    assert money(-0.5) == "£0"  # 0.5 rounds to even: 0
    assert money(-0.6) == "-£1"
    assert pence(-9.4e-15) == "£0.00"
    assert pence(-0.004) == "£0.00"
    assert pence(-0.005 - 1e-9) == "-£0.01"
    assert pence(-1204.5) == "-£1,204.50"
    assert exact_money(-1e-12, "GBP") == "£0"
