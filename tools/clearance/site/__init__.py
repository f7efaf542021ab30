"""The handbook: an MkDocs plugin that publishes the governance documents per audience.

``plugin`` holds the thin MkDocs event hooks; the work lives in ordinary modules:
``audience`` decides what a reader may see, ``urls`` where each page lives, ``pages``
plans one page per document and renders it through the Jinja templates in
``templates/`` (escaping in ``render``), ``links`` prints links or "restricted",
``views`` derives what the templates show, ``history`` adds git history from one pass,
``nav`` lays out a navigation that stays small however many pages there are,
``prerender`` renders the pages' Markdown in a forked process while MkDocs converts
them, and ``sanitize`` cleans the HTML of every generated page.
"""
