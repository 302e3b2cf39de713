"""GIS files in and out (空间数据导入导出): GeoJSON, GeoPackage, Shapefile zip, KML/KMZ, CSV, XLSX.

``import_file`` checks a whole file before writing anything (a report with row-level problems in
Chinese and English) and imports it as cases through COPY; ``export_cases`` writes the cases a
user may see, filtered, in any of the formats, streamed chunk by chunk from a server-side cursor.
"""
