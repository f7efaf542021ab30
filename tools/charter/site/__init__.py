"""The handbook: an MkDocs plugin that publishes the governance documents per audience.

``plugin`` holds the thin MkDocs event hooks; the work lives in ordinary modules:
``audience`` decides what a reader may see, ``pages`` plans one page per document,
``render`` turns a plan into Markdown through Jinja templates, ``nav`` lays out a
navigation that stays small however many pages there are, and ``sanitize`` cleans the
HTML of every generated page.
"""
