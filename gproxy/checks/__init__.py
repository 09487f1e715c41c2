"""Health checks, the pure parts: status codes, rule sets, HTTP messages, keywords.

``gproxy.check`` runs checks on sockets (one greenlet per checked server); this package
holds everything that needs no I/O and can be tested without sockets:

* ``status``  -- HAProxy's check status codes, results and the "reason" text of a result;
* ``rules``   -- tcp-check / http-check rules: parsing their arguments, building the
  rule set a proxy's check runs (implicit connect/send/expect, comments, steps), the
  HTTP request bytes HAProxy sends and the response parser/matchers;
* ``config``  -- the configuration keywords (server parameters, ``option httpchk`` and
  friends, ``tcp-check``, ``http-check``), which write to the Model only.
"""
