"""The kind of scam a checked message belongs to, for the city's counts: what circulates
(fake police, fake bank, loan apps...), decided from the signs and who it claims to be."""

from __future__ import annotations

from bot.scamcheck.checker import Result, Verdict

__all__ = ["KINDS", "kind_of"]

#: kind → (Vietnamese name, English name), in the order of the reports.
KINDS: dict[str, tuple[str, str]] = {
    "fake-authority": ("Giả danh công an, tòa án, cơ quan nhà nước", "Fake police, court or government"),
    "fake-bank-company": ("Giả danh ngân hàng, điện lực, nhà mạng, giao hàng", "Fake bank, utility, operator or courier"),
    "job-task": ("Việc nhẹ lương cao, làm nhiệm vụ", "Easy jobs and paid tasks"),
    "loan": ("Cho vay, app vay", "Loans and loan apps"),
    "prize": ("Trúng thưởng, quà tặng, đầu tư lãi cao", "Prizes, gifts, high returns"),
    "friend-money": ("Người quen mượn tiền", "A friend asking for money"),
    "link-app": ("Đường link, ứng dụng lạ", "Strange links and apps"),
    "other": ("Khác", "Other"),
    "none": ("Không thấy dấu hiệu", "No signs found"),
}


def kind_of(result: Result) -> str:
    """One kind for a checked message (`none` when no sign was found)."""
    if result.verdict == Verdict.NO_SIGNS:
        return "none"
    signs = set(result.signs)
    for sign, kind in (("job-or-task-for-money", "job-task"), ("loan-offer", "loan"), ("friend-asking-money", "friend-money"),
                       ("prize-or-too-good", "prize"), ("impersonates-authority", "fake-authority"),
                       ("impersonates-bank-or-company", "fake-bank-company")):
        if sign in signs:
            return kind
    if signs & {"lookalike-domain", "shortened-link", "apk-or-unknown-app", "asks-install-app", "remote-access-app"}:
        return "link-app"
    return "other"
