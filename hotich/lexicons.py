"""The closed lists register fields draw from, with the Ministry's codes where it has them.

Shared by the synthetic generator (what clerks write) and by field reading (what a reading may be): one
list, so the two cannot disagree. Sources: `../shared/domain/fields.yaml` (`code_lists`) and the
Ministry's import template.
"""

from __future__ import annotations

GENDERS: dict[str, int] = {"Nam": 1, "Nữ": 2, "Không xác định": 3}
"""Giới tính -> import code."""

ETHNIC_GROUPS: tuple[str, ...] = (
    "Kinh", "Tày", "Thái", "Mường", "Khmer", "Hoa", "Nùng", "Mông", "Dao", "Gia Rai", "Ê Đê", "Ba Na", "Sán Chay",
    "Chăm", "Cơ Ho", "Xơ Đăng", "Sán Dìu", "Hrê", "Ra Glai", "Mnông", "Thổ", "Xtiêng", "Khơ Mú", "Bru Vân Kiều",
    "Cơ Tu", "Giáy", "Tà Ôi", "Mạ", "Giẻ Triêng", "Co", "Chơ Ro", "Xinh Mun", "Hà Nhì", "Chu Ru", "Lào", "La Chí",
    "Kháng", "Phù Lá", "La Hủ", "La Ha", "Pà Thẻn", "Lự", "Ngái", "Chứt", "Lô Lô", "Mảng", "Cơ Lao", "Bố Y", "Cống",
    "Si La", "Pu Péo", "Rơ Măm", "Brâu", "Ơ Đu",
)  # fmt: skip
"""The 54 ethnic groups in the GSO order and spelling: group n has code n (01 Kinh ... 54 Ơ Đu)."""

NATIONALITIES: tuple[str, ...] = (
    "Việt Nam", "Trung Quốc", "Lào", "Campuchia", "Thái Lan", "Hàn Quốc", "Nhật Bản", "Đài Loan", "Hoa Kỳ", "Pháp",
    "Úc", "Canada", "Đức", "Anh", "Nga", "Malaysia", "Singapore", "Philippines", "Indonesia", "Myanmar",
)  # fmt: skip
"""Nationalities as registers name them: Việt Nam first, then the neighbours and the commonest others."""

RELATIONS: tuple[str, ...] = (
    "Cha", "Mẹ", "Ông nội", "Bà nội", "Ông ngoại", "Bà ngoại", "Con", "Con dâu", "Con rể", "Vợ", "Chồng", "Anh",
    "Chị", "Em", "Cháu", "Dì", "Cậu", "Cô", "Chú", "Bác", "Người nuôi dưỡng", "Bản thân",
)  # fmt: skip
"""How a declarant is related to the person registered (quan hệ với người được khai sinh / đã chết);
"Bản thân" when people register themselves."""

FAMILY_NAMES: tuple[str, ...] = (
    # Kinh, by the commonly cited surname statistics (Nguyễn 38%, Trần 11%, Lê 9.5%...), and the rarer ones
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương",
    "Lý", "Đinh", "Trịnh", "Đào", "Đoàn", "Trương", "Hà", "Cao", "Mai", "Lương", "Lâm", "Tạ", "Phùng", "Lưu",
    "Châu", "Thái", "Chu", "Tô", "Lại", "Quách", "Tống", "Văn", "Triệu", "Kiều", "Tăng", "La", "Nghiêm", "Từ",
    "Vương", "Thân", "Giang", "Khúc", "Khổng", "Mạc", "Mạch", "Ông", "Quan", "Tôn", "Tiêu", "Trang", "Trình", "Ung",
    "Âu", "Bạch", "Biện", "Cù", "Diệp", "Doãn", "Đàm", "Đồng", "Đường", "Giáp", "Hàn", "Hán", "Hứa", "Kha",
    "Khương", "Lạc", "Lư", "Lỗ", "Mẫn", "Ninh", "Phí", "Phó", "Phương", "Quản", "Sầm", "Thiều", "Tiền", "Viên",
    "Vưu", "Yên", "Lam", "Mã", "Lã", "Lò", "Bế", "Vy", "Vi", "Nông", "Lục", "Lộc", "Ma", "Mông", "Linh", "Lăng",
    # the north's minorities (Thái, Tày, Nùng, Mông, Dao, Giáy...), the south's (Khmer, Chăm) and the Highlands'
    "Lường", "Quàng", "Cầm", "Lự", "Xa", "Bàn", "Giàng", "Mùa", "Sùng", "Thào", "Vàng", "Hờ", "Lầu", "Chảo", "Tẩn",
    "Phàn", "Sần", "Lù", "Nịnh", "Ngôn", "Thạch", "Sơn", "Kim", "Danh", "Chau", "Néang", "Lâm", "Ksor", "Siu",
    "Nay", "Rơ", "Rah", "Kpă", "Hmok", "Niê", "Mlô", "Êban", "Byă", "Đàng", "Pinăng", "Katơr", "Quảng", "Báo",
    "Lành", "Lô", "Vừ", "Thò", "Pờ", "A", "Y", "H", "K",
)  # fmt: skip
"""Family names, the first word of most written names; what a name's first word is searched within when
it is none of them (`Pipeline._family_names`). Read only, not drawn from: the generator keeps its own weighted
lists. A, Y, H and K (H'Hen, K'Bré) open Highland names that carry no inherited family name."""
