"""The scam checker's lists (editors and admins): official domains, known scam domains,
shorteners, platforms, imitated names, and the phrase lists (each sign's patterns, the
word lists, the marks of a received message and of a resident's own request). Each list is
checked before it is saved (its lines, then the checker with it against the sample
messages); every change is in the audit log ("scamcheck.list")."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from admin.audit import recent, record
from admin.context import assistant
from admin.guard import CITY, User, require
from admin.render import NavItem, flash, render, url
from bot.services import scamlists

__all__ = ["ROUTES", "NAV"]


@require(CITY)
async def scam_lists(request: Request, user: User) -> Response:
    a = assistant(request)
    files = scamlists.file_lists(a.settings.knowledge_dir)
    saved = await scamlists.saved_lists(a.db)
    lists = [{"name": name, "title": title, "kind": kind, "items": list(saved[name].items) if name in saved else files[name],
              "saved": saved.get(name)} for name, (title, kind) in scamlists.lists(a.settings.knowledge_dir).items()]
    history = await recent(a.db, limit=30, action="scamcheck.")
    return render(request, "scamlists.html", {
        "domains": [x for x in lists if x["kind"] in ("domain", "name")],
        "phrases": [x for x in lists if x["kind"] not in ("domain", "name")], "history": history})


@require(CITY)
async def scam_list_save(request: Request, user: User) -> Response:
    a = assistant(request)
    name = request.path_params["list_name"]
    titles = scamlists.lists(a.settings.knowledge_dir)
    if name not in titles:
        flash(request, f"Không có danh sách “{name}”.", "error")
        return RedirectResponse(url(request, "scam_lists"), status_code=303)
    form = await request.form()
    items = str(form.get("items", "")).splitlines()
    before_rows = await scamlists.saved_lists(a.db)
    before = list(before_rows[name].items) if name in before_rows else scamlists.file_lists(a.settings.knowledge_dir).get(name, [])
    found = await scamlists.save(a.db, a.settings.knowledge_dir, name, items, by=user.name)
    if found:
        flash(request, f"Chưa lưu “{titles[name][0]}”: " + "; ".join(found[:10]), "error")
    else:
        after = list((await scamlists.saved_lists(a.db))[name].items)
        await record(a.db, user, "scamcheck.list", f"list:{name}", {"items": before}, {"items": after})
        flash(request, f"Đã lưu danh sách “{titles[name][0]}”: trợ lý dùng ngay.")
    return RedirectResponse(url(request, "scam_lists"), status_code=303)


ROUTES = [
    Route("/scam-lists", scam_lists, methods=["GET"], name="scam_lists"),
    Route("/scam-lists/{list_name}", scam_list_save, methods=["POST"], name="scam_list_save"),
]
NAV = [NavItem("Danh sách chống lừa đảo", "scam_lists", CITY)]
