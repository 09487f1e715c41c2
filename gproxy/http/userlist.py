"""``userlist`` sections and HTTP basic authentication against them.

Owns the ``userlist <name>`` section (``group <name> [users a,b]``, ``user <name>
[password <crypt>|insecure-password <pw>] [groups a,b]``) with HAProxy 2.6's texts
(``src/cfgparse.c cfg_parse_users``, ``src/auth.c``), and the fetches that use it:
``http_auth(<userlist>)`` (bool: valid user and password) and
``http_auth_group(<userlist>)`` (the user name, matched by the ACL against group names).

Encrypted passwords are checked with the C library's ``crypt(3)`` through Python's
``crypt`` module (deprecated in 3.11, removed in 3.13): where it is missing, encrypted
passwords never match and a warning says so, as an HAProxy built without libcrypt.

Pure module: no sockets, never yields.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from ..config.parser import AT_READCFG, register_section, report
from ..diag import ALERT, WARNING
from ..registry import ConfigError, KwCtx
from . import sample as smp

try:  # pragma: no cover - depends on the Python version
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt as _crypt
except ImportError:  # pragma: no cover
    _crypt = None  # type: ignore[assignment]

__all__ = ["User", "Userlist", "check_password"]

_NAME_BAD = re.compile(r"[^A-Za-z0-9_.:-]")


def check_password(stored: str, given: str, insecure: bool) -> bool:
    """``check_user()``: plain comparison for insecure passwords, ``crypt(3)`` otherwise."""
    if insecure:
        return given == stored
    if _crypt is None:
        return False
    try:
        got = _crypt.crypt(given, stored)
    except (OSError, ValueError):
        return False
    return got is not None and got == stored


class User:
    __slots__ = ("group_names", "groups", "insecure", "name", "password")

    def __init__(self, name: str) -> None:
        self.name = name
        self.password: str | None = None
        self.insecure = False
        self.group_names: str | None = None
        self.groups: set[str] = set()


class Userlist:
    """One ``userlist`` section: users and groups, resolved after parsing."""

    def __init__(self, name: str, file: str = "", line: int = 0) -> None:
        self.name = name
        self.file = file
        self.line = line
        self.users: dict[str, User] = {}
        self.groups: dict[str, str | None] = {}  # group -> its 'users' list (until resolved)
        self.resolved = False
        self._cache: dict[tuple[str, str], bool] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> Userlist:
        return self  # one object per section, shared by every rule that names it

    def check(self, user: str, password: str) -> bool:
        """True if ``user`` exists and ``password`` is right (crypt results are cached)."""
        u = self.users.get(user)
        if u is None or u.password is None:
            return False
        if u.insecure:
            return password == u.password
        key = (user, password)
        got = self._cache.get(key)
        if got is None:
            got = check_password(u.password, password, False)
            if len(self._cache) < 1024:
                self._cache[key] = got
        return got

    def groups_of(self, user: str) -> set[str]:
        u = self.users.get(user)
        return u.groups if u is not None else set()

    def resolve(self) -> list[str]:
        """userlist_postinit(): link users and groups; returns alert texts."""
        errs: list[str] = []
        for u in self.users.values():
            if not u.group_names:
                continue
            for g in u.group_names.split(","):
                if not g:
                    continue
                if g not in self.groups:
                    errs.append(f"userlist '{self.name}': no such group '{g}' specified in user '{u.name}'")
                    return errs
                u.groups.add(g)
        for g, members in self.groups.items():
            if not members:
                continue
            for m in members.split(","):
                if not m:
                    continue
                u2 = self.users.get(m)
                if u2 is None:
                    errs.append(f"userlist '{self.name}': no such user '{m}' specified in group '{g}'")
                    return errs
                u2.groups.add(g)
        self.resolved = True
        return errs


def _alert(ctx: KwCtx, text: str) -> None:
    """An alert with HAProxy's ``parsing [f:l]:`` prefix (no space before the colon)."""
    report(ctx.diag, ALERT, text, ctx.file, ctx.line, AT_READCFG)


def _warn(ctx: KwCtx, text: str) -> None:
    report(ctx.diag, WARNING, text, ctx.file, ctx.line, AT_READCFG)


def _ignore(ctx: KwCtx, words: list[str]) -> None:
    pass


@register_section("userlist")
def _open_userlist(ctx: KwCtx, args: list[str]) -> Any:
    lists: list[Userlist] = ctx.model.sections.setdefault("userlist", [])
    if not args:
        _alert(ctx, "'userlist' expects <name> as arguments.")
        return _lines(ctx, lists[-1] if lists else None)
    if len(args) > 1:
        raise ConfigError(f"'userlist' cannot handle unexpected argument '{args[1]}'.")
    bad = _NAME_BAD.search(args[0])
    if bad:
        _alert(ctx, f"character '{bad.group(0)}' is not permitted in 'userlist' name '{args[0]}'.")
        return _lines(ctx, lists[-1] if lists else None)
    for ul in lists:
        if ul.name == args[0]:
            _warn(ctx, f"ignoring duplicated userlist '{args[0]}'.")
            return _lines(ctx, lists[-1])
    ul = Userlist(args[0], ctx.file, ctx.line)
    lists.append(ul)
    return _lines(ctx, ul)


def _lines(octx: KwCtx, ul: Userlist | None) -> Any:
    def line(ctx: KwCtx, words: list[str]) -> None:
        kw = words[0]
        if kw == "group":
            if len(words) < 2 or not words[1]:
                _alert(ctx, "'group' expects <name> as arguments.")
                return
            bad = _NAME_BAD.search(words[1])
            if bad:
                _alert(ctx, f"character '{bad.group(0)}' is not permitted in 'group' name '{words[1]}'.")
                return
            if ul is None:
                return
            if words[1] in ul.groups:
                _warn(ctx, f"ignoring duplicated group '{words[1]}' in userlist '{ul.name}'.")
                return
            members = None
            i = 2
            while i < len(words):
                if words[i] == "users":
                    members = words[i + 1] if i + 1 < len(words) else ""
                    i += 2
                    continue
                _alert(ctx, "'group' only supports 'users' option.")
                return
            ul.groups[words[1]] = members
        elif kw == "user":
            if len(words) < 2 or not words[1]:
                _alert(ctx, "'user' expects <name> as arguments.")
                return
            if ul is None:
                return
            if words[1] in ul.users:
                _warn(ctx, f"ignoring duplicated user '{words[1]}' in userlist '{ul.name}'.")
                return
            u = User(words[1])
            ul.users[u.name] = u
            i = 2
            while i < len(words):
                opt = words[i]
                val = words[i + 1] if i + 1 < len(words) else ""
                if opt == "password":
                    if _crypt is None:
                        _warn(ctx, "no crypt(3) support compiled, encrypted passwords will not work.")
                    u.password, u.insecure = val, False
                elif opt == "insecure-password":
                    u.password, u.insecure = val, True
                elif opt == "groups":
                    u.group_names = val
                else:
                    _alert(ctx, "'user' only supports 'password', 'insecure-password' and 'groups' options.")
                    return
                i += 2
        else:
            _alert(ctx, f"unknown keyword '{kw}' in 'users' section")

    return line


def resolve(model: Any, diag: Any) -> None:
    """Link users and groups of every userlist (after parsing), alerting as HAProxy."""
    for ul in model.sections.get("userlist", []):
        for text in ul.resolve():
            diag.alert(text)


# --------------------------------------------------------------------------------------
# fetches


def _userlist(a: list[Any]) -> Userlist | None:
    ref = a[0] if a else None
    ul = getattr(ref, "value", None)
    return ul if isinstance(ul, Userlist) else None


@smp.fetch("http_auth", (smp.A_USR,), 1, smp.T_BOOL, "hrqhv")
def _f_http_auth(sess: Any, txn: Any, a: list[Any]) -> Any:
    ul = _userlist(a)
    if ul is None:
        return None
    b = smp.basic_auth(txn)
    if b is None or b[0] != "Basic":
        return None
    return ul.check(b[1], b[2])


@smp.fetch("http_auth_group", (smp.A_USR,), 1, smp.T_STR, "hrqhv")
def _f_http_auth_group(sess: Any, txn: Any, a: list[Any]) -> Any:
    ul = _userlist(a)
    if ul is None:
        return None
    b = smp.basic_auth(txn)
    if b is None or b[0] != "Basic":
        return None
    if not ul.check(b[1], b[2]):
        return None
    return b[1]
