"""The fixed list of scam signs (issue 22), each with a plain explanation in Vietnamese
and English, and its weight in the verdict.

Weights: 3 = enough alone to call a message a scam; 2 = a strong hint; 1 = context (who
the message claims to be, urgency), named only next to another sign.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SIGNS", "Sign", "STRONG", "CONTEXT"]


@dataclass(frozen=True)
class Sign:
    id: str
    weight: int
    vi: str
    en: str


_ALL = [
    Sign("asks-otp-or-password", 3,
         "Đòi mã OTP, mật khẩu hoặc bảo đăng nhập qua đường link. Ngân hàng, công an, cơ quan nhà nước không bao giờ hỏi mã OTP hay mật khẩu.",
         "Asks for an OTP code or password, or to log in through a link. Banks, police and government never ask for them."),
    Sign("asks-money-transfer", 2,
         "Yêu cầu chuyển tiền hoặc nộp tiền vào một tài khoản. Cơ quan nhà nước không yêu cầu chuyển tiền qua tin nhắn hay điện thoại.",
         "Asks you to transfer or pay money into an account. Government bodies never ask for transfers by message or phone."),
    Sign("asks-install-app", 2,
         "Bảo cài một ứng dụng. Chỉ cài ứng dụng từ CH Play hoặc App Store, không cài theo lời người lạ.",
         "Asks you to install an app. Install apps only from Google Play or the App Store, never because a stranger says so."),
    Sign("apk-or-unknown-app", 3,
         "Có tệp cài đặt .apk hoặc ứng dụng không rõ nguồn gốc: loại này thường chứa mã độc chiếm điện thoại và lấy tiền trong tài khoản.",
         "Contains an .apk file or an app of unknown origin: these often carry malware that takes over the phone and the bank account."),
    Sign("lookalike-domain", 3,
         "Đường link giả tên trang chính thức (tên gần giống, thêm chữ, đổi đuôi). Trang thật của nhà nước có đuôi .gov.vn.",
         "The link imitates an official address (a similar name, added words, another ending). Real government sites end in .gov.vn."),
    Sign("shortened-link", 2,
         "Đường link rút gọn che giấu địa chỉ thật phía sau.",
         "A shortened link hides the real address behind it."),
    Sign("unofficial-domain-for-official-body", 3,
         "Tin nhắn xưng là cơ quan, ngân hàng hay công ty nhưng đường link không phải trang chính thức của họ.",
         "The message claims to come from an official body, bank or company, but the link is not their official site."),
    Sign("impersonates-authority", 1,
         "Xưng là công an, tòa án, viện kiểm sát hay cơ quan nhà nước. Các cơ quan này không làm việc, không xử lý vụ việc qua điện thoại hay tin nhắn.",
         "Claims to be the police, a court, a prosecutor or a government office. They do not handle cases by phone or message."),
    Sign("impersonates-bank-or-company", 1,
         "Xưng là ngân hàng, điện lực, nhà mạng, bưu điện hay công ty giao hàng. Hãy tự gọi số tổng đài in trên thẻ hoặc hóa đơn để hỏi lại.",
         "Claims to be a bank, the electricity company, a phone operator, the post or a courier. Call the number printed on your card or bill yourself."),
    Sign("urgency-or-threat", 1,
         "Hối thúc hoặc đe dọa (khóa tài khoản, cắt điện, bắt giữ, hết hạn) để bạn làm ngay mà không kịp hỏi ai.",
         "Rushes or threatens you (account locked, power cut, arrest, expiry) so you act before asking anyone."),
    Sign("prize-or-too-good", 2,
         "Hứa trúng thưởng, quà tặng, hoàn tiền hay lãi cao: quá tốt để là thật.",
         "Promises a prize, gift, refund or high profit: too good to be true."),
    Sign("job-or-task-for-money", 2,
         "Mời việc nhẹ lương cao, làm nhiệm vụ, cộng tác viên nhận hoa hồng: kiểu lừa nạp tiền rồi không rút được.",
         "Offers easy paid work, tasks or commissions: the scam where you pay in and can never withdraw."),
    Sign("loan-offer", 2,
         "Mời vay tiền nhanh, không cần thế chấp: thường là app vay lừa đảo hoặc đòi phí trước.",
         "Offers a quick loan with no collateral: often a fake loan app or an upfront-fee scam."),
    Sign("remote-access-app", 3,
         "Bảo cài ứng dụng điều khiển từ xa hoặc chia sẻ màn hình (AnyDesk, TeamViewer, UltraViewer): kẻ gian sẽ điều khiển điện thoại của bạn.",
         "Asks for a remote-control or screen-sharing app (AnyDesk, TeamViewer, UltraViewer): they would control your phone."),
    Sign("asks-personal-data", 2,
         "Đòi thông tin cá nhân: số căn cước, số thẻ, ảnh khuôn mặt, hoặc bảo cập nhật thông tin qua đường link.",
         "Asks for personal data: ID number, card number, a face photo, or to update details through a link."),
    Sign("secret-or-dont-tell", 3,
         "Bảo giữ bí mật, không nói với người nhà hay ngân hàng, hoặc tìm chỗ ở một mình: kẻ lừa đảo sợ bạn hỏi người khác.",
         "Tells you to keep it secret, tell no family or bank, or go somewhere alone: scammers fear you will ask someone."),
    Sign("friend-asking-money", 2,
         "Người quen nhắn mượn tiền gấp: tài khoản Zalo, Facebook của họ có thể đã bị chiếm. Hãy gọi điện thoại (gọi thường, không gọi qua tin nhắn đó) để hỏi lại.",
         "A friend asks to borrow money urgently: their Zalo or Facebook may have been taken over. Phone them (a normal call) to check."),
    Sign("fee-to-receive", 3,
         "Bắt nộp phí, đặt cọc hoặc nộp thêm tiền mới được nhận tiền, nhận quà hay rút tiền: đây là dấu hiệu lừa đảo rõ ràng.",
         "Asks for a fee or deposit before you can receive money, a gift or a withdrawal: a clear sign of a scam."),
]

SIGNS: dict[str, Sign] = {s.id: s for s in _ALL}
STRONG = frozenset(s.id for s in _ALL if s.weight >= 3)
CONTEXT = frozenset(s.id for s in _ALL if s.weight == 1)
