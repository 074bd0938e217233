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
