"""The MapLibre page (瓦片地图) in headless Chromium: both counties drawn from VillageMap's own tiles."""

from __future__ import annotations

from tests.browser import open_page


def test_maplibre_page_draws_the_counties_from_local_tiles(live_url: str) -> None:
    with open_page(f"{live_url}/maps/tiles") as probe:
        probe.page.wait_for_function(
            "window.vmTileMap && (window.vmTileMap.ready || window.vmTileMap.error)", timeout=30_000
        )
        state = probe.page.evaluate("window.vmTileMap")
        assert state["error"] is None, state
        assert state["features"] > 100 and state["cases"] > 100, state
        tiles = [r for r in probe.requests if "/tiles/WebMercatorQuad/" in r]
        assert tiles and all(r.startswith(live_url) for r in tiles)
        assert any("/static/vendor/maplibre-gl/maplibre-gl.js" in r for r in probe.requests)
        assert "全县矢量瓦片地图" in probe.page.content()
        probe.assert_clean()
