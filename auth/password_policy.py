"""The password policy: long enough, not a common password, and strong by zxcvbn's estimate."""

from __future__ import annotations

from collections.abc import Iterable

from zxcvbn import zxcvbn

MIN_LENGTH = 10
MIN_SCORE = 3  # zxcvbn: 3 = about 10^8 guesses or more, "safely unguessable" offline with scrypt
MAX_CHECKED = 100  # zxcvbn's time grows with length; longer passwords are checked on a prefix

# What to avoid, per kind of weak part zxcvbn found (zh, en).
_HINTS = {
    "repeat": ("避免重复的字符或词", "avoid repeated characters and words"),
    "sequence": ("避免 abc、123 这样的顺序", "avoid sequences like abc or 123"),
    "spatial": ("避免键盘上相邻的键", "avoid keyboard patterns like qwerty"),
    "date": ("避免年份和日期", "avoid years and dates"),
    "regex": ("避免年份和日期", "avoid years and dates"),
    "dictionary": ("避免单独使用常见的词和名字", "avoid common words and names on their own"),
}


def password_problem(password: str, user_inputs: Iterable[str] = ()) -> str | None:
    """Return why `password` is refused (Chinese, then English), or None when it is good enough."""
    if len(password) < MIN_LENGTH:
        return (f"密码太短：至少需要 {MIN_LENGTH} 个字符。"
                f" The password is too short: it needs at least {MIN_LENGTH} characters.")
    result = zxcvbn(password[:MAX_CHECKED], user_inputs=[u for u in user_inputs if u])
    if result["score"] >= MIN_SCORE:
        return None
    matches = result["sequence"]
    if any(m.get("dictionary_name") == "user_inputs" for m in matches):
        return ("密码太弱：不要用用户名或姓名。"
                " The password is too weak: do not use the username or the name.")
    if any(m.get("dictionary_name") == "passwords" for m in matches):
        return ("密码太常见：它在常用密码列表中，请换一个。"
                " The password is too common: it is on a list of common passwords; choose another.")
    zh, en = ["再加一两个不常见的词"], ["add another word or two, uncommon ones"]
    for pattern in dict.fromkeys(m["pattern"] for m in matches):
        if pattern in _HINTS and _HINTS[pattern][1] not in en:
            zh.append(_HINTS[pattern][0])
            en.append(_HINTS[pattern][1])
    return f"密码太弱：{'；'.join(zh)}。 The password is too weak: {'; '.join(en)}."
