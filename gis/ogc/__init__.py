"""OGC API – Features, Tiles and CQL2 over PostGIS (OGC 标准接口): catalogue, items, CRS, filters, tiles.

Everything spatial happens in PostGIS: features are serialised by ``ST_AsGeoJSON``, tiles by
``ST_AsMVT``, query envelopes are transformed into the storage CRS (never the column), and CQL2
filters become bound SQL over a whitelist of properties (the collection's queryables).
"""
