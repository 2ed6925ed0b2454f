"""3A090 classification from chip parameters, on both sides of every threshold and date."""
import pytest
from conftest import chip


def eccn(engine, day="2026-11-28", **parameters):
    result = engine.classify(parameters, on=__import__("datetime").date.fromisoformat(day))
    return result.eccn or ("outside" if result.outside_3a090 else None)


def test_h100_class_is_3a090a(engine):
    assert eccn(engine, tpp=15832, die_area_mm2=814, datacenter=True) == "3A090.a"


@pytest.mark.parametrize("tpp, expected", [(4800, "3A090.a"), (4799.9, "3A090.b")])
def test_tpp_4800_boundary_for_datacenter_chip(engine, tpp, expected):
    # density 5.0: below 5.92, so only the TPP tier can make it .a
    assert eccn(engine, tpp=tpp, performance_density=5.0, datacenter=True) == expected


@pytest.mark.parametrize("density, expected", [(5.92, "3A090.a"), (5.9199, "3A090.b")])
def test_tpp_1600_density_592_boundary(engine, density, expected):
    assert eccn(engine, tpp=1600, performance_density=density, datacenter=True) == expected


def test_density_computed_from_die_area(engine):
    # 2960 / 500 = 5.92 exactly
    assert eccn(engine, tpp=2960, die_area_mm2=500, datacenter=True) == "3A090.a"
    assert eccn(engine, tpp=2960, die_area_mm2=500.1, datacenter=True) == "3A090.b"


@pytest.mark.parametrize("tpp, density, expected", [
    (2400, 1.6, "3A090.b"), (2399.9, 1.6, "outside"), (2400, 1.59, "outside"),
    (1600, 3.2, "3A090.b"), (1599.9, 3.2, "outside"), (1600, 3.19, "outside"),
])
def test_3a090b_tiers(engine, tpp, density, expected):
    assert eccn(engine, tpp=tpp, performance_density=density, datacenter=True) == expected


def test_consumer_gpu_below_every_threshold(engine):
    assert eccn(engine, tpp=1300, die_area_mm2=380, datacenter=False) == "outside"


@pytest.mark.parametrize("tpp, expected", [(4800, "3A090.a"), (4799, "outside")])
def test_datacenter_note_for_consumer_chips(engine, tpp, expected):
    # not designed for datacenters: out of 3A090 only below TPP 4800, whatever the density
    assert eccn(engine, tpp=tpp, performance_density=9.0, datacenter=False) == expected


def test_unknown_datacenter_status_cannot_classify_mid_tier(engine):
    result = engine.classify({"tpp": 3000, "performance_density": 6.0})
    assert result.eccn is None and not result.outside_3a090
    assert "datacenters" in result.missing


@pytest.mark.parametrize("mbd, day, expected", [
    (2.5, "2024-12-02", "3A090.c"), (2.0, "2024-12-02", "outside"), (2.0001, "2025-06-01", "3A090.c"),
    (2.5, "2024-12-01", "outside"), (3.5, "2024-06-01", "outside"),
])
def test_hbm_before_and_after_2024_12_02(engine, mbd, day, expected):
    assert eccn(engine, day=day, memory_bandwidth_density=mbd) == expected


@pytest.mark.parametrize("tpp, io, day, expected", [
    (4800, 600, "2023-06-01", "3A090.a"), (4800, 599, "2023-06-01", "outside"),
    (4799, 900, "2023-06-01", "outside"),
    # the interconnect test disappeared on 2023-11-17
    (4800, 599, "2023-11-17", "3A090.a"),
])
def test_october_2022_version_with_interconnect(engine, tpp, io, day, expected):
    assert eccn(engine, day=day, tpp=tpp, interconnect_bandwidth=io, datacenter=True,
                performance_density=5.0) == expected


def test_declared_eccn_wins_over_parameters(engine):
    from conftest import order
    result = engine.check(order(eccn="3A090.b", **chip(tpp=15832, die_area_mm2=814, datacenter=True)))
    assert result.lines[0].eccn == "3A090.b"
    assert not result.lines[0].derived or all("item.eccn" not in d.facts for d in result.lines[0].derived)
