"""Administration in the browser: an admin adds a clerk who can then log in, makes an API token shown once, and
finds the user's creation in the audit log; a clerk is refused the admin pages."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import Console, api, login, shot


def test_an_admin_adds_a_clerk_who_logs_in_and_the_audit_log_shows_it(page: Any, browser: Any, live_server: str
                                                                     ) -> None:
    name = f"clerk-{uuid.uuid4().hex[:8]}"
    password = "a-new-clerk-pass"
    login(page, "boss")
    page.goto("/admin")
    form = page.locator("#add-user")
    form.locator("input[name=username]").fill(name)
    form.locator("select[name=role]").select_option("clerk")
    form.locator("input[name=stores][value=BJ01]").check()
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    row = page.locator(f"#users tr[data-user='{name}']")
    expect(row).to_contain_text("店员")
    expect(row).to_contain_text("BJ01")
    expect(page.locator("#users .notice")).to_contain_text(name)
    expect(form.locator("input[name=username]")).to_have_value("")  # ready for the next one
    shot(page, "admin-users")

    # An API token for the new user, shown once; it works against the API as that user.
    row.locator("input[name=name]").fill("till-2")
    row.get_by_role("button", name="新建令牌").click()
    token = page.locator("#token-value").inner_text().strip()
    me = httpx.get(f"{live_server}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert me.status_code == 200 and me.json()["username"] == name
    assert (me.json()["role"], me.json()["stores"]) == ("clerk", ["BJ01"])
    page.goto("/admin")
    expect(page.locator(f"#users tr[data-user='{name}']")).to_contain_text(f"{token[:10]}… till-2")
    assert token not in page.content()  # never shown again

    # The new clerk logs in (their own browser context) and gets a clerk's menu.
    other = browser.new_context(base_url=live_server, locale="zh-CN")
    try:
        tab = other.new_page()
        errors: list[str] = []
        tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        login(tab, name, password)
        assert "/login" not in tab.url
        expect(tab.locator(".who .user")).to_have_text(name)
        assert "系统管理" not in tab.locator("nav.mainnav").inner_text()
        assert errors == []
    finally:
        other.close()

    page.goto("/admin/audit")
    page.fill("input[name=action]", "user.created")
    page.click("form.filters button[type=submit]")
    entry = page.locator("#audit tbody tr").first  # newest first
    expect(entry).to_contain_text("user:boss")
    expect(entry).to_contain_text("user.created")
    entry.locator("summary").click()
    expect(entry.locator("pre")).to_contain_text(name)
    shot(page, "audit")

    page.set_viewport_size({"width": 375, "height": 800})  # a phone: wide tables scroll inside their frame
    for path in ("/admin", "/admin/audit"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path


def test_an_admin_moves_a_clerk_to_another_store_then_locks_them_out(page: Any, live_server: str) -> None:
    name = f"clerk-{uuid.uuid4().hex[:8]}"
    admin = api(live_server)
    made = admin.post("/api/v1/users", json={"username": name, "role": "clerk", "stores": ["BJ01"],
                                             "password": "a-new-clerk-pass"})
    assert made.status_code == 201, made.text
    login(page, "boss")
    page.goto("/admin")
    row = page.locator(f"#users tr[data-user='{name}']")
    row.locator("details.edit-user summary").click()
    row.locator("input[name=stores][value=BJ01]").uncheck()
    row.locator("input[name=stores][value=HZ01]").check()
    row.get_by_role("button", name="保存").click()
    expect(page.locator("#users .notice")).to_contain_text(name)
    expect(page.locator(f"#users tr[data-user='{name}']")).to_contain_text("HZ01")
    user = next(u for u in admin.get("/api/v1/users").json()["items"] if u["username"] == name)
    assert (user["stores"], user["active"]) == (["HZ01"], True)

    row = page.locator(f"#users tr[data-user='{name}']")
    row.locator("details.edit-user summary").click()
    row.locator("input[name=active]").uncheck()
    row.get_by_role("button", name="保存").click()
    expect(page.locator(f"#users tr[data-user='{name}']")).to_contain_text("停用")
    refused = httpx.post(f"{live_server}/api/v1/auth/login", json={"username": name, "password": "a-new-clerk-pass"},
                         timeout=30)
    assert refused.status_code == 401


def test_a_clerk_opening_admin_gets_the_forbidden_problem(page: Any, console: Console) -> None:
    console.allow(r"status of 403")  # the browser logs the refused page load
    login(page, "clerk")
    for path in ("/admin", "/admin/audit", "/integrations"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 403
        expect(page.locator("h1")).to_have_text("无权访问")
        expect(page.locator(".problem")).to_contain_text("你的角色是店员")
    assert "系统管理" not in page.locator("nav.mainnav").inner_text()
