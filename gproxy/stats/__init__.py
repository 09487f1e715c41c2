"""Statistics: one column table, several renderings.

``columns.py`` is the table of HAProxy's ``show stat`` columns and the rows they apply
to; ``csvstat.py`` renders it as ``show stat`` CSV, typed and JSON; ``info.py`` holds the
``show info`` fields; ``prometheus.py`` maps both to promex's metric families (and the
HTML stats page reads the same table).  Everything here reads the runtime objects' plain
counter attributes at render time; nothing touches the data path.
"""
