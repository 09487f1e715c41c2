"""HTTP mode: the HTTP/1.1 engine, its message model, parser, rules, ACLs, samples, cookies,
error pages and services."""
