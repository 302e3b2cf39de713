"""Browser assets (前端资源) of VillageMap's maps: Leaflet, served by VillageMap or inlined.

The files come from npm (``maps/assets/package.json``, installed by ``scripts/fetch-assets.sh``
into ``maps/assets/node_modules``); nothing third-party is committed and nothing is loaded from
a CDN. A map page either links them under a URL prefix that the API mounts with
``StaticFiles`` (:func:`served`, :func:`static_dirs`) or carries them inside one self-contained
HTML file for field use without a network (:func:`inline`).
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from maps.elements import RawHtml

ASSET_ROOT: Path = Path(__file__).with_name("assets") / "node_modules"

FETCH_HINT_ZH = "请先运行 scripts/fetch-assets.sh 安装地图前端资源（需要 npm）。"
FETCH_HINT_EN = "Run scripts/fetch-assets.sh to install the map assets (needs npm)."


class AssetsMissing(RuntimeError):
    """The npm assets (前端资源) are not installed, or not at the pinned version."""


@dataclass(frozen=True)
class VendorPackage:
    """An npm package (前端依赖包) whose ``subdir`` is served under ``<prefix>/<name>/``."""

    name: str
    version: str
    subdir: str
    scripts: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    images: tuple[str, ...] = ()

    def directory(self, root: Path) -> Path:
        """The directory served for this package."""
        return root / self.name / self.subdir

    def files(self) -> tuple[str, ...]:
        """Every file the maps use, relative to :meth:`directory`."""
        return self.scripts + self.styles + self.images


LEAFLET = VendorPackage(
    name="leaflet",
    version="1.9.4",
    subdir="dist",
    scripts=("leaflet.js",),
    styles=("leaflet.css",),
    images=(
        "images/layers.png",
        "images/layers-2x.png",
        "images/marker-icon.png",
        "images/marker-icon-2x.png",
        "images/marker-shadow.png",
    ),
)

PACKAGES: tuple[VendorPackage, ...] = (LEAFLET,)

#: MapLibre GL (vector-tile pages): served under the prefix like Leaflet, never attached to Folium maps.
MAPLIBRE = VendorPackage(
    name="maplibre-gl", version="5.6.0", subdir="dist", scripts=("maplibre-gl.js",), styles=("maplibre-gl.css",)
)
SERVED_ONLY: tuple[VendorPackage, ...] = (MAPLIBRE,)

#: Leaflet plugins a map asks for by name (``attach_assets(…, plugins=…)``): clustering and heat.
MARKERCLUSTER = VendorPackage(
    name="leaflet.markercluster",
    version="1.5.3",
    subdir="dist",
    scripts=("leaflet.markercluster.js",),
    styles=("MarkerCluster.css", "MarkerCluster.Default.css"),
)
HEAT = VendorPackage(name="leaflet.heat", version="0.2.0", subdir="dist", scripts=("leaflet-heat.js",))
PLUGINS: dict[str, VendorPackage] = {package.name: package for package in (MARKERCLUSTER, HEAT)}

_PREFIX_OK = re.compile(r"^(https?://[A-Za-z0-9.:\[\]-]+)?[A-Za-z0-9/_.~-]*$")


@dataclass(frozen=True)
class AssetMode:
    """How a page gets its assets (资源模式): linked under ``prefix``, or inlined when it is None.

    ``root`` is the ``node_modules`` directory; None means :data:`ASSET_ROOT`, read when used.
    """

    prefix: str | None = None
    root: Path | None = None

    @property
    def is_inline(self) -> bool:
        """True when everything is inlined into the page."""
        return self.prefix is None

    def asset_root(self) -> Path:
        """The ``node_modules`` directory the assets are read from."""
        return self.root if self.root is not None else ASSET_ROOT


def served(prefix: str = "/static/vendor", *, root: Path | None = None) -> AssetMode:
    """Link assets under ``prefix`` (served by VillageMap's own ``StaticFiles`` mounts)."""
    prefix = prefix.rstrip("/")
    if not _PREFIX_OK.match(prefix):
        raise ValueError(f"unsafe asset URL prefix: {prefix!r}")
    return AssetMode(prefix=prefix, root=root)


def inline(*, root: Path | None = None) -> AssetMode:
    """Inline JS, CSS and images (as data: URIs): one self-contained HTML file (离线单文件)."""
    return AssetMode(prefix=None, root=root)


def static_dirs(root: Path | None = None) -> dict[str, Path]:
    """URL sub-path → directory to mount under the prefix, e.g. ``{"leaflet": …/leaflet/dist}``."""
    base = root if root is not None else ASSET_ROOT
    return {package.name: package.directory(base) for package in PACKAGES + SERVED_ONLY + tuple(PLUGINS.values())}


def missing_assets(root: Path | None = None) -> list[str]:
    """Human-readable problems with the installed assets (缺失资源); empty when ready."""
    base = root if root is not None else ASSET_ROOT
    problems: list[str] = []
    for package in PACKAGES + tuple(PLUGINS.values()):
        installed = _installed_version(base / package.name)
        if installed is None:
            problems.append(f"{package.name}@{package.version}: not installed under {base}")
            continue
        if installed != package.version:
            problems.append(f"{package.name}: installed {installed}, need {package.version}")
        for name in package.files():
            if not (package.directory(base) / name).is_file():
                problems.append(f"{package.name}/{package.subdir}/{name}: missing")
    return problems


def require_assets(mode: AssetMode) -> None:
    """Raise :class:`AssetsMissing` (in Chinese and English) unless the assets are installed."""
    problems = missing_assets(mode.asset_root())
    if problems:
        listing = "; ".join(problems)
        raise AssetsMissing(
            f"地图前端资源未安装或版本不符：{listing}。{FETCH_HINT_ZH}\n"
            f"Map assets missing or at the wrong version: {listing}. {FETCH_HINT_EN}"
        )


def attach_assets(folium_map: Any, mode: AssetMode, plugins: tuple[str, ...] = ()) -> None:
    """Give ``folium_map`` VillageMap's assets instead of folium's CDN defaults (挂载资源).

    ``plugins`` names Leaflet plugins (:data:`PLUGINS`) the map needs besides Leaflet. The lists
    are assigned on the instance: ``Map.add_js_link`` would mutate the class-level defaults shared
    by every map in the process.
    """
    require_assets(mode)
    packages = PACKAGES + tuple(PLUGINS[name] for name in plugins)
    if mode.is_inline:
        folium_map.default_js = []
        folium_map.default_css = []
        header = folium_map.get_root().header
        for index, (name, markup) in enumerate(_inline_blocks(mode.asset_root(), plugins)):
            header.add_child(RawHtml(markup), name=name, index=index)
        return
    folium_map.default_js = [
        (f"{p.name}_js_{i}", f"{mode.prefix}/{p.name}/{s}") for p in packages for i, s in enumerate(p.scripts)
    ]
    folium_map.default_css = [
        (f"{p.name}_css_{i}", f"{mode.prefix}/{p.name}/{s}") for p in packages for i, s in enumerate(p.styles)
    ]


def _installed_version(package_dir: Path) -> str | None:
    try:
        manifest = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    return version if isinstance(version, str) else None


@lru_cache(maxsize=8)
def _inline_blocks(root: Path, plugins: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """(name, markup) of every inlined ``<style>`` and ``<script>``, in page order (cached)."""
    blocks: list[tuple[str, str]] = []
    for package in PACKAGES + tuple(PLUGINS[name] for name in plugins):
        directory = package.directory(root)
        label = f"{package.name}@{package.version}"
        blocks.append((f"{package.name}_license", _license_comment(root / package.name, label)))
        for i, name in enumerate(package.styles):
            css = _inline_css_images(directory, (directory / name).read_text(encoding="utf-8"))
            blocks.append((f"{package.name}_css_{i}", _style_block(label, name, css)))
        for i, name in enumerate(package.scripts):
            js = (directory / name).read_text(encoding="utf-8")
            blocks.append((f"{package.name}_js_{i}", _script_block(label, name, js)))
    blocks.append(("leaflet_default_icon", _script_block("villagemap", "icon", _icon_js(root))))
    return tuple(blocks)


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _inline_css_images(directory: Path, css: str) -> str:
    """Replace ``url(images/x.png)`` by data: URIs; refuse any other non-local URL."""

    def replace(match: re.Match[str]) -> str:
        target = match.group(2)
        if target.startswith(("data:", "#")):
            return match.group(0)
        if ":" in target or target.startswith(("/", "\\")):
            raise ValueError(f"vendor CSS refers to a non-local URL: {target}")
        return f'url("{_data_uri(directory / target)}")'

    return re.sub(r"url\((['\"]?)([^'\")]+)\1\)", replace, css)


def _icon_js(root: Path) -> str:
    """Point ``L.Icon.Default`` at data: URIs (Leaflet cannot detect a path for those)."""
    images = LEAFLET.directory(root) / "images"
    options = {
        "iconUrl": _data_uri(images / "marker-icon.png"),
        "iconRetinaUrl": _data_uri(images / "marker-icon-2x.png"),
        "shadowUrl": _data_uri(images / "marker-shadow.png"),
    }
    return f'L.Icon.Default.imagePath = "";\nL.Icon.Default.mergeOptions({json.dumps(options)});\n'


def _license_comment(package_dir: Path, label: str) -> str:
    """The package's licence text as an HTML comment, kept with the inlined code."""
    names = ("LICENSE", "LICENSE.md", "LICENSE.txt", "MIT-LICENCE.txt")
    found = next((package_dir / name for name in names if (package_dir / name).is_file()), None)
    text = found.read_text(encoding="utf-8") if found else "see the package's licence on npm"
    return f"<!-- {label} licence:\n{text.replace('--', '- -')}\n-->"


def _script_block(label: str, name: str, js: str) -> str:
    js = re.sub(r"^//# sourceMappingURL=.*$", "", js, flags=re.MULTILINE)
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)
    return f"<script>/* {label} {name} */\n{js}\n</script>"


def _style_block(label: str, name: str, css: str) -> str:
    css = re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)
    return f"<style>/* {label} {name} */\n{css}\n</style>"
