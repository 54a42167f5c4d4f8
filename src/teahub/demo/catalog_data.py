"""The demo catalog: the fixture's 52 teas and teaware, a few more teas, three gift boxes, prices and
suppliers.

Reads `teas.csv` shipped inside this package (a copy of the shared fixture), so an installed teahub needs
nothing outside itself.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any

from teahub.demo.timeline import Timeline, china_time, latest_harvest

AGING = ("white", "puerh_raw", "puerh_ripe", "dark")


@dataclass
class DemoProduct:
    sku: str
    name: str
    name_en: str
    category: str
    unit: str  # "g" | "piece"
    price_basis: int
    list_price: int
    form: str = ""
    origin: str = ""
    cultivar: str = ""
    grade: str = ""
    season: str = ""
    harvest_year: int | None = None
    shelf_life_days: int | None = None
    taste_notes: list[str] = field(default_factory=list)
    member_price: int | None = None
    vip_price: int | None = None
    special_price: int | None = None
    special_from: datetime | None = None
    special_until: datetime | None = None
    components: list[tuple[str, int]] = field(default_factory=list)
    # demo planning
    popularity: float = 1.0
    clearance: bool = False  # an older vintage sold off online from fixed stock, never replenished
    festival: str | None = None  # gift boxes: "autumn", "spring" or "both"

    @property
    def is_tea(self) -> bool:
        return self.category not in ("teaware", "giftbox")

    @property
    def ages(self) -> bool:
        return self.category in AGING

    @property
    def is_gift_box(self) -> bool:
        return bool(self.components)

    def cheapest_price(self) -> int:
        prices = [p for p in (self.list_price, self.member_price, self.vip_price, self.special_price) if p]
        return min(prices)

    def price_of(self, quantity: int, price: int | None = None) -> int:
        """Money for `quantity` base units at a price per basis (half-up)."""
        unit_price = self.list_price if price is None else price
        return (quantity * unit_price * 2 + self.price_basis) // (2 * self.price_basis)

    def product_in(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "sku": self.sku,
            "name": self.name,
            "name_en": self.name_en,
            "category": self.category,
            "unit": self.unit,
            "price_basis": self.price_basis,
            "prices": {
                "list": self.list_price,
                "member": self.member_price,
                "vip": self.vip_price,
                "special": self.special_price,
                "special_from": self.special_from,
                "special_until": self.special_until,
            },
        }
        if self.is_tea:
            data["tea"] = {
                "origin": self.origin or None,
                "cultivar": self.cultivar or None,
                "grade": self.grade or None,
                "harvest_year": self.harvest_year,
                "season": self.season or None,
                "form": self.form or None,
                "taste_notes": self.taste_notes,
                "shelf_life_days": self.shelf_life_days,
            }
        if self.components:
            data["components"] = [{"sku": sku, "quantity": qty} for sku, qty in self.components]
        return data


# Suppliers by origin (longest matching prefix wins): tea gardens, cooperatives and factories.
SUPPLIERS = {
    "浙江杭州西湖": "杭州梅家坞茶业专业合作社",
    "浙江杭州": "杭州龙坞茶园",
    "江苏苏州吴中": "苏州东山碧螺春茶厂",
    "安徽黄山太平": "黄山太平猴坑茶场",
    "安徽黄山祁门": "祁门历口红茶厂",
    "安徽黄山": "黄山汤口茶叶专业合作社",
    "安徽六安": "六安齐头山茶业",
    "河南信阳": "信阳浉河港茶场",
    "浙江湖州安吉": "安吉溪龙白茶园",
    "贵州黔南都匀": "都匀螺丝壳茶场",
    "湖北恩施": "恩施芭蕉侗族乡茶厂",
    "湖南岳阳君山": "岳阳君山岛茶场",
    "四川雅安蒙顶山": "雅安蒙顶山茶厂",
    "福建福鼎": "福鼎点头镇白茶厂",
    "福建政和": "政和石圳白茶厂",
    "福建泉州安溪": "安溪西坪茶厂",
    "福建武夷山桐木": "武夷山桐木关红茶厂",
    "福建武夷山": "武夷山星村岩茶厂",
    "福建龙岩漳平": "漳平九鹏溪茶场",
    "广东潮州凤凰山": "潮州凤凰乌岽茶场",
    "台湾南投鹿谷": "鹿谷冻顶茶行",
    "台湾嘉义阿里山": "阿里山樟树湖茶园",
    "台湾新竹": "新竹峨眉茶行",
    "云南临沧凤庆": "凤庆滇红茶厂",
    "云南临沧双江冰岛": "双江冰岛古茶园合作社",
    "云南西双版纳勐海老班章": "勐海老班章古茶合作社",
    "云南西双版纳勐海": "勐海布朗山茶业",
    "云南西双版纳易武": "易武麻黑茶厂",
    "云南大理下关": "大理下关沱茶作坊",
    "广东清远英德": "英德红旗茶厂",
    "福建宁德福安": "福安坦洋茶厂",
    "湖南益阳安化": "安化江南镇黑茶厂",
    "广西梧州苍梧": "苍梧六堡茶厂",
    "广西桂林": "桂林尧山茶场",
    "湖北赤壁": "赤壁羊楼洞砖茶厂",
    "福建福州": "福州茉莉花茶厂",
    "浙江桐乡": "桐乡杭白菊专业合作社",
    "海南": "五指山苦丁茶场",
    "河南汝州": "汝州汝瓷坊",
    "江苏宜兴": "宜兴丁蜀紫砂工坊",
    "江西景德镇": "景德镇青花瓷厂",
    "福建": "建瓯竹木制品厂",
}
DEFAULT_SUPPLIER = "义乌茶具批发商行"


def supplier_for(origin: str) -> str:
    best = ""
    for prefix in SUPPLIERS:
        if origin.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return SUPPLIERS[best] if best else DEFAULT_SUPPLIER


def round_yuan(fen: float) -> int:
    return int(round(fen / 100)) * 100


def _read_csv() -> list[dict[str, str]]:
    text = resources.files("teahub.demo").joinpath("teas.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _category(row: dict[str, str]) -> str:
    if row["category"] != "puerh":
        return row["category"]
    return "puerh_ripe" if row["sku"].startswith("SHP-") else "puerh_raw"  # 熟普 / 生普


def _from_row(row: dict[str, str]) -> DemoProduct:
    return DemoProduct(
        sku=row["sku"],
        name=row["name_zh"],
        name_en=row["name_en"],
        category=_category(row),
        unit=row["unit"],
        price_basis=int(row["price_basis"]),
        list_price=int(row["price_fen"]),
        form=row["form"],
        origin=row["origin"],
        cultivar=row["cultivar"],
        grade=row["grade"],
        season=row["season"],
        harvest_year=int(row["harvest_year"]) if row["harvest_year"] else None,
        shelf_life_days=int(row["shelf_life_days"]) if row["shelf_life_days"] else None,
        taste_notes=[t for t in row["taste_notes"].split("|") if t],
    )


def _extra_teas(tl: Timeline) -> list[DemoProduct]:
    """Teas the fixture lacks: more loose teas, and older green vintages sold off before they expire."""
    this_year = latest_harvest("明前", tl.today).year
    # An older vintage whose last batches expire around now (540 days after a late-spring picking).
    old = (tl.today - timedelta(days=540 - 14)).year
    return [
        DemoProduct(f"LJ-XH-{old}-YQ-L", f"西湖龙井 {old} 雨前二级 临期特惠",
                    f"West Lake Longjing {old} pre-Guyu (clearance)", "green", "g", 500, 56000,
                    form="loose", origin="浙江杭州西湖", cultivar="龙井群体种", grade="二级", season="雨前",
                    harvest_year=old, shelf_life_days=540, taste_notes=["豆香", "醇和"], clearance=True),
        DemoProduct(f"HSMF-{old}-L", f"黄山毛峰 {old} 散茶 临期特惠",
                    f"Huangshan Maofeng {old} loose (clearance)", "green", "g", 500, 22000,
                    form="loose", origin="安徽黄山", cultivar="黄山大叶种", grade="二级", season="雨前",
                    harvest_year=old, shelf_life_days=540, taste_notes=["兰香", "清甜"], clearance=True),
        DemoProduct("MDGL-L", "蒙顶甘露", "Mengding Ganlu", "green", "g", 500, 48000,
                    form="loose", origin="四川雅安蒙顶山", cultivar="名山白毫", grade="特级", season="明前",
                    harvest_year=this_year, shelf_life_days=540, taste_notes=["花香", "鲜爽", "回甘"]),
        DemoProduct("BLC-SZ-YQ-L", "洞庭碧螺春 雨前 散茶", "Dongting Biluochun pre-Guyu loose", "green", "g",
                    500, 52000, form="loose", origin="江苏苏州吴中", cultivar="洞庭群体种", grade="一级",
                    season="雨前", harvest_year=this_year, shelf_life_days=540,
                    taste_notes=["花果香", "鲜爽"]),
        DemoProduct("ZPSX-250", "漳平水仙 茶饼", "Zhangping Shuixian square cakes", "oolong", "piece", 1,
                    16800, form="box 250 g", origin="福建龙岩漳平", cultivar="水仙", grade="一级", season="春",
                    harvest_year=this_year, shelf_life_days=720, taste_notes=["兰花香", "清甜"]),
        DemoProduct("GHWL-L", "桂花乌龙", "Osmanthus oolong", "scented", "g", 500, 26000,
                    form="loose", origin="广西桂林", cultivar="青心乌龙", grade="一级", season="秋",
                    harvest_year=this_year - 1 if tl.today < date(tl.today.year, 10, 18) else this_year,
                    shelf_life_days=540, taste_notes=["桂花香", "甜润"]),
    ]


GIFT_BOXES = [
    # sku, name, name_en, list price, festival, components
    ("GB-ZQ-LJ", "中秋礼盒 · 明月清风", "Mid-Autumn gift box", 168800, "autumn",
     [("LJ-XH-MQ-250", 1), ("JJM-WY-50", 1), ("GW-JDZ", 1)]),
    ("GB-CJ-FU", "春节礼盒 · 福满堂", "Spring Festival gift box", 79800, "spring",
     [("DHP-WY-125", 1), ("SHP-MH-2019-357", 1), ("CHPK-TPG", 2)]),
    ("GB-SW-YX", "商务礼盒 · 雅叙", "Business gift box", 68800, "both",
     [("TGY-AX-NX-125", 2), ("MLLZ-100", 1), ("GDB-BL", 1)]),
]


def _typical_sale(p: DemoProduct) -> int:
    """What one line of this product usually costs (250 g of loose tea, one piece otherwise)."""
    return p.price_of(250) if p.unit == "g" else p.list_price


def build_catalog(tl: Timeline) -> list[DemoProduct]:
    products = [_from_row(r) for r in _read_csv()] + _extra_teas(tl)
    by_sku = {p.sku: p for p in products}
    for sku, name, name_en, price, festival, components in GIFT_BOXES:
        products.append(DemoProduct(sku, name, name_en, "giftbox", "piece", 1, price, form="gift box",
                                    components=components, festival=festival))
        assert all(c in by_sku for c, _ in components)
    for p in products:
        p.member_price = round_yuan(p.list_price * 0.90) if p.list_price >= 1000 else p.list_price
        p.vip_price = round_yuan(p.list_price * 0.85) if p.list_price >= 1000 else p.list_price
        # Cheaper goods sell more often; a ¥6,800 cake sells now and then.
        p.popularity = (10000 / max(_typical_sale(p), 2000)) ** 0.6
    _set_specials(tl, {p.sku: p for p in products})
    return products


def _set_specials(tl: Timeline, by_sku: dict[str, DemoProduct]) -> None:
    def special(sku: str, ratio: float, start: date, end: date) -> None:
        p = by_sku[sku]
        p.special_price = round_yuan(p.list_price * ratio)
        p.special_from = china_time(start, 0)
        p.special_until = china_time(end, 23, 59, 59)

    for p in by_sku.values():
        if p.clearance:
            special(p.sku, 0.6, tl.today - timedelta(days=90), tl.today + timedelta(days=30))
    special("HSMF-HS-100", 0.8, tl.today - timedelta(days=20), tl.today + timedelta(days=10))
    special("GDB-BL", 0.75, tl.today - timedelta(days=7), tl.today + timedelta(days=21))
    special("MLYH-FZ-100", 0.85, tl.today - timedelta(days=3), tl.today + timedelta(days=27))
