"""Map rendering (地图渲染): GeoJSON in, HTML out; never touches the database."""
