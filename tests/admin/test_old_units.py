"""Old ward names in the admin (issue 19): the areas page shows what each unit took in,
the team form takes a former name, an admin uploads a corrected file, subscriber imports
take former names."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Assistant
from bot.campaigns import service
from bot.services import old_units
from tests.admin.conftest import Client, csrf_of
from tests.helpers import make_incoming, texts

pytestmark = pytest.mark.asyncio


async def test_areas_page_shows_former_units_and_an_admin_uploads_a_correction(client: Client, assistant: Assistant) -> None:
    admin = await client("admin")
    page = await admin.get("/admin/areas")
    assert page.status_code == 200 and "Thạc Gián" in page.text and "Sửa bảng tên cũ" in page.text
    editor = await client("editor")
    assert "Sửa bảng tên cũ" not in (await editor.get("/admin/areas")).text
    bad = "kind,name,district,province,new_codes,status,source,note\nphuong,Thạc Gián,,,phuong-khong-co,xac-nhan,x,\n"
    r = await admin.post("/admin/areas/old-units", data={"csrftoken": csrf_of(admin)},
                         files={"file": ("old-units.csv", bad.encode(), "text/csv")})
    assert r.status_code == 303
    assert "phuong-khong-co" in (await admin.get("/admin/areas")).text  # the error is shown, nothing changed
    good = ("kind,name,district,province,new_codes,status,source,note\n"
            "phuong,Thạc Gián,Quận Thanh Khê,Đà Nẵng,phuong-an-khe,xac-nhan,sửa thử,\n")
    r = await admin.post("/admin/areas/old-units", data={"csrftoken": csrf_of(admin)},
                         files={"file": ("old-units.csv", good.encode(), "text/csv")})
    assert r.status_code == 303
    assert "1 đơn vị" in (await admin.get("/admin/areas")).text
    forbidden = await editor.post("/admin/areas/old-units", data={"csrftoken": csrf_of(editor)},
                                  files={"file": ("old-units.csv", good.encode(), "text/csv")})
    assert forbidden.status_code == 403
    # the residents' ward prompt uses the corrected file at once
    await assistant.dispatcher.dispatch(make_incoming("/khuvuc"))
    told = await assistant.dispatcher.dispatch(make_incoming("Thạc Gián"))
    assert "nay thuộc phường An Khê" in texts(told)


async def test_team_form_takes_a_former_name(client: Client, assistant: Assistant) -> None:
    admin = await client("admin")
    r = await admin.post("/admin/teams", data={"csrftoken": csrf_of(admin), "area": "phuong-hai-chau",
                                               "area_name": "Thạc Gián", "name": "Tổ CNS phường Thanh Khê"})
    assert r.status_code == 303 and "/admin/teams/" in r.headers["location"]
    from bot.services import teams

    assert await teams.team_for_area(assistant.db, "phuong-thanh-khe") is not None
    split = await admin.post("/admin/teams", data={"csrftoken": csrf_of(admin), "area": "phuong-hai-chau",
                                                   "area_name": "quận Hải Châu", "name": "Tổ thử"})
    assert split.headers["location"].endswith("/admin/teams")  # several units: pick one
    assert "nhiều đơn vị" in (await admin.get("/admin/teams")).text


async def test_subscriber_import_takes_former_names(assistant: Assistant, tmp_path: Path) -> None:
    ok = tmp_path / "subs.csv"
    ok.write_text("channel,user_id,area,topics,consented_at\n"
                  "telegram,111,Thạc Gián,,2026-05-01T09:00:00+07:00\n"
                  "telegram,112,phuong-hai-chau,,2026-05-01T09:00:00+07:00\n", encoding="utf-8")
    known = assistant.settings.knowledge_dir / "old-units.csv"
    assert await service.import_subscribers(assistant.db, ok, known) == 2
    from sqlalchemy import select

    from bot.storage.models import Subscription

    async with assistant.db.session() as s:
        assert set((await s.scalars(select(Subscription.area_code))).all()) == {"phuong-thanh-khe", "phuong-hai-chau"}
    split = tmp_path / "split.csv"
    split.write_text("channel,user_id,area,topics,consented_at\ntelegram,113,Hòa Liên,,2026-05-01T09:00:00+07:00\n",
                     encoding="utf-8")
    with pytest.raises(service.CampaignError, match="nhiều đơn vị"):
        await service.import_subscribers(assistant.db, split, known)
    assert len(await old_units.current(assistant.db, known)) > 300
