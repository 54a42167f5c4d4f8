"""Demo customers: people with common Chinese names, unique mobile numbers and the identities they use on
each channel, and corporate gift buyers with contacts, credit and monthly settlement."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

STORES = ("BJ01", "HZ01", "XM01")
STORE_SHARE = (0.34, 0.42, 0.24)

# Common surnames (roughly by frequency) with their pinyin; a few two-character ones at the end.
SURNAMES: list[tuple[str, str, float]] = [
    ("王", "wang", 7.1), ("李", "li", 7.0), ("张", "zhang", 6.8), ("刘", "liu", 5.4), ("陈", "chen", 4.6),
    ("杨", "yang", 3.1), ("黄", "huang", 2.5), ("赵", "zhao", 2.3), ("吴", "wu", 2.0), ("周", "zhou", 1.9),
    ("徐", "xu", 1.5), ("孙", "sun", 1.4), ("马", "ma", 1.3), ("朱", "zhu", 1.3), ("胡", "hu", 1.2),
    ("郭", "guo", 1.2), ("何", "he", 1.1), ("林", "lin", 1.1), ("高", "gao", 1.1), ("罗", "luo", 0.9),
    ("郑", "zheng", 0.9), ("梁", "liang", 0.8), ("谢", "xie", 0.7), ("宋", "song", 0.7), ("唐", "tang", 0.7),
    ("许", "xu", 0.6), ("韩", "han", 0.6), ("冯", "feng", 0.6), ("邓", "deng", 0.6), ("曹", "cao", 0.6),
    ("彭", "peng", 0.5), ("曾", "zeng", 0.5), ("肖", "xiao", 0.5), ("田", "tian", 0.5), ("董", "dong", 0.5),
    ("潘", "pan", 0.4), ("袁", "yuan", 0.4), ("蔡", "cai", 0.4), ("蒋", "jiang", 0.4), ("余", "yu", 0.4),
    ("于", "yu", 0.4), ("杜", "du", 0.4), ("叶", "ye", 0.4), ("程", "cheng", 0.4), ("魏", "wei", 0.4),
    ("苏", "su", 0.4), ("吕", "lv", 0.3), ("丁", "ding", 0.3), ("沈", "shen", 0.3), ("任", "ren", 0.3),
    ("姚", "yao", 0.3), ("卢", "lu", 0.3), ("钟", "zhong", 0.3), ("姜", "jiang", 0.3), ("崔", "cui", 0.3),
    ("谭", "tan", 0.3), ("陆", "lu", 0.3), ("范", "fan", 0.3), ("汪", "wang", 0.3), ("廖", "liao", 0.3),
    ("石", "shi", 0.3), ("金", "jin", 0.3), ("韦", "wei", 0.2), ("贾", "jia", 0.2), ("夏", "xia", 0.2),
    ("方", "fang", 0.2), ("邹", "zou", 0.2), ("熊", "xiong", 0.2), ("白", "bai", 0.2), ("孟", "meng", 0.2),
    ("秦", "qin", 0.2), ("邱", "qiu", 0.2), ("侯", "hou", 0.2), ("江", "jiang", 0.2), ("尹", "yin", 0.2),
    ("薛", "xue", 0.2), ("段", "duan", 0.2), ("雷", "lei", 0.2), ("龙", "long", 0.1), ("黎", "li", 0.1),
    ("欧阳", "ouyang", 0.05), ("司马", "sima", 0.02), ("上官", "shangguan", 0.02),
]
GIVEN_MALE = [
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"), ("杰", "jie"), ("涛", "tao"),
    ("明", "ming"), ("超", "chao"), ("斌", "bin"), ("鹏", "peng"), ("辉", "hui"), ("华", "hua"), ("建", "jian"),
    ("平", "ping"), ("刚", "gang"), ("浩", "hao"), ("宇", "yu"), ("轩", "xuan"), ("俊", "jun"), ("博", "bo"),
    ("文", "wen"), ("志", "zhi"), ("海", "hai"), ("峰", "feng"), ("晨", "chen"), ("阳", "yang"), ("毅", "yi"),
    ("国", "guo"), ("东", "dong"), ("子", "zi"), ("德", "de"), ("成", "cheng"), ("嘉", "jia"), ("睿", "rui"),
    ("泽", "ze"), ("林", "lin"), ("春", "chun"), ("永", "yong"), ("天", "tian"),
]
GIVEN_FEMALE = [
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("艳", "yan"), ("娟", "juan"),
    ("霞", "xia"), ("婷", "ting"), ("雪", "xue"), ("琳", "lin"), ("慧", "hui"), ("颖", "ying"), ("洁", "jie"),
    ("玲", "ling"), ("倩", "qian"), ("欣", "xin"), ("怡", "yi"), ("萱", "xuan"), ("梓", "zi"), ("涵", "han"),
    ("雨", "yu"), ("佳", "jia"), ("思", "si"), ("晓", "xiao"), ("梦", "meng"), ("媛", "yuan"), ("璐", "lu"),
    ("瑶", "yao"), ("莉", "li"), ("秀", "xiu"), ("兰", "lan"), ("红", "hong"), ("燕", "yan"), ("月", "yue"),
    ("诗", "shi"), ("雅", "ya"), ("清", "qing"), ("若", "ruo"), ("安", "an"),
]
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183",
    "184", "185", "186", "187", "188", "189", "191", "198", "199",
]
MAIL_DOMAINS = [("qq.com", 40), ("163.com", 25), ("126.com", 10), ("foxmail.com", 6), ("sina.com", 5),
                ("gmail.com", 5), ("outlook.com", 5), ("hotmail.com", 2), ("139.com", 2)]

COMPANIES = [
    # name, domain, home city store
    ("杭州云栖数字科技有限公司", "yunqi-tech.cn", "HZ01"),
    ("杭州钱塘汽车销售服务有限公司", "qiantang-auto.com", "HZ01"),
    ("浙江之江律师事务所", "zhijianglaw.com", "HZ01"),
    ("宁波港城物流有限公司", "gangcheng-logistics.com", "HZ01"),
    ("北京京华会计师事务所", "jinghua-cpa.com", "BJ01"),
    ("北京燕山文化传媒有限公司", "yanshanmedia.cn", "BJ01"),
    ("中关村博睿医疗器械有限公司", "borui-med.com", "BJ01"),
    ("厦门海湾国际贸易有限公司", "haiwan-trade.com", "XM01"),
    ("福建闽南建设工程有限公司", "minnan-cn.com", "XM01"),
    ("厦门鹭岛酒店管理有限公司", "ludao-hotels.com", "XM01"),
    ("上海浦江资产管理有限公司", "pujiang-am.com", "HZ01"),
    ("深圳前海创新投资有限公司", "qianhai-vc.com", "XM01"),
    ("苏州工业园区精密机械有限公司", "sip-precision.com", "HZ01"),
    ("南京金陵文旅集团有限公司", "jinling-travel.com", "HZ01"),
    ("天津渤海银行股份有限公司工会委员会", "bohai-union.cn", "BJ01"),
]
CONTACT_TITLES = ["行政经理", "采购主管", "总经理助理", "办公室主任", "工会主席", "人事行政总监", "商务经理"]


@dataclass
class Person:
    """One demo customer as the generator sees it (before and after it exists in teahub)."""

    index: int
    name: str
    kind: str = "person"
    phone: str | None = None
    email: str | None = None
    identities: dict[str, str] = field(default_factory=dict)
    tier: str | None = None
    birthday: date | None = None
    home_store: str | None = None
    channels: set[str] = field(default_factory=set)
    weight: float = 1.0  # how often this customer buys, relative to others
    company_name: str | None = None
    credit_limit: int | None = None
    contacts: list[dict[str, Any]] = field(default_factory=list)
    joined: datetime | None = None
    id: int | None = None  # teahub's id once created

    def customer_in(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "phone": self.phone,
            "email": self.email,
            "identities": [{"kind": k, "value": v} for k, v in self.identities.items()],
            "kind": self.kind,
            "tier": self.tier,
            "birthday": self.birthday,
            "home_store": self.home_store,
        }
        if self.kind == "company":
            data.update(company_name=self.company_name, credit_limit=self.credit_limit,
                        payment_terms="monthly", contacts=self.contacts)
        return data

    def reference(self, channel: str) -> dict[str, Any]:
        """How an order of this channel names the buyer (the way the channel knows them)."""
        kind = {"tmall": "taobao", "taobao": "taobao", "jd": "jd", "pdd": "pdd", "douyin": "douyin",
                "web": "wechat_unionid"}.get(channel)
        if kind and kind in self.identities:
            return {"identities": [{"kind": kind, "value": self.identities[kind]}]}
        if channel == "pos" and self.phone:
            return {"phone": self.phone}
        return {"id": self.id}


class Names:
    """Random but plausible names, phones, e-mails and platform ids, never repeating an identity."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self._surname_weights = [w for _, _, w in SURNAMES]

    def person_name(self) -> tuple[str, str, bool]:
        """(name, pinyin, is_female)"""
        rng = self.rng
        surname, surname_py, _ = rng.choices(SURNAMES, weights=self._surname_weights)[0]
        female = rng.random() < 0.52
        pool = GIVEN_FEMALE if female else GIVEN_MALE
        parts = [rng.choice(pool)] if rng.random() < 0.3 else [rng.choice(pool), rng.choice(pool)]
        if len(parts) == 2 and parts[0] == parts[1] and rng.random() < 0.7:
            parts = parts[:1]
        return surname + "".join(c for c, _ in parts), surname_py + "".join(p for _, p in parts), female

    def _unique(self, make: Any) -> str:
        while True:
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value

    def phone(self) -> str:
        return self._unique(lambda: self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}")

    def email(self, pinyin: str) -> str:
        rng = self.rng

        def make() -> str:
            domain = rng.choices([d for d, _ in MAIL_DOMAINS], weights=[w for _, w in MAIL_DOMAINS])[0]
            if domain == "qq.com" and rng.random() < 0.7:
                return f"{rng.randrange(10**7, 3 * 10**9)}@qq.com"
            style = rng.random()
            if style < 0.4:
                local = f"{pinyin}{rng.randrange(1960, 2006)}"
            elif style < 0.7:
                local = f"{pinyin}{rng.randrange(100)}"
            else:
                local = f"{pinyin[0]}{pinyin[1:]}_{rng.choice(string.ascii_lowercase)}{rng.randrange(1000)}"
            return f"{local}@{domain}"

        return self._unique(make)

    def token(self, prefix: str, length: int, alphabet: str) -> str:
        return self._unique(lambda: prefix + "".join(self.rng.choice(alphabet) for _ in range(length)))

    def unionid(self) -> str:
        return self.token("o", 27, string.ascii_letters + string.digits + "-_")

    def taobao(self) -> str:
        return self.token("AAH", 21, string.ascii_letters + string.digits + "_-")

    def jd(self) -> str:
        return self.token("jd_", 12, string.ascii_lowercase + string.digits)

    def pdd(self) -> str:
        return self.token("pdd", 11, string.digits)

    def douyin(self) -> str:
        return self.token("_000", 28, string.ascii_letters + string.digits)


def make_people(rng: random.Random, names: Names, count: int, today: date) -> list[Person]:
    people: list[Person] = []
    for i in range(count):
        name, pinyin, _female = names.person_name()
        p = Person(index=i, name=name)
        if rng.random() < 0.88:
            p.phone = names.phone()
        if rng.random() < 0.3:
            p.email = names.email(pinyin)
        if rng.random() < 0.45:
            p.identities["wechat_unionid"] = names.unionid()
            p.channels.add("web")
        if rng.random() < 0.40:
            p.identities["taobao"] = names.taobao()
            p.channels.update(("tmall", "taobao"))
        if rng.random() < 0.22:
            p.identities["jd"] = names.jd()
            p.channels.add("jd")
        if rng.random() < 0.12:
            p.identities["pdd"] = names.pdd()
            p.channels.add("pdd")
        if rng.random() < 0.14:
            p.identities["douyin"] = names.douyin()
            p.channels.add("douyin")
        if p.phone and (rng.random() < 0.6 or not p.channels):
            p.home_store = rng.choices(STORES, weights=STORE_SHARE)[0]
            p.channels.add("pos")
        if not p.channels:  # reachable by web only through its id
            p.channels.add("web")
        if rng.random() < 0.7:
            age = rng.randrange(22, 68)
            p.birthday = today - timedelta(days=age * 365 + rng.randrange(365))
        p.weight = min(rng.paretovariate(1.5), 25.0)
        people.append(p)
    # The most frequent buyers (about 5%) are VIPs; other customers with a phone are members.
    ranked = sorted(people, key=lambda p: -p.weight)
    vips = {p.index for p in ranked[: max(1, count // 20)] if p.phone}
    for p in people:
        p.tier = "vip" if p.index in vips else ("member" if p.phone else None)
    return people


def make_companies(rng: random.Random, names: Names, count: int, start_index: int) -> list[Person]:
    companies: list[Person] = []
    for i, (company, domain, store) in enumerate(COMPANIES[:count]):
        contacts = []
        for n in range(rng.choice((1, 2, 2, 3))):
            name, pinyin, _ = names.person_name()
            contacts.append({"name": name, "title": CONTACT_TITLES[(i + n) % len(CONTACT_TITLES)],
                             "phone": names.phone(), "email": f"{pinyin}@{domain}"})
        companies.append(Person(
            index=start_index + i, name=company, kind="company", company_name=company,
            phone=contacts[0]["phone"] if rng.random() < 0.5 else None,
            email=f"purchase@{domain}", tier="vip" if i % 4 == 0 else "member",
            home_store=store, channels={"b2b"}, weight=rng.uniform(0.5, 2.0), contacts=contacts,
        ))
        names.used.add(f"purchase@{domain}")
    return companies
