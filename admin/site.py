"""The admin site on SQLAdmin: login with roles, the knowledge base, questions and tickets.

Lists and forms are SQLAdmin's; what is ours is the login (argon2, rate-limited) and
which role sees what. Knowledge-base entries are read-only here for now: edits go
through `knowledge/` files and `cdsbot kb import`, which keep the history.
"""

from __future__ import annotations

from sqladmin import Admin, ModelView
from sqladmin.authentication import AuthenticationBackend
from starlette.applications import Starlette
from starlette.requests import Request

from admin.accounts import verify
from bot.ratelimit import SlidingWindow
from bot.storage.db import Database
from bot.storage.models import Area, KbEntry, KbHistory, QuestionLog, Ticket


class _Login(AuthenticationBackend):
    def __init__(self, db: Database, secret_key: str) -> None:
        super().__init__(secret_key=secret_key)
        self.db = db
        self.failures = SlidingWindow(5, 300.0)  # five failures in five minutes: wait

    async def login(self, request: Request) -> bool:
        form = await request.form()
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        key = f"{request.client.host if request.client else '?'}:{username}"
        if self.failures.full(key):
            return False
        user = await verify(self.db, username, password)
        if user is None:
            self.failures.hit(key)
            return False
        request.session.update({"user": user.username, "role": user.role, "area": user.area_code or ""})
        return True

    async def logout(self, request: Request) -> bool:
        request.session.clear()
        return True

    async def authenticate(self, request: Request) -> bool:
        return bool(request.session.get("user"))


def _role(request: Request) -> str:
    return str(request.session.get("role", ""))


class _CityView(ModelView):
    """Visible to admins and editors."""

    def is_accessible(self, request: Request) -> bool:
        return _role(request) in ("admin", "editor")

    def is_visible(self, request: Request) -> bool:
        return self.is_accessible(request)


class EntryAdmin(_CityView, model=KbEntry):
    name, name_plural, icon = "Câu hỏi thường gặp", "Kho tri thức", "fa-solid fa-book"
    can_create = can_edit = can_delete = False
    column_list = [KbEntry.id, KbEntry.group_id, KbEntry.status, KbEntry.question, KbEntry.reviewed, KbEntry.updated_at]
    column_searchable_list = [KbEntry.id, KbEntry.question]
    column_sortable_list = [KbEntry.id, KbEntry.status, KbEntry.reviewed, KbEntry.updated_at]


class HistoryAdmin(_CityView, model=KbHistory):
    name, name_plural, icon = "Thay đổi", "Lịch sử thay đổi", "fa-solid fa-clock-rotate-left"
    can_create = can_edit = can_delete = False
    column_list = [KbHistory.changed_at, KbHistory.entry_id, KbHistory.action, KbHistory.changed_by]
    column_default_sort = [(KbHistory.id, True)]


class QuestionAdmin(_CityView, model=QuestionLog):
    name, name_plural, icon = "Câu hỏi", "Câu hỏi của người dân", "fa-solid fa-comments"
    can_create = can_edit = can_delete = False
    column_list = [QuestionLog.asked_at, QuestionLog.channel, QuestionLog.decision, QuestionLog.entry_id,
                   QuestionLog.score, QuestionLog.normalized, QuestionLog.feedback]
    column_searchable_list = [QuestionLog.normalized]
    column_sortable_list = [QuestionLog.asked_at, QuestionLog.decision, QuestionLog.score]
    column_default_sort = [(QuestionLog.id, True)]


class TicketAdmin(ModelView, model=Ticket):
    name, name_plural, icon = "Câu hỏi chuyển người thật", "Câu hỏi chờ trả lời", "fa-solid fa-person"
    can_create = can_delete = False
    column_list = [Ticket.id, Ticket.created_at, Ticket.area_code, Ticket.status, Ticket.question]
    column_default_sort = [(Ticket.id, True)]
    form_columns = [Ticket.status]

    def is_accessible(self, request: Request) -> bool:
        return _role(request) in ("admin", "editor", "team-leader")

    def list_query(self, request: Request):  # type: ignore[no-untyped-def]
        query = super().list_query(request)
        if _role(request) == "team-leader":  # a team leader sees only their area
            query = query.where(Ticket.area_code == request.session.get("area"))
        return query


class AreaAdmin(ModelView, model=Area):
    name, name_plural, icon = "Phường, xã", "Phường, xã, đặc khu", "fa-solid fa-map"
    column_list = [Area.code, Area.kind, Area.name]
    column_searchable_list = [Area.name]

    def is_accessible(self, request: Request) -> bool:
        return _role(request) == "admin"


def mount_admin(app: Starlette, db: Database, secret_key: str) -> Admin:
    """Attach the admin site at /admin."""
    admin = Admin(app, engine=db.engine, title="Quản trị Trợ lý CĐS Đà Nẵng", authentication_backend=_Login(db, secret_key))
    for view in (EntryAdmin, HistoryAdmin, QuestionAdmin, TicketAdmin, AreaAdmin):
        admin.add_view(view)
    return admin
