"""Demo accounts (演示账号), one per role: created only together with the sample data.

The password is the setting ``VILLAGEMAP_DEMO_PASSWORD`` (``demo`` by default; README says so). The
serve command refuses to start in production mode while any demo account exists.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from gis import tables as t
from gis.users import create_user

BOTH = ["640302", "640221"]
QUKOU = "640221202"
JINQIAO = "640221202204"

# username, display name, role, areas, unit code
DEMO_ACCOUNTS: tuple[tuple[str, str, str, list[str], str | None], ...] = (
    ("demo-grid-manager", "金桥村第1网格 网格员（演示）", "grid_manager", [JINQIAO + "001"], None),
    ("demo-inspector", "渠口乡 核查员（演示）", "inspector", [QUKOU], f"{QUKOU}-gov"),
    ("demo-village", "金桥村 村干部（演示）", "village_official", [JINQIAO], None),
    ("demo-water", "水务人员（演示）", "water_staff", BOTH, "640221-swj"),
    ("demo-roads", "住建交通人员（演示）", "roads_staff", BOTH, "640302-zjjtj"),
    ("demo-contractor", "二泉公司（演示）", "contractor", [QUKOU], f"{QUKOU}-erquan"),
    ("demo-viewer", "领导查看（演示）", "viewer", BOTH, None),
    ("demo-admin", "系统管理员（演示）", "admin", BOTH, None),
)  # fmt: skip


def create_demo_accounts(conn: Connection, password: str) -> int:
    """Create the demo accounts (is_demo = true); returns how many were created."""
    units = {str(code): int(uid) for code, uid in conn.execute(select(t.unit.c.code, t.unit.c.id))}
    for username, name, role, areas, unit in DEMO_ACCOUNTS:
        create_user(conn, username=username, display_name=name, role=role, password=password, areas=areas,
                    unit_id=units[unit] if unit else None, is_demo=True)  # fmt: skip
    return len(DEMO_ACCOUNTS)
