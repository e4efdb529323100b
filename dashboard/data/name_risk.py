"""What the lists and apps in force say about a name or an app, for judging a rules save.

A carer who opens a high-risk site by name (an allow list entry) or allows a high-risk app
loosens a child's protection as much as one who unblocks the category, so the save asks for a
reason the same way. The dashboard reads the same index, helplines, essential names, patterns
and app catalogue filterd answers from (filterd.lists.store.ListStore), reopened when
`filterd lists update` writes a new index.
"""

from __future__ import annotations

from filterd.catalogue.service import catalogue_beside
from filterd.config import Config
from filterd.lists.service import load_protected
from filterd.lists.store import ListStore
from filterd.lists.update import index_path
from filterd.rules.changes import Risk


class NameRisk:
    """Builds a `Risk` from the lists in force at the moment of each save."""

    def __init__(self, config: Config) -> None:
        self.settings = config.blocklists
        self._store: ListStore | None = None

    def __call__(self) -> Risk:
        store = self._store
        if store is None:
            store = self._store = ListStore(
                index_path(self.settings), *load_protected(self.settings)
            )
        else:
            store.protect(*load_protected(self.settings, store.patterns))
        store.refresh()
        catalogue = catalogue_beside(self.settings.lists_update.shipped)

        def app_category(app: str) -> str | None:
            service = catalogue.services.get(app)
            return service.category if service is not None else None

        return Risk(store.categories, app_category)
