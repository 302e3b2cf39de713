"""Domain and spatial logic (业务与空间逻辑) over PostGIS; imports nothing from api/ or maps/."""
