"""The `teahub` command against a real, empty database (SQLite file, and a PostgreSQL schema when
TEAHUB_TEST_POSTGRES_URL is set), set up by `teahub init` as an operator would."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from teahub.auth import service as auth
from teahub.catalog.models import Product
from teahub.cli import app
from teahub.config import get_settings
from teahub.customers.models import Customer
from teahub.db.engine import make_session_factory
from teahub.db.uow import UnitOfWork
from teahub.errors import Unauthorized
from tests.conftest import DATABASES, fresh_database
from tests.imports import CATALOG_CSV as FIXTURE

PLAIN_HEADER = "sku,name,category,unit,price_basis,list_price,member_price,origin,grade,harvest_year\n"


class Cli:
    """Runs `teahub ARGS` in-process with TEAHUB_DATABASE_URL pointing at the test database."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self.runner = CliRunner()

    def env(self) -> dict[str, str | None]:
        # Plain, wide output so that assertions see whole table rows.
        return {"TEAHUB_DATABASE_URL": self.url, "COLUMNS": "200", "FORCE_COLOR": None, "NO_COLOR": "1"}

    def __call__(self, *args: str, input: str | None = None) -> Result:
        get_settings.cache_clear()
        try:
            return self.runner.invoke(app, list(args), input=input, env=self.env())
        finally:
            get_settings.cache_clear()

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self(*args, input=input)
        assert result.exit_code == 0, (result.output, result.exception)
        return result

    def uow(self) -> UnitOfWork:
        return UnitOfWork(make_session_factory(self.engine), actor="test")

    def count(self, model: type) -> int:
        uow = self.uow()
        with uow.reading():
            return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture(params=DATABASES)
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cli]:
    for url, engine in fresh_database(request.param, tmp_path, create_schema=False):
        yield Cli(url, engine)


@pytest.fixture
def shop(cli: Cli) -> Cli:
    cli.ok("init")
    return cli


def fixture_rows() -> list[dict[str, str]]:
    with FIXTURE.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- init, users, tokens --------------------------------------------------------------------------
def test_init_is_idempotent_and_creates_admin_once(cli: Cli) -> None:
    first = cli.ok("init")
    assert "Created user admin" in first.output
    assert "teahub token create admin" in first.output
    second = cli.ok("init")
    assert "Created user" not in second.output

    users = auth.list_users(cli.uow())
    assert [(u["username"], u["role"]) for u in users] == [("admin", "admin")]
    assert re.search(r"admin\s.*admin", cli.ok("user", "list").output)


def test_user_added_with_password_from_stdin_can_log_in(shop: Cli) -> None:
    result = shop.ok("user", "add", "wang", "--role", "clerk", "--store", "BJ01", "--store", "SH01",
                     "--password-stdin", input="tea-for-two\n")
    assert "Added user wang (clerk for BJ01, SH01)" in result.output

    _, principal = auth.login(shop.uow(), "wang", "tea-for-two", 1)
    assert principal.role == "clerk"
    assert principal.stores == frozenset({"BJ01", "SH01"})


def test_user_set_moves_a_clerk_and_inactive_locks_them_out(shop: Cli) -> None:
    shop.ok("user", "add", "wang", "--role", "clerk", "--store", "BJ01", "--password-stdin", input="tea-for-two\n")
    assert "User wang: clerk for SH01." in shop.ok("user", "set", "wang", "--store", "SH01").output
    assert auth.login(shop.uow(), "wang", "tea-for-two", 1)[1].stores == frozenset({"SH01"})
    assert "inactive" in shop.ok("user", "set", "wang", "--inactive").output
    with pytest.raises(Unauthorized):
        auth.login(shop.uow(), "wang", "tea-for-two", 1)


def test_passwd_from_stdin_lets_admin_log_in(shop: Cli) -> None:
    shop.ok("user", "passwd", "admin", "--password-stdin", input="a-long-secret\n")
    _, principal = auth.login(shop.uow(), "admin", "a-long-secret", 1)
    assert principal.role == "admin"


@pytest.mark.parametrize(("args", "message"), [
    (("user", "add", "li", "--role", "clerk", "--password-stdin"), "needs at least one store"),
    (("user", "add", "li", "--role", "admin", "--password-stdin"), "at least 8 characters"),
    (("user", "add", "admin", "--role", "admin"), "already exists"),
    (("user", "add", "li", "--role", "boss"), "role must be one of"),
    (("user", "passwd", "ghost", "--password-stdin"), "no user ghost"),
    (("user", "set", "admin", "--inactive"), "last active admin"),
])
def test_refused_user_changes_exit_1_with_the_reason_on_stderr(shop: Cli, args: tuple[str, ...],
                                                                message: str) -> None:
    result = shop(*args, input="short\n" if "passwd" not in args else "long-enough-1\n")
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_token_create_prints_a_working_token_as_the_last_line(shop: Cli) -> None:
    result = shop.ok("token", "create", "admin", "--label", "pos-terminal-1")
    token = result.output.strip().splitlines()[-1]
    assert token == result.stdout.strip()  # nothing else on stdout: TOKEN=$(teahub token create admin)
    principal = auth.authenticate_token(shop.uow(), token)
    assert (principal.username, principal.role) == ("admin", "admin")


def test_token_for_an_unknown_user_exits_1(shop: Cli) -> None:
    result = shop("token", "create", "ghost")
    assert result.exit_code == 1
    assert "no user ghost" in result.stderr
    assert result.stdout == ""


def test_installed_command_token_piped_to_tail(shop: Cli) -> None:
    teahub = Path(sys.executable).parent / "teahub"
    if not teahub.exists():
        pytest.skip("the teahub console script is not installed next to this interpreter")
    env = {**os.environ, "TEAHUB_DATABASE_URL": shop.url}
    done = subprocess.run(f"'{teahub}' token create admin 2>&1 | tail -1", shell=True, env=env,
                          capture_output=True, text=True, timeout=60, check=True)
    principal = auth.authenticate_token(shop.uow(), done.stdout.strip())
    assert principal.username == "admin"


def test_demo_leaves_a_database_with_products_alone(shop: Cli) -> None:
    shop.ok("import", "products", str(FIXTURE))
    result = shop.ok("demo")
    assert "already has products: demo data not loaded" in result.output
    assert shop.count(Product) == 52
    assert shop.count(Customer) == 0


# -- imports --------------------------------------------------------------------------------------
def test_import_products_from_the_catalog_fixture(shop: Cli) -> None:
    result = shop.ok("import", "products", str(FIXTURE))
    assert "products: created 52, updated 0, skipped 0 of 52 row(s)" in result.output
    assert shop.count(Product) == 52

    again = shop.ok("import", "products", str(FIXTURE))
    assert "created 0, updated 52, skipped 0" in again.output
    assert shop.count(Product) == 52


def test_import_products_from_xlsx(shop: Cli, tmp_path: Path) -> None:
    from teahub.catalog.service import get_product

    rows = fixture_rows()[:5]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "商品"
    columns = list(rows[0])
    sheet.append(columns)
    for row in rows:  # numbers as Excel holds them: price 128000.0, year 2026
        sheet.append([float(v) if k == "price_fen" else int(v) if k == "harvest_year" else v
                      for k, v in row.items()])
    book.save(tmp_path / "teas.xlsx")

    result = shop.ok("import", "products", str(tmp_path / "teas.xlsx"))
    assert "created 5" in result.output
    product = get_product(shop.uow(), "LJ-XH-MQ-250")
    assert product["prices"]["list"] == 128000
    assert product["tea"]["harvest_year"] == 2026
    assert product["tea"]["taste_notes"] == ["豆香", "鲜爽", "回甘"]


def test_a_bad_row_imports_nothing_and_reports_row_and_column(shop: Cli, tmp_path: Path) -> None:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",58800,", ",58.800,")  # row 4 of the file
    path = write(tmp_path, "teas.csv", "\n".join(lines) + "\n")

    result = shop("import", "products", str(path))
    assert result.exit_code == 1
    assert re.search(r"\b4\b.*price_fen.*'58\.800' is not a whole number", result.stdout), result.stdout
    assert "created 0, updated 0, skipped 52 of 52" in result.stdout
    assert "Nothing imported" in result.stderr
    assert shop.count(Product) == 0


def test_skip_bad_imports_the_good_rows(shop: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "products.csv", PLAIN_HEADER
                 + "LJ-1,龙井,green,g,500,68000,62000,浙江杭州,特级,2026\n"
                 + "LJ-2,龙井二,oolongish,g,500,68000,,,,\n"
                 + "LJ-3,龙井三,green,piece,1,1000,,,,\n")
    result = shop("import", "products", str(path), "--skip-bad")
    assert result.exit_code == 0, result.output
    assert re.search(r"\b3\b.*category.*oolongish", result.stdout), result.stdout
    assert "created 2, updated 0, skipped 1 of 3" in result.stdout
    assert shop.count(Product) == 2


def test_a_file_missing_required_columns_is_refused(shop: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "products.csv", "sku,name,unit,colour\nLJ-1,龙井,g,green\n")
    result = shop("import", "products", str(path))
    assert result.exit_code == 1
    assert "missing required column(s): category, list_price or price_fen or price" in result.stderr
    assert shop.count(Product) == 0


def test_import_customers(shop: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "customers.csv",
                 "\ufeffname,phone,email,kind,company_name,credit_limit,payment_terms,birthday,tier,wechat_id\n"
                 "张三,13812345678,,person,,,,1990-05-01,,ignored\n"
                 "杭州茶业,13900001111,buy@tea.example,company,杭州茶业有限公司,5000000,monthly,,vip,\n"
                 "张三 (again),+86 138 1234 5678,,,,,,,,\n")
    result = shop.ok("import", "customers", str(path))
    assert "customers: created 2, already known 1, skipped 0 of 3" in result.output
    assert shop.count(Customer) == 2


def test_import_stock_receipts_after_products(shop: Cli, tmp_path: Path) -> None:
    from teahub.inventory.schemas import LocationIn
    from teahub.inventory.service import create_location, stock_levels

    shop.ok("import", "products", str(FIXTURE))
    create_location(shop.uow(), LocationIn(code="WH01", name="杭州仓", kind="warehouse"))
    create_location(shop.uow(), LocationIn(code="BJ01", name="北京门店", kind="store"))
    path = write(tmp_path, "stock.csv",
                 "location,sku,batch_code,quantity,unit_cost,produced_on,expires_on,supplier\n"
                 "WH01,LJ-43-YQ-L,LJ43-2604,5000,60,2026-04-02,2027-09-24,西湖茶园\n"
                 "BJ01,LJ-XH-MQ-250,MQ-2603,20,70000,2026-03-28,2027-09-19,\n"
                 "BJ01,SP-LBZ-2022-357,LBZ-22,3,400000,2022-04-10,,勐海茶厂\n")
    result = shop.ok("import", "stock", str(path))
    assert "stock: created 3, updated 0, skipped 0 of 3" in result.output

    [loose] = stock_levels(shop.uow(), sku="LJ-43-YQ-L", location="WH01")
    assert loose["on_hand"] == 5000
    [cake] = stock_levels(shop.uow(), sku="SP-LBZ-2022-357", location="BJ01")
    assert cake["on_hand"] == 3


def test_stock_for_an_unknown_location_is_reported(shop: Cli, tmp_path: Path) -> None:
    shop.ok("import", "products", str(FIXTURE))
    path = write(tmp_path, "stock.xlsx.csv",
                 "location,sku,batch_code,quantity,unit_cost\nNOWHERE,LJ-43-YQ-L,B1,10,60\nWH01,NOPE,B1,0,60\n")
    result = shop("import", "stock", str(path))
    assert result.exit_code == 1
    assert re.search(r"\b2\b.*location", result.stdout), result.stdout
    assert re.search(r"\b3\b.*quantity", result.stdout), result.stdout
