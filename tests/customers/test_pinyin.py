"""Pinyin initials of names, without a dictionary library (GB2312's pinyin order, plus the name characters it
does not order); kept with each customer's name and matched by the customer search."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from teahub.customers.models import Customer
from teahub.customers.pinyin import initials_of
from teahub.db.uow import UnitOfWork
from teahub.demo.people import GIVEN_FEMALE, GIVEN_MALE, SURNAMES
from tests.customers.helpers import API, create, ok


@pytest.mark.parametrize(("name", "initials"), [
    ("张三丰", "zsf"), ("王小明", "wxm"), ("李", "l"), ("欧阳娜娜", "oynn"), ("金婷瑶", "jty"), ("刘梓萱", "lzx"),
    ("陈睿", "cr"), ("黄怡", "hy"), ("吕倩", "lq"), ("曾国藩", "zgf"), ("单田芳", "stf"), ("解晓东", "xxd"),
    ("翟志刚", "zzg"), ("尉迟恭", "ycg"),
])
def test_initials_of_real_names(name: str, initials: str) -> None:
    assert initials_of(name) == initials


def test_every_name_character_of_the_demo_gives_its_pinyin_initial() -> None:
    wrong = []
    for characters, syllables, *_ in [*SURNAMES, *GIVEN_MALE, *GIVEN_FEMALE]:
        expected = {"欧阳": "oy", "司马": "sm", "上官": "sg"}.get(characters, syllables[0])
        if initials_of(characters) != expected:
            wrong.append((characters, syllables, initials_of(characters)))
    assert wrong == []


def test_latin_letters_are_kept_lowercased_and_the_rest_left_out() -> None:
    assert initials_of("Li Lei") == "lilei"
    assert initials_of("王 Amy") == "wamy"
    assert initials_of("张三·丰 3号") == "zsfh"
    assert initials_of("茶 A-1") == "ca"
    assert initials_of("123 ¥") is None
    assert initials_of("") is None
    assert initials_of(None) is None
    assert initials_of("😀") is None


def test_initials_fit_the_column() -> None:
    assert len(initials_of("张" * 100) or "") == 40


# -- kept with the name, found by the search ------------------------------------------------------------------

def _ids(client: TestClient, q: str) -> list[int]:
    return [c["id"] for c in ok(client.get(API, params={"q": q}))["items"]]


def _stored(uow: UnitOfWork, customer_id: int) -> str | None:
    with uow.reading():
        return uow.session.scalar(select(Customer.name_initials).where(Customer.id == customer_id))


def test_search_by_pinyin_initials_matches_their_start(client: TestClient, uow: UnitOfWork) -> None:
    zhang = create(client, name="张三丰", phone="13812345678")
    zhao = create(client, name="赵四", phone="13812345679")
    company = create(client, name="采购部", kind="company", company_name="杭州茶叶有限公司")
    assert _stored(uow, zhang["id"]) == "zsf"
    assert _ids(client, "zsf") == [zhang["id"]]
    assert _ids(client, "ZSF") == [zhang["id"]]
    assert _ids(client, "zs") == [zhang["id"], zhao["id"]]
    assert _ids(client, "cgb") == [company["id"]]  # the customer's name, not the company's
    assert _ids(client, "sf") == []  # the start only
    assert _ids(client, "z%") == []  # letters only: no pattern


def test_initials_follow_the_name_through_update_and_erasure(client: TestClient, uow: UnitOfWork) -> None:
    person = create(client, name="张三丰", phone="13812345678")
    ok(client.patch(f"{API}/{person['id']}", json={"name": "欧阳娜娜"}))
    assert _stored(uow, person["id"]) == "oynn"
    assert _ids(client, "oynn") == [person["id"]] and _ids(client, "zsf") == []
    ok(client.post(f"{API}/{person['id']}/erase", json={"reason": "asked to"}))
    assert _ids(client, "oynn") == []
    assert _stored(uow, person["id"]) == "erased"  # of the name it has now: "(erased)"


def test_a_merged_customer_is_found_by_initials_as_the_survivor(client: TestClient) -> None:
    target = create(client, name="王小明", phone="13812345678")
    source = create(client, name="王晓明", identities=[{"kind": "taobao", "value": "tb_wxm"}])
    assert _ids(client, "wxm") == [target["id"], source["id"]]
    ok(client.post(f"{API}/{target['id']}/merge", json={"source_id": source["id"]}))
    assert _ids(client, "wxm") == [target["id"]]
