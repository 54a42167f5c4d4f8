"""Logging in and out, in Chinese by default and in English on request."""

from __future__ import annotations

from tests.browser.conftest import PASSWORD, login, shot


def test_login_lands_on_the_dashboard_in_chinese(page: object) -> None:
    page.goto("/")
    assert "/login" in page.url  # a page without a session asks for one first
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    shot(page, "login")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    assert page.locator("nav.mainnav").inner_text().count("订单") == 1


def test_wrong_password_says_so_and_keeps_the_user_out(page: object) -> None:
    page.goto("/login")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator(".problem").inner_text().strip() == "用户名或密码错误"
    page.goto("/")
    assert "/login" in page.url


def test_english_switch_and_logout(page: object) -> None:
    login(page, "clerk")
    page.click("a.lang")
    assert "Dashboard" in page.locator("nav.mainnav").inner_text()
    assert "Admin" not in page.locator("nav.mainnav").inner_text()  # a clerk is not shown what is not theirs
    page.click("text=Log out")
    page.wait_for_url("**/login")
    page.goto("/")
    assert "/login" in page.url
