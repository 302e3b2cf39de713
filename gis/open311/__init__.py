"""Open311 GeoReport v2 (市民报事标准接口): services, service definitions, requests in XML and JSON.

``jurisdiction_id`` is a county code (``640221``). Categories of kind *problem* are the services;
a request is a case, shown in the public view (no personal data ever, private locations at
village level); status is ``open`` or ``closed`` with the fine lifecycle state in
``status_notes``. POST goes through the ordinary report path (validation, grid lookup,
duplicates, events) as the API key's user, or anonymously with the key.
"""
